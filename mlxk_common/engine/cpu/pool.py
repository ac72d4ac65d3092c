"""Our own threads for the CPU path's NumPy/BLAS work, in place of OpenBLAS's.

With ``MLXK2_CPU_THREADS`` at 2 or more, OpenBLAS's own threads make every one
of the many mid-sized products of a Whisper window a hand-off to workers that
spin between calls (the encoder's CPU seconds went up fivefold for a 15-25%
shorter wall time).  Instead, OpenBLAS runs one thread and the work is split
into a few large independent parts (rows of a layer, halves of the logits
projection), each run on a thread of this pool with single-threaded BLAS:
ctypes' foreign calls and NumPy's ufuncs on large arrays release the GIL.

    parts = pool()                      # None with one thread configured
    parts.run([f, g, h])                # each on whichever thread is free first; waits for all
"""

from __future__ import annotations

import threading

from mlxk_common.engine.cpu import blas

CHUNKS = 3  # tasks per thread in a split: a thread that gets no core leaves its share to the others
_pool = None
_lock = threading.Lock()


class Pool:
    """``size`` threads in all: the caller's and ``size - 1`` persistent workers."""

    def __init__(self, size: int):
        from concurrent.futures import ThreadPoolExecutor

        self.size = size
        self._executor = ThreadPoolExecutor(max_workers=size - 1, thread_name_prefix="mlxk-cpu")

    def run(self, tasks) -> list:
        """Call each of ``tasks`` (no arguments); their results, in order.  This thread
        and the workers take the next task from a shared queue until none is left, so
        when another process holds a core the tasks go to whichever thread runs (a
        worker that never started is cancelled): a busy machine costs little more
        than one thread would, not a wait at every hand-off."""
        tasks = list(tasks)
        results = [None] * len(tasks)
        order = iter(range(len(tasks)))
        lock = threading.Lock()

        def drain():
            while True:
                with lock:
                    i = next(order, None)
                if i is None:
                    return
                results[i] = tasks[i]()

        futures = [self._executor.submit(drain) for _ in range(min(self.size, len(tasks)) - 1)]
        try:
            drain()
        finally:
            for f in futures:
                if not f.cancel():
                    f.result()
        return results

    def split(self, count: int) -> list[tuple[int, int]]:
        """``count`` items in ``size`` contiguous ranges, as even as can be."""
        return ranges(count, self.size)

    def chunks(self, count: int) -> list[tuple[int, int]]:
        """``count`` items in ``CHUNKS`` ranges per thread, for ``run``'s shared queue."""
        return ranges(count, CHUNKS * self.size)


class Serial:
    """A ``Pool`` of this thread alone: the same interface, the tasks run in order."""

    size = 1

    def run(self, tasks) -> list:
        return [task() for task in tasks]

    def split(self, count: int) -> list[tuple[int, int]]:
        return ranges(count, 1)

    def chunks(self, count: int) -> list[tuple[int, int]]:
        return ranges(count, 1)


def ranges(count: int, parts: int) -> list[tuple[int, int]]:
    bounds = [count * i // parts for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(parts) if bounds[i] < bounds[i + 1]]


def pool() -> Pool | None:
    """The process's pool when the fast BLAS is loaded and 2+ threads are configured
    (OpenBLAS is then set to one thread: the parts are the parallelism); else None."""
    global _pool
    state = blas.status()
    size = state.get("threads") or 1
    if state.get("blas") != "openblas" or size < 2:
        return None
    with _lock:
        if _pool is None:
            blas.set_threads(1)
            _pool = Pool(size)
    return _pool
