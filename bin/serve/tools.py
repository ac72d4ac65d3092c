"""Tool calling and structured output over HTTP: the request fields, and the answer's ``tool_calls``.

``read_tools`` checks ``tools``, ``tool_choice``, ``parallel_tool_calls`` and
``response_format`` (the engine checks them once more against the model:
a template without tools, a schema it cannot enforce).  ``ToolText`` runs on
the request's greenlet: it splits the streamed text into content and calls
with the model family's markers (mlx-lm's), and shapes the calls as OpenAI
returns them, whole or as ``delta.tool_calls`` stream chunks.
"""

from __future__ import annotations

from mlxk_bin.serve.errors import bad_request, from_mlxk
from mlxk_common.engine.structured import check_response_format
from mlxk_common.engine.tools import ToolCallSplitter, check_tool_choice, check_tools, parse_calls
from mlxk_common.errors import MlxkError

MAX_TOOLS = 128


def read_tools(body: dict, req) -> None:
    """Fill ``req.tools``, ``req.tool_choice``, ``req.parallel_tool_calls``, ``req.response_format``."""
    try:
        if body.get("functions") is not None:
            raise MlxkError("usage_error", "'functions' is the deprecated spelling; send 'tools'", param="functions")
        tools = body.get("tools")
        if tools is not None:
            check_tools(tools)
            if len(tools) > MAX_TOOLS:
                raise MlxkError("usage_error", f"at most {MAX_TOOLS} tools per request", param="tools")
        req.tools = tools or None
        req.tool_choice = check_tool_choice(body.get("tool_choice"), req.tools)
        parallel = body.get("parallel_tool_calls")
        if parallel is not None and not isinstance(parallel, bool):
            raise MlxkError("usage_error", "'parallel_tool_calls' must be a boolean", param="parallel_tool_calls")
        req.parallel_tool_calls = parallel is not False
        req.response_format = check_response_format(body.get("response_format"))
    except MlxkError as exc:
        raise from_mlxk(exc) from None


def check_message_tools(message: dict, entry: dict, param: str) -> None:
    """Keep an assistant message's ``tool_calls`` and a tool message's ``tool_call_id``."""
    calls = message.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise bad_request(f"'{param}.tool_calls' must be an array", f"{param}.tool_calls", "invalid_type")
        for j, call in enumerate(calls):
            fn = call.get("function") if isinstance(call, dict) else None
            if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
                raise bad_request(f"'{param}.tool_calls[{j}].function.name' must be a string",
                                  f"{param}.tool_calls[{j}].function.name")
            if not isinstance(fn.get("arguments", ""), (str, dict)):
                raise bad_request(f"'{param}.tool_calls[{j}].function.arguments' must be a JSON string",
                                  f"{param}.tool_calls[{j}].function.arguments")
        if calls:
            entry["tool_calls"] = calls
    call_id = message.get("tool_call_id")
    if call_id is not None:
        if not isinstance(call_id, str):
            raise bad_request(f"'{param}.tool_call_id' must be a string", f"{param}.tool_call_id", "invalid_type")
        entry["tool_call_id"] = call_id


class ToolText:
    """The answer's text through the model's tool-call markers."""

    def __init__(self, tool_format, tools):
        self.format = tool_format
        self.tools = tools
        self.splitter = ToolCallSplitter(tool_format.start, tool_format.end)
        self.calls: list[dict] = []

    def feed(self, text: str) -> tuple[str, list[dict]]:
        content, raw = self.splitter.feed(text)
        return content, self._parse(raw)

    def finish(self) -> tuple[str, list[dict]]:
        content, raw = self.splitter.finish()
        return content, self._parse(raw)

    def _parse(self, raw: list[str]) -> list[dict]:
        calls = parse_calls(self.format, raw, self.tools) if raw else []
        self.calls.extend(calls)
        return calls

    def finish_reason(self, reason: str) -> str:
        return "tool_calls" if self.calls and reason == "stop" else reason


def stream_deltas(calls: list[dict], first_index: int) -> list[dict]:
    """``delta.tool_calls`` entries as OpenAI streams them: the id, type and
    name with empty arguments, then the arguments."""
    out = []
    for i, call in enumerate(calls):
        index = first_index + i
        fn = call["function"]
        out.append({"index": index, "id": call["id"], "type": "function",
                    "function": {"name": fn["name"], "arguments": ""}})
        if fn["arguments"]:
            out.append({"index": index, "function": {"arguments": fn["arguments"]}})
    return out
