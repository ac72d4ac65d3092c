"""HTTP plumbing of the test Hub: request dispatch, bodies, replies, errors, routing, access.

The endpoints themselves live in ``download`` and ``upload`` (mixins of the final handler).
"""

from __future__ import annotations

import http.server
import json
import socket
import sys
import time
import traceback
from urllib.parse import parse_qs, unquote, urlsplit

from .body import BadBody, BodyReader
from .store import REPO_TYPES, URL_PREFIXES, StoreError

TYPES_BY_PLURAL = {v: k for k, v in REPO_TYPES.items()}
PREFIX_TYPES = {"datasets": "dataset", "spaces": "space"}
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, socket.timeout)
SEND_CHUNK = 1 << 20
XET_MESSAGE = ("This test Hub does not implement Xet storage. Set HF_HUB_DISABLE_XET=1 to upload "
               "with Git LFS, or start the server with inline_uploads=True.")


class Dropped(Exception):
    """The handler cut the connection on purpose (drop_after_bytes)."""


class HandlerBase(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mlxk-test-hub/1"
    timeout = 120  # idle keep-alive connections go away eventually

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def hub(self):
        """The HubServer this handler serves (hooks, stats, store)."""
        return self.server.hub

    def log_message(self, fmt, *args):
        if self.hub.verbose:
            sys.stderr.write("hubserver: %s - %s\n" % (self.address_string(), fmt % args))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except Dropped:
            self.close_connection = True
        except DISCONNECTS:
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        self.hub._enter()
        try:
            self._handle(method)
        finally:
            self.hub._leave()

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        self.method = method
        self.query = parse_qs(url.query, keep_blank_values=True)
        self.raw_path = url.path
        self.entry = {"method": method, "path": self.path, "host": self.headers.get("Host"),
                      "range": self.headers.get("Range"),
                      "auth": self.headers.get("Authorization") is not None,
                      "status": None, "time": time.time()}
        self.hub.stats._log_request(self.entry)
        self._must_close = False
        self._headers_sent = False
        try:
            self.body = BodyReader(self.rfile, self.headers, on_bytes=self.hub.stats._add_received)
            status = self.hub._take_failure(method, url.path)
            if status is not None:
                raise StoreError(status, None, "Injected transient failure")
            token = self._token()
            if token is not None and self.hub.tokens is not None and token not in self.hub.tokens \
                    and not url.path.startswith(("/cdn/", "/lfs-upload/")):
                raise StoreError(401, None, "Invalid credentials in Authorization header")
            self._route(method, url.path)
        except (Dropped, *DISCONNECTS):
            raise
        except Exception as e:
            if self._headers_sent:  # too late for an error reply: cut the response short
                self.close_connection = True
                if not isinstance(e, StoreError):
                    traceback.print_exc()
                return
            if isinstance(e, BadBody):
                self._must_close = True
                e = StoreError(400, None, f"Bad request body: {e}")
            elif not isinstance(e, StoreError):  # a bug in this server: say so loudly, keep serving
                traceback.print_exc()
                e = StoreError(500, None, f"Internal test-hub error: {e!r}")
            self._send_error(e)

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return None

    def _authorized(self) -> bool:
        return self.hub._token_ok(self._token())

    def _base(self) -> str:
        return f"http://{self.headers.get('Host') or f'{self.hub.host}:{self.hub.port}'}"

    def _finish_body(self) -> None:
        """Consume what the handler left of the request body, so keep-alive stays in sync."""
        body = getattr(self, "body", None)
        if body is not None and not body.eof:
            try:
                if not body.drain(limit=64 << 20):
                    self._must_close = True
            except BadBody:
                self._must_close = True

    def _start(self, status: int, headers: dict, length: int | None) -> None:
        self._finish_body()
        self.entry["status"] = status
        self._headers_sent = True
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, str(v))
        if length is not None:
            self.send_header("Content-Length", str(length))
        if self._must_close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def _send_bytes(self, status: int, data: bytes, headers: dict | None = None,
                    ctype: str = "application/json") -> None:
        self._start(status, {"Content-Type": ctype, **(headers or {})}, len(data))
        if self.method != "HEAD" and data:
            self.wfile.write(data)

    def _send_json(self, obj, status: int = 200, headers: dict | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), headers)

    def _send_error(self, e: StoreError) -> None:
        headers = dict(e.headers)
        if e.code:
            headers["X-Error-Code"] = e.code
        headers["X-Error-Message"] = e.message
        self._send_json({"error": e.message}, e.status, headers)

    def _json_body(self) -> dict:
        raw = self.body.read_all()
        if not raw.strip():
            return {}
        try:
            obj = json.loads(raw)
        except ValueError:
            raise StoreError(400, None, "Request body is not valid JSON") from None
        if not isinstance(obj, dict):
            raise StoreError(400, None, "Request body must be a JSON object")
        return obj

    def _qflag(self, name: str) -> bool:
        return (self.query.get(name) or ["0"])[0].lower() in ("1", "true", "yes")

    # -- routing ----------------------------------------------------------------------------
    def _route(self, method: str, path: str) -> None:
        segs = [unquote(s) for s in path.split("/")[1:]]
        if segs and segs[-1] == "" and len(segs) > 1:
            segs = segs[:-1]
        if segs[:1] == ["api"]:
            return self._route_api(method, segs[1:])
        if segs[:1] == ["cdn"]:
            return self._cdn(method, segs[1:])
        if segs[:1] == ["lfs-upload"]:
            return self._lfs_upload(method, segs[1:])
        if segs[:1] == ["lfs-verify"] and method == "POST" and len(segs) == 2:
            return self._lfs_verify(segs[1])
        repo_type = "model"
        if segs and segs[0] in PREFIX_TYPES and len(segs) > 2:
            repo_type, segs = PREFIX_TYPES[segs[0]], segs[1:]
        if len(segs) >= 5 and segs[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(method, repo_type, f"{segs[0]}/{segs[1]}", segs[3], "/".join(segs[4:]))
        if len(segs) == 6 and segs[1].endswith(".git") and segs[2:] == ["info", "lfs", "objects", "batch"] \
                and method == "POST":
            return self._lfs_batch(repo_type, f"{segs[0]}/{segs[1][:-4]}")
        raise StoreError(404, None, f"Not found: {method} {path}")

    def _route_api(self, method: str, segs: list) -> None:
        simple = {("GET", "whoami-v2"): self._whoami, ("GET", "agent-harnesses"): self._harnesses,
                  ("POST", "validate-yaml"): self._validate_yaml}
        if len(segs) == 1 and (method, segs[0]) in simple:
            return simple[(method, segs[0])]()
        if segs[:1] == ["repos"] and len(segs) == 2:
            if segs[1] == "create" and method == "POST":
                return self._create_repo()
            if segs[1] == "delete" and method == "DELETE":
                return self._delete_repo()
        if len(segs) >= 3 and segs[0] in TYPES_BY_PLURAL:
            rtype, repo_id, rest = TYPES_BY_PLURAL[segs[0]], f"{segs[1]}/{segs[2]}", segs[3:]
            return self._route_repo(method, rtype, repo_id, rest)
        raise StoreError(404, None, f"Not found: {method} /api/{'/'.join(segs)}")

    def _route_repo(self, method: str, rtype: str, repo_id: str, rest: list) -> None:
        op = rest[0] if rest else ""
        arg = rest[1] if len(rest) > 1 else None
        if method == "GET" and not rest:
            return self._repo_info(rtype, repo_id, "main")
        if method == "GET" and op == "revision" and len(rest) == 2:
            return self._repo_info(rtype, repo_id, arg)
        if method == "GET" and op == "tree" and arg is not None:
            return self._tree(rtype, repo_id, arg, "/".join(rest[2:]))
        if method == "GET" and op == "refs" and len(rest) == 1:
            return self._refs(rtype, repo_id)
        if method == "GET" and op == "commits" and len(rest) == 2:
            return self._commits(rtype, repo_id, arg)
        if method == "POST" and op == "paths-info" and len(rest) == 2:
            return self._paths_info(rtype, repo_id, arg)
        if method == "POST" and op == "preupload" and len(rest) == 2:
            return self._preupload(rtype, repo_id, arg)
        if method == "POST" and op == "commit" and len(rest) == 2:
            return self._commit(rtype, repo_id, arg)
        if op == "branch" and len(rest) == 2 and method in ("POST", "DELETE"):
            return self._branch(method, rtype, repo_id, arg)
        if op == "tag" and len(rest) == 2 and method in ("POST", "DELETE"):
            return self._tag(method, rtype, repo_id, arg)
        if method == "PUT" and op == "settings" and len(rest) == 1:
            return self._settings(rtype, repo_id)
        if op in ("xet-write-token", "xet-read-token"):
            self._read_repo(rtype, repo_id)
            raise StoreError(501, None, XET_MESSAGE)
        raise StoreError(404, None, f"Not found: {method} {self.raw_path}")

    # -- access -----------------------------------------------------------------------------
    def _read_repo(self, rtype: str, repo_id: str, files: bool = False) -> dict:
        repo = self.hub.store.get_repo(rtype, repo_id)
        token = self._token()
        if repo["private"] and not self.hub._token_ok(token):
            raise StoreError(401, "RepoNotFound", "Repository not found")
        if files and repo.get("gated"):
            if not self.hub._token_ok(token):
                raise StoreError(401, "GatedRepo", f"Access to repo {repo_id} is restricted. You must be "
                                 "authenticated to access it.")
            if token not in repo.get("gated_tokens", []):
                raise StoreError(403, "GatedRepo", f"Access to repo {repo_id} is restricted and you are "
                                 "not in the authorized list.")
        return repo

    def _require_write(self) -> str:
        token = self._token()
        if self.hub.tokens is not None and not self.hub._token_ok(token):
            raise StoreError(401, None, "You must be authenticated to write to the Hub")
        return self.hub.user

    def _write_repo(self, rtype: str, repo_id: str) -> dict:
        self._require_write()
        return self.hub.store.get_repo(rtype, repo_id)

    def _repo_url(self, rtype: str, repo_id: str) -> str:
        return f"{self._base()}/{URL_PREFIXES[rtype]}{repo_id}"


def qint(text: str, default: int = 0) -> int:
    try:
        return max(0, int(text))
    except (TypeError, ValueError):
        return default


