"""JSON encoding with orjson (fast, exact UTC datetimes, no NaN surprises).

orjson is imported on first use, so a tool that never writes JSON (a human
listing) never loads it.  orjson refuses documents nested deeper than 1024
levels with a JSONDecodeError, so untrusted files cannot exhaust the stack.
"""

from __future__ import annotations

# orjson.JSONDecodeError (like json's) is a ValueError: catching this catches both.
JSONDecodeError = ValueError

_orjson = None


def _lib():
    global _orjson
    if _orjson is None:
        import orjson

        _orjson = orjson
    return _orjson


def _default(obj):
    # Paths and other simple objects print as strings; sets as sorted lists.
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def dumps(obj, indent: bool = False) -> str:
    orjson = _lib()
    opts = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z
    if indent:
        opts |= orjson.OPT_INDENT_2
    return orjson.dumps(obj, default=_default, option=opts).decode()


def loads(text: str | bytes):
    return _lib().loads(text)


def parse_untrusted(data: str | bytes):
    """JSON from a file anyone could have written (config.json, a safetensors
    header, a sentinel): the standard library's parser, so listing tools need
    no orjson; nesting deep enough to exhaust the stack is a ValueError like
    any other malformed document, never a RecursionError."""
    import json

    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
