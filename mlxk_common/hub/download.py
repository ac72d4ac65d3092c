"""Resumable, verified, parallel downloads into the Hugging Face cache.

The cache layout is huggingface_hub's, byte for byte (see ``hubcache``), and each
blob is downloaded under huggingface_hub's own lock, so a concurrent ``hf
download`` of the same model is safe.

What differs from huggingface_hub 2.4 is the partial file: it has a stable name,
``blobs/<etag>.incomplete``, and every byte is written straight to the kernel, so
a run killed at any point (SIGKILL included) leaves a prefix that the next run
continues with an HTTP Range request.  Partials that huggingface_hub leaves behind
(``<etag>.<8 hex>.incomplete``, never resumed by it) are adopted when they are
longer than ours, and deleted otherwise.  Every finished file is checked against
its etag before it becomes a blob; a mismatch deletes it and is reported.
"""

from __future__ import annotations

import errno
import os
import queue
import re
import threading
import time
from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.hub.cache_write import RepoCache, Stopped, blob_lock
from mlxk_common.hub.client import HubSettings, RemoteFile, as_mlxk_error, backoff, transient

_HEX64 = r"[0-9a-f]{64}"
_HEX40 = r"[0-9a-f]{40}"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_JOIN_BUDGET_S = 0.6  # how long Ctrl-C waits for workers to close their files


# -- hashing -----------------------------------------------------------------------

def expected_digest(f: RemoteFile):
    """A fresh hasher for what the etag promises, or None when the etag is no hash."""
    import hashlib

    if re.fullmatch(_HEX64, f.etag):
        return hashlib.sha256()
    if re.fullmatch(_HEX40, f.etag) and not f.lfs:
        return hashlib.sha1(b"blob %d\0" % f.size)
    return None


def _hash_prefix(path: Path, digest, size: int, stop: threading.Event) -> None:
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        left = size
        while left > 0:
            if stop.is_set():
                raise Stopped()
            n = fh.readinto(view[:min(len(buf), left)])
            if not n:
                raise OSError(errno.EIO, f"{path.name} shrank while being read")
            digest.update(view[:n])
            left -= n


# -- one transfer of many files ---------------------------------------------------------

class Task:
    """One file to fetch, and what happened to it."""

    __slots__ = ("file", "resumed", "fetched", "state", "error")

    def __init__(self, f: RemoteFile):
        self.file = f
        self.resumed = 0  # bytes a partial already held when this run started on it
        self.fetched = 0  # bytes received over the network by this run
        self.state = "pending"  # pending, done, reused, failed, stopped
        self.error: MlxkError | None = None


