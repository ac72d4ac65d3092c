"""Lean reads of whole small files and of file heads, for the loops that look
at every model of a cache.

``open()`` costs a handful of system calls and two file objects per file
(fstat twice, a terminal check, seeks); these use a bare descriptor: open,
read until end of file, close.  Errors are the same ``OSError`` subclasses
``open()`` raises (a folder fails with ``IsADirectoryError``).

Only regular files are read: a FIFO, socket or device in a model folder is
an ``OSError`` here, never a read that blocks forever (the open itself does
not block: ``O_NONBLOCK``, which regular files ignore).
"""

from __future__ import annotations

import errno
import os
import stat as _stat

_FLAGS = (os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
          | getattr(os, "O_NONBLOCK", 0))


def open_regular(path) -> tuple[int, os.stat_result]:
    """A read-only descriptor of the regular file ``path`` (links followed), and its stat."""
    fd = os.open(path, _FLAGS)
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not _stat.S_ISREG(st.st_mode):
        os.close(fd)
        if _stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
        raise OSError(errno.EINVAL, "Not a regular file", os.fspath(path))
    return fd, st


def read_all(path, size_hint: int | None = None) -> bytes:
    """The whole file (read in one go when ``size_hint``, or the size the
    descriptor reports, is right)."""
    fd, st = open_regular(path)
    try:
        return _read_to(fd, None, st.st_size if size_hint is None else size_hint)
    finally:
        os.close(fd)


def read_head(path, size: int) -> bytes:
    """The first ``size`` bytes (fewer when the file is shorter)."""
    fd, _ = open_regular(path)
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
