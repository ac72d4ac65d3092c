"""Request-body decoding for the test Hub server (standard library only).

``BodyReader`` reads a request body framed by Content-Length or by chunked transfer
encoding (http.server does not decode chunked bodies; httpx sends file uploads chunked).
``NdjsonSplitter`` cuts an NDJSON stream into lines while moving any very long JSON string
(a base64 file inside a commit payload) into a temp file, so memory stays bounded.
"""

from __future__ import annotations

import base64
import json
import re
import tempfile

_MAX_LINE = 64 * 1024


class BadBody(Exception):
    pass


class BodyReader:
    def __init__(self, rfile, headers, on_bytes=None):
        self._rfile = rfile
        self._on_bytes = on_bytes
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        if self.chunked:
            self.length = None
            self._left = 0  # bytes left in the current chunk
        else:
            try:
                self.length = int(headers.get("Content-Length") or 0)
            except ValueError:
                raise BadBody("bad Content-Length") from None
            self._left = self.length
        self.eof = self._left == 0 and not self.chunked
        self.total = 0

    def _next_chunk(self) -> None:
        line = self._rfile.readline(_MAX_LINE)
        if not line:
            raise BadBody("body ended inside chunked framing")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadBody(f"bad chunk size line {line[:40]!r}") from None
        if size == 0:
            while True:  # trailers, up to the blank line
                t = self._rfile.readline(_MAX_LINE)
                if t in (b"\r\n", b"\n", b""):
                    break
            self.eof = True
        self._left = size

    def read(self, n: int = 1 << 20) -> bytes:
        """Up to ``n`` bytes; b"" at the end of the body."""
        if self.eof:
            return b""
        if self.chunked and self._left == 0:
            self._next_chunk()
            if self.eof:
                return b""
        data = self._rfile.read(min(n, self._left))
        if not data:
            raise BadBody("client closed the connection mid-body")
        self._left -= len(data)
        self.total += len(data)
        if self._on_bytes is not None:
            self._on_bytes(len(data))
        if self._left == 0:
            if self.chunked:
                self._rfile.readline(_MAX_LINE)  # CRLF after the chunk data
            else:
                self.eof = True
        return data

    def chunks(self, n: int = 1 << 20):
        while data := self.read(n):
            yield data

    def read_all(self, limit: int = 64 << 20) -> bytes:
        buf = bytearray()
        for data in self.chunks():
            buf += data
            if len(buf) > limit:
                raise BadBody("request body too large")
        return bytes(buf)

    def drain(self, limit: int | None = None) -> bool:
        """Discard the rest of the body; False if more than ``limit`` bytes were left."""
        seen = 0
        while data := self.read():
            seen += len(data)
            if limit is not None and seen > limit:
                return False
        return True


_OUTSIDE = re.compile(rb'["\n]')
_INSIDE = re.compile(rb'["\\]')
SPILL_MARK = "\x00spill:"


class Spill:
    """A JSON string's raw text (without quotes) parked on disk."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.length = 0
        self.has_escape = False

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.length += len(data)
        if b"\\" in data:
            self.has_escape = True

    def text(self) -> str:
        self.file.seek(0)
        return json.loads(b'"' + self.file.read() + b'"')

    def iter_base64_decoded(self, chunk: int = 4 << 20):
        """Decode the base64 text in slices (4-aligned), never holding it whole."""
        if self.has_escape:
            yield base64.b64decode(self.text())
            return
        self.file.seek(0)
        carry = b""
        while True:
            data = self.file.read(chunk)
            if not data:
                break
            data = carry + data
            cut = len(data) - len(data) % 4
            carry = data[cut:]
            if cut:
                yield base64.b64decode(data[:cut], validate=True)
        if carry:
            raise BadBody("truncated base64 content")

    def close(self) -> None:
        self.file.close()


class NdjsonSplitter:
    """Feed bytes; get back (parsed object, spills) per complete line.

    A string longer than ``spill_over`` bytes is replaced in the parsed object by
    ``"\\x00spill:<i>"`` and its raw text is kept in ``spills[i]``."""

    def __init__(self, spill_over: int = 1 << 20):
        self.spill_over = spill_over
        self._line = bytearray()
        self._in_str = False
        self._escape_pending = False
        self._str = bytearray()
        self._spill: Spill | None = None
        self._spills: list[Spill] = []

    def _str_add(self, data) -> None:
        if self._spill is not None:
            self._spill.write(bytes(data))
            return
        self._str += data
        if len(self._str) > self.spill_over:
            self._spill = Spill()
            self._spill.write(bytes(self._str))
            self._str.clear()

    def _close_str(self) -> None:
        if self._spill is not None:
            self._line += b'"\\u0000spill:%d"' % len(self._spills)
            self._spills.append(self._spill)
            self._spill = None
        else:
            self._line += b'"' + self._str + b'"'
        self._str.clear()
        self._in_str = False

    def _emit(self):
        raw, spills = bytes(self._line), self._spills
        self._line.clear()
        self._spills = []
        if not raw.strip():
            for s in spills:
                s.close()
            return None
        try:
            return json.loads(raw), spills
        except ValueError as e:
            for s in spills:
                s.close()
            raise BadBody(f"invalid NDJSON line: {e}") from None

    def feed(self, data: bytes) -> list:
        out = []
        pos, n = 0, len(data)
        while pos < n:
            if self._escape_pending:
                self._str_add(data[pos:pos + 1])
                self._escape_pending = False
                pos += 1
            elif not self._in_str:
                m = _OUTSIDE.search(data, pos)
                if m is None:
                    self._line += data[pos:]
                    break
                self._line += data[pos:m.start()]
                pos = m.end()
                if data[m.start()] == 0x0A:
                    item = self._emit()
                    if item is not None:
                        out.append(item)
                else:
                    self._in_str = True
            else:
                m = _INSIDE.search(data, pos)
                if m is None:
                    self._str_add(data[pos:])
                    break
                self._str_add(data[pos:m.start()])
                pos = m.end()
                if data[m.start()] == 0x5C:  # backslash: keep it and the escaped byte
                    self._str_add(b"\\")
                    self._escape_pending = True
                else:
                    self._close_str()
        return out

    def finish(self) -> list:
        if self._in_str:
            raise BadBody("NDJSON body ends inside a string")
        item = self._emit()
        return [item] if item is not None else []
