"""Reasoning ("thinking") markers and the incremental reasoning/content split.

Markers come from the model's own files, never from its name: mlx-lm's
tokenizer wrapper recognises thinking tokens in the vocabulary
(``<think>``/``</think>`` and others); failing that, a pair of known markers
that the chat template itself writes counts too.  A chat template whose
generation prompt ends with the start marker (``...assistant\\n<think>\\n``)
makes the model begin inside its reasoning, so the splitter can start there.
"""

from __future__ import annotations

REASONING, CONTENT = "reasoning", "content"

# Pairs a chat template may write as plain text (checked after the vocabulary).
TEMPLATE_MARKERS = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
)


def detect_markers(tokenizer) -> tuple[str, str] | None:
    """The (start, end) thinking markers of a loaded tokenizer, or None."""
    start = getattr(tokenizer, "think_start", None)
    end = getattr(tokenizer, "think_end", None)
    if start and end:
        return start, end
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates: any of them counts
        template = "\n".join(t for t in template.values() if isinstance(t, str))
    if isinstance(template, str):
        for start, end in TEMPLATE_MARKERS:
            if start in template and end in template:
                return start, end
    return None


def starts_in_reasoning(prompt_text: str | None, markers: tuple[str, str] | None) -> bool:
    """True when the rendered prompt leaves the model inside an open thinking block."""
    if not markers or not prompt_text:
        return False
    return prompt_text.rstrip().endswith(markers[0])


class ReasoningSplitter:
    """Splits streamed text into (kind, text) pieces, kind REASONING or CONTENT.

    The markers themselves are dropped; a marker split across pieces is held
    back until it is complete or ruled out.  Whitespace right after a marker
    is dropped so neither part starts with the model's line breaks.
    """

    __slots__ = ("start", "end", "state", "_held", "_trim")

    def __init__(self, start: str, end: str, in_reasoning: bool = False):
        self.start = start
        self.end = end
        self.state = REASONING if in_reasoning else CONTENT
        self._held = ""
        self._trim = True

    def feed(self, text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        buf = self._held + text
        self._held = ""
        while buf:
            marker = self.end if self.state == REASONING else self.start
            at = buf.find(marker)
            if at != -1:
                self._emit(out, buf[:at])
                buf = buf[at + len(marker):]
                self.state = CONTENT if self.state == REASONING else REASONING
                self._trim = True
                continue
            keep = _tail_prefix(buf, marker)
            self._emit(out, buf[: len(buf) - keep])
            self._held = buf[len(buf) - keep:] if keep else ""
            break
        return out

    def flush(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        held, self._held = self._held, ""
        self._emit(out, held)
        return out

    def _emit(self, out, text: str) -> None:
        if self._trim:
            text = text.lstrip()
            if not text:
                return
            self._trim = False
        if text:
            out.append((self.state, text))


def _tail_prefix(buf: str, marker: str) -> int:
    for n in range(min(len(marker) - 1, len(buf)), 0, -1):
        if buf.endswith(marker[:n]):
            return n
    return 0
