"""A small progress bar for stderr, drawn only when stderr is a TTY."""

from __future__ import annotations

import time

from mlxk_common.iox import IOEnv


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


class ProgressBar:
    """``with ProgressBar(env, total, label, unit="bytes") as bar: bar.update(n)``.

    Redraws at most ten times a second; shows done/total, rate and ETA.
    Silent (a no-op) when stderr is not a terminal.
    """

    def __init__(self, env: IOEnv, total: float | None, label: str = "", unit: str = "bytes", enabled: bool | None = None):
        self.env = env
        self.total = total
        self.label = label
        self.unit = unit
        self.done = 0.0
        self.enabled = env.stderr_isatty if enabled is None else enabled
        self.start = time.monotonic()
        self._last_draw = 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fmt(self, n: float) -> str:
        return human_bytes(n) if self.unit == "bytes" else f"{n:.0f}"

    def update(self, n: float = 1, total: float | None = None) -> None:
        self.set(self.done + n, total)

    def set(self, done: float, total: float | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if self.enabled and now - self._last_draw >= 0.1:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-6)
        rate = self.done / elapsed
        if self.total:
            frac = min(self.done / self.total, 1.0)
            width = 24
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            eta = (self.total - self.done) / rate if rate > 0 else 0
            text = (f"{self.label} [{bar}] {frac * 100:5.1f}% {self._fmt(self.done)}/{self._fmt(self.total)} "
                    f"{self._fmt(rate)}/s ETA {int(eta) // 60}:{int(eta) % 60:02d}")
        else:
            text = f"{self.label} {self._fmt(self.done)} {self._fmt(rate)}/s"
        self.env.stderr.write("\r\x1b[K" + text)
        self.env.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.env.stderr.write("\n")
            self.env.stderr.flush()
            self.enabled = False
