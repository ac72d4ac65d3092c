"""Lean reads of whole small files and of file heads, for the loops that look
at every model of a cache.

``open()`` costs a handful of system calls and two file objects per file
(fstat twice, a terminal check, seeks); these use a bare descriptor: open,
read until end of file, close.  Errors are the same ``OSError`` subclasses
``open()`` raises (a folder fails on read with ``IsADirectoryError``).
"""

from __future__ import annotations

import os

_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def read_all(path, size_hint: int = 0) -> bytes:
    """The whole file; ``size_hint`` (its size from an earlier stat) lets one
    read fetch it all."""
    fd = os.open(path, _FLAGS)
    try:
        return _read_to(fd, None, size_hint)
    finally:
        os.close(fd)


def read_head(path, size: int) -> bytes:
    """The first ``size`` bytes (fewer when the file is shorter)."""
    fd = os.open(path, _FLAGS)
    try:
        return _read_to(fd, size, size)
    finally:
        os.close(fd)


def read_exact(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from the descriptor's position (fewer only at end of file)."""
    return _read_to(fd, size, size)


def _read_to(fd: int, limit: int | None, hint: int) -> bytes:
    chunks = []
    got = 0
    want = hint + 1 if limit is None else limit
    while limit is None or got < limit:
        chunk = os.read(fd, want if limit is None else min(want, limit - got))
        if not chunk:  # end of file
            break
        chunks.append(chunk)
        got += len(chunk)
        want = 1 << 16
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
