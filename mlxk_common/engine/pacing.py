"""How many prompt tokens one prefill step may process.

A prompt is processed ("prefilled") in steps, and between two steps the
engine thread does everything else: it decodes one token for every other
sequence, takes cancellations and notices a shutdown.  So a step must take a
bounded time, and time is what matters, not tokens: a 2048-token step is a
fraction of a second on a GPU and minutes on a slow CPU (where one step of
mlx-lm's default size once held a server for five minutes).

``PrefillPacer`` measures the prompt-processing speed of the steps it was
told about and sizes the next one to take about ``target_s`` seconds.  It
starts small (``first`` tokens) and grows at most 4x per step, so the first
step on a slow machine is short and a fast machine reaches full-size steps
after a few.  Where the chunk boundaries fall does not change the result:
the KV cache holds the same keys and values however the prompt was cut.
"""

from __future__ import annotations

PREFILL_STEP_S = 1.0  # seconds one prefill step should take (shorter steps cost a slow CPU more time per token)
FIRST_CHUNK = 4  # tokens per sequence before anything was measured
MAX_CHUNK = 2048  # mlx-lm's own step size: the most one step processes
GROWTH = 4  # a step is at most this many times the one before


class PrefillPacer:
    def __init__(self, target_s: float | None = PREFILL_STEP_S, first: int = FIRST_CHUNK, most: int = MAX_CHUNK):
        if most < 1 or first < 1:
            raise ValueError("chunk sizes must be at least 1")
        self.target_s = target_s  # None: always ``most`` tokens (no pacing)
        self.most = most
        self._rate: float | None = None  # prompt tokens per second, smoothed
        self._last = min(first, most)  # tokens per sequence of the latest step

    def chunk(self, rows: int = 1) -> int:
        """Tokens per sequence for the next step, when ``rows`` sequences
        are processed together."""
        if self.target_s is None:
            return self.most
        if self._rate is None:
            return self._last
        fits = int(self._rate * self.target_s / max(1, rows))
        return max(1, min(self.most, self._last * GROWTH, fits))

    def record(self, tokens: int, seconds: float, per_row: int | None = None) -> None:
        """A step processed ``tokens`` prompt tokens (all sequences together)
        in ``seconds``; ``per_row`` is the chunk it was given."""
        if tokens <= 0 or seconds <= 0:
            return
        rate = tokens / seconds
        # Slower at once (a step that overran says the machine is busier, or
        # the prompt's attention got longer); faster only halfway, so one
        # quick step does not make the next one overrun.
        if self._rate is None or rate < self._rate:
            self._rate = rate
        else:
            self._rate = (self._rate + rate) / 2
        if per_row is not None:
            self._last = max(1, per_row)
