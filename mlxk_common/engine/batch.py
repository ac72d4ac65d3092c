"""Continuous batching over mlx-lm's ``BatchGenerator``.

``BatchScheduler`` keeps one ``BatchGenerator`` and any number of requests
in flight: ``submit`` adds a request at any time (it joins the running batch
after its prompt is processed), ``cancel`` drops one, and each ``step()``
runs one decoding step for every active request plus one bounded step of
prompt processing (``pacing.PrefillPacer``: about a second), and
returns the events it produced: ``Delta`` (new text) and ``Finished``
(finish_reason, usage, timing).  So a long prompt never holds up the
sequences already decoding, and a caller can cancel it between two
steps.  Each request keeps its own sampler (seed), logits processors, token
budget, stop strings, detokenizer and reasoning split.

Thread rule: the scheduler has no thread of its own and no locks.  Call all
its methods from one thread (the one that calls ``step()``); a server runs
it on a dedicated OS thread and hands it requests through a queue.
"""

from __future__ import annotations

import time

from mlxk_common.engine.logprobs import LogprobPicker, Trail
from mlxk_common.engine.pacing import MAX_CHUNK, PREFILL_STEP_S, PrefillPacer
from mlxk_common.engine.request import Delta, Finished, GenerationRequest, timing
from mlxk_common.engine.sampling import make_sampler
from mlxk_common.engine.textstream import TextStream


class _Live:
    __slots__ = ("rid", "request", "text", "t_start", "t_first", "sampled", "produced", "want_cache", "trail")

    def __init__(self, rid, request: GenerationRequest, text: TextStream, want_cache: bool, trail=None):
        self.rid = rid
        self.request = request
        self.text = text
        self.t_start = time.perf_counter()
        self.t_first = None
        self.sampled = 0
        self.produced = 0
        self.want_cache = want_cache
        self.trail = trail  # a logprobs.Trail when the request asked for log-probabilities


