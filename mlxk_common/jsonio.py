"""JSON encoding with orjson (fast, exact UTC datetimes, no NaN surprises).

orjson is imported on first use, so a tool that never writes JSON (a human
listing) never loads it.  Files are read with ``parse_untrusted`` (a depth
limit, so one hostile file cannot exhaust the stack or become unprintable).
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


# Deeper than any real config, tokenizer or index file (they nest under ten
# levels), and shallow enough that whatever is read can be written again
# inside an envelope (orjson writes at most 254 levels).
MAX_DEPTH = 128


def parse_untrusted(data: str | bytes, max_depth: int | None = MAX_DEPTH):
    """JSON from a file anyone could have written (config.json, a safetensors
    header, a sentinel): the standard library's parser, so listing tools need
    no orjson.  A document nested deeper than ``max_depth`` is a ValueError
    like any other malformed document, never a RecursionError (which the
    parser raises itself past the interpreter's recursion limit).  ``None``:
    no depth walk, for documents whose shape the caller validates itself."""
    import json

    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if max_depth is None:
        return value
    # Depth needs as many brackets: most files have too few to be worth a walk.
    opened = data.count(b"[" if isinstance(data, bytes) else "[")
    opened += data.count(b"{" if isinstance(data, bytes) else "{")
    if opened > max_depth and _depth_exceeds(value, max_depth):
        raise ValueError(f"JSON nested more than {max_depth} levels deep")
    return value


def _depth_exceeds(value, limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels (level by level:
    no recursion, whatever the depth)."""
    level, depth = ([value] if type(value) is dict or type(value) is list else []), 1
    while level:
        below = []
        for item in level:
            for child in (item.values() if type(item) is dict else item):
                if type(child) is dict or type(child) is list:
                    below.append(child)
        if below and depth >= limit:
            return True
        level, depth = below, depth + 1
    return False
