"""One completion request, from body to response (runs in its greenlet).

Everything that can fail because of the request (JSON, fields, model name,
context window) fails before the first byte of the response, so those
errors are proper HTTP errors even for streams.  Once a stream has begun,
a failure ends it with an error event and ``data: [DONE]``.  A client that
goes away cancels its generation: noticed by a watch on its socket, or by a
failed write, whichever comes first.
"""

from __future__ import annotations

import hashlib
import uuid

import bottle

from mlxk_bin.serve import sse
from mlxk_bin.serve.bridge import Ticket
from mlxk_bin.serve.errors import ApiError, bad_request, from_mlxk, internal, unavailable
from mlxk_bin.serve.events import FINAL, GONE, Done
from mlxk_bin.serve.guards import parse_json, read_body, watch_disconnect
from mlxk_bin.serve.image_urls import fetch_images
from mlxk_bin.serve.logprobs import chat_logprobs, completion_logprobs
from mlxk_bin.serve.openai_shapes import Shaper, usage
from mlxk_bin.serve.schemas import CHAT, parse_common
from mlxk_bin.serve.tools import ToolText, stream_deltas
from mlxk_bin.serve.worker import Job
from mlxk_common.engine import VISION, SamplingParams
from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import dumps

KEEPALIVE_S = 15.0  # an SSE comment after this long without tokens keeps proxies from timing out
CHARS_PER_TOKEN_MAX = 32  # no tokenizer packs more text per token: longer prompts cannot fit
SEED_STRIDE = 0x9E3779B97F4A7C15  # spreads the seeds of a request's choices far apart


class ClientGone(Exception):
    """The client closed its connection; nothing more is sent."""


def fingerprint(version: str, model) -> str:
    digest = hashlib.sha256(f"{version}|{model.path}|{model.architecture}".encode()).hexdigest()
    return f"fp_{digest[:10]}"


class Choice:
    """What one choice (of ``n``) has produced so far."""

    __slots__ = ("index", "content", "reasoning", "logprobs", "done", "text_offset", "tools")

    def __init__(self, index: int):
        self.index = index
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.logprobs: list | None = None  # engine TokenLogprobs, when asked for
        self.done = None  # the Done event
        self.text_offset = 0  # characters sent so far (the legacy completions logprobs' text_offset)
        self.tools: ToolText | None = None  # the request has tools: the text goes through the call markers

    def split(self, text: str, final: bool) -> tuple[str, list, str | None]:
        """(content, tool calls, finish reason or None) of new text; all text at ``final``."""
        if self.tools is None:
            return text, [], (_finish(self.done.finish_reason) if final else None)
        content, calls = self.tools.feed(text)
        if not final:
            return content, calls, None
        more, late = self.tools.finish()
        return content + more, calls + late, self.tools.finish_reason(_finish(self.done.finish_reason))


