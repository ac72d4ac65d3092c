"""Deleting from the cache, safely: what mlxk-rm plans and carries out.

Every path deleted is checked to lie inside the hub (real paths compared, so a
symlink cannot lead out), and nothing is ever followed: folders are removed
with ``shutil.rmtree``, which unlinks symlinks instead of entering them.

An interrupted removal leaves a consistent cache.  What goes is first *moved*
(``rename``, atomic) into ``hub/.mlxk-trash/<pid>-…`` while SIGINT/SIGTERM
wait, and only then removed; leftovers of a killed run are cleared by the next
one.  A revision goes in this order: the refs that name it (the model stays
valid: its newest snapshot becomes the revision of record), then its snapshot
folder together with the blobs no other revision uses.
"""

from __future__ import annotations

import os

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.atomic import pid_alive
from mlxk_common.inventory.store import CacheRepo, Revision, snapshot_blobs, walk_files

TRASH = ".mlxk-trash"


class Plan:
    """What one removal will delete and how many bytes it frees."""

    def __init__(self, repo: CacheRepo, revision: Revision | None):
        self.repo = repo
        self.revision = revision  # None: the whole model
        self.revisions = [revision.hash] if revision else [r.hash for r in repo.revisions]
        self.refs: list[str] = []  # refs to delete (revision removal)
        self.blobs: list[str] = []  # blob names to delete (revision removal)
        self.freed_bytes = 0

    @property
    def scope(self) -> str:
        return "model" if self.revision is None else "revision"

    def summary(self) -> dict:
        return {"model": self.repo.repo_id, "hash": self.revision.hash if self.revision else None,
                "scope": self.scope, "revisions": self.revisions, "refs_removed": self.refs,
                "blobs": len(self.blobs) if self.revision else _count_blobs(self.repo),
                "freed_bytes": self.freed_bytes}


def plan(repo: CacheRepo, revision: Revision | None) -> Plan:
    """Plan removing ``revision`` of ``repo`` (the whole model when None, or
    when it is the only revision left)."""
    if revision is not None and [r.hash for r in repo.revisions] == [revision.hash]:
        revision = None
    result = Plan(repo, revision)
    if revision is None:
        result.freed_bytes = _disk_bytes(repo.path)
        return result
    result.refs = sorted(ref for ref, commit in repo.refs.items() if commit == revision.hash)
    mine = set(snapshot_blobs(revision.path).values())
    others = set()
    for other in repo.revisions:
        if other.hash != revision.hash:
            others.update(snapshot_blobs(other.path).values())
    result.blobs = sorted(mine - others)
    blobs_dir = os.path.join(repo.path, "blobs")
    for blob in result.blobs:
        try:
            result.freed_bytes += os.lstat(os.path.join(blobs_dir, blob)).st_size
        except OSError:
            pass
    return result


def _disk_bytes(root: str) -> int:
    """Bytes of the regular files below ``root`` (links not followed)."""
    total = 0
    for entry, _ in walk_files(root):
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def _count_blobs(repo: CacheRepo) -> int:
    try:
        return sum(1 for name in os.listdir(os.path.join(repo.path, "blobs")))
    except OSError:
        return 0


# -- locks -----------------------------------------------------------------------

class Locks:
    """The model's lock files under ``hub/.locks/models--…``.  Each one is
    tried without waiting (flock and POSIX record locks): the ones we get are
    stale and stay held by us until ``release``; the others are in use."""

    def __init__(self, repo: CacheRepo):
        self.folder = repo.locks_dir()
        self.held_by_others: list[str] = []
        self._ours: list[tuple[str, int]] = []
        try:
            names = [os.path.join(d, f) for d, _, fs in os.walk(self.folder) for f in fs if f.endswith(".lock")]
        except OSError:
            names = []
        for path in sorted(names):
            fd = _try_lock(path)
            if fd is None:
                self.held_by_others.append(os.path.relpath(path, os.path.dirname(os.path.dirname(self.folder))))
            else:
                self._ours.append((path, fd))

    def release(self, remove_stale: bool) -> int:
        """Let go of the stale locks, deleting their files first when asked;
        returns how many files were deleted."""
        removed = 0
        for path, fd in self._ours:
            if remove_stale:
                try:
                    os.unlink(path)
                    removed += 1
                except OSError:
                    pass
            os.close(fd)
        self._ours = []
        if remove_stale:
            _remove_empty_dirs(self.folder)
        return removed


