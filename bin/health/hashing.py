"""Verify cache blobs against their names (``mlxk-health --deep``).

A Hugging Face cache names each blob by its Hub etag: the sha256 of the content
for LFS files (64 hex digits), the git blob sha1 (``sha1(b"blob <size>\\0" +
content)``, 40 hex digits) for small files kept in git.  Recomputing that name
proves the bytes are the ones the Hub served.

Fast: files are hashed in a thread pool sized to the CPU count (hashlib and
``readinto`` release the GIL, so threads use every core), largest first so one
big file does not finish last alone, through one reused buffer per file.
"""

from __future__ import annotations

import os
import re
import stat

TYPE_CHECKING = False  # threading is imported where it is used (start-up time)
if TYPE_CHECKING:
    import threading
from pathlib import Path

BUFFER_BYTES = 4 << 20
_HEX40 = r"^[0-9a-f]{40}$"
_HEX64 = r"^[0-9a-f]{64}$"


class Blob:
    """One blob of a revision: where it lies, what it should hash to, and by which rule."""

    __slots__ = ("path", "files", "expected", "algorithm", "size")

    def __init__(self, path: Path, expected: str, algorithm: str, size: int):
        self.path = path
        self.files: list[str] = []  # snapshot names that point at it
        self.expected = expected
        self.algorithm = algorithm  # "sha256" or "git-sha1"
        self.size = size


def blob_algorithm(name: str) -> str | None:
    if re.match(_HEX64, name):
        return "sha256"
    if re.match(_HEX40, name):
        return "git-sha1"
    return None


def revision_blobs(snapshot_dir: Path, repo_dir: Path) -> tuple[list[Blob], list[str]]:
    """The distinct blobs a snapshot's files point at, and the snapshot files
    that cannot be verified (not a link into ``blobs/``, unnamed by a hash,
    or dangling — integrity reports those)."""
    snapshot_dir, blobs_dir = Path(snapshot_dir), Path(repo_dir).resolve() / "blobs"
    found: dict[Path, Blob] = {}
    unverifiable: list[str] = []
    for dirpath, _, filenames in os.walk(snapshot_dir):
        for name in filenames:
            link = Path(dirpath) / name
            rel = link.relative_to(snapshot_dir).as_posix()
            try:
                target = link.resolve(strict=True)
                st = target.stat()
            except (OSError, RuntimeError):
                unverifiable.append(rel)
                continue
            size = st.st_size
            algorithm = blob_algorithm(target.name)
            # Only regular files inside this repo's blobs/ are read (a FIFO would block).
            if target.parent != blobs_dir or algorithm is None or not stat.S_ISREG(st.st_mode):
                unverifiable.append(rel)
                continue
            blob = found.get(target)
            if blob is None:
                blob = found[target] = Blob(target, target.name, algorithm, size)
            blob.files.append(rel)
    return list(found.values()), sorted(unverifiable)


def hash_blob(blob: Blob, on_bytes=None, stop: threading.Event | None = None) -> str:
    """The blob's name as computed from its content."""
    import hashlib

    with open(blob.path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        if blob.algorithm == "sha256":
            digest = hashlib.sha256()
        else:
            digest = hashlib.sha1(b"blob %d\0" % size)
        buf = bytearray(min(BUFFER_BYTES, max(size, 1)))
        view = memoryview(buf)
        while True:
            if stop is not None and stop.is_set():
                raise InterruptedError("stopped")
            n = fh.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
            if on_bytes is not None:
                on_bytes(n)
    return digest.hexdigest()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def verify_blobs(blobs: list[Blob], *, workers: int | None = None, progress=None) -> dict[Blob, str | None]:
    """Hash every blob in parallel.  Returns ``{blob: None}`` for a match,
    ``{blob: "why"}`` otherwise.  ``progress(done_bytes, total_bytes)`` is
    called from this (the calling) thread about ten times a second."""
    import threading
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    results: dict[Blob, str | None] = {}
    if not blobs:
        return results
    total = sum(b.size for b in blobs)
    done = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def count(n):
        with lock:
            done[0] += n

    def work(blob: Blob):
        try:
            actual = hash_blob(blob, count, stop)
        except OSError as exc:
            return f"unreadable: {exc.strerror or exc}"
        return None if actual == blob.expected else f"content hashes to {actual[:12]}…"

    order = sorted(blobs, key=lambda b: b.size, reverse=True)
    pool = ThreadPoolExecutor(max_workers=min(workers or default_workers(), len(order)))
    try:
        pending = {pool.submit(work, blob): blob for blob in order}
        while pending:
            finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in finished:
                results[pending.pop(future)] = future.result()
            if progress is not None:
                progress(done[0], total)
    except BaseException:
        stop.set()  # Ctrl-C: let the workers end at their next chunk
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def deep_reasons(snapshot_dir: Path, repo_dir: Path, *, workers: int | None = None,
                 progress=None) -> tuple[list[tuple[list[str], str]], dict]:
    """Integrity reasons from verifying a revision's blobs, each with the
    snapshot files it is about, plus counts for the report."""
    blobs, unverifiable = revision_blobs(snapshot_dir, repo_dir)
    results = verify_blobs(blobs, workers=workers, progress=progress)
    reasons = []
    for blob, problem in sorted(results.items(), key=lambda item: item[0].files[0]):
        if problem:
            names = sorted(blob.files)
            reasons.append((names, f"Checksum mismatch: {', '.join(names)} (blob {blob.expected[:12]}…, {problem})"))
    stats = {"blobs_verified": len(blobs), "bytes_verified": sum(b.size for b in blobs),
             "unverifiable_files": unverifiable}
    return reasons, stats
