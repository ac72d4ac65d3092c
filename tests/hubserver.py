"""The project's own Hugging Face Hub test server (standard library only).

Serves model repos from a git-like store (``hubkit.store``) on 127.0.0.1 with the HTTP
protocol that huggingface_hub uses: the download side (revision/model info, tree, refs,
commits, paths-info, HEAD/GET resolve with ranges) and the upload side (create/delete
repo, branches, tags, preupload, LFS batch + basic/multipart PUT + verify, NDJSON commit).
Xet is not offered: downloads never advertise it and ``xet-write-token`` answers 501.

Test hooks (thread-safe): byte counters, a request log, a global throttle, injected
connection drops, corrupted bodies, transient 5xx and a cross-origin "CDN" redirect.

Usable in-process (``with HubServer(root) as hub: ...``) or standalone:
``python tests/hubserver.py --root DIR [--port N] [--throttle BYTES_PER_S]``.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import hashlib
import hmac
import http.server
import os
import secrets
import signal
import socket
import sys
import threading
import time

from hubkit.base import DISCONNECTS, Dropped, HandlerBase
from hubkit.download import DownloadRoutes, file_key
from hubkit.store import DEFAULT_LFS_THRESHOLD, Store
from hubkit.upload import UploadRoutes


class Stats:
    """Byte counters and the request log; every method is thread-safe."""

    def __init__(self, log_limit: int = 100_000):
        self._lock = threading.Lock()
        self._log_limit = log_limit
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._sent = 0
            self._received = 0
            self._per_file: collections.Counter = collections.Counter()
            self._log: collections.deque = collections.deque(maxlen=self._log_limit)

    def _add_sent(self, key: str, n: int) -> None:
        with self._lock:
            self._sent += n
            self._per_file[key] += n

    def _add_received(self, n: int) -> None:
        with self._lock:
            self._received += n

    def _log_request(self, entry: dict) -> None:
        with self._lock:
            self._log.append(entry)

    @property
    def bytes_sent(self) -> int:
        """Total file-body bytes sent by GET resolve and CDN downloads."""
        with self._lock:
            return self._sent

    @property
    def bytes_received(self) -> int:
        """Total request-body bytes received (uploads, commits, API calls)."""
        with self._lock:
            return self._received

    @property
    def per_file(self) -> dict:
        """{"<repo_id>/<path>": bytes sent}; datasets/spaces keys start with "datasets/"/"spaces/"."""
        with self._lock:
            return dict(self._per_file)

    def file_bytes(self, repo_id: str, path: str, repo_type: str = "model") -> int:
        with self._lock:
            return self._per_file.get(file_key(repo_type, repo_id, path), 0)

    @property
    def requests(self) -> list[dict]:
        """Copies of the logged requests: method, path (raw, with query), host, range,
        auth (bool: an Authorization header was present), status, time."""
        with self._lock:
            return [dict(e) for e in self._log]


def _match(patterns, key: str, path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(key, p) for p in patterns)


class _Throttle:
    """A global pacing schedule shared by all connections (bytes per second)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self, nbytes: int, bps: float) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + nbytes / bps
            delay = self._next - now
        if delay > 0:
            time.sleep(delay)


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, hub: "HubServer"):
        self.hub = hub
        self._conns: set = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, DISCONNECTS + (Dropped,)):
            return  # a client that goes away is normal life for a download server
        if self.hub.verbose or not isinstance(exc, OSError):
            super().handle_error(request, client_address)