class Downloader:
    """Fetches files of one commit into the cache with ``workers`` threads."""

    def __init__(self, settings: HubSettings, cache: RepoCache, commit: str, progress, stop: threading.Event,
                 workers: int = 8):
        self.settings = settings
        self.cache = cache
        self.commit = commit
        self.progress = progress
        self.stop = stop
        self.workers = max(1, workers)
        self.headers = settings.headers()
        self.headers["Accept-Encoding"] = "identity"  # sizes and hashes are of the raw bytes
        self.client = settings.client()
        self.mode = _blob_mode()

    # -- the pool --
    def run(self, tasks: list[Task]) -> None:
        """Fetch every task; raise the first fatal error after the others ended.
        Ctrl-C stops every worker at its next chunk and leaves partials in place."""
        jobs: queue.Queue = queue.Queue()
        for task in sorted(tasks, key=lambda t: t.file.size, reverse=True):
            jobs.put(task)
        threads = [threading.Thread(target=self._worker, args=(jobs,), name=f"mlxk-pull-{i}", daemon=True)
                   for i in range(min(self.workers, len(tasks)))]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)
        except BaseException:
            self.stop.set()
            deadline = time.monotonic() + _JOIN_BUDGET_S
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            raise
        failed = [t for t in tasks if t.error is not None]
        if failed:
            raise _first_error(failed)

    def _worker(self, jobs: queue.Queue) -> None:
        while not self.stop.is_set():
            try:
                task = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                self.fetch(task)
            except Stopped:
                task.state = "stopped"
            except MlxkError as exc:
                task.state, task.error = "failed", exc
                if exc.details.get("fatal"):
                    self.stop.set()  # disk full or no network: the other files cannot do better
            except Exception as exc:  # noqa: BLE001 - reported as the task's error
                task.state = "failed"
                task.error = as_mlxk_error(exc, self.settings, self.cache.repo_id)

    # -- one file --
    def fetch(self, task: Task) -> None:
        f = task.file
        with blob_lock(self.cache.lock(f.etag), self.stop):
            if self.cache.blob_ok(f):  # another revision or another process brought it
                task.state = "reused"
                for leftover in [self.cache.partial(f.etag), *self.cache.orphans(f.etag)]:
                    leftover.unlink(missing_ok=True)
            else:
                self._download(task)
                task.state = "done"
            self.cache.link(self.commit, f)
        self.progress.finish(f.path, f.size)

    def _download(self, task: Task) -> None:
        f = task.file
        self.cache.blobs.mkdir(parents=True, exist_ok=True)
        partial = self.cache.partial(f.etag)
        self._adopt_orphans(f.etag, partial)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            offset = os.fstat(fd).st_size
            if offset > f.size:  # not a prefix of this file: start over
                os.ftruncate(fd, 0)
                offset = 0
            digest = expected_digest(f)
            if offset and digest is not None:
                _hash_prefix(partial, digest, offset, self.stop)
            task.resumed = offset
            self.progress.start(f.path, f.size, offset)
            if offset < f.size:
                digest = self._receive(task, fd, offset, digest)
        except OSError as exc:
            raise self._disk_error(exc, f) from None
        finally:
            os.close(fd)
        if digest is not None:
            actual = digest.hexdigest()
            if actual != f.etag:
                partial.unlink(missing_ok=True)
                raise MlxkError("download_failed", f"{f.path}: checksum mismatch (expected {f.etag}, got {actual}); "
                                "the corrupt download was deleted, run the pull again",
                                file=f.path, expected=f.etag, actual=actual, reason="checksum_mismatch")
        os.chmod(partial, self.mode)
        os.replace(partial, self.cache.blob(f.etag))

    def _receive(self, task: Task, fd: int, offset: int, digest):
        """Stream the rest of the file into ``fd`` from ``offset``, resuming in
        place after dropped connections (with backoff; progress resets the count).
        Returns the digest, which restarts when the server restarts the file."""
        import httpx2

        f = task.file
        url = self.settings.resolve_url(self.cache.repo_id, self.commit, f.path)
        failures = 0
        while offset < f.size:
            if self.stop.is_set():
                raise Stopped()
            before = offset
            try:
                resp = self._open(url, offset)
                try:
                    offset = self._check_response(resp, f, offset, fd)
                    if offset != before:  # the server sends the whole file: so do we
                        digest = expected_digest(f)
                        self.progress.start(f.path, f.size, 0)
                    os.lseek(fd, offset, os.SEEK_SET)
                    for chunk in resp.iter_bytes():
                        if self.stop.is_set():
                            raise Stopped()
                        _write_all(fd, chunk)
                        if digest is not None:
                            digest.update(chunk)
                        offset += len(chunk)
                        task.fetched += len(chunk)
                        self.progress.advance(f.path, len(chunk))
                finally:
                    resp.close()
                if offset < f.size:
                    raise httpx2.RemoteProtocolError("connection closed before the end of the file")
                if offset > f.size:
                    os.ftruncate(fd, 0)
                    raise MlxkError("download_failed", f"{f.path}: the server sent more bytes than the file has",
                                    file=f.path)
            except (Stopped, MlxkError):
                raise
            except Exception as exc:  # noqa: BLE001 - network trouble: retry or give up
                if _local_os_error(exc):
                    raise  # the disk, not the network
                if isinstance(exc, _Retry):
                    offset, digest = 0, expected_digest(f)
                    self.progress.start(f.path, f.size, 0)
                elif offset > before:
                    failures = 0
                if not (transient(exc) or isinstance(exc, _Retry)) or failures >= self.settings.retries:
                    error = as_mlxk_error(exc, self.settings, self.cache.repo_id)
                    if error.type == "network_error":
                        error.details["fatal"] = True
                        error.message = f"{f.path}: {error.message} (partial download kept; run again to resume)"
                    raise error from None
                delay = 0.0 if isinstance(exc, _Retry) else backoff(failures)
                failures += 1
                if not isinstance(exc, _Retry):
                    self.settings.retrying(f"{f.path}: download", exc, failures, delay)
                if self.stop.wait(delay):
                    raise Stopped() from None
        return digest

    def _open(self, url: str, offset: int):
        """GET with Range, following redirects by hand: a redirect to another
        origin (a CDN) never carries the token."""
        from urllib.parse import urljoin

        headers = dict(self.headers)
        if offset:
            headers["Range"] = f"bytes={offset}-"
        for _ in range(8):
            resp = self.client.send(self.client.build_request("GET", url, headers=headers), stream=True)
            location = resp.headers.get("Location")
            if resp.status_code in (301, 302, 303, 307, 308) and location:
                resp.close()
                target = urljoin(url, location)
                if _origin(target) != _origin(url):
                    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                url = target
                continue
            return resp
        raise MlxkError("download_failed", f"too many redirects for {url}")

    def _check_response(self, resp, f: RemoteFile, offset: int, fd: int) -> int:
        """Where the body starts: ``offset`` for a matching 206, 0 when the server
        sends the whole file (the partial is truncated then)."""
        from huggingface_hub.utils import hf_raise_for_status

        if resp.status_code == 416 and offset:  # our partial is not a prefix the server knows
            os.ftruncate(fd, 0)
            raise _Retry("range not satisfiable")
        if resp.status_code >= 400:
            resp.read()
            hf_raise_for_status(resp)
        total = _total_size(resp)
        if total is not None and total != f.size:
            raise MlxkError("download_failed", f"{f.path}: the server sends {total} bytes, the Hub listed "
                            f"{f.size}; the revision changed while downloading, run the pull again", file=f.path)
        if resp.status_code == 206:
            start = _range_start(resp)
            if start == offset:
                return offset
        os.ftruncate(fd, 0)  # a 200 (range ignored) or a range we did not ask for
        return 0

    def _adopt_orphans(self, etag: str, partial: Path) -> None:
        """Keep the longest of our partial and other tools' orphans (we hold the
        blob's lock, so no live downloader owns them); delete the rest."""
        try:
            best = partial.stat().st_size
        except OSError:
            best = -1
        for orphan in self.cache.orphans(etag):
            try:
                size = orphan.stat().st_size
                if size > best:
                    os.replace(orphan, partial)
                    best = size
                else:
                    orphan.unlink()
            except OSError:
                pass

    def _disk_error(self, exc: OSError, f: RemoteFile) -> MlxkError:
        if exc.errno in _DISK_FULL:
            return MlxkError("download_failed", f"no space left on the disk of {self.settings.cache} while writing "
                             f"{f.path}; the partial download is kept: free some space and run the pull again",
                             file=f.path, reason="disk_full", fatal=True)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return MlxkError("permission_denied", f"cannot write into the cache {self.settings.cache}: "
                             f"{exc.strerror}", file=f.path, fatal=True)
        return MlxkError("download_failed", f"{f.path}: {exc.strerror or exc}", file=f.path)


