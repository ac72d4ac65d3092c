"""Write a new folder all at once: build it under a hidden name next to the
target, rename it into place at the end.

``with staging_folder(dest, environ) as tmp: ...`` checks that ``dest`` is free
(missing or an empty folder) and outside the Hugging Face cache, creates
``.NAME.partial-<pid>-<random>`` beside it, and renames that to ``dest`` when
the block succeeds.  Any failure, Ctrl-C or SIGTERM (which the tool framework
turns into KeyboardInterrupt) removes the partial folder, so ``dest`` is either
complete or absent.  Only SIGKILL can leave a partial folder behind; the next
run for the same target removes the ones whose process is gone.

A full disk (or quota, or file size limit) while writing is the named error
``disk_full``, whether the write failed in Python (``ENOSPC``, ``EDQUOT``,
``EFBIG``) or in a library that reports it without an errno (mlx's
"[write] Unable to write").
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator, Mapping

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    from pathlib import Path

from mlxk_common.config import hf_home, hub_dir
from mlxk_common.errors import MlxkError

_PARTIAL_RE = r"\.partial-(\d+)-[0-9a-f]+(?:-.*)?$"


def partial_prefix(dest: Path) -> str:
    """The name every staging folder of ``dest`` starts with."""
    from pathlib import Path

    return f".{Path(dest).name}.partial-"


def check_target_free(dest: Path) -> None:
    """``target_exists`` unless ``dest`` is missing or an empty folder."""
    from pathlib import Path

    dest = Path(dest)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise MlxkError("target_exists", f"{dest} exists and is not empty", path=str(dest),
                        hint="choose a new folder, or remove this one first")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def refuse_cache_target(dest: Path, environ: Mapping[str, str] | None = None) -> None:
    """``cache_write_refused`` when ``dest`` lies in ``$HF_HOME`` or the hub
    cache, also when reached through a symlink (only pull and rm write there)."""
    environ = os.environ if environ is None else environ
    target = os.path.realpath(dest)
    for folder in (hub_dir(environ), hf_home(environ)):
        if _inside(target, os.path.realpath(folder)):
            raise MlxkError("cache_write_refused",
                            f"{dest} is inside the Hugging Face cache ({folder}); only mlxk-pull and "
                            "mlxk-rm write there", path=str(dest),
                            hint="write the converted model to a workspace folder outside $HF_HOME")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (a partial or trash folder of a
    live process must be left alone).  Unsure means alive."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. someone else's live process
        return True
    return True


def clean_stale_partials(dest: Path) -> list[str]:
    """Remove staging folders of ``dest`` left by processes that no longer
    exist (a SIGKILLed run); return their names."""
    import shutil
    from pathlib import Path

    dest = Path(os.path.abspath(dest))
    prefix = partial_prefix(dest)
    removed = []
    try:
        entries = list(os.scandir(dest.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = re.search(_PARTIAL_RE, entry.name)
        if not match or pid_alive(int(match.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    return sorted(removed)


def make_partial(dest: Path, suffix: str = "") -> Path:
    """Create one fresh staging folder next to ``dest`` (also used for scratch
    space that must vanish with the run, e.g. an intermediate model)."""
    from pathlib import Path

    dest = Path(dest)
    tmp = dest.parent / f"{partial_prefix(dest)}{os.getpid()}-{os.urandom(4).hex()}{suffix}"
    os.mkdir(tmp)
    return tmp


def remove_tree(path: Path) -> None:
    """Remove a staging folder, finishing even if a second Ctrl-C/SIGTERM arrives."""
    import shutil

    for _ in range(3):
        try:
            shutil.rmtree(path, ignore_errors=True)
            return
        except KeyboardInterrupt:
            continue


def _permission_error(exc: OSError, dest: Path) -> MlxkError:
    return MlxkError("permission_denied", f"{exc.filename or dest}: {exc.strerror}", path=str(dest))


_NO_ROOM = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
# How mlx (C++) and tokenizers (Rust) report a failed write: no errno to go by.
_LIBRARY_WRITE_FAILURE = ("unable to write", "[write]", "no space left", "(os error 28)", "(os error 27)",
                          "file too large")


def write_failure(exc: BaseException, folder) -> MlxkError | None:
    """The named error for a write into ``folder`` that failed with ``exc``,
    or None when ``exc`` is no write failure."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        return _disk_full(folder, exc.strerror or str(exc))
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return MlxkError("permission_denied", f"cannot write {exc.filename or folder}: {exc.strerror}",
                         path=str(folder))
    if (isinstance(exc, Exception) and not isinstance(exc, (OSError, MlxkError))
            and any(p in str(exc).lower() for p in _LIBRARY_WRITE_FAILURE)):
        if _no_room(folder):
            return _disk_full(folder, str(exc))
        return MlxkError("permission_denied", f"cannot write into {folder}: {exc}", path=str(folder))
    return None


def _disk_full(folder, detail: str) -> MlxkError:
    return MlxkError("disk_full", f"no room to write into {folder} ({detail}); nothing was kept",
                     path=str(folder), hint="free some space (or raise the quota/file size limit) and run again")


def _no_room(folder) -> bool:
    """Whether the file system of ``folder`` is (nearly) full, or this process
    may not write files of any useful size (``ulimit -f``)."""
    try:
        st = os.statvfs(folder)
        if st.f_bavail * st.f_frsize < 1 << 20:
            return True
    except OSError:
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        return soft != resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):
        return False


@contextlib.contextmanager
def staging_folder(dest: Path, environ: Mapping[str, str] | None = None) -> Iterator[Path]:
    """Yield an empty staging folder; on success it becomes ``dest``."""
    from pathlib import Path

    dest = Path(os.path.abspath(dest))  # "out/", "." and "a/../b" name their folder properly
    refuse_cache_target(dest, environ)
    check_target_free(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_partials(dest)
        tmp = make_partial(dest)
    except PermissionError as exc:
        raise MlxkError("permission_denied", f"cannot create {dest}: {exc.strerror}", path=str(dest)) from None
    try:
        yield tmp
        check_target_free(dest)  # someone may have filled it meanwhile
        if dest.is_dir():
            dest.rmdir()  # empty: make way for the rename
        try:
            os.rename(tmp, dest)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                raise MlxkError("target_exists", f"{dest} appeared while converting", path=str(dest)) from None
            raise
    except BaseException as exc:  # also KeyboardInterrupt/SIGTERM: leave nothing behind
        # Judged before the partial folder goes: its files still show how full the disk is.
        error = _permission_error(exc, dest) if isinstance(exc, PermissionError) else write_failure(exc, dest.parent)
        remove_tree(tmp)
        if error is not None:
            raise error from None
        raise