def _try_lock(path: str) -> int | None:
    """An fd holding both kinds of lock on ``path``, or None if someone else holds one."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove_empty_dirs(root: str) -> None:
    for folder, _, _ in sorted(os.walk(root), key=lambda w: len(w[0]), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:
            pass


# -- carrying it out ---------------------------------------------------------------

def _real_inside(path: str, root_real: str) -> bool:
    real = os.path.realpath(path)
    return real.startswith(root_real + os.sep)


def check_inside(hub: str, paths: list[str]) -> None:
    """Refuse unless every path is inside the hub and is no symlink itself."""
    hub_real = os.path.realpath(hub)
    for path in paths:
        if os.path.islink(path) or not _real_inside(path, hub_real):
            raise MlxkError("cache_write_refused", f"refusing to delete {path}: it is not inside the cache {hub}",
                            path=path)


def execute(p: Plan) -> None:
    """Carry out a plan (see the module doc for the order); a file system
    that refuses becomes ``permission_denied``."""
    import errno

    try:
        _execute(p)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.EBUSY):
            raise MlxkError("permission_denied", f"cannot delete {exc.filename or p.repo.path}: {exc.strerror}",
                            path=exc.filename) from None
        raise


def _execute(p: Plan) -> None:
    repo = p.repo
    hub = repo.hub
    if p.revision is None:
        check_inside(hub, [repo.path])
        with _signals_deferred():
            trash = _trash_slot(hub)
            os.rename(repo.path, os.path.join(trash, "repo"))
        _empty_trash(trash)
        return
    refs_dir = os.path.join(repo.path, "refs")
    blobs_dir = os.path.join(repo.path, "blobs")
    ref_paths = [os.path.join(refs_dir, ref) for ref in p.refs]
    blob_paths = [os.path.join(blobs_dir, blob) for blob in p.blobs]
    check_inside(hub, [repo.path, p.revision.path, blobs_dir, *ref_paths])
    for blob in p.blobs:  # names from link targets: never a path of their own
        if not blob or blob in (".", "..") or "/" in blob:
            raise MlxkError("cache_write_refused", f"refusing to delete blob {blob!r}", path=blobs_dir)
    for path in ref_paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    _remove_empty_dirs_below(refs_dir)
    with _signals_deferred():
        trash = _trash_slot(hub)
        os.rename(p.revision.path, os.path.join(trash, "snapshot"))
        os.mkdir(os.path.join(trash, "blobs"))
        for path in blob_paths:  # rename never follows a link: an odd linked blob moves as a link
            try:
                os.rename(path, os.path.join(trash, "blobs", os.path.basename(path)))
            except FileNotFoundError:
                pass
    _empty_trash(trash)


def _remove_empty_dirs_below(root: str) -> None:
    """Empty sub-folders of ``refs/`` (``refs/pr/``) go; ``refs/`` itself stays."""
    for folder, _, _ in sorted(os.walk(root), key=lambda w: len(w[0]), reverse=True):
        if folder != root:
            try:
                os.rmdir(folder)
            except OSError:
                pass


def _trash_slot(hub: str) -> str:
    trash = os.path.join(hub, TRASH)
    os.makedirs(trash, exist_ok=True)
    import tempfile

    return tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=trash)


def _empty_trash(slot: str) -> None:
    import shutil

    shutil.rmtree(slot, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(slot))  # the trash folder itself, once empty
    except OSError:
        pass


def clear_leftovers(hub: str) -> int:
    """Remove what killed runs left in the trash (their process is gone);
    returns how many slots were cleared."""
    import shutil

    trash = os.path.join(hub, TRASH)
    try:
        slots = os.listdir(trash)
    except OSError:
        return 0
    cleared = 0
    for slot in slots:
        pid = slot.split("-", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        path = os.path.join(trash, slot)
        if not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            cleared += 1
    try:
        os.rmdir(trash)
    except OSError:
        pass
    return cleared




class _signals_deferred:
    """Hold SIGINT/SIGTERM for the few renames that must happen together; a
    signal that arrives meanwhile is delivered right after."""

    def __enter__(self):
        import signal
        import threading

        self._mask = None
        if hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread():
            self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        return self

    def __exit__(self, *exc):
        if self._mask is not None:
            import signal

            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
