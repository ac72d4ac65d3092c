"""The engine thread: every MLX object lives and dies here.

One OS thread owns the resident models (up to ``max_models``, least
recently used unloaded first), one continuous-batching scheduler and one
prompt cache per model, and the queue of requests waiting for a slot.
Greenlets hand it ``Job``s through the bridge and read plain-data events
(``events.py``: Accepted, Text, Done, Failed, Loaded) back from their ``Ticket``.

Requests start in arrival order; a request whose model cannot be loaded yet
(every resident model busy) holds back the ones behind it, so a stream of
requests for one model cannot starve a request for another.
"""

from __future__ import annotations

import _queue
import gc
import time
from collections import deque

from mlxk_bin.serve import embed_work
from mlxk_bin.serve.bridge import Bridge, Ticket, start_os_thread
from mlxk_bin.serve.errors import unavailable
from mlxk_bin.serve.events import Accepted, Done, Embedded, Failed, Loaded, Text
from mlxk_bin.serve.prepare import prepare
from mlxk_common.engine import TEXT, load_engine
from mlxk_common.engine.embed import LlmEmbedder, load_embed_engine
from mlxk_common.engine.prefix_cache import PrefixCache
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import check_runnable
from mlxk_common.inventory.located import VISION, Located

SHUTDOWN_MESSAGE = "the server is shutting down"
INTERNAL_MESSAGE = "the request failed in the engine"  # a string: an internal error, logged with its traceback
MIN_SHARED_PREFIX = 16  # tokens several new requests must share to be processed once for all


class Job:
    """One request on its way through the engine.  ``request`` is a validated
    ``GenRequest`` and ``sampling`` a ``SamplingParams``: plain data only.

    The ``n`` choices of one request are ``n`` jobs of one ``group`` (a
    tuple, ``index`` = the choice), submitted together with
    ``submit_group``: they start together, and their prompt is processed
    once into the prompt cache for all of them."""

    __slots__ = ("rid", "model", "request", "sampling", "ticket", "cancelled", "cached", "kind", "index", "group",
                 "chunks", "used", "__weakref__")

    def __init__(self, rid: str, model: Located, request=None, sampling=None, kind: str = "generate",
                 ticket: Ticket | None = None, index: int = 0):
        self.rid = rid
        self.model = model
        self.request = request
        self.sampling = sampling
        self.ticket = ticket or Ticket()
        self.cancelled = False
        self.cached = 0  # engine side: prompt tokens found in the prompt cache
        self.kind = kind
        self.index = index
        self.group: tuple[Job, ...] | None = None
        # Engine side, a request with image chunks: the chunks still to run (each a fresh
        # session, one after the other in this job's slot) and the tokens the done ones used.
        self.chunks: deque = deque()
        self.used = (0, 0)  # prompt, completion tokens of the chunks done


def _import_trio_without_forking() -> None:
    """The Hub HTTP stack (transformers, mlx-vlm) imports trio where it is installed (the
    'vision' extra brings it); trio's import runs ``ldconfig`` (ctypes'
    ``find_library``) in a child process; forked from this OS thread under
    gevent's patched ``os``, that child deadlocks and the load never ends.  So
    trio is imported first with ``find_library`` answered without a child."""
    import importlib.util
    import sys

    if "trio" in sys.modules or importlib.util.find_spec("trio") is None:
        return
    import ctypes.util

    real = ctypes.util.find_library
    ctypes.util.find_library = lambda name: "libpthread.so.0" if name == "pthread" and sys.platform == "linux" else None
    try:  # a failure here is reported by the loader's own import of it
        importlib.import_module("trio")
    except Exception as exc:  # noqa: BLE001
        _ = exc
    finally:
        ctypes.util.find_library = real


