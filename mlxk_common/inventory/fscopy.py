"""Copy a file as cheaply as the file system allows.

In order: a copy-on-write clone (Linux ``FICLONE`` on btrfs/XFS/bcachefs, macOS
``clonefile`` on APFS) that shares the data blocks until one side is written;
Linux ``copy_file_range`` (an in-kernel copy, itself a reflink on some file
systems and server-side on NFS); a plain read/write copy otherwise.  Each call
says which method it used.
"""

from __future__ import annotations

import errno
import os
import sys

FICLONE = 0x40049409  # _IOW(0x94, 9, int)
REFLINK, COPY_FILE_RANGE, COPY = "reflink", "copy_file_range", "copy"
_UNSUPPORTED = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.ENOTTY,
                errno.EBADF, errno.EPERM}
_clonefile = None


def copy_file(src, dst) -> str:
    """Copy ``src`` (symlinks followed) to the new file ``dst``; returns the method used."""
    import shutil

    src, dst = os.fspath(src), os.fspath(dst)
    if sys.platform == "darwin" and _mac_clone(src, dst):
        return REFLINK
    with open(src, "rb") as fin:
        with open(dst, "xb") as fout:
            if sys.platform.startswith("linux"):
                if _ficlone(fin.fileno(), fout.fileno()):
                    return REFLINK
                if _copy_file_range(fin.fileno(), fout.fileno(), os.fstat(fin.fileno()).st_size):
                    return COPY_FILE_RANGE
                fout.seek(0)
                fout.truncate()
                fin.seek(0)
            shutil.copyfileobj(fin, fout, 4 << 20)
    return COPY


def _ficlone(fd_in: int, fd_out: int) -> bool:
    import fcntl

    try:
        fcntl.ioctl(fd_out, FICLONE, fd_in)
        return True
    except OSError as exc:
        if exc.errno in _UNSUPPORTED:
            return False
        raise


def _copy_file_range(fd_in: int, fd_out: int, size: int) -> bool:
    if not hasattr(os, "copy_file_range"):
        return False
    done = 0
    try:
        while done < size:
            n = os.copy_file_range(fd_in, fd_out, min(size - done, 1 << 30), done, done)
            if n == 0:
                break
            done += n
    except OSError as exc:
        if exc.errno in _UNSUPPORTED and done == 0:
            return False
        raise
    return done == size


def _mac_clone(src: str, dst: str) -> bool:
    """``clonefile(2)`` through libc; False where the volume cannot clone."""
    global _clonefile
    if _clonefile is None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _clonefile = getattr(libc, "clonefile", False)
        if _clonefile:
            _clonefile.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32)
            _clonefile.restype = ctypes.c_int
    if not _clonefile:
        return False
    import ctypes

    if _clonefile(os.fsencode(os.path.realpath(src)), os.fsencode(dst), 0) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), dst)


def shares_extents(path) -> bool | None:
    """Whether Linux reports a shared (reflinked) extent in ``path`` (FIEMAP);
    None where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return None
    import fcntl
    import struct

    fs_ioc_fiemap = 0xC020660B
    fiemap_extent_shared = 0x2000
    count = 32
    header = struct.pack("=QQLLLL", 0, 0xFFFFFFFFFFFFFFFF, 1, 0, count, 0)  # FIEMAP_FLAG_SYNC
    buf = bytearray(header + b"\0" * (56 * count))
    try:
        with open(path, "rb") as fh:
            fcntl.ioctl(fh.fileno(), fs_ioc_fiemap, buf)
    except OSError:
        return None
    mapped = struct.unpack_from("=L", buf, 20)[0]
    for i in range(mapped):
        flags = struct.unpack_from("=L", buf, 32 + i * 56 + 40)[0]
        if flags & fiemap_extent_shared:
            return True
    return False