class Generation:
    """One generation request.  The OpenAI chat and completions dialect;
    other dialects (``anthropic.Messages``) override ``parse`` and the
    ``respond``/``stream_*`` shapes and reuse the rest."""

    def __init__(self, state, environ, kind: str):
        self.state = state
        self.environ = environ
        self.kind = kind
        self.rid = environ["mlxk.request_id"]
        self.jobs: list[Job] = []
        self.watcher = None
        self.finished: set[int] = set()  # choices whose last event ("done" or "error") arrived
        self.req = None
        self.meter = state.metrics.meter()  # time to first token, per-token time, tokens (/metrics)
        self.meters = [self.meter]  # one per choice

    @property
    def job(self) -> Job | None:
        return self.jobs[0] if self.jobs else None

    # -- dialect hooks -----------------------------------------------------------
    def parse(self, body):
        """The request body (parsed JSON) as a validated ``GenRequest``."""
        settings = self.state.settings
        return parse_common(body, self.kind, settings.max_image, settings.max_images_total,
                            settings.allow_image_urls)

    def api_error(self, error) -> ApiError:
        """An engine error (``MlxkError`` or an internal message) as the client's error."""
        if isinstance(error, MlxkError):
            if error.type == "interrupted":
                return unavailable(error.message, "shutting_down")
            return from_mlxk(error)
        return internal(self.rid)

    # -- before the response -----------------------------------------------------
    def run(self):
        settings = self.state.settings
        self.req = req = self.parse(parse_json(read_body(self.environ, settings.max_body)))
        if req.exif is None:
            req.exif = settings.exif
        max_n = min(settings.max_n, self.state.worker.max_batch)
        if req.n > max_n:
            raise bad_request(f"'n' may be at most {max_n} on this server, not {req.n}", "n")
        model = self.state.registry.for_request(req.model)
        self._check_capabilities(req, model)
        sampling = _sampling(req.sampling)
        fetch_images(req, settings)  # --allow-image-urls: here, in this greenlet, before queueing
        self.model = model
        import gevent
        import gevent.event

        wake = gevent.event.Event()
        self.jobs = [Job(self.rid if req.n == 1 else f"{self.rid}/{i}", model, req, choice_sampling(sampling, i),
                         ticket=Ticket(wake), index=i) for i in range(req.n)]
        self.choices = [Choice(i) for i in range(req.n)]
        for _ in range(1, req.n):
            meter = self.state.metrics.meter()
            meter.start = self.meter.start
            self.meters.append(meter)
        self.state.worker.submit_group(self.jobs)
        self.watcher = gevent.spawn(watch_disconnect, self.environ, self._client_gone)
        try:
            for job in self.jobs:  # every choice holds a slot before the answer begins
                first = self._first_event(job)
                if first.kind == "error":
                    raise self.api_error(first.error)
                if first.kind != "accepted":
                    raise ClientGone()
                if job.index == 0:
                    self.prompt_tokens, self.cached_tokens = first.prompt_tokens, first.cached_tokens
                if first.tool_format is not None:
                    self.choices[job.index].tools = ToolText(first.tool_format, req.tools)
        except BaseException:
            self._end()
            raise
        self.start_response(model)
        if req.stream:
            for name, value in sse.HEADERS:
                bottle.response.set_header(name, value)
            return self._stream()
        try:
            return self._whole()
        finally:
            self._end()

    def start_response(self, model) -> None:
        completion_id = ("chatcmpl-" if self.kind == CHAT else "cmpl-") + uuid.uuid4().hex[:24]
        self.shaper = Shaper(self.kind, completion_id, model.name, fingerprint(self.state.settings.version, model))

    def _check_capabilities(self, req, model) -> None:
        """What can be refused from the model's files alone, before queueing
        (the engine refuses the rest, e.g. kinds it cannot run yet)."""
        kind = model.kind
        if req.images and kind != VISION:
            raise ApiError(422, f"{model.name} is a {kind} model; it cannot read images", param="messages",
                           code="capability_not_supported")
        window = model.context_length or 131072
        chars = req.prompt_chars()
        if chars > window * CHARS_PER_TOKEN_MAX:
            raise ApiError(400, f"the prompt ({chars} characters) cannot fit the model's context window of "
                                f"{window} tokens", param="messages" if req.kind == CHAT else "prompt",
                           code="context_length_exceeded", context_length=window)

    def _first_event(self, job: Job):
        ticket = job.ticket
        while not ticket.wait(KEEPALIVE_S):
            pass
        return self._take(job)

    def _take(self, job: Job):
        event = job.ticket.events.popleft()
        if job.index and event.kind == "done":  # the prompt counts once for all choices
            self.meters[job.index].see(Done(event.finish_reason, 0, event.completion_tokens, 0))
        else:
            self.meters[job.index].see(event)
        if event.kind in FINAL:
            self.finished.add(job.index)
        return event

    def _wait(self, timeout: float) -> bool:
        """True when any choice has events (at once, or within ``timeout``)."""
        if any(job.ticket.events for job in self.jobs):
            return True
        return self.jobs[0].ticket.wait(timeout) or any(job.ticket.events for job in self.jobs)

    def _events(self):
        """(choice, event) for every event waiting now, choice by choice."""
        for job in self.jobs:
            while job.ticket.events:
                yield self.choices[job.index], self._take(job)

    def _client_gone(self):
        for job in self.jobs:
            self.state.worker.cancel(job)
            job.ticket.events.append(GONE)
            job.ticket._set()

    def _end(self):
        if self.watcher is not None:
            self.watcher.kill(block=False)
            self.watcher = None
        for job in self.jobs:
            if job.index in self.finished:
                self.state.worker.close(job)
            else:
                self.state.worker.cancel(job)

    def _usage(self) -> dict:
        done = [c.done for c in self.choices]
        return usage(done[0].prompt_tokens, sum(d.completion_tokens for d in done), done[0].cached_tokens)

    @staticmethod
    def _add(choice: Choice, event) -> None:
        choice.content.append(event.content)
        choice.reasoning.append(event.reasoning)
        if event.logprobs is not None:
            choice.logprobs = (choice.logprobs or []) + list(event.logprobs)

    # -- the whole answer at once ---------------------------------------------
    def _whole(self):
        left = len(self.choices)
        while True:
            while not self._wait(KEEPALIVE_S):
                pass
            for choice, event in self._events():
                kind = event.kind
                if kind == "delta":
                    self._add(choice, event)
                elif kind == "done":
                    choice.done = event
                    left -= 1
                elif kind == "error":
                    raise self.api_error(event.error)
                else:
                    raise ClientGone()
            if not left:
                bottle.response.content_type = "application/json"
                return dumps(self.respond(self.choices, self._usage())).encode()

    def respond(self, choices: list[Choice], usage_: dict) -> dict:
        want = self.req.logprobs is not None
        shaped = []
        for c in choices:
            text, calls, finish = c.split("".join(c.content), final=True)
            shaped.append(self.shaper.choice(c.index, text, "".join(c.reasoning), finish,
                                             self._logprobs(c, c.logprobs or []) if want else None, calls))
        return self.shaper.response(shaped, usage_)

    def _logprobs(self, choice: Choice, entries: list):
        if self.kind == CHAT:
            return chat_logprobs(entries)
        doc, choice.text_offset = completion_logprobs(entries, choice.text_offset)
        return doc

    # -- a stream of server-sent events ----------------------------------------
    def _stream(self):
        left = len(self.choices)
        try:
            yield self.stream_start()
            while True:
                if not self._wait(KEEPALIVE_S):
                    yield sse.comment()
                    continue
                out = []
                for choice, event in self._events():
                    kind = event.kind
                    if kind == "delta":
                        out.append(self.stream_delta(choice, event))
                        continue
                    if kind == "done":
                        choice.done = event
                        left -= 1
                        out.append(self.stream_choice_done(choice, event))
                        if left:
                            continue
                        out.append(self.stream_end(self._usage()))
                    elif kind == "error":
                        out.append(self.stream_error(self.api_error(event.error)))
                    yield b"".join(out)
                    return
                yield b"".join(out)
        finally:
            self._end()

    def stream_start(self) -> bytes:
        include = self.req.include_usage
        return b"".join(sse.event(self.shaper.chunk(first=True, include_usage=include, index=c.index))
                        for c in self.choices)

    def stream_delta(self, choice: Choice, event) -> bytes:
        logprobs = None
        if self.req.logprobs is not None:
            logprobs = self._logprobs(choice, list(event.logprobs or ()))
        before = len(choice.tools.calls) if choice.tools is not None else 0
        content, calls, _ = choice.split(event.content, final=False)
        out = b""
        if content or event.reasoning or logprobs or choice.tools is None:
            out = sse.event(self.shaper.chunk(content, event.reasoning, include_usage=self.req.include_usage,
                                              index=choice.index, logprobs=logprobs))
        return out + self._call_chunks(choice, calls, before)

    def stream_choice_done(self, choice: Choice, event) -> bytes:
        before = len(choice.tools.calls) if choice.tools is not None else 0
        content, calls, finish = choice.split("", final=True)
        out = sse.event(self.shaper.chunk(content, include_usage=self.req.include_usage, index=choice.index)) \
            if content else b""
        return out + self._call_chunks(choice, calls, before) + sse.event(self.shaper.chunk(
            finish_reason=finish, include_usage=self.req.include_usage, index=choice.index))

    def _call_chunks(self, choice: Choice, calls: list, before: int) -> bytes:
        """Each completed call as OpenAI streams it: id, type and name, then the arguments."""
        return b"".join(sse.event(self.shaper.chunk(include_usage=self.req.include_usage, index=choice.index,
                                                    tool_calls=[delta]))
                        for delta in stream_deltas(calls, before))

    def stream_end(self, usage_: dict) -> bytes:
        out = sse.event(self.shaper.usage_chunk(usage_)) if self.req.include_usage else b""
        return out + sse.DONE

    def stream_error(self, error: ApiError) -> bytes:
        return sse.event(error.body()) + sse.DONE


def choice_sampling(sampling: SamplingParams, index: int) -> SamplingParams:
    """Choice ``index``'s sampling: its own seed stream, derived from the
    request's seed (choice 0 keeps it, so n=1 and the first of n agree)."""
    if index == 0 or sampling.seed is None:
        return sampling
    return sampling.replace(seed=(sampling.seed + index * SEED_STRIDE) % 2**63)


def _finish(reason: str) -> str:
    # "cancelled" only reaches a client that is still there when the server cut it.
    return reason if reason in ("stop", "length") else "stop"


def _sampling(values: dict):
    try:
        return SamplingParams(**values)
    except MlxkError as exc:
        raise from_mlxk(exc) from None
