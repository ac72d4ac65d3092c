"""JSON encoding with orjson (fast, exact UTC datetimes, no NaN surprises)."""

from __future__ import annotations

import orjson

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_UTC_Z


def _default(obj):
    # Paths and other simple objects print as strings; sets as sorted lists.
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def dumps(obj, indent: bool = False) -> str:
    opts = _OPTS | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(obj, default=_default, option=opts).decode()


def loads(text: str | bytes):
    return orjson.loads(text)


JSONDecodeError = orjson.JSONDecodeError
