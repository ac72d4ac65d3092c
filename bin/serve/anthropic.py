"""Anthropic's Messages API (``POST /v1/messages``) over the same engine.

A Messages request becomes the same validated ``GenRequest`` a chat
completion does (``system`` first, then the turns), runs through
``Generation`` (queueing, cancellation, the prompt cache), and is answered
in Anthropic's shapes: a ``message`` object, or the event stream
``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``...,
``content_block_stop``, ``message_delta``, ``message_stop``.  A model's
reasoning becomes ``thinking`` blocks before the ``text`` block.  Errors are
``{"type": "error", "error": {"type", "message"}}``.

Image blocks (base64 sources, and url sources on a server run with
``--allow-image-urls``) go into ``GenRequest.images`` exactly as OpenAI
``image_url`` parts do, each in the turn it came in, so a vision model reads them
(through the same prepare step, EXIF included) and a text model refuses
them with 422.

Tools go through the OpenAI machinery (``tools.read_tools``, the engine's
template and grammar): ``tools`` [{name, description, input_schema}] become
function tools, ``tool_choice`` auto/any/tool/none becomes
auto/required/the named function/none, and the history's ``tool_use`` blocks
become an assistant turn's ``tool_calls`` and ``tool_result`` blocks the
``tool`` messages after it.  Calls in the answer are ``tool_use`` blocks with
``stop_reason: "tool_use"``; streamed, each is one ``content_block_start``
(input ``{}``), one ``input_json_delta`` with the whole arguments, and its
``content_block_stop``.
"""

from __future__ import annotations

import json
import uuid

from mlxk_bin.serve.errors import ApiError, bad_request
from mlxk_bin.serve.generation import Generation
from mlxk_bin.serve.schemas import (
    CHAT,
    MAX_MODEL_CHARS,
    GenRequest,
    ImageSink,
    _bool,
    _image,
    _number,
    _sampling,
    _stop,
    _string,
    _type_name,
    _unsupported,
    _wrong_type,
    check_images_total,
)
from mlxk_bin.serve.tools import read_tools
from mlxk_common.jsonio import dumps

# HTTP status -> Anthropic's error type
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 405: "invalid_request_error", 408: "timeout_error",
               413: "request_too_large", 422: "invalid_request_error", 429: "rate_limit_error",
               500: "api_error", 503: "overloaded_error"}
STOP_REASONS = {"length": "max_tokens"}  # "stop": end_turn, or stop_sequence when a stop string ended it
TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}  # and {"type": "tool", "name": ...}


def error_body(error: ApiError) -> dict:
    return {"type": "error", "error": {"type": ERROR_TYPES.get(error.status, "api_error"), "message": error.message}}


def event(name: str, data: dict) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data).encode() + b"\n\n"


# -- the request ------------------------------------------------------------

def parse_messages(body, max_image_bytes: int, max_images_total: int | None = None,
                   allow_urls: bool = False) -> GenRequest:
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, not {_type_name(body)}", None, "invalid_type")
    req = GenRequest(CHAT)
    model = body.get("model")
    if model is not None:
        model = _string(model, "model", MAX_MODEL_CHARS).strip()
        if not model or "\x00" in model:
            raise bad_request("'model' must name a model", "model")
        req.model = model
    if body.get("max_tokens") is None:
        raise bad_request("'max_tokens' is required", "max_tokens", "missing_required_parameter")
    req.max_tokens = _number(body, "max_tokens", 1, 2**31 - 1, integer=True)
    _tools(body, req)
    sink = ImageSink(req, max_image_bytes, allow_urls)
    messages = _system(body.get("system"), sink)
    messages += _turns(body.get("messages"), sink)
    req.messages = messages
    check_images_total(req, max_images_total)
    # Anthropic's temperature, top_p and top_k, and the OpenAI route's extensions (min_p,
    # repetition_penalty, seed) with the same checks; Anthropic's temperature ends at 1.
    _number(body, "temperature", 0, 1)
    _sampling(body, req)
    req.stop = _stop(body.get("stop_sequences"))
    req.stream = _bool(body, "stream")
    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict):
            raise _wrong_type("thinking", "an object", thinking)
        kind = thinking.get("type")
        # The chat template's switch; other kinds leave the template's own default.
        if kind in ("enabled", "adaptive", "disabled"):
            req.template_kwargs = {"enable_thinking": kind != "disabled"}
    return req