class HubServer:
    """A Hub-protocol server over a repo store in ``root``.

    Args:
        root: folder for the store (created if missing; reused if it holds repos).
        port: TCP port on ``host``; 0 picks a free one (see ``.port`` / ``.url``).
        host: bind address (127.0.0.1). The CDN origin is ``http://localhost:<port>``.
        tokens: valid bearer tokens. None: any token is valid and writes need none. With
            tokens, writes need a valid one and an unknown token is a 401 everywhere.
            ``.token`` is the first one given (or "hf_test_token" when tokens is None).
        user: the account name whoami-v2 reports and uploads are attributed to.
        inline_uploads: preupload answers "regular" for every file (no LFS, no Xet).
        lfs_threshold: files this large (bytes) are LFS, like files matching LFS_PATTERNS.
        throttle_bps: global pace of GET file bodies in bytes/s (None: unlimited).
        cdn_redirect: False, "lfs"/True (LFS files) or "all": resolve on 127.0.0.1 answers
            302 to http://localhost:<port>/cdn/... carrying the file metadata.
        multipart_chunk_size: offer the LFS "multipart" transfer for files larger than this.
        tree_page_size / commits_page_size: pagination sizes (Link: rel="next").
        verbose: log each request and server errors to stderr.
    """

    def __init__(self, root, port: int = 0, *, host: str = "127.0.0.1", tokens=None,
                 user: str = "tester", inline_uploads: bool = False,
                 lfs_threshold: int = DEFAULT_LFS_THRESHOLD, throttle_bps: float | None = None,
                 cdn_redirect=False, multipart_chunk_size: int | None = None,
                 tree_page_size: int = 1000, commits_page_size: int = 50, verbose: bool = False):
        self.store = Store(root, lfs_threshold=lfs_threshold)
        self.root = self.store.root
        self.host = host
        self._port = port
        self.tokens = set(tokens) if tokens is not None else None
        self.token = next(iter(tokens), None) if tokens is not None else "hf_test_token"
        self.user = user
        self.verbose = verbose
        self.stats = Stats()
        self._secret = secrets.token_bytes(16)
        self._throttle = _Throttle()
        self._hook_lock = threading.Lock()
        self._defaults = {"inline_uploads": inline_uploads, "throttle_bps": throttle_bps,
                          "cdn_redirect": cdn_redirect, "multipart_chunk_size": multipart_chunk_size,
                          "tree_page_size": tree_page_size, "commits_page_size": commits_page_size}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._busy = 0
        self._idle = threading.Condition()
        self.reset_hooks()

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> "HubServer":
        if self._httpd is None:
            self._httpd = _HTTPServer((self.host, self._port), _Handler, self)
            self._port = self._httpd.server_address[1]
            self._thread = threading.Thread(target=self._httpd.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name=f"hubserver:{self._port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_all_connections()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The endpoint (HF_ENDPOINT): http://127.0.0.1:<port>."""
        return f"http://{self.host}:{self._port}"

    @property
    def cdn_url(self) -> str:
        return f"http://localhost:{self._port}"

    def client_env(self, hf_home, token: str | None = None, disable_xet: bool = True,
                   base: dict | None = None) -> dict:
        """``base`` (default os.environ) minus every HF_* variable, plus what a huggingface_hub
        client process needs to talk to this server only: HF_ENDPOINT, HF_HOME, no telemetry,
        no progress bars, HF_HUB_DISABLE_XET=1 unless ``disable_xet`` is False, HF_TOKEN."""
        env = {k: v for k, v in (os.environ if base is None else base).items()
               if not k.startswith(("HF_", "HUGGINGFACE", "HUGGING_FACE"))}
        env.update(HF_ENDPOINT=self.url, HF_HOME=str(hf_home), HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HUB_DISABLE_PROGRESS_BARS="1")
        if disable_xet:
            env["HF_HUB_DISABLE_XET"] = "1"
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    # ---- seeding ---------------------------------------------------------------------------
    def add_repo(self, org: str, name: str, files: dict, branch: str = "main",
                 message: str = "Upload files", *, private: bool | None = None,
                 repo_type: str = "model", tags=()) -> str:
        """Commit exactly ``files`` ({path: bytes | str | Path}) on ``branch`` of org/name,
        creating the repo if needed (a new branch forks from main). Paths are streamed from
        disk. Returns the commit id; ``tags`` are created on it."""
        repo_id = f"{org}/{name}"
        created = self.store.create_repo(repo_type, repo_id, private=bool(private),
                                         seed_gitattributes=None, author=self.user)
        if not created and private is not None:
            self.store.update_settings(repo_type, repo_id, private=private)
        cid = self.store.commit_snapshot(repo_type, repo_id, files, branch, message, author=self.user)
        for tag in tags:
            self.store.create_tag(repo_type, repo_id, tag, cid)
        return cid

    def add_branch(self, repo_id: str, branch: str, revision: str = "main", repo_type="model") -> str:
        return self.store.create_branch(repo_type, repo_id, branch, revision)

    def add_tag(self, repo_id: str, tag: str, revision: str = "main", repo_type="model") -> str:
        return self.store.create_tag(repo_type, repo_id, tag, revision)

    def set_private(self, repo_id: str, private: bool = True, repo_type: str = "model") -> None:
        self.store.update_settings(repo_type, repo_id, private=private)

    def set_gated(self, repo_id: str, gated="auto", granted_tokens=(), repo_type="model") -> None:
        """Gate downloads: no token -> 401 GatedRepo, a token not granted -> 403 GatedRepo."""
        self.store.update_settings(repo_type, repo_id, gated=gated or False,
                                   gated_tokens=list(granted_tokens))

    def head(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> str:
        return self.store.resolve(repo_type, repo_id, revision)

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict:
        """{path: {"sha256", "size", "sha1", "lfs"}} of a revision."""
        cid = self.store.resolve(repo_type, repo_id, revision)
        return dict(self.store.get_commit(repo_type, repo_id, cid)["files"])

    def read_file(self, repo_id: str, path: str, revision: str = "main", repo_type="model") -> bytes:
        return self.store.blob_path(self.files(repo_id, revision, repo_type)[path]["sha256"]).read_bytes()

    def repo_info(self, repo_id: str, repo_type: str = "model") -> dict:
        return self.store.get_repo(repo_type, repo_id)

    # ---- test hooks -----------------------------------------------------------------------
    def reset_hooks(self) -> None:
        """Back to the constructor's modes and page sizes, with no injected faults."""
        with self._hook_lock:
            for name, value in self._defaults.items():
                setattr(self, name, value)
            self.corrupt_files: set[str] = set()
            self._drops: list[dict] = []
            self._failures: list[dict] = []

    def reset(self) -> None:
        """reset_hooks() and clear the counters and the request log."""
        self.reset_hooks()
        self.stats.reset()

    def drop_after_bytes(self, pattern: str, nbytes: int, once: bool = True) -> None:
        """Cut the connection after ``nbytes`` body bytes of a GET of a file matching
        ``pattern`` (fnmatch on the path in the repo or on "<repo_id>/<path>"). Applies to
        responses longer than ``nbytes``; ``once``: only the first such response."""
        with self._hook_lock:
            self._drops.append({"pattern": pattern, "nbytes": int(nbytes), "once": once})

    def corrupt(self, pattern: str) -> None:
        """Serve flipped bytes for matching files; headers still claim the right hash/size."""
        with self._hook_lock:
            self.corrupt_files.add(pattern)

    def fail_next(self, n: int = 1, status: int = 503, path: str | None = None,
                  method: str | None = None) -> None:
        """Answer the next ``n`` requests (whose URL path matches the fnmatch ``path`` and
        whose method is ``method``, if given) with ``status`` instead of serving them."""
        with self._hook_lock:
            self._failures.append({"n": int(n), "status": int(status), "path": path,
                                   "method": method.upper() if method else None})

    @property
    def requests(self) -> list[dict]:
        return self.stats.requests

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being handled (e.g. after a client hung up mid-body)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _enter(self) -> None:
        with self._idle:
            self._busy += 1

    def _leave(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def _take_failure(self, method: str, path: str) -> int | None:
        with self._hook_lock:
            for f in self._failures:
                if f["n"] > 0 and (f["method"] in (None, method)) and (
                        f["path"] is None or fnmatch.fnmatchcase(path, f["path"])):
                    f["n"] -= 1
                    return f["status"]
        return None

    def _take_drop(self, key: str, path: str, length: int) -> int | None:
        with self._hook_lock:
            for d in self._drops:
                if d["nbytes"] < length and _match([d["pattern"]], key, path):
                    if d["once"]:
                        self._drops.remove(d)
                    return d["nbytes"]
        return None

    def _is_corrupt(self, key: str, path: str) -> bool:
        with self._hook_lock:
            return _match(tuple(self.corrupt_files), key, path)

    # ---- auth and signing -----------------------------------------------------------------
    def _token_ok(self, token: str | None) -> bool:
        return token is not None and (self.tokens is None or token in self.tokens)

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]


class _Handler(UploadRoutes, DownloadRoutes, HandlerBase):
    """The request handler: plumbing from HandlerBase, endpoints from the two mixins."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Serve model repos over the Hugging Face Hub HTTP protocol.")
    ap.add_argument("--root", required=True, help="store folder (created if missing)")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick a free one)")
    ap.add_argument("--throttle", type=float, default=None, metavar="BYTES_PER_S",
                    help="global pace of file downloads")
    ap.add_argument("--token", action="append", default=None,
                    help="a valid bearer token (repeatable); without it any token is accepted")
    ap.add_argument("--inline-uploads", action="store_true",
                    help="preupload answers 'regular' for every file (no LFS)")
    ap.add_argument("--cdn-redirect", choices=["lfs", "all"], default=None,
                    help="redirect resolve downloads to the localhost 'CDN' origin")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)
    hub = HubServer(args.root, port=args.port, tokens=args.token, throttle_bps=args.throttle,
                    inline_uploads=args.inline_uploads, cdn_redirect=args.cdn_redirect or False,
                    verbose=args.verbose)
    hub.start()
    print(hub.url, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
