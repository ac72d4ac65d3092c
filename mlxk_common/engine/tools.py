"""Tool calling: the model family's tool-call markup, found and parsed with mlx-lm's own parsers.

mlx-lm's tokenizer wrapper already knows, from the chat template, a family's
start and end markers (``<tool_call>`` ... ``</tool_call>``) and the function
that parses the text between them (``mlx_lm.tool_parsers``).  ``ToolFormat``
keeps those; ``ToolCallSplitter`` separates streamed text into content and
the raw text of each call; ``to_openai`` turns parsed calls into OpenAI
``tool_calls``.  Plain Python: mlx-run and mlxk-serve run it on the text
events of any engine.
"""

from __future__ import annotations

import json
import uuid

from mlxk_common.errors import MlxkError

CHOICES = ("auto", "none", "required")
# Parsers whose call body is a JSON object {"name", "arguments"}: a grammar can force one.
JSON_BODY_PARSERS = ("json_tools",)


class ToolFormat:
    __slots__ = ("end", "name", "parser", "start")

    def __init__(self, start: str, end: str, parser, name: str):
        self.start = start
        self.end = end
        self.parser = parser
        self.name = name  # the mlx_lm.tool_parsers module, e.g. "json_tools"

    @classmethod
    def of(cls, tokenizer) -> ToolFormat | None:
        """The tokenizer's tool-call format, or None when its template has none."""
        if not getattr(tokenizer, "has_tool_calling", False):
            return None
        parser = tokenizer.tool_parser
        name = getattr(parser, "__module__", "").rpartition(".")[2]
        return cls(tokenizer.tool_call_start, tokenizer.tool_call_end, parser, name)

    @property
    def json_body(self) -> bool:
        return self.name in JSON_BODY_PARSERS


def check_tools(tools, param: str = "tools") -> list[dict]:
    """OpenAI function tools, checked: ``[{"type": "function", "function": {"name", ...}}]``."""
    if not isinstance(tools, list):
        raise MlxkError("usage_error", f"{param} must be an array of tools", param=param)
    names = set()
    for i, tool in enumerate(tools):
        where = f"{param}[{i}]"
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise MlxkError("usage_error", f"{where} must be a function tool ({{\"type\": \"function\", ...}})",
                            param=where)
        fn = tool.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise MlxkError("usage_error", f"{where}.function.name must be a non-empty string",
                            param=f"{where}.function.name")
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise MlxkError("usage_error", f"{where}.function.parameters must be a JSON schema object",
                            param=f"{where}.function.parameters")
        if fn["name"] in names:
            raise MlxkError("usage_error", f"{where}: two tools are named {fn['name']!r}", param=where)
        names.add(fn["name"])
    return tools


def check_tool_choice(choice, tools: list | None) -> str:
    """``auto``/``none``/``required`` or the name of the one function to call."""
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in CHOICES:
            raise MlxkError("usage_error", f"tool_choice must be one of {', '.join(CHOICES)} or a named "
                            f"function, not {choice[:40]!r}", param="tool_choice")
        name = choice
    elif isinstance(choice, dict):
        fn = choice.get("function") if isinstance(choice.get("function"), dict) else choice
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise MlxkError("usage_error", "tool_choice must name a function: "
                            "{\"type\": \"function\", \"function\": {\"name\": ...}}", param="tool_choice")
        if name in CHOICES:
            raise MlxkError("usage_error", f"a tool may not be named {name!r}", param="tool_choice")
    else:
        raise MlxkError("usage_error", "tool_choice must be a string or an object", param="tool_choice")
    if name != "auto" and name != "none" and not tools:
        raise MlxkError("usage_error", f"tool_choice {name!r} needs tools", param="tool_choice")
    if name not in CHOICES and name not in {t["function"]["name"] for t in tools}:
        raise MlxkError("usage_error", f"tool_choice names {name!r}, which is not among the tools",
                        param="tool_choice")
    return name


def history_for_template(messages: list[dict]) -> list[dict]:
    """Assistant ``tool_calls`` with their arguments as objects, as chat
    templates expect them (OpenAI clients send a JSON string)."""
    out = []
    for message in messages:
        calls = message.get("tool_calls")
        if calls:
            fixed = []
            for call in calls:
                fn = dict(call.get("function") or {})
                if isinstance(fn.get("arguments"), str):
                    try:
                        fn["arguments"] = json.loads(fn["arguments"] or "{}")
                    except ValueError:
                        pass  # a template that prints it shows it as it came
                fixed.append({**call, "function": fn})
            message = {**message, "tool_calls": fixed}
        out.append(message)
    return out


class ToolCallSplitter:
    """Streamed text -> (content, raw calls).  A possible start marker is held
    back until it is known; the text of a call is held until its end marker.
    Whitespace between calls is not content."""

    __slots__ = ("_held", "_in_call", "_space", "calls", "end", "start")

    def __init__(self, start: str, end: str):
        self.start = start
        self.end = end
        self._held = ""
        self._in_call = False
        self._space = ""  # trailing whitespace of the content, released once more text follows
        self.calls = 0

    def feed(self, text: str) -> tuple[str, list[str]]:
        buf = self._held + text
        out, calls = [], []
        while buf:
            if self._in_call:
                at = buf.find(self.end) if self.end else -1
                if at < 0:
                    break
                calls.append(buf[:at])
                buf = buf[at + len(self.end):]
                self._in_call = False
                continue
            at = buf.find(self.start)
            if at < 0:
                keep = _prefix_tail(buf, self.start)
                out.append(buf[:len(buf) - keep])
                buf = buf[len(buf) - keep:]
                break
            out.append(buf[:at])
            buf = buf[at + len(self.start):]
            self._in_call = True
        self._held = buf
        self.calls += len(calls)
        return self._content("".join(out), calls), calls

    def finish(self) -> tuple[str, list[str]]:
        """The end of the output: an unterminated call is still a call (as in mlx-lm)."""
        held, self._held = self._held, ""
        if self._in_call:
            self._in_call = False
            if held.strip():
                self.calls += 1
                return "", [held]
            return "", []
        space, self._space = self._space, ""
        text = space + held
        return ("" if self.calls and not text.strip() else text), []

    def _content(self, text: str, calls: list) -> str:
        text = self._space + text
        body = text.rstrip()
        self._space = text[len(body):]
        if not body:
            return ""
        if calls or self.calls:  # text before and between calls loses its surrounding blank lines
            body = body.lstrip("\n")
        return body


def _prefix_tail(buf: str, marker: str) -> int:
    for n in range(min(len(marker) - 1, len(buf)), 0, -1):
        if buf.endswith(marker[:n]):
            return n
    return 0


def parse_calls(fmt: ToolFormat, texts: list[str], tools: list | None) -> list[dict]:
    """Raw call texts -> OpenAI tool calls ``{id, type, function: {name, arguments}}``;
    text the family's parser cannot read is dropped (as mlx-lm's server does)."""
    calls = []
    for text in texts:
        try:
            parsed = fmt.parser(text, tools)
        except Exception:  # noqa: BLE001, S112 - each parser raises its own errors on malformed text
            continue
        for call in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                continue
            args = call.get("arguments", {})
            calls.append({"id": call.get("id") or new_call_id(), "type": "function",
                          "function": {"name": call["name"],
                                       "arguments": args if isinstance(args, str)
                                       else json.dumps(args, ensure_ascii=False)}})
    return calls


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:24]