def _tools(body: dict, req: GenRequest) -> None:
    """Anthropic ``tools`` and ``tool_choice`` read as the OpenAI fields they amount to."""
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise _wrong_type("tools", "an array", tools)
    chat: dict = {}
    if tools:
        chat["tools"] = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    choice = body.get("tool_choice")
    if choice is not None:
        if not isinstance(choice, dict):
            raise _wrong_type("tool_choice", "an object", choice)
        kind = choice.get("type")
        if kind == "tool":
            chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif kind in TOOL_CHOICES:
            chat["tool_choice"] = TOOL_CHOICES[kind]
        else:
            shown = kind[:40] if isinstance(kind, str) else _type_name(kind)
            raise bad_request(f"'tool_choice.type' must be auto, any, tool or none, not {shown!r}",
                              "tool_choice.type")
        parallel = choice.get("disable_parallel_tool_use")
        if parallel is not None:
            if not isinstance(parallel, bool):
                raise _wrong_type("tool_choice.disable_parallel_tool_use", "a boolean", parallel)
            chat["parallel_tool_calls"] = not parallel
    read_tools(chat, req)


def _tool(tool, where: str) -> dict:
    if not isinstance(tool, dict):
        raise _wrong_type(where, "an object", tool)
    kind = tool.get("type")
    if kind not in (None, "custom"):  # server tools (web search, bash, ...) run on Anthropic's side
        shown = kind[:40] if isinstance(kind, str) else _type_name(kind)
        raise _unsupported(f"only custom tools are supported, not {shown!r}", f"{where}.type")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise _wrong_type(f"{where}.input_schema", "a JSON schema object", schema) if schema is not None else \
            bad_request(f"'{where}.input_schema' is required", f"{where}.input_schema", "missing_required_parameter")
    fn = {"name": tool.get("name"), "parameters": schema}
    if tool.get("description") is not None:
        fn["description"] = _string(tool["description"], f"{where}.description")
    return {"type": "function", "function": fn}


def _system(value, sink: ImageSink) -> list[dict]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "system", "content": value}] if value else []
    if not isinstance(value, list):
        raise _wrong_type("system", "a string or an array of text blocks", value)
    text = _blocks(value, "system", sink, text_only=True)
    return [{"role": "system", "content": text}] if text else []


def _turns(value, sink: ImageSink) -> list[dict]:
    if value is None:
        raise bad_request("'messages' is required", "messages", "missing_required_parameter")
    if not isinstance(value, list):
        raise _wrong_type("messages", "an array", value)
    if not value:
        raise bad_request("'messages' must hold at least one message", "messages")
    out = []
    for i, message in enumerate(value):
        param = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _wrong_type(param, "an object", message)
        role = message.get("role")
        if role not in ("user", "assistant"):
            shown = role[:40] if isinstance(role, str) else _type_name(role)
            raise bad_request(f"'{param}.role' must be 'user' or 'assistant', not {shown!r}", f"{param}.role")
        content = message.get("content")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
        elif isinstance(content, list):
            calls, results, parts = [], [], []
            text = _blocks(content, f"{param}.content", sink, calls=calls, results=results, parts=parts)
            if (role == "user" and calls) or (role == "assistant" and results):
                kind = "tool_use" if calls else "tool_result"
                raise bad_request(f"'{kind}' blocks belong to {'assistant' if calls else 'user'} messages",
                                  f"{param}.content")
            images = any(part["type"] == "image" for part in parts)
            if images and role != "user":
                raise bad_request("image blocks belong to user messages", f"{param}.content")
            out += results  # the tool messages answer the calls of the turn before, ahead of any text
            if calls:
                out.append({"role": role, "content": text, "tool_calls": calls})
            elif text or images or not results:
                out.append({"role": role, "content": text, **({"parts": parts} if images else {})})
        else:
            raise _wrong_type(f"{param}.content", "a string or an array of content blocks", content)
    return out


