"""``POST /v1/responses``: OpenAI's Responses API, stateless.

The request is read into the chat completion request it amounts to (input
items -> messages, flat function tools -> chat tools, ``text.format`` ->
``response_format``), so it is validated and generated exactly as a chat
completion is; only the answer's shape differs: ``output`` items (a
``message`` with ``output_text``, ``function_call`` items), or the event
sequence ``response.created`` ... ``response.output_text.delta`` ...
``response.completed`` when streamed.  Nothing is stored: a
``previous_response_id`` is refused, the client sends the whole
conversation (function calls and their ``function_call_output`` items).
"""

from __future__ import annotations

import time
import uuid

from mlxk_bin.serve.errors import bad_request
from mlxk_bin.serve.generation import Generation
from mlxk_bin.serve.schemas import CHAT, parse_common
from mlxk_common.jsonio import dumps

ROLES = ("user", "system", "developer", "assistant")
PART_TYPES = {"input_text": "text", "output_text": "text", "text": "text"}


def to_chat(body) -> dict:
    """A Responses request body -> the chat completion body it amounts to."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None, "invalid_type")
    if body.get("previous_response_id") is not None:
        raise bad_request("this server keeps no responses: send the whole conversation in 'input' instead of "
                          "'previous_response_id'", "previous_response_id", "unsupported_value")
    if body.get("background"):
        raise bad_request("background responses are not supported", "background", "unsupported_value")
    messages = []
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise bad_request("'instructions' must be a string", "instructions", "invalid_type")
        messages.append({"role": "system", "content": instructions})
    messages += _input(body.get("input"))
    chat = {"messages": messages}
    for name in ("model", "temperature", "top_p", "stream", "parallel_tool_calls", "user", "seed", "top_k",
                 "min_p", "repetition_penalty", "presence_penalty", "frequency_penalty", "stop",
                 "chat_template_kwargs"):
        if body.get(name) is not None:
            chat[name] = body[name]
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    if body.get("tools") is not None:
        chat["tools"] = _tools(body["tools"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function" and "function" not in choice:
        choice = {"type": "function", "function": {"name": choice.get("name")}}
    if choice is not None:
        chat["tool_choice"] = choice
    text = body.get("text")
    if text is not None:
        if not isinstance(text, dict):
            raise bad_request("'text' must be an object", "text", "invalid_type")
        if text.get("format") is not None:
            chat["response_format"] = text["format"]
    return chat


def _input(value) -> list[dict]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise bad_request("'input' must be a string or a non-empty array of items", "input",
                          "missing_required_parameter" if value is None else "invalid_value")
    out = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise bad_request(f"'{where}' must be an object", where, "invalid_type")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ROLES:
                raise bad_request(f"'{where}.role' must be one of {', '.join(ROLES)}", f"{where}.role")
            out.append({"role": role, "content": _parts(item.get("content"), f"{where}.content")})
        elif kind == "function_call":
            call = {"id": item.get("call_id") or item.get("id"), "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments", "")}}
            if out and out[-1]["role"] == "assistant" and out[-1].get("tool_calls") is not None:
                out[-1]["tool_calls"].append(call)  # parallel calls: one assistant turn
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            if not isinstance(output, str):
                raise bad_request(f"'{where}.output' must be a string", f"{where}.output", "invalid_type")
            out.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": output})
        elif kind == "reasoning":
            continue  # a model's earlier thoughts are not sent back to it
        else:
            shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
            raise bad_request(f"input items of type {shown!r} are not supported", f"{where}.type",
                              "unsupported_value")
    return out


def _parts(content, where: str):
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad_request(f"'{where}' must be a string or an array of content parts", where, "invalid_type")
    parts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in PART_TYPES:
            parts.append({"type": "text", "text": part.get("text")})
        elif kind == "input_image":
            parts.append({"type": "image_url", "image_url": {"url": part.get("image_url")}})
        else:
            raise bad_request(f"content parts of type {str(kind)[:40]!r} are not supported", f"{where}[{j}].type",
                              "unsupported_value")
    return parts


def _tools(tools) -> list:
    if not isinstance(tools, list):
        raise bad_request("'tools' must be an array", "tools", "invalid_type")
    out = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise bad_request(f"only function tools are supported, not {str(kind)[:40]!r}", f"tools[{i}].type",
                              "unsupported_value")
        fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        out.append({"type": "function", "function": {k: fn[k] for k in ("name", "description", "parameters",
                                                                          "strict") if k in fn}})
    return out


class Responses(Generation):
    """A chat generation answered in the Responses API's shape (one choice)."""

    def __init__(self, state, environ):
        super().__init__(state, environ, CHAT)
        self.body: dict = {}

    def parse(self, body):
        chat = to_chat(body)
        self.body = body
        settings = self.state.settings
        return parse_common(chat, CHAT, settings.max_image, settings.max_images_total, settings.allow_image_urls)

    def start_response(self, model) -> None:
        self.shaper = ResponseShaper(self.body, model.name)

    def respond(self, choices, usage_) -> dict:
        choice = choices[0]
        text, calls, finish = choice.split("".join(choice.content), final=True)
        if text:
            self.shaper.message(text)
        for call in calls:
            self.shaper.function_call(call)
        return self.shaper.final(finish, usage_)

    def stream_start(self) -> bytes:
        return self.shaper.start()

    def stream_delta(self, choice, event) -> bytes:
        text, calls, _ = choice.split(event.content, final=False)
        return self.shaper.text_delta(text) + b"".join(self.shaper.call_events(call) for call in calls)

    def stream_choice_done(self, choice, event) -> bytes:
        text, calls, finish = choice.split("", final=True)
        self.finish = finish
        return (self.shaper.text_delta(text) + b"".join(self.shaper.call_events(call) for call in calls)
                + self.shaper.close_message())

    def stream_end(self, usage_) -> bytes:
        return self.shaper.event("response.completed", response=self.shaper.final(self.finish, usage_))

    def stream_error(self, error) -> bytes:
        body = error.body()["error"]
        return self.shaper.event("error", code=body.get("code"), message=body["message"], param=body.get("param"))


