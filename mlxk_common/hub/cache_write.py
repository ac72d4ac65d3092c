"""The Hugging Face cache layout, on the writing side, for one repo.

``models--ORG--NAME/blobs/<etag>`` (sha256 for LFS files, git blob sha1 otherwise),
``blobs/<etag>.incomplete`` (mlxk's partial download: one stable name per blob),
``snapshots/<commit>/<path>`` (relative symlinks into ``blobs/``), ``refs/<branch>``
(the commit, no newline) and ``.locks/models--ORG--NAME/<etag>.lock``: the lock
huggingface_hub takes around a blob download too, so both tools can share a cache.
huggingface_hub's own partials are ``<etag>.<8 hex>.incomplete``; it never resumes
them, so they are "orphans" here.
"""

from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from mlxk_common.hub.client import RemoteFile

PARTIAL_SUFFIX = ".incomplete"
_ORPHAN_RE = r"^(?P<etag>[0-9a-f]{40}|[0-9a-f]{64})\.[0-9a-f]{8}\.incomplete$"


class Stopped(Exception):
    """A worker noticed the stop flag (Ctrl-C, or another worker's fatal error)."""


class RepoCache:
    """The ``models--ORG--NAME`` folder of one repo and its lock folder."""

    def __init__(self, cache: Path, repo_id: str):
        folder = "models--" + repo_id.replace("/", "--")
        self.cache = Path(cache)
        self.repo_id = repo_id
        self.root = self.cache / folder
        self.blobs = self.root / "blobs"
        self.locks = self.cache / ".locks" / folder

    def blob(self, etag: str) -> Path:
        return self.blobs / etag

    def partial(self, etag: str) -> Path:
        return self.blobs / (etag + PARTIAL_SUFFIX)

    def lock(self, etag: str) -> Path:
        return self.locks / f"{etag}.lock"

    def snapshot(self, commit: str) -> Path:
        return self.root / "snapshots" / commit

    def pointer(self, commit: str, path: str) -> Path:
        return self.snapshot(commit).joinpath(*path.split("/"))

    def has_file(self, commit: str, f: RemoteFile) -> bool:
        """The snapshot entry is there and leads to a blob of the right size."""
        pointer = self.pointer(commit, f.path)
        try:
            if pointer.is_symlink() and Path(os.path.realpath(pointer)).name != f.etag:
                return False
            return pointer.stat().st_size == f.size
        except OSError:
            return False

    def blob_ok(self, f: RemoteFile) -> bool:
        try:
            return self.blob(f.etag).stat().st_size == f.size
        except OSError:
            return False

    def partial_size(self, etag: str) -> int:
        sizes = [0]
        for path in [self.partial(etag), *self.orphans(etag)]:
            try:
                sizes.append(path.stat().st_size)
            except OSError:
                pass
        return max(sizes)

    def orphans(self, etag: str | None = None) -> list[Path]:
        """Partials other tools left (huggingface_hub's ``<etag>.<8 hex>.incomplete``)."""
        pattern = f"{etag}.*{PARTIAL_SUFFIX}" if etag else f"*{PARTIAL_SUFFIX}"
        try:
            return [p for p in self.blobs.glob(pattern) if re.match(_ORPHAN_RE, p.name)]
        except OSError:
            return []

    def link(self, commit: str, f: RemoteFile) -> None:
        """``snapshots/<commit>/<path>`` -> ``../../blobs/<etag>``, replaced atomically."""
        pointer = self.pointer(commit, f.path)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        target = os.path.relpath(self.blob(f.etag), pointer.parent)
        if pointer.is_symlink() and os.readlink(pointer) == target:
            return
        tmp = pointer.with_name(f".{pointer.name}.{os.getpid()}.{threading.get_ident()}.link")
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, pointer)

    def read_ref(self, name: str) -> str | None:
        try:
            return (self.root / "refs" / name).read_text().strip() or None
        except OSError:
            return None

    def write_ref(self, name: str, commit: str) -> None:
        """``refs/<name>`` = commit (no newline, as huggingface_hub writes it)."""
        if self.read_ref(name) == commit:
            return
        ref = self.root / "refs" / name
        ref.parent.mkdir(parents=True, exist_ok=True)
        tmp = ref.with_name(f"{ref.name}.{os.getpid()}.tmp")
        tmp.write_text(commit)
        os.replace(tmp, ref)


@contextmanager
def blob_lock(path: Path, stop: threading.Event, wait_s: float | None = None):
    """huggingface_hub's lock on one blob, waited for in short steps so Ctrl-C
    is noticed; ``wait_s`` bounds the wait (filelock.Timeout after it)."""
    from filelock import Timeout
    from huggingface_hub.utils import WeakFileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if wait_s is None else time.monotonic() + wait_s
    while True:
        if stop.is_set():
            raise Stopped()
        holder = WeakFileLock(path, timeout=0.2 if wait_s is None else max(0.01, min(0.2, wait_s)))
        try:
            holder.__enter__()
            break
        except Timeout:
            if deadline is not None and time.monotonic() >= deadline:
                raise
    try:
        yield
    finally:
        holder.__exit__(None, None, None)


def clean_orphans(cache: RepoCache, stop: threading.Event) -> int:
    """Delete other tools' stale partials of this repo: those whose blob lock is
    free (a live huggingface_hub download holds it).  Returns how many went."""
    from filelock import Timeout

    removed = 0
    for orphan in cache.orphans():
        etag = re.match(_ORPHAN_RE, orphan.name).group("etag")
        try:
            with blob_lock(cache.lock(etag), stop, wait_s=0.05):
                orphan.unlink()
                removed += 1
        except (Timeout, OSError):
            continue
    return removed