def _blocks(blocks: list, param: str, sink: ImageSink, text_only: bool = False,
            calls: list | None = None, results: list | None = None, parts: list | None = None) -> str:
    """The blocks' text; images into ``sink`` (and, in order with the text, ``parts``),
    ``tool_use`` blocks into ``calls`` (OpenAI ``tool_calls``) and ``tool_result`` blocks into
    ``results`` (``tool`` messages)."""
    parts = [] if parts is None else parts
    texts = []
    for j, block in enumerate(blocks):
        where = f"{param}[{j}]"
        if not isinstance(block, dict):
            raise _wrong_type(where, "an object", block)
        kind = block.get("type")
        if kind == "text":
            texts.append(_string(block.get("text"), f"{where}.text"))
            parts.append({"type": "text", "text": texts[-1]})
        elif text_only:
            raise bad_request(f"'{where}.type' must be 'text'", f"{where}.type")
        elif kind == "image":
            _image_block(block.get("source"), f"{where}.source", sink, parts)
        elif kind in ("thinking", "redacted_thinking"):
            continue  # earlier reasoning is not fed back, as the chat templates do
        elif kind == "tool_use" and calls is not None:
            calls.append(_tool_use(block, where))
        elif kind == "tool_result" and results is not None:
            results.append(_tool_result(block, where, sink))
        elif kind in ("tool_use", "tool_result", "server_tool_use", "document", "search_result"):
            raise _unsupported(f"content blocks of type {kind!r} are not supported", f"{where}.type")
        else:
            shown = kind[:40] if isinstance(kind, str) else _type_name(kind)
            raise bad_request(f"'{where}.type' must be 'text' or 'image', not {shown!r}", f"{where}.type")
    return "".join(texts)


def _tool_use(block: dict, where: str) -> dict:
    call_id = _string(block.get("id"), f"{where}.id", 256)
    name = _string(block.get("name"), f"{where}.name", 256)
    args = block.get("input", {})
    if not isinstance(args, dict):
        raise _wrong_type(f"{where}.input", "an object", args)
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}


def _tool_result(block: dict, where: str, sink: ImageSink) -> dict:
    call_id = _string(block.get("tool_use_id"), f"{where}.tool_use_id", 256)
    content = block.get("content", "")
    parts = []
    if isinstance(content, list):
        content = _blocks(content, f"{where}.content", sink, parts=parts)
    elif not isinstance(content, str):
        raise _wrong_type(f"{where}.content", "a string or an array of content blocks", content)
    if block.get("is_error") is True:
        content = "Error: " + content  # the templates have no error flag: the model reads it in the text
        parts.insert(0, {"type": "text", "text": "Error: "})
    if any(part["type"] == "image" for part in parts):
        return {"role": "tool", "tool_call_id": call_id, "content": content, "parts": parts}
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _image_block(source, param: str, sink: ImageSink, parts: list) -> None:
    """A base64 image source, decoded and checked as an OpenAI data: URL is; a url source
    fetched as an OpenAI http(s) image URL is (only with --allow-image-urls)."""
    if not isinstance(source, dict):
        raise _wrong_type(param, "an object", source)
    kind = source.get("type")
    if kind == "url" and sink.allow_urls:
        sink.add(source.get("url"), f"{param}.url", parts)
        return
    if kind != "base64":
        raise bad_request("only base64 image sources are accepted; this server does not fetch remote URLs "
                          "(it runs without --allow-image-urls)" if kind == "url" else
                          "image sources must be of type base64 (or url)", f"{param}.type", "invalid_image_url")
    media = _string(source.get("media_type"), f"{param}.media_type", 100)
    data = _string(source.get("data"), f"{param}.data")
    sink.req.images.append(_image(f"data:{media};base64,{data}", param, sink.max_bytes))
    parts.append({"type": "image", "image": len(sink.req.images)})


# -- the answer -------------------------------------------------------------

def stop_reason(done, finish: str | None = None) -> tuple[str, str | None]:
    """Anthropic's stop reason; ``finish`` is the OpenAI reason after the tool calls ("tool_calls")."""
    if finish == "tool_calls":
        return "tool_use", None
    if done.finish_reason == "stop" and done.stop_sequence:
        return "stop_sequence", done.stop_sequence
    return STOP_REASONS.get(done.finish_reason, "end_turn"), None


def tool_use(call: dict) -> dict:
    """An OpenAI tool call as a ``tool_use`` block: its arguments as the ``input`` object."""
    fn = call["function"]
    try:
        args = json.loads(fn["arguments"] or "{}")
    except ValueError:
        args = None
    return {"type": "tool_use", "id": call["id"], "name": fn["name"], "input": args if isinstance(args, dict) else {}}


