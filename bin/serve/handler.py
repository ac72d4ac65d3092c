"""gevent's WSGI handler as mlxk-serve uses it: strict request framing and
read timeouts, and JSON errors for what gevent answers itself.

gevent itself is imported inside ``make_handler_class``, which runs once the
process is monkey-patched (``Server``).
"""

from __future__ import annotations

import re

from mlxk_bin.serve.errors import ApiError
from mlxk_common.jsonio import dumps


def make_handler_class(read_timeout: float | None):
    """gevent's WSGI handler, stricter about how a request is framed and how
    long its bytes may take to arrive:

    * a request head with both ``Transfer-Encoding`` and ``Content-Length``,
      a transfer coding other than ``chunked``, or a bad ``Content-Length``
      is refused (400, 501) and the connection closed (RFC 9112 section 6.3:
      such framing is how requests are smuggled past a proxy);
    * a request's head (request line and headers) must arrive within
      ``read_timeout`` seconds of the connection becoming ready for it (a
      new connection, or the previous answer on a kept-alive one), else 408
      and close, or just close when not a byte came; while its body is read,
      each wait for more bytes is limited to as long (408 and close), also
      while an unread or refused body is dropped after the answer.  Writes
      keep no limit: a slow reader of a stream is noticed when it goes away;
    * errors gevent answers itself get the API's JSON error shape.
    """
    import gevent
    from gevent.pywsgi import WSGIHandler

    class Handler(WSGIHandler):
        _head_deadline = None

        def handle_one_request(self):
            if self.socket is None or read_timeout is None:
                return super().handle_one_request()
            self.socket.settimeout(read_timeout)  # every wait for bytes, the body's included
            # The whole head, however slowly it trickles in (one byte a second
            # would pass the per-read limit forever).
            self._head_deadline = gevent.Timeout.start_new(read_timeout, TimeoutError("the request head is late"))
            try:
                return super().handle_one_request()
            finally:
                self._head_deadline.close()

        def MessageClass(self, *args):
            headers = super().MessageClass(*args)
            check_framing(headers)
            return headers

        def get_environ(self):
            if self._head_deadline is not None:
                self._head_deadline.cancel()  # the head is in
            environ = super().get_environ()
            # The routes need the connection: to watch for a client that goes
            # away, and to refuse the rest of an oversized body.
            environ["mlxk.connection"] = self
            return environ

        def write(self, data):
            # The limit is for reading: a client that reads a long stream
            # slowly is not cut off (one that goes away is noticed anyway).
            # Reads after the answer (gevent drops an unread body) keep it.
            sock = self.socket
            if sock is None or read_timeout is None:
                return super().write(data)
            sock.settimeout(None)
            try:
                return super().write(data)
            finally:
                if self.socket is not None:
                    self.socket.settimeout(read_timeout)

        def _handle_client_error(self, ex):
            # gevent calls this for a request it cannot parse; its answer is a
            # bare 400, and for a timeout it would print a traceback.
            error = client_error(ex, read_timeout)
            self.log_error("(from %s) %s", self.client_address, error.message)
            return str(error.status), raw_response(error)

    return Handler


def check_framing(headers) -> None:
    """Raise ``FramingError`` for a request head whose body length is not
    given exactly one way."""
    codings = [v for v in headers.get_all("Transfer-Encoding") or () if v.strip()]
    lengths = headers.get_all("Content-Length") or ()
    if codings and lengths:
        raise FramingError(400, "a request may not have both Transfer-Encoding and Content-Length")
    if codings and ",".join(codings).strip().lower() != "chunked":
        raise FramingError(501, f"transfer coding {', '.join(codings)[:100]!r} is not supported (only 'chunked')")
    if len(lengths) > 1:
        raise FramingError(400, "a request may have one Content-Length only")
    if lengths and not re.fullmatch(r"[0-9]{1,18}", lengths[0].strip()):
        raise FramingError(400, f"Content-Length {lengths[0][:40]!r} is not a number of bytes")


class FramingError(ValueError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.formatted_message = message  # what gevent logs


def client_error(ex: BaseException, read_timeout: float | None) -> ApiError:
    if isinstance(ex, FramingError):
        code = "invalid_header" if ex.status == 400 else "not_implemented"
        return ApiError(ex.status, str(ex), param=None, code=code)
    if isinstance(ex, TimeoutError):
        limit = f" of {read_timeout:g} s" if read_timeout else ""
        return ApiError(408, f"the request did not arrive within the server's read timeout{limit}", param=None,
                        code="request_timeout")
    return ApiError(400, "the request is malformed", param=None, code="invalid_request")


def raw_response(error: ApiError) -> bytes:
    """A whole HTTP response for an error answered before any WSGI work."""
    from http import HTTPStatus

    body = dumps(error.body()).encode()
    reason = HTTPStatus(error.status).phrase
    head = (f"HTTP/1.1 {error.status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode("latin-1") + body