class _Resident:
    __slots__ = ("ref", "engine", "sched", "cache", "active", "warming", "last_used", "embeds", "embedder")

    def __init__(self, ref: Located, engine, sched, cache):
        self.ref = ref
        self.engine = engine
        self.sched = sched
        self.cache = cache
        self.active: dict[Job, Job] = {}  # the Job itself is the scheduler's request id
        self.warming: list[_Warming] = []  # shared prefixes being processed, oldest first
        self.last_used = time.monotonic()
        self.embeds: list[embed_work.EmbedWork] = []  # embeddings requests, oldest first
        self.embedder = engine if sched is None else None  # a text model's LlmEmbedder, made on first use

    @property
    def busy(self) -> bool:
        return bool(self.active or self.embeds)


class Worker:
    def __init__(self, log, *, max_models: int = 1, max_batch: int = 32, max_queue: int = 256,
                 cache_bytes: int = 10**9, max_tokens: int | None = None, cpu=None, sharded=None):
        self.log = log
        # A distributed server (rank 0): loads its share of the model and steps on every rank (lockstep.py).
        self.sharded = sharded
        self.cpu = cpu  # --cpu-dtype and the memory budget (engine/cpu/path.py CpuSettings)
        self.max_models = max_models
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.cache_bytes = cache_bytes
        self.max_tokens = max_tokens  # server ceiling (and default) for generated tokens
        self.bridge: Bridge | None = None
        self.open_jobs: set[Job] = set()  # hub side: submitted and not yet closed
        self.stopping = False
        self._stopped = None
        self._thread_done = None
        # Written by the engine thread after each round, read by /health.
        self.n_pending = 0
        self.n_active = 0
        self.n_prefilling = 0
        self.cache_nbytes = 0  # memory held by the prompt caches
        self.loaded: list[Located] = []  # most recently used first
        self.alive = False
        # Engine thread only.
        self._pending: deque[Job] = deque()
        self._posted = False  # events posted since the hub was last woken
        self._residents: dict[str, _Resident] = {}

    # == hub side ===============================================================
    def start(self) -> None:
        import gevent.event

        self.bridge = Bridge()
        self._stopped = gevent.event.Event()
        self.alive = True
        self._thread_done = start_os_thread(self._run)

    def waiting(self) -> int:
        """Requests submitted and not yet decoding (the hub's view)."""
        return max(0, len(self.open_jobs) - self.n_active)

    def _check_ranks(self) -> None:
        failed = self.sharded.failed if self.sharded is not None else None
        if failed is not None:
            raise unavailable(failed.message, "rank_failed")

    def submit(self, job: Job) -> None:
        self._check_ranks()
        if self.stopping or not self.alive:
            raise unavailable(SHUTDOWN_MESSAGE if self.stopping else "the engine is not running", "shutting_down")
        if job.kind in ("generate", "embed") and self.waiting() >= self.max_queue:
            raise unavailable(f"the server is busy: {self.max_queue} requests are already waiting", "queue_full")
        self.open_jobs.add(job)
        self.bridge.inbox.put(("submit", job))

    def submit_group(self, jobs: list[Job]) -> None:
        """The choices of one request: queued as one, started together."""
        if len(jobs) == 1:
            self.submit(jobs[0])
            return
        self._check_ranks()
        if self.stopping or not self.alive:
            raise unavailable(SHUTDOWN_MESSAGE if self.stopping else "the engine is not running", "shutting_down")
        if self.waiting() + len(jobs) > self.max_queue:
            raise unavailable(f"the server is busy: {self.max_queue} requests are already waiting", "queue_full")
        group = tuple(jobs)
        for job in jobs:
            job.group = group
            self.open_jobs.add(job)
        self.bridge.inbox.put(("submit_group", group))

    def cancel(self, job: Job) -> None:
        """The client went away or the response is complete: forget the job
        (and stop its generation if it still runs)."""
        if job in self.open_jobs:
            self.open_jobs.discard(job)
            job.cancelled = True
            if self.bridge is not None:
                self.bridge.inbox.put(("cancel", job))

    def close(self, job: Job) -> None:
        self.open_jobs.discard(job)

    def shutdown(self, timeout: float) -> bool:
        """Cut every request, unload the models, stop the thread.  True when
        the thread ended within ``timeout`` seconds."""
        self.stopping = True
        if self.bridge is None or self._stopped is None:
            return True
        if self.alive:
            self.bridge.inbox.put(("stop", None))
        # End every open request now, from this side: the engine thread may be
        # in the middle of a long step and answer late.
        error = MlxkError("interrupted", SHUTDOWN_MESSAGE)
        for job in list(self.open_jobs):
            job.ticket.events.append(Failed(error))
            job.ticket._set()
        if not self._stopped.wait(timeout):
            return False
        # The thread said it is done; wait for it to return for real (a short,
        # blocking wait: nothing else runs at this point).
        return self._thread_done.acquire(timeout=1.0)

    # == engine thread ==========================================================
    def _run(self) -> None:
        try:
            while True:
                try:
                    self._loop()
                    return  # told to stop
                except Exception as exc:  # noqa: BLE001 - a bug in a round: fail its requests, go on
                    self.log.error("engine round failed: %s: %s", type(exc).__name__, exc, exc_info=True)
                    self._fail_everything(INTERNAL_MESSAGE)
        except BaseException as exc:  # noqa: BLE001 - report, then let every waiter go
            self.log.error("engine thread failed: %s: %s", type(exc).__name__, exc, exc_info=True)
            self._fail_everything("the engine stopped after an internal error")
        finally:
            self.alive = False
            for resident in list(self._residents.values()):
                try:
                    self._unload(resident)
                except Exception as exc:  # noqa: BLE001 - the waiters below must hear the end
                    self.log.warning("unloading %s failed: %s", resident.ref.name, exc)
            self._pending.clear()
            self._publish()
            self.bridge.call_soon(self._stopped.set)
            self.bridge.notify()

    def _fail_everything(self, message: str) -> None:
        """After an unexpected error: every request in the engine fails, and
        the models are unloaded (their state is unknown now)."""
        for job in list(self._pending) + [j for r in self._residents.values() for j in r.active.values()] + [
                w.job for r in self._residents.values() for w in r.embeds]:
            self._post(job, Failed(message))
        self._pending.clear()
        for resident in list(self._residents.values()):
            resident.active.clear()
            resident.embeds.clear()
            resident.warming.clear()
            try:
                self._unload(resident)
            except Exception as exc:  # noqa: BLE001 - keep serving without it
                self.log.warning("unloading %s failed: %s", resident.ref.name, exc)
                self._residents.pop(resident.ref.path, None)
        self._publish()
        self._posted = False
        self.bridge.notify()

    def _loop(self) -> None:
        inbox = self.bridge.inbox
        while True:
            busy = bool(self._pending) or any(r.busy for r in self._residents.values())
            commands = []
            if not busy:
                commands.append(inbox.get())  # sleep until there is something to do
            while True:
                try:
                    commands.append(inbox.get_nowait())
                except _queue.Empty:
                    break
            for command, job in commands:
                if command == "stop":
                    self._stop_all()
                    return
                if command == "submit":
                    if job.kind == "load":
                        self._preload(job)
                    elif not job.cancelled:
                        self._pending.append(job)
                elif command == "submit_group":
                    self._pending.extend(j for j in job if not j.cancelled)
                elif command == "cancel":
                    self._cancel(job)
            self._admit()
            self._publish()  # /health sees new requests before the (bounded) step
            # One bounded step per model: a chunk of a shared prefix, then one
            # decoded token for every sequence plus one chunk of prompt
            # processing.  Between two rounds the inbox is read again, so a
            # cancellation or a shutdown waits for one step at most.
            for resident in list(self._residents.values()):
                if resident.warming:
                    self._warm(resident)
                if resident.active and resident.sched is not None:
                    self._step(resident)
                if resident.embeds:
                    self._embed_step(resident)
            self._publish()
            if self._posted:
                self._posted = False
                self.bridge.notify()

    def _publish(self) -> None:
        residents = list(self._residents.values())
        self.n_pending = len(self._pending)
        self.n_active = sum(len(r.active) + len(r.embeds) for r in residents)
        self.n_prefilling = sum(r.sched.prefilling + sum(len(w.batch) for w in r.warming)
                                for r in residents if r.sched is not None)
        self.loaded = [r.ref for r in sorted(residents, key=lambda r: -r.last_used)]
        self.cache_nbytes = sum(r.cache.nbytes for r in residents if r.cache is not None)

    def _post(self, job: Job, event) -> None:
        self.bridge.post(job.ticket, event)
        self._posted = True

    # -- models ---------------------------------------------------------------
    def _preload(self, job: Job) -> None:
        try:
            resident = self._resident_for(job.model, _KINDS)
        except MlxkError as exc:
            self._post(job, Failed(exc))
            return
        if resident is None:  # cannot happen at start-up; be explicit anyway
            self._post(job, Failed(MlxkError("internal_error", "no room to load the model")))
        else:
            self._post(job, Loaded(job.model.name))

    def _resident_for(self, ref: Located, kinds: tuple[str, ...] = (TEXT, VISION)) -> _Resident | None:
        """The loaded model, loading it (after unloading the least recently
        used idle one if need be); None while every resident model is busy.
        Raises ``MlxkError`` when it cannot be loaded, whatever the cause."""
        resident = self._residents.get(ref.path)
        if resident is not None:
            if (EMBEDDING if resident.sched is None else resident.engine.kind) not in kinds:
                check_runnable(ref, kinds)  # a model of another kind than asked: its clear error
            return resident
        try:
            # The health rules first, as mlx-run applies them: a broken file is
            # a clear 'unhealthy' in milliseconds (not whatever the loader
            # trips on), and a model they refuse never unloads one that runs.
            check_runnable(ref, kinds)
            if len(self._residents) >= self.max_models:
                idle = [r for r in self._residents.values() if not r.busy]
                if not idle:
                    return None
                self._unload(min(idle, key=lambda r: r.last_used))
            return self._load(ref)
        except MlxkError:
            raise
        except Exception as exc:  # noqa: BLE001 - one model's failure is that request's error
            # The loader turns what broken files raise into 'unhealthy'; this is anything else.
            self.log.error("loading %s failed: %s: %s", ref.name, type(exc).__name__, exc, exc_info=True)
            raise MlxkError("internal_error", f"loading {ref.name} failed (the server log has the details)",
                            model=ref.name) from None

    def _load(self, ref: Located) -> _Resident:
        start = time.perf_counter()
        _import_trio_without_forking()  # mlx-lm's transformers pulls it in too, where it is installed
        if self.sharded is not None:  # one text model, split across ranks; no prompt cache
            engine = self.sharded.load(ref)
            sched, cache = self.sharded.scheduler(engine, self.max_batch), PrefixCache(0)
        elif ref.runtime.model_type == EMBEDDING:
            engine, sched, cache = load_embed_engine(ref), None, None
        else:
            engine = load_engine(ref, cpu=self.cpu)
            sched = engine.batch(max_batch=self.max_batch)
            # Vision prompts carry image features the token-keyed prompt cache cannot tell apart: none for them.
            cache = PrefixCache(0 if engine.kind == VISION else self.cache_bytes // max(1, self.max_models))
        resident = _Resident(ref, engine, sched, cache)
        self._residents[ref.path] = resident
        self.log.info("loaded %s in %.1f s", ref.name, time.perf_counter() - start)
        cpu_path = getattr(engine, "cpu_path", None)  # text engines; embedding engines keep their dtype
        if cpu_path:
            ops = cpu_path.get("prompt_ops")
            self.log.info("%s: CPU path %s (BLAS %s): %s; generation %s: %s; prompts %s: %s%s", ref.name,
                          cpu_path["path"], cpu_path["blas"], cpu_path["reason"], cpu_path.get("generation"),
                          cpu_path.get("generation_reason"), cpu_path.get("prompt"), cpu_path.get("prompt_reason"),
                          f"; prompt ops {'on' if ops['active'] else 'off'}: {ops['reason']}" if ops else "")
        return resident

    def _unload(self, resident: _Resident) -> None:
        import mlx.core as mx

        self._residents.pop(resident.ref.path, None)
        try:
            if resident.sched is not None:
                resident.sched.close()
        except Exception as exc:  # noqa: BLE001 - unloading must go on
            self.log.warning("closing the scheduler of %s: %s", resident.ref.name, exc)
        if resident.cache is not None:
            resident.cache.clear()
        resident.engine = resident.sched = resident.cache = resident.embedder = None
        resident.warming.clear()
        gc.collect()
        mx.clear_cache()
        self.log.info("unloaded %s", resident.ref.name)

    # -- requests -------------------------------------------------------------
    def _admit(self) -> None:
        pending = self._pending
        starting: dict[_Resident, list] = {}
        while pending:
            job = pending[0]
            if job.cancelled:
                pending.popleft()
                continue
            try:
                resident = self._resident_for(job.model, _kinds(job))
            except MlxkError as exc:
                pending.popleft()
                self._post(job, Failed(exc))
                continue
            if job.kind == "embed":
                if resident is None:
                    break
                pending.popleft()
                self._start_embed(job, resident)
                continue
            # The choices of one request start together: the first needs room for all.
            need = sum(1 for j in job.group if not j.cancelled) if job.group and job.index == 0 else 1
            if resident is None or len(resident.active) + need > self.max_batch:
                break  # first come, first served: the rest wait behind it
            pending.popleft()
            requests = self._prepare(job, resident)
            if requests:
                request = requests[0]
                job.chunks.extend(requests[1:])
                resident.active[job] = job  # holds its slot from now on
                starting.setdefault(resident, []).append((job, request))
        for resident, started in starting.items():
            # Each request's choices share their whole prompt; other requests may share a beginning.
            groups: dict[tuple, list] = {}
            for job, request in started:
                groups.setdefault(job.group or (), []).append((job, request))
            for group, batch in groups.items():
                minimum = 1 if group else MIN_SHARED_PREFIX
                warmup = self._share_prefix(resident, [request.prompt_tokens for _, request in batch],
                                            minimum) if len(batch) > 1 else None
                if warmup is not None:
                    resident.warming.append(_Warming(warmup, batch))
                    continue
                for job, request in batch:
                    self._submit(job, request, resident)

    def _prepare(self, job: Job, resident: _Resident):
        try:
            return prepare(resident.engine, job, self.max_tokens)
        except MlxkError as exc:
            self._post(job, Failed(exc))
        except Exception as exc:  # noqa: BLE001 - this request fails, the others go on
            self.log.error("request %s could not be prepared: %s: %s", job.rid, type(exc).__name__, exc,
                           exc_info=True)
            self._post(job, Failed(INTERNAL_MESSAGE))
        return None

    def _share_prefix(self, resident: _Resident, prompts: list[list[int]], minimum: int = MIN_SHARED_PREFIX):
        """Requests that arrive together often share a beginning (a system
        prompt): process it once into the prompt cache, so each of them
        starts from there instead of processing it again.  Returns the
        ``Warmup`` that does it, or None when it is not worth it."""
        cache = resident.cache
        shared = _common_prefix(prompts)
        if shared < minimum or not cache.enabled:
            return None
        # Worth it only when at least two of them would each be spared that
        # much work (a prefix already cached for them gains nothing).
        spared = [shared - cache.reusable(p) for p in prompts]
        if sum(1 for n in spared if n >= minimum) < 2:
            return None
        try:
            return cache.warm(resident.engine.model, prompts[0][:shared])
        except Exception as exc:  # noqa: BLE001 - an optimisation: the requests still run without it
            self.log.warning("processing a shared prompt prefix failed: %s: %s", type(exc).__name__, exc)
            return None

    def _warm(self, resident: _Resident) -> None:
        """One bounded chunk of the oldest shared prefix; its requests start
        once it is in the prompt cache."""
        warming = resident.warming[0]
        pacer = resident.sched.pacer
        chunk = pacer.chunk()
        started = time.perf_counter()
        try:
            done = warming.warmup.step(chunk)
        except Exception as exc:  # noqa: BLE001 - an optimisation: the requests still run without it
            self.log.warning("processing a shared prompt prefix failed: %s: %s", type(exc).__name__, exc)
            warming.warmup.abandon()
            done = 0
        pacer.record(done, time.perf_counter() - started, chunk)
        if warming.warmup.left:
            return
        resident.warming.pop(0)
        for job, request in warming.batch:
            if resident.active.get(job) is job:
                self._submit(job, request, resident)

    def _submit(self, job: Job, request, resident: _Resident, chunk: bool = False) -> None:
        """Start ``request`` in the batch; ``chunk``: the next chunk of a job already accepted."""
        try:
            cache, cached = resident.cache.lookup(request.prompt_tokens)
            resident.sched.submit(request, job, cache=cache,
                                  cache_tokens=request.prompt_tokens[:cached] if cache is not None else None,
                                  return_cache=resident.cache.enabled)
        except Exception as exc:  # noqa: BLE001 - this request fails, the others go on
            resident.active.pop(job, None)
            job.chunks.clear()
            self.log.error("request %s could not start: %s: %s", job.rid, type(exc).__name__, exc, exc_info=True)
            self._post(job, Failed("the request could not start"))
            return
        resident.last_used = time.monotonic()
        if chunk:
            if request.preamble:
                self._post(job, Text(request.preamble, ""))
            return
        job.cached = cached
        tools = getattr(job.request, "tools", None) and job.request.tool_choice != "none"
        tool_format = getattr(resident.engine, "tool_format", None) if tools else None
        self._post(job, Accepted(request.prompt_len, cached, request.max_tokens, tool_format))
        preamble = getattr(request, "preamble", "")
        if preamble:  # the EXIF table the request asked for: the answer text starts with it
            self._post(job, Text(preamble, ""))

    def _step(self, resident: _Resident) -> None:
        try:
            events = resident.sched.step()
        except Exception as exc:  # noqa: BLE001 - fail this model's requests, keep serving
            ids = ", ".join(job.rid for job in resident.active)
            self.log.error("generation failed for request(s) %s: %s: %s", ids, type(exc).__name__, exc,
                           exc_info=True)
            failed = self.sharded.failed if self.sharded is not None else None  # a rank is gone: 503
            for job in resident.active.values():
                self._post(job, Failed(failed or "generation failed"))
            resident.active.clear()
            self._unload(resident)
            return
        for event in events:
            job = resident.active.get(event.rid)
            if job is None:
                continue
            if event.kind == "delta":
                self._post(job, Text(event.content, event.reasoning, event.logprobs))
                continue
            if job.chunks:  # a chunk of its images is done: the next one starts, a fresh session
                job.used = (job.used[0] + event.prompt_tokens, job.used[1] + event.completion_tokens)
                self._submit(job, job.chunks.popleft(), resident, chunk=True)
                continue
            del resident.active[event.rid]
            if event.prompt_cache is not None:
                try:
                    resident.cache.store(event.cache_tokens, event.prompt_cache)
                except Exception as exc:  # noqa: BLE001 - an optimisation: the answer is complete anyway
                    self.log.warning("keeping a prompt cache failed: %s: %s", type(exc).__name__, exc)
            self._post(job, Done(event.finish_reason, job.used[0] + event.prompt_tokens,
                                 job.used[1] + event.completion_tokens, job.cached, event.stop_sequence))

    def _cancel(self, job: Job) -> None:
        try:
            self._pending.remove(job)
            return
        except ValueError:
            pass
        resident = self._residents.get(job.model.path)
        if resident is not None and job.kind == "embed":
            resident.embeds = [w for w in resident.embeds if w.job is not job]
            return
        if resident is None or resident.active.pop(job, None) is None:
            return
        for warming in resident.warming:
            warming.batch = [(j, r) for j, r in warming.batch if j is not job]
        resident.warming = [w for w in resident.warming if w.batch]
        try:
            resident.sched.cancel(job)
        except Exception as exc:  # noqa: BLE001 - the slot is free either way
            self.log.warning("cancelling request %s: %s: %s", job.rid, type(exc).__name__, exc)

    def _stop_all(self) -> None:
        error = MlxkError("interrupted", SHUTDOWN_MESSAGE)
        for job in self._pending:
            self._post(job, Failed(error))
        self._pending.clear()
        for resident in self._residents.values():
            for job in list(resident.active):
                try:
                    resident.sched.cancel(job)
                except Exception:  # noqa: BLE001, S110 - stopping anyway
                    pass
                self._post(job, Failed(error))
            resident.active.clear()
            resident.warming.clear()
            for work in resident.embeds:
                self._post(work.job, Failed(error))
            resident.embeds.clear()

    # -- embeddings -------------------------------------------------------------
    def _start_embed(self, job: Job, resident: _Resident) -> None:
        try:
            if resident.embedder is None:  # a text model, allowed by --allow-llm-embeddings
                resident.embedder = LlmEmbedder(resident.engine)
            resident.embeds.append(embed_work.start(resident.embedder, job))
            resident.last_used = time.monotonic()
        except MlxkError as exc:
            self._post(job, Failed(exc))
        except Exception as exc:  # noqa: BLE001 - this request fails, the others go on
            self.log.error("embeddings request %s could not start: %s: %s", job.rid, type(exc).__name__, exc,
                           exc_info=True)
            self._post(job, Failed(INTERNAL_MESSAGE))

    def _embed_step(self, resident: _Resident) -> None:
        """One bounded batch of the waiting embeddings inputs."""
        embedder = resident.embedder
        batch = embed_work.take(resident.embeds, embed_work.token_budget(embedder))
        try:
            done = embed_work.run(embedder, batch)
            results = [(work, embed_work.result(embedder, work)) for work in done]
        except Exception as exc:  # noqa: BLE001 - fail the requests in this batch, keep serving
            failed = {id(work): work for work, _ in batch}
            self.log.error("embeddings failed for request(s) %s: %s: %s",
                           ", ".join(w.job.rid for w in failed.values()), type(exc).__name__, exc, exc_info=True)
            for work in failed.values():
                self._post(work.job, Failed("embedding failed"))
            resident.embeds = [w for w in resident.embeds if id(w) not in failed]
            return
        resident.last_used = time.monotonic()
        finished = {id(work) for work, _ in results}
        resident.embeds = [w for w in resident.embeds if id(w) not in finished]
        for work, vectors in results:
            self._post(work.job, Embedded(vectors, work.prompt_tokens))


EMBEDDING = "embedding"
_KINDS = (TEXT, VISION, EMBEDDING)  # what a preload may be


def _kinds(job: Job) -> tuple[str, ...]:
    """The kinds of model a job may run on (``locate.check_runnable``'s)."""
    if job.kind == "embed":
        return (EMBEDDING, TEXT) if job.request.allow_llm else (EMBEDDING,)
    return (TEXT, VISION)  # a vision model answers text-only requests too


class _Warming:
    """Requests that wait for their shared prefix to be in the prompt cache."""
    __slots__ = ("warmup", "batch")

    def __init__(self, warmup, batch: list):
        self.warmup = warmup
        self.batch = batch  # [(job, request)]


def _common_prefix(prompts: list[list[int]]) -> int:
    """Length of the longest common prefix, leaving every prompt at least one
    token of its own (generation starts from the last prompt token)."""
    shortest = min(len(p) for p in prompts)
    first = prompts[0]
    n = 0
    while n < shortest - 1 and all(p[n] == first[n] for p in prompts):
        n += 1
    return n