class BatchScheduler:
    """Options: ``max_batch`` (sequences decoded together, default 8),
    ``prefill_batch_size`` (prompts processed together, default min(8,
    max_batch)), ``prefill_step_size`` (the most prompt tokens per sequence
    in one step), ``prefill_step_s`` (the time one step of prompt processing
    should take; None: always ``prefill_step_size`` tokens)."""

    def __init__(self, engine, *, max_batch: int = 8, prefill_batch_size: int | None = None,
                 prefill_step_size: int = MAX_CHUNK, prefill_step_s: float | None = PREFILL_STEP_S):
        from mlx_lm.generate import BatchGenerator

        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.engine = engine
        self.max_batch = max_batch
        self.pacer = PrefillPacer(prefill_step_s, most=prefill_step_size)
        self._prefill_rows = min(prefill_batch_size or 8, max_batch)
        self._gen = BatchGenerator(
            engine.model,
            stop_tokens=[[t] for t in sorted(engine.eos_ids)],
            completion_batch_size=max_batch,
            prefill_batch_size=self._prefill_rows,
            # The step size a prompt batch keeps for its forward passes; how much
            # of each prompt one step takes is set before every step below.
            prefill_step_size=prefill_step_size,
        )
        self._live: dict[int, _Live] = {}
        self._rids: dict[object, int] = {}
        self._picker = None  # a LogprobPicker, made for the first request that wants log-probabilities
        # Set by a distributed server: turns each request's sampler into one whose
        # tokens every rank agrees on (rank 0's, broadcast to the others inside the step).
        self.sampler_wrap = None

    # -- requests -----------------------------------------------------------
    def submit(self, request: GenerationRequest, rid=None, *, cache=None, cache_tokens=None,
               return_cache: bool = False):
        """Queue ``request``; returns its id (``rid`` if given, else a new int).

        ``cache``/``cache_tokens``: a KV cache that already holds the first
        ``len(cache_tokens)`` prompt tokens (from an earlier ``Finished`` with
        ``return_cache=True``); only the rest of the prompt is processed.
        """
        engine = self.engine
        tokens = request.prompt_tokens
        if cache is not None:
            done = len(cache_tokens or ())
            if done >= len(tokens) or list(tokens[:done]) != list(cache_tokens):
                raise ValueError("cache_tokens must be a proper prefix of the prompt")
            tokens = tokens[done:]
        sampler = make_sampler(request.sampling, engine.vocab_size)
        if self.sampler_wrap is not None:
            sampler = self.sampler_wrap(sampler)
        uid = self._gen.insert(
            [list(tokens)],
            max_tokens=[request.max_tokens],
            caches=[cache] if cache is not None else None,
            all_tokens=[list(cache_tokens)] if cache is not None else None,
            samplers=[sampler],
            logits_processors=[request.logits_processors()],
        )[0]
        if rid is None:
            rid = uid
        if rid in self._rids:
            self._gen.remove([uid])
            raise ValueError(f"request id {rid!r} is already in flight")
        text = TextStream(engine.tokenizer.detokenizer, request.stop, request.markers, request.in_reasoning)
        trail = None
        if request.logprobs is not None:
            if self._picker is None:
                self._picker = LogprobPicker(engine.tokenizer)
            trail = Trail(self._picker, request.logprobs)
        self._live[uid] = _Live(rid, request, text, return_cache, trail)
        self._rids[rid] = uid
        return rid

    def cancel(self, rid) -> Finished | None:
        """Stop a request now; returns its ``Finished`` ("cancelled"), or None
        if it is not in flight."""
        uid = self._rids.get(rid)
        if uid is None:
            return None
        self._gen.remove([uid])
        return self._finish(uid, "cancelled")

    @property
    def active(self) -> int:
        """Requests in flight (queued, prefilling or decoding)."""
        return len(self._live)

    @property
    def prefilling(self) -> int:
        """Requests whose prompt is still being processed (no token yet)."""
        return sum(1 for live in self._live.values() if live.t_first is None)

    def __len__(self):
        return len(self._live)

    # -- the work -------------------------------------------------------------
    def next_chunk(self) -> int:
        """The prompt tokens per sequence the next step will process (the pacer's choice)."""
        return self.pacer.chunk(min(self._prefill_rows, self.prefilling))

    def step(self, chunk: int | None = None) -> list:
        """One scheduling step: prompt processing and/or one decoded token per
        active request.  Returns the events, in order.  ``chunk``: the prompt
        tokens per sequence of this step (default ``next_chunk()``; the ranks
        of a distributed server all take rank 0's)."""
        if not self._live:
            return []
        gen = self._gen
        chunk = gen.prefill_step_size = self.next_chunk() if chunk is None else chunk
        with gen.stats() as stats:
            _, responses = gen.next()
        self.pacer.record(stats.prompt_tokens, stats.prompt_time, chunk)
        events = []
        now = time.perf_counter()
        for r in responses:
            live = self._live.get(r.uid)
            if live is None:
                continue
            if live.t_first is None:
                live.t_first = now
            live.sampled += 1
            if r.finish_reason == "stop":  # an end-of-sequence token: never shown
                events.append(self._finish(r.uid, "stop", r.prompt_cache, r.all_tokens, events))
                continue
            live.produced += 1
            content, reasoning, stopped = live.text.add(r.token)
            trail = live.trail
            if trail is not None:
                trail.add(r.logprobs, r.token)
            if content or reasoning:
                events.append(Delta(live.rid, content, reasoning,
                                    trail.attach(content, reasoning) if trail is not None else None))
            if stopped:
                cache = self._gen.remove([r.uid], return_prompt_caches=live.want_cache).get(r.uid, (None, None))
                events.append(self._finish(r.uid, "stop", cache[0], cache[1], events))
            elif r.finish_reason is not None:
                events.append(self._finish(r.uid, "length", r.prompt_cache, r.all_tokens, events))
        return events

    def _finish(self, uid, reason: str, cache=None, cache_tokens=None, events=None) -> Finished:
        live = self._live.pop(uid)
        del self._rids[live.rid]
        content, reasoning = live.text.finish()
        trail = live.trail
        if events is not None and (content or reasoning):
            events.append(Delta(live.rid, content, reasoning,
                                trail.attach(content, reasoning) if trail is not None else None))
        request = live.request
        info = timing(request.prompt_len, live.sampled, live.t_start, live.t_first, time.perf_counter())
        keep = live.want_cache and reason != "cancelled"
        done = Finished(live.rid, reason, live.text.text, live.text.reasoning_text, request.prompt_len,
                        live.produced, info, request.limit_source,
                        cache if keep else None, cache_tokens if keep else None)
        done.stop_sequence = live.text.stop_sequence
        if trail is not None:
            done.logprobs = trail.reported
        return done

    def run(self):
        """Step until every request has finished, yielding events."""
        while self._live:
            yield from self.step()

    def close(self) -> None:
        if self._live:
            self._gen.remove(list(self._live))
            self._live.clear()
            self._rids.clear()
        self._gen.close()
