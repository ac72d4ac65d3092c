"""mlx-run for agents: --tools, --tool-choice, --json-schema, --json-object.

The options become the engine's ``tools``/``tool_choice``/``response_format``
(the same ones mlxk-serve passes), for one-shot prompts and for every
--ndjson-in line (which may carry its own ``tools``, ``tool_choice``,
``parallel_tool_calls`` and ``response_format``).  An answer with tools is
split into its text and its calls with the model's own tool-call markers; the
calls come back as OpenAI ``tool_calls`` in the result record.
"""

from __future__ import annotations

from mlxk_common.engine.structured import check_response_format
from mlxk_common.engine.tools import ToolCallSplitter, check_tool_choice, check_tools, parse_calls
from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import JSONDecodeError, loads

ENGINE_KEYS = ("tools", "tool_choice", "parallel_tool_calls", "response_format")  # the text engine's only


def add_arguments(group) -> None:
    group.add_argument("--tools", metavar="FILE",
                       help="offer the model these tools: a JSON file with an array of OpenAI function tools "
                            "([{\"type\": \"function\", \"function\": {\"name\", \"parameters\"}}]); the model's "
                            "calls come back as tool_calls (--json/--ndjson) or as one JSON line each")
    group.add_argument("--tool-choice", metavar="CHOICE",
                       help="with --tools: auto (default), none, required (at least one call, forced by a "
                            "grammar) or the NAME of the one function to call")
    group.add_argument("--json-schema", metavar="FILE",
                       help="the answer is JSON valid against this JSON schema (a file), enforced while "
                            "sampling; a schema feature that cannot be enforced is a usage_error")
    group.add_argument("--json-object", action="store_true",
                       help="the answer is a JSON object, enforced while sampling")


def read_options(args) -> dict:
    """The engine options of the command line (checked before the model loads)."""
    options = {}
    if args.tools is not None:
        doc = _read_json(args.tools, "--tools")
        tools = doc.get("tools") if isinstance(doc, dict) else doc
        options["tools"] = check_tools(tools, "--tools")
    if args.tool_choice is not None:
        if "tools" not in options:
            raise MlxkError("usage_error", "--tool-choice needs --tools")
        choice = args.tool_choice
        if choice not in ("auto", "none", "required"):
            choice = {"type": "function", "function": {"name": choice}}
        options["tool_choice"] = check_tool_choice(choice, options["tools"])
    if args.json_schema is not None and args.json_object:
        raise MlxkError("usage_error", "give --json-schema or --json-object, not both")
    if args.json_schema is not None:
        schema = _read_json(args.json_schema, "--json-schema")
        # A response_format object ({"type": "json_schema", "json_schema": {...}}) works too.
        fmt = schema if isinstance(schema, dict) and schema.get("type") == "json_schema" else \
            {"type": "json_schema", "json_schema": {"schema": schema}}
        options["response_format"] = check_response_format(fmt, "--json-schema")
    elif args.json_object:
        options["response_format"] = {"type": "json_object"}
    return options


def line_options(obj: dict, defaults: dict) -> dict:
    """One --ndjson-in line's tools and output format over the command line's."""
    options = {}
    tools = defaults.get("tools")
    if obj.get("tools") is not None:
        tools = options["tools"] = check_tools(obj["tools"])
    if obj.get("tool_choice") is not None:
        options["tool_choice"] = check_tool_choice(obj["tool_choice"], tools)
    if obj.get("parallel_tool_calls") is not None:
        if not isinstance(obj["parallel_tool_calls"], bool):
            raise MlxkError("usage_error", "\"parallel_tool_calls\" must be true or false")
        options["parallel_tool_calls"] = obj["parallel_tool_calls"]
    if "response_format" in obj:
        options["response_format"] = check_response_format(obj["response_format"])
    return options


def _read_json(path: str, flag: str):
    try:
        with open(path, encoding="utf-8") as f:
            return loads(f.read())
    except OSError as exc:
        raise MlxkError("usage_error", f"{flag}: cannot read {path}: {exc.strerror or exc}") from None
    except (JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise MlxkError("usage_error", f"{flag}: {path} is not JSON ({exc})") from None


def split_calls(engine, finished, options: dict) -> tuple[str, list[dict] | None, str]:
    """(content, tool_calls or None without tools, finish_reason) of a finished answer."""
    tools = options.get("tools")
    fmt = getattr(engine, "tool_format", None)
    if not tools or options.get("tool_choice") == "none" or fmt is None:
        return finished.content, None, finished.finish_reason
    splitter = ToolCallSplitter(fmt.start, fmt.end)
    content, raw = splitter.feed(finished.content)
    more, late = splitter.finish()
    calls = parse_calls(fmt, raw + late, tools)
    reason = "tool_calls" if calls and finished.finish_reason == "stop" else finished.finish_reason
    return content + more, calls, reason


def check_engine(engine, options: dict) -> None:
    """Tools and formats are the text engine's; other engines refuse them clearly."""
    if options and not hasattr(engine, "tool_format"):
        raise MlxkError("capability_not_supported", "--tools, --json-schema and --json-object (or tools and "
                        f"response_format in a line) need a text model, not a {getattr(engine, 'kind', '?')} model")


def tool_splitter(engine, options: dict):
    """A splitter that keeps tool-call markup out of streamed text, or None."""
    fmt = getattr(engine, "tool_format", None)
    if not options.get("tools") or options.get("tool_choice") == "none" or fmt is None:
        return None
    return ToolCallSplitter(fmt.start, fmt.end)


def with_calls(record: dict, engine, finished, options: dict) -> dict:
    """The result record with the answer's text and tool calls apart."""
    content, calls, reason = split_calls(engine, finished, options)
    record["response"] = content
    record["finish_reason"] = reason
    if calls is not None:
        record["tool_calls"] = calls
    return record
