"""Token ids to text, per request: detokenize, cut at stop strings, split reasoning.

Stop strings are matched on the raw decoded text (so they also end a
reasoning block), then the released text is split at the thinking markers.
A request without stop strings or markers takes the short path: one
detokenizer call per token, as in mlx-lm's own ``stream_generate``.
"""

from __future__ import annotations

from mlxk_common.engine.reasoning import REASONING, ReasoningSplitter
from mlxk_common.engine.stops import StopMatcher


class TextStream:
    __slots__ = ("_detok", "_stops", "_split", "content", "reasoning", "stopped")

    def __init__(self, detokenizer, stops=(), markers=None, in_reasoning: bool = False):
        self._detok = detokenizer
        self._stops = StopMatcher(stops) if any(stops) else None
        self._split = ReasoningSplitter(markers[0], markers[1], in_reasoning) if markers else None
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.stopped = False

    def add(self, token: int) -> tuple[str, str, bool]:
        """Add one generated token: (new content, new reasoning, stop string hit)."""
        detok = self._detok
        detok.add_token(token)
        segment = detok.last_segment
        if not segment:
            return "", "", False
        if self._stops is None and self._split is None:
            self.content.append(segment)
            return segment, "", False
        return self._process(segment, final=False)

    def finish(self) -> tuple[str, str]:
        """The generation ended: the text still held back, if any."""
        content = reasoning = ""
        if not self.stopped:
            self._detok.finalize()
            segment = self._detok.last_segment
            content, reasoning, _ = self._process(segment, final=True)
        elif self._split is not None:
            content, reasoning = self._collect(self._split.flush())
        return content, reasoning

    def _process(self, text: str, final: bool) -> tuple[str, str, bool]:
        stopped = False
        if self._stops is not None:
            text, stopped = self._stops.feed(text)
            if final and not stopped:
                text += self._stops.flush()
            self.stopped = stopped
        if self._split is None:
            if text:
                self.content.append(text)
            return text, "", stopped
        pieces = self._split.feed(text) if text else []
        if final or stopped:
            pieces += self._split.flush()
        content, reasoning = self._collect(pieces)
        return content, reasoning, stopped

    def _collect(self, pieces) -> tuple[str, str]:
        content = "".join(t for kind, t in pieces if kind != REASONING)
        reasoning = "".join(t for kind, t in pieces if kind == REASONING)
        if content:
            self.content.append(content)
        if reasoning:
            self.reasoning.append(reasoning)
        return content, reasoning

    @property
    def stop_sequence(self) -> str | None:
        """The stop string that ended the text, if one did."""
        return self._stops.matched if self._stops is not None else None

    @property
    def text(self) -> str:
        return "".join(self.content)

    @property
    def reasoning_text(self) -> str:
        # Models close their reasoning with a line break or two before the end marker.
        return "".join(self.reasoning).rstrip()
