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
from mlxk_bin.serve.errors import ApiError, from_mlxk, internal, unavailable
from mlxk_bin.serve.events import FINAL, GONE
from mlxk_bin.serve.guards import parse_json, read_body, watch_disconnect
from mlxk_bin.serve.openai_shapes import Shaper, usage
from mlxk_bin.serve.schemas import CHAT, parse_common
from mlxk_bin.serve.tools import ToolText, stream_deltas
from mlxk_bin.serve.worker import Job
from mlxk_common.engine import VISION, SamplingParams
from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import dumps

KEEPALIVE_S = 15.0  # an SSE comment after this long without tokens keeps proxies from timing out
CHARS_PER_TOKEN_MAX = 32  # no tokenizer packs more text per token: longer prompts cannot fit


class ClientGone(Exception):
    """The client closed its connection; nothing more is sent."""


def fingerprint(version: str, model) -> str:
    digest = hashlib.sha256(f"{version}|{model.path}|{model.architecture}".encode()).hexdigest()
    return f"fp_{digest[:10]}"


class Generation:
    def __init__(self, state, environ, kind: str):
        self.state = state
        self.environ = environ
        self.kind = kind
        self.rid = environ["mlxk.request_id"]
        self.job: Job | None = None
        self.watcher = None
        self.ended = False  # the engine sent the last event ("done" or "error")

    # -- before the response -----------------------------------------------------
    def run(self):
        settings = self.state.settings
        req = self.parse(parse_json(read_body(self.environ, settings.max_body)))
        model = self.state.registry.for_request(req.model)
        self._check_capabilities(req, model)
        sampling = _sampling(req.sampling)
        self.job = job = Job(self.rid, model, req, sampling)
        self.state.worker.submit(job)
        import gevent

        self.watcher = gevent.spawn(watch_disconnect, self.environ, self._client_gone)
        try:
            first = self._next_event()
            if first.kind == "error":
                raise self._api_error(first.error)
            if first.kind != "accepted":
                raise ClientGone()
        except BaseException:
            self._end()
            raise
        self.prompt_tokens, self.cached_tokens = first.prompt_tokens, first.cached_tokens
        self.tool_text = ToolText(first.tool_format, req.tools) if first.tool_format is not None else None
        self.shaper = self.make_shaper(req, model)
        if req.stream:
            for name, value in sse.HEADERS:
                bottle.response.set_header(name, value)
            return self._stream(req.include_usage)
        try:
            return self._whole()
        finally:
            self._end()

    def parse(self, body):
        """The request body -> a validated ``GenRequest`` (the Responses API reads its own shape)."""
        return parse_common(body, self.kind, self.state.settings.max_image)

    def make_shaper(self, req, model):
        completion_id = ("chatcmpl-" if self.kind == CHAT else "cmpl-") + uuid.uuid4().hex[:24]
        return Shaper(self.kind, completion_id, model.name, fingerprint(self.state.settings.version, model))

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

    def _next_event(self):
        ticket = self.job.ticket
        while not ticket.wait(KEEPALIVE_S):
            pass
        return self._take(ticket)

    def _take(self, ticket):
        event = ticket.events.popleft()
        if event.kind in FINAL:
            self.ended = True
        return event

    def _client_gone(self):
        job = self.job
        if job is not None:
            self.state.worker.cancel(job)
            job.ticket.events.append(GONE)
            job.ticket._set()

    def _end(self):
        if self.watcher is not None:
            self.watcher.kill(block=False)
            self.watcher = None
        if self.job is not None:
            if self.ended:
                self.state.worker.close(self.job)
            else:
                self.state.worker.cancel(self.job)

    def _api_error(self, error) -> ApiError:
        if isinstance(error, MlxkError):
            if error.type == "interrupted":
                return unavailable(error.message, "shutting_down")
            return from_mlxk(error)

        return internal(self.rid)

    # -- the whole answer at once ---------------------------------------------
    def _whole(self):
        content, reasoning = [], []
        while True:
            event = self._next_event()
            kind = event.kind
            if kind == "delta":
                content.append(event.content)
                reasoning.append(event.reasoning)
            elif kind == "done":
                text, calls, finish = "".join(content), None, _finish(event.finish_reason)
                if self.tool_text is not None:
                    text, calls = self.tool_text.feed(text)
                    more, late = self.tool_text.finish()
                    text, calls = text + more, calls + late
                    finish = self.tool_text.finish_reason(finish)
                doc = self.shaper.response(text, "".join(reasoning), finish,
                                           usage(event.prompt_tokens, event.completion_tokens, event.cached_tokens),
                                           calls)
                bottle.response.content_type = "application/json"

                return dumps(doc).encode()
            elif kind == "error":
                raise self._api_error(event.error)
            else:
                raise ClientGone()

    # -- a stream of server-sent events ----------------------------------------
    def _stream(self, include_usage: bool):
        shaper = self.shaper
        ticket = self.job.ticket
        try:
            yield sse.event(shaper.chunk(first=True, include_usage=include_usage))
            while True:
                if not ticket.wait(KEEPALIVE_S):
                    yield sse.comment()
                    continue
                out = []
                while ticket.events:
                    event = self._take(ticket)
                    kind = event.kind
                    if kind == "delta":
                        out.extend(self._delta_chunks(event.content, event.reasoning, [], include_usage))
                        continue
                    if kind == "done":
                        finish = _finish(event.finish_reason)
                        if self.tool_text is not None:
                            content, calls = self.tool_text.finish()
                            out.extend(self._delta_chunks(content, "", calls, include_usage, tail=True))
                            finish = self.tool_text.finish_reason(finish)
                        out.append(sse.event(shaper.chunk(finish_reason=finish, include_usage=include_usage)))
                        if include_usage:
                            out.append(sse.event(shaper.usage_chunk(usage(event.prompt_tokens,
                                                                          event.completion_tokens,
                                                                          event.cached_tokens))))
                        out.append(sse.DONE)
                    elif kind == "error":
                        out.append(sse.event(self._api_error(event.error).body()))
                        out.append(sse.DONE)
                    yield b"".join(out)
                    return
                yield b"".join(out)
        finally:
            self._end()

    def _delta_chunks(self, content: str, reasoning: str, calls: list, include_usage: bool,
                      tail: bool = False) -> list[bytes]:
        """The chunks of new text: content and reasoning, then any tool calls it completed."""
        tool_text = self.tool_text
        if tool_text is not None and not tail:
            before = len(tool_text.calls)
            content, calls = tool_text.feed(content)
        else:
            before = len(tool_text.calls) - len(calls) if tool_text is not None else 0
        out = []
        if content or reasoning:
            out.append(sse.event(self.shaper.chunk(content, reasoning, include_usage=include_usage)))
        for delta in stream_deltas(calls, before):
            out.append(sse.event(self.shaper.chunk(include_usage=include_usage, tool_calls=[delta])))
        return out


def _finish(reason: str) -> str:
    # "cancelled" only reaches a client that is still there when the server cut it.
    return reason if reason in ("stop", "length") else "stop"


def _sampling(values: dict):
    try:
        return SamplingParams(**values)
    except MlxkError as exc:
        raise from_mlxk(exc) from None
