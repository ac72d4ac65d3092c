"""Incremental stop-string matching over streamed text.

Text arrives in pieces that need not line up with a stop string: ``"Hel"``
then ``"lo\\nUser:"``.  The matcher releases text as soon as it cannot be the
start of a stop string, holds back only the shortest tail that still could
be, and reports the first complete match: the stop string and everything
after it are never released.
"""

from __future__ import annotations


class StopMatcher:
    """``emit, stopped = m.feed(piece)`` per piece, ``m.flush()`` at the end."""

    __slots__ = ("stops", "_held", "stopped", "matched")

    def __init__(self, stops):
        # Empty strings would match everywhere; duplicates change nothing.
        self.stops = tuple(sorted({s for s in stops if s}, key=len))
        self._held = ""
        self.stopped = False
        self.matched: str | None = None  # the stop string that matched

    def feed(self, text: str) -> tuple[str, bool]:
        """Add ``text``; return the text now safe to release and whether a stop
        string completed (then nothing more is released, ever)."""
        if self.stopped:
            return "", True
        buf = self._held + text
        cut = -1
        for stop in self.stops:
            at = buf.find(stop)
            if at != -1 and (cut == -1 or at < cut):
                cut = at
                self.matched = stop
        if cut != -1:
            self._held = ""
            self.stopped = True
            return buf[:cut], True
        keep = self._possible_prefix(buf)
        self._held = buf[len(buf) - keep:] if keep else ""
        return buf[: len(buf) - keep], False

    def _possible_prefix(self, buf: str) -> int:
        """Length of the longest tail of ``buf`` that begins some stop string."""
        best = 0
        for stop in self.stops:
            # A complete stop would have matched already, so only proper prefixes.
            for n in range(min(len(stop) - 1, len(buf)), best, -1):
                if buf.endswith(stop[:n]):
                    best = n
                    break
        return best

    def flush(self) -> str:
        """The generation ended without a match: release what was held."""
        held, self._held = self._held, ""
        return "" if self.stopped else held
