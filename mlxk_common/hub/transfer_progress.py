"""Progress of a many-file transfer (pull, clone), fed from worker threads.

``--ndjson``: ``{"event": "progress", "file", "bytes", "total"}`` per file, at its
start, at most every ``interval`` seconds while it moves, and when it is complete.
Human mode on a TTY: one bar for the whole run (bytes, rate, ETA) on stderr.
Otherwise silent.
"""

from __future__ import annotations

import threading
import time

from mlxk_common.output import HUMAN, NDJSON
from mlxk_common.progress import ProgressBar


class TransferProgress:
    def __init__(self, out, env, label: str, total_bytes: int, interval: float = 0.5):
        self.out = out
        self.interval = interval
        self.ndjson = out.mode == NDJSON
        self.bar = None
        if out.mode == HUMAN and env.stderr_isatty:
            self.bar = ProgressBar(env, total_bytes, label)
        self._lock = threading.Lock()
        self._files: dict[str, list] = {}  # path -> [done, total, last event time]

    def start(self, path: str, total: int, done: int = 0) -> None:
        with self._lock:
            self._files[path] = [done, total, 0.0]
            self._emit(path, time.monotonic(), force=True)

    def advance(self, path: str, n: int) -> None:
        with self._lock:
            state = self._files.get(path)
            if state is None:
                return
            state[0] += n
            if self.bar is not None:
                self.bar.update(n)
            self._emit(path, time.monotonic())

    def finish(self, path: str, total: int | None = None) -> None:
        """The file is complete (also for files that needed no bytes)."""
        with self._lock:
            state = self._files.setdefault(path, [0, total or 0, 0.0])
            state[0] = state[1] = total if total is not None else max(state[0], state[1])
            self._emit(path, time.monotonic(), force=True)
            state[2] = float("inf")  # nothing more for this file

    def _emit(self, path: str, now: float, force: bool = False) -> None:
        state = self._files[path]
        if not self.ndjson or state[2] == float("inf"):
            return
        if force or now - state[2] >= self.interval:
            state[2] = now
            self.out.event("progress", file=path, bytes=state[0], total=state[1])

    def close(self) -> None:
        with self._lock:
            if self.bar is not None:
                self.bar.close()
                self.bar = None