class ResponseShaper:
    """The response object and its stream events, built item by item."""

    def __init__(self, body: dict, model: str):
        self.id = "resp_" + uuid.uuid4().hex[:24]
        self.created = int(time.time())
        self.model = model
        self.body = body
        self.output: list[dict] = []
        self.seq = 0
        self.open: dict | None = None  # the message item being streamed

    def head(self, status: str) -> dict:
        body = self.body
        fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
        doc = {"id": self.id, "object": "response", "created_at": self.created, "status": status, "error": None,
               "incomplete_details": None, "model": self.model, "output": list(self.output),
               "previous_response_id": None, "reasoning": {"effort": None, "summary": None}, "store": False,
               "truncation": "disabled", "usage": None, "metadata": body.get("metadata") or {},
               "text": {"format": fmt or {"type": "text"}}}
        doc.update({"instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
                    "parallel_tool_calls": body.get("parallel_tool_calls", True),
                    "temperature": body.get("temperature"), "top_p": body.get("top_p"),
                    "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
                    "user": body.get("user")})
        return doc

    # -- whole answers -----------------------------------------------------------
    def message(self, text: str) -> dict:
        item = {"type": "message", "id": "msg_" + uuid.uuid4().hex[:24], "status": "completed",
                "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]}
        self.output.append(item)
        return item

    def function_call(self, call: dict) -> dict:
        item = {"type": "function_call", "id": "fc_" + uuid.uuid4().hex[:24], "call_id": call["id"],
                "name": call["function"]["name"], "arguments": call["function"]["arguments"],
                "status": "completed"}
        self.output.append(item)
        return item

    def final(self, finish_reason: str, usage_: dict) -> dict:
        doc = self.head("incomplete" if finish_reason == "length" else "completed")
        if finish_reason == "length":
            doc["incomplete_details"] = {"reason": "max_output_tokens"}
        doc["usage"] = {"input_tokens": usage_["prompt_tokens"],
                        "input_tokens_details": {"cached_tokens": usage_["prompt_tokens_details"]["cached_tokens"]},
                        "output_tokens": usage_["completion_tokens"], "output_tokens_details": {"reasoning_tokens": 0},
                        "total_tokens": usage_["total_tokens"]}
        return doc

    # -- stream events -------------------------------------------------------------
    def event(self, kind: str, **fields) -> bytes:
        doc = {"type": kind, "sequence_number": self.seq, **fields}
        self.seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + dumps(doc).encode() + b"\n\n"

    def start(self) -> bytes:
        head = self.head("in_progress")
        return self.event("response.created", response=head) + self.event("response.in_progress", response=head)

    def text_delta(self, text: str) -> bytes:
        if not text:
            return b""
        out = b""
        if self.open is None:
            self.open = {"type": "message", "id": "msg_" + uuid.uuid4().hex[:24], "status": "in_progress",
                         "role": "assistant", "content": [], "text": []}
            index = len(self.output)
            item = {k: v for k, v in self.open.items() if k != "text"}
            out += self.event("response.output_item.added", output_index=index, item=item)
            out += self.event("response.content_part.added", item_id=self.open["id"], output_index=index,
                              content_index=0, part={"type": "output_text", "text": "", "annotations": []})
        self.open["text"].append(text)
        return out + self.event("response.output_text.delta", item_id=self.open["id"], output_index=len(self.output),
                                content_index=0, delta=text, logprobs=[])

    def close_message(self) -> bytes:
        if self.open is None:
            return b""
        opened, self.open = self.open, None
        index = len(self.output)
        text = "".join(opened["text"])
        part = {"type": "output_text", "text": text, "annotations": []}
        item = {"type": "message", "id": opened["id"], "status": "completed", "role": "assistant", "content": [part]}
        self.output.append(item)
        return (self.event("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
                           text=text, logprobs=[])
                + self.event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0,
                             part=part)
                + self.event("response.output_item.done", output_index=index, item=item))

    def call_events(self, call: dict) -> bytes:
        out = self.close_message()
        index = len(self.output)
        item = self.function_call(call)
        added = {**item, "arguments": "", "status": "in_progress"}
        return (out + self.event("response.output_item.added", output_index=index, item=added)
                + self.event("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                             delta=item["arguments"])
                + self.event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                             arguments=item["arguments"])
                + self.event("response.output_item.done", output_index=index, item=item))
