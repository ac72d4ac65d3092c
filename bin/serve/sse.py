"""Server-sent events as OpenAI streams them: ``data: {json}\\n\\n`` ... ``data: [DONE]\\n\\n``."""

from __future__ import annotations

from mlxk_common.jsonio import dumps

DONE = b"data: [DONE]\n\n"
HEADERS = (
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache"),
    # Tell proxies such as nginx not to buffer the stream.
    ("X-Accel-Buffering", "no"),
)


def event(obj) -> bytes:
    return b"data: " + dumps(obj).encode() + b"\n\n"


def comment(text: str = "keep-alive") -> bytes:
    """A comment line: clients ignore it; it keeps idle connections open and
    lets the server notice a client that went away while nothing else is sent."""
    return b": " + text.encode() + b"\n\n"