class Messages(Generation):
    """``POST /v1/messages``: one choice, Anthropic's shapes."""

    def __init__(self, state, environ):
        super().__init__(state, environ, CHAT)
        self.block = None  # the open content block's type ("thinking", "text", "tool_use"), streaming
        self.blocks = 0  # content blocks opened so far

    def parse(self, body):
        settings = self.state.settings
        return parse_messages(body, settings.max_image, settings.max_images_total, settings.allow_image_urls)

    def start_response(self, model) -> None:
        self.id = "msg_" + uuid.uuid4().hex[:24]
        self.model_name = model.name

    def _usage_doc(self, output_tokens: int) -> dict:
        return {"input_tokens": self.prompt_tokens - self.cached_tokens, "output_tokens": output_tokens,
                "cache_read_input_tokens": self.cached_tokens, "cache_creation_input_tokens": 0}

    def _message(self, content: list, reason, sequence, output_tokens: int) -> dict:
        return {"id": self.id, "type": "message", "role": "assistant", "model": self.model_name,
                "content": content, "stop_reason": reason, "stop_sequence": sequence,
                "usage": self._usage_doc(output_tokens)}

    def respond(self, choices, usage_) -> dict:
        choice = choices[0]
        content = []
        reasoning = "".join(choice.reasoning).strip()
        if reasoning:
            content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
        text, calls, finish = choice.split("".join(choice.content), final=True)
        if text or not calls:
            content.append({"type": "text", "text": text})
        content += [tool_use(call) for call in calls]
        reason, sequence = stop_reason(choice.done, finish)
        return self._message(content, reason, sequence, choice.done.completion_tokens)

    # -- streaming (the same text/event-stream headers as OpenAI streams) -----------
    def stream_start(self) -> bytes:
        return (event("message_start", {"type": "message_start",
                                        "message": self._message([], None, None, 0)})
                + event("ping", {"type": "ping"}))

    def _open(self, kind: str, block: dict | None = None) -> bytes:
        out = self._close()
        self.block = kind
        if block is None:
            block = {"type": "text", "text": ""} if kind == "text" else {"type": "thinking", "thinking": "",
                                                                         "signature": ""}
        return out + event("content_block_start", {"type": "content_block_start", "index": self.blocks,
                                                   "content_block": block})

    def _close(self) -> bytes:
        if self.block is None:
            return b""
        self.block = None
        self.blocks += 1
        return event("content_block_stop", {"type": "content_block_stop", "index": self.blocks - 1})

    def _delta(self, kind: str, text: str) -> bytes:
        out = self._open(kind) if self.block != kind else b""
        delta = {"type": "text_delta", "text": text} if kind == "text" else {"type": "thinking_delta",
                                                                              "thinking": text}
        return out + event("content_block_delta", {"type": "content_block_delta", "index": self.blocks,
                                                   "delta": delta})

    def _tool_use(self, call: dict) -> bytes:
        """One call, whole: its block with an empty input, the arguments as one JSON delta, the stop."""
        block = tool_use(call)
        out = self._open("tool_use", {**block, "input": {}})
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"], ensure_ascii=False)}
        return out + event("content_block_delta", {"type": "content_block_delta", "index": self.blocks,
                                                   "delta": delta}) + self._close()

    def stream_delta(self, choice, ev) -> bytes:
        out = b""
        if ev.reasoning:
            out += self._delta("thinking", ev.reasoning)
        text, calls, _ = choice.split(ev.content, final=False)
        if text:
            out += self._delta("text", text)
        return out + b"".join(self._tool_use(call) for call in calls)

    def stream_choice_done(self, choice, ev) -> bytes:
        text, calls, finish = choice.split("", final=True)
        out = self._delta("text", text) if text else b""
        out += b"".join(self._tool_use(call) for call in calls)
        if not (self.blocks or self.block):
            out += self._open("text")  # an empty answer: one empty text block
        out += self._close()
        reason, sequence = stop_reason(ev, finish)
        return out + event("message_delta", {"type": "message_delta",
                                             "delta": {"stop_reason": reason, "stop_sequence": sequence},
                                             "usage": {"output_tokens": ev.completion_tokens}})

    def stream_end(self, usage_) -> bytes:
        return event("message_stop", {"type": "message_stop"})

    def stream_error(self, error: ApiError) -> bytes:
        return event("error", error_body(error))