class _Retry(Exception):
    """Start the request again at once (the partial was reset)."""


def _local_os_error(exc: BaseException) -> bool:
    """An OSError of this machine (disk full, permissions), not an HTTP one."""
    return (isinstance(exc, OSError) and getattr(exc, "response", None) is None
            and not isinstance(exc, (ConnectionError, TimeoutError)))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _origin(url: str) -> tuple:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _total_size(resp) -> int | None:
    content_range = resp.headers.get("Content-Range")
    if content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1].strip()
        return int(tail) if tail.isdigit() else None
    length = resp.headers.get("Content-Length")
    if resp.status_code == 200 and length and length.isdigit():
        return int(length)
    return None


def _range_start(resp) -> int | None:
    match = re.match(r"\s*bytes\s+(\d+)-", resp.headers.get("Content-Range") or "")
    return int(match.group(1)) if match else None


def _blob_mode() -> int:
    """Blobs get the mode a new file gets here (huggingface_hub does the same)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _first_error(failed: list[Task]) -> MlxkError:
    errors = [t.error for t in failed]
    first = next((e for e in errors if e.details.get("fatal")), errors[0])
    if len(errors) > 1:
        first.details["failed_files"] = sorted(t.file.path for t in failed)
        first.message += f" ({len(errors) - 1} more file(s) failed too)"
    first.details.pop("fatal", None)
    return first
