"""What every request passes before any model work: request id, bearer
auth, CORS, the body size limit, JSON parsing, and the disconnect watch."""

from __future__ import annotations

import re

from mlxk_bin.serve.errors import ApiError, bad_request
from mlxk_common.jsonio import JSONDecodeError, loads

_REQUEST_ID = r"^[A-Za-z0-9._:@/+=-]{1,128}$"
DRAIN_LIMIT = 64 << 20  # bytes of a refused body read and dropped so the client sees the 413


def request_id(environ) -> str:
    """The client's X-Request-ID when it is a sane token, else a new one."""
    import uuid

    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if re.match(_REQUEST_ID, given) else uuid.uuid4().hex


def check_auth(environ, api_key: str | None) -> None:
    import hmac

    if not api_key:
        return
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if not header and "HTTP_X_API_KEY" in environ:  # Anthropic's clients send the key as X-Api-Key
        scheme, token = "bearer", environ["HTTP_X_API_KEY"]
    # compare_digest takes the same time whatever the prefix that matches.
    ok = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode("utf-8", "replace"),
                                                             api_key.encode("utf-8"))
    if not ok:
        raise ApiError(401, "invalid or missing API key (send 'Authorization: Bearer KEY')",
                       "authentication_error", None, "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


class Cors:
    """CORS headers for the configured origins only (none: CORS off)."""
    ALLOW_HEADERS = "Authorization, Content-Type, X-Request-ID, X-Api-Key, Anthropic-Version"

    def __init__(self, origins):
        self.origins = {o.rstrip("/") for o in origins or ()}
        self.any = "*" in self.origins

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allowed(self, origin: str | None) -> bool:
        return bool(origin) and (self.any or origin.rstrip("/") in self.origins)

    def headers(self, origin: str | None) -> list[tuple[str, str]]:
        if not self.allowed(origin):
            return []
        return [("Access-Control-Allow-Origin", "*" if self.any else origin),
                ("Access-Control-Expose-Headers", "X-Request-ID"), ("Vary", "Origin")]

    def preflight(self) -> list[tuple[str, str]]:
        """Added to ``headers()`` for an allowed origin's preflight request."""
        return [("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", self.ALLOW_HEADERS), ("Access-Control-Max-Age", "600")]


def read_body(environ, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes, else 413."""
    raw_length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length = None
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            raise bad_request("Content-Length is not a number", None, "invalid_header") from None
        if length < 0:
            raise bad_request("Content-Length is negative", None, "invalid_header")
        if length > limit:
            raise too_large(environ, limit, length)
    elif not chunked:
        return b""
    try:
        data = environ["wsgi.input"].read(length if length is not None else limit + 1)
    except TimeoutError:
        refuse_connection(environ)
        raise ApiError(408, f"the request body stopped arriving (nothing came for {_read_timeout(environ)})",
                       param=None, code="request_timeout", headers={"Connection": "close"}) from None
    except OSError:
        # gevent's reader: a chunk size that is not hex, a missing CRLF, or
        # the end of the stream before the whole body came.
        refuse_connection(environ)
        what = "chunked request body is malformed or incomplete" if chunked else \
            "request body ended before Content-Length bytes"
        raise ApiError(400, f"the {what}", param=None, code="invalid_body", headers={"Connection": "close"}) \
            from None
    if len(data) > limit:
        raise too_large(environ, limit, None)
    return data


def too_large(environ, limit: int, length: int | None) -> ApiError:
    refuse_rest_of_body(environ)
    size = f" ({length} bytes)" if length is not None else ""
    return ApiError(413, f"the request body{size} is larger than the limit of {limit} bytes", param=None,
                    code="payload_too_large", headers={"Connection": "close"}, limit_bytes=limit)


def refuse_rest_of_body(environ) -> None:
    """After a 413 the connection closes; the server still reads (and drops)
    a bounded part of the unread body first, so a client that is still
    sending gets to read the answer instead of a connection reset."""
    handler = environ.get("mlxk.connection")
    if handler is None:
        return
    handler.close_connection = True
    body = environ["wsgi.input"]
    expecting = environ.get("HTTP_EXPECT", "").lower() == "100-continue"
    handler.wsgi_input = _Drain(body, 0 if expecting else DRAIN_LIMIT)


def _read_timeout(environ) -> str:
    sock = getattr(environ.get("mlxk.connection"), "socket", None)
    timeout = sock.gettimeout() if sock is not None else None
    return f"{timeout:g} s" if timeout else "too long"


def refuse_connection(environ) -> None:
    """The body cannot be trusted to end where the next request starts:
    answer, then close the connection without reading more."""
    handler = environ.get("mlxk.connection")
    if handler is None:
        return
    handler.close_connection = True
    handler.wsgi_input = _Drain(environ["wsgi.input"], 0)


class _Drain:
    """Stands in for the server's input object after a refusal: its discard
    step reads at most ``budget`` bytes (the server's own would read all)."""
    def __init__(self, body, budget: int):
        self.body = body
        self.budget = budget

    def _discard(self):
        left = self.budget
        while left > 0:
            chunk = self.body.read(min(1 << 16, left))
            if not chunk:
                return
            left -= len(chunk)


def parse_json(data: bytes):
    if not data.strip():
        raise bad_request("the request body is empty; send a JSON object", None, "invalid_json")
    try:
        return loads(data)
    except JSONDecodeError as exc:
        raise bad_request(f"the request body is not valid JSON: {str(exc)[:200]}", None, "invalid_json") from None


def watch_disconnect(environ, on_gone):
    """A greenlet body: calls ``on_gone()`` if the client closes its end
    while its response is being worked on (no read happens on that socket
    until the response is done, so readable-with-nothing-to-read means EOF)."""
    import socket

    from gevent.socket import wait_read

    handler = environ.get("mlxk.connection")
    sock = getattr(handler, "socket", None)
    if sock is None:
        return
    try:
        wait_read(sock.fileno())
        if sock.recv(1, socket.MSG_PEEK):
            return  # the client sent more (a pipelined request): not a disconnect
    except OSError:
        pass
    on_gone()
