"""Download side of the test Hub: repo info, tree, paths-info, refs, commits, resolve, CDN."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from urllib.parse import parse_qs, quote

from .base import PREFIX_TYPES, SEND_CHUNK, Dropped, qint
from .store import URL_PREFIXES, StoreError, folders_of, git_blob_sha1, lfs_pointer, tree_oid

FLIP = bytes(b ^ 0xFF for b in range(256))


def file_key(repo_type: str, repo_id: str, path: str) -> str:
    """The per-file byte counter key: "<repo_id>/<path>" (datasets/spaces keep their prefix)."""
    return f"{URL_PREFIXES[repo_type]}{repo_id}/{path}"


class DownloadRoutes:
    """Endpoint methods mixed into the request handler (see base.HandlerBase)."""

    def _repo_info(self, rtype: str, repo_id: str, rev: str) -> None:
        store = self.hub.store
        repo = self._read_repo(rtype, repo_id)
        cid = store.resolve(rtype, repo_id, rev, repo)
        commit = store.get_commit(rtype, repo_id, cid)
        blobs = self._qflag("blobs")
        siblings = []
        for path in sorted(commit["files"]):
            f = commit["files"][path]
            s = {"rfilename": path}
            if blobs:
                s.update(size=f["size"], blobId=_oid(f))
                if f["lfs"]:
                    s["lfs"] = {"size": f["size"], "sha256": f["sha256"],
                                "pointerSize": len(lfs_pointer(f["sha256"], f["size"]))}
            siblings.append(s)
        org = repo_id.split("/")[0]
        self._send_json({
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "modelId": repo_id,
            "author": org, "sha": cid, "lastModified": commit["date"], "createdAt": repo["created_at"],
            "private": repo["private"], "gated": repo.get("gated") or False, "disabled": False,
            "downloads": 0, "likes": 0, "tags": [], "siblings": siblings, "spaces": [],
            "usedStorage": sum(f["size"] for f in commit["files"].values()),
        })

    def _entry(self, rtype, repo_id, cid, files, path, expand) -> dict:
        if path in files:
            f = files[path]
            e = {"type": "file", "oid": _oid(f), "size": f["size"], "path": path}
            if f["lfs"]:
                e["lfs"] = {"oid": f["sha256"], "size": f["size"],
                            "pointerSize": len(lfs_pointer(f["sha256"], f["size"]))}
        else:
            e = {"type": "directory", "oid": tree_oid(files, path), "size": 0, "path": path}
        if expand:
            c = self.hub.store.last_commit_touching(rtype, repo_id, cid, path)
            e["lastCommit"] = {"id": c["id"], "title": c["title"], "date": c["date"]}
            if e["type"] == "file":
                e["securityFileStatus"] = {"status": "safe", "avScan": {"virusFound": False, "virusNames": None},
                                           "pickleImportScan": None}
        return e

    def _tree(self, rtype: str, repo_id: str, rev: str, folder: str) -> None:
        store = self.hub.store
        repo = self._read_repo(rtype, repo_id)
        cid = store.resolve(rtype, repo_id, rev, repo)
        files = store.get_commit(rtype, repo_id, cid)["files"]
        folder = folder.strip("/")
        folders = folders_of(files)
        if folder and folder not in folders:
            raise StoreError(404, "EntryNotFound", f"Entry not found: {folder}",
                             {"X-Repo-Commit": cid})
        recursive, expand = self._qflag("recursive"), self._qflag("expand")
        pre = folder + "/" if folder else ""
        names = [p for p in list(files) + sorted(folders) if p.startswith(pre) and p != folder]
        if not recursive:
            names = [p for p in names if "/" not in p[len(pre):]]
        names.sort(key=lambda p: (p not in folders, p))  # folders first, like the Hub
        page = max(1, self._tree_page(expand))
        start = qint((self.query.get("cursor") or ["0"])[0])
        chunk = names[start:start + page]
        headers = {}
        if start + page < len(names):
            headers["Link"] = f'<{self._next_url("cursor", start + page)}>; rel="next"'
        self._send_json([self._entry(rtype, repo_id, cid, files, p, expand) for p in chunk], 200, headers)

    def _tree_page(self, expand: bool) -> int:
        return min(self.hub.tree_page_size, 50) if expand else self.hub.tree_page_size

    def _next_url(self, key: str, value) -> str:
        q = {k: v for k, v in self.query.items() if k != key}
        q[key] = [str(value)]
        qs = "&".join(f"{quote(k)}={quote(x)}" for k, vs in q.items() for x in vs)
        return f"{self._base()}{self.raw_path}?{qs}"

    def _paths_info(self, rtype: str, repo_id: str, rev: str) -> None:
        store = self.hub.store
        repo = self._read_repo(rtype, repo_id)
        cid = store.resolve(rtype, repo_id, rev, repo)
        raw = self.body.read_all()
        if "json" in (self.headers.get("Content-Type") or ""):
            data = json.loads(raw or b"{}")
            paths, expand = data.get("paths") or [], bool(data.get("expand"))
        else:
            form = parse_qs(raw.decode(), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = (form.get("expand") or ["false"])[0].lower() in ("1", "true")
        files = store.get_commit(rtype, repo_id, cid)["files"]
        folders = folders_of(files)
        out = [self._entry(rtype, repo_id, cid, files, p.strip("/"), expand)
               for p in dict.fromkeys(paths) if p.strip("/") in files or p.strip("/") in folders]
        self._send_json(out)

    def _refs(self, rtype: str, repo_id: str) -> None:
        repo = self._read_repo(rtype, repo_id)
        out = {
            "branches": [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": c}
                         for b, c in sorted(repo["branches"].items())],
            "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": v["commit"]}
                     for t, v in sorted(repo["tags"].items())],
            "converts": [],
        }
        if self._qflag("include_prs"):
            out["pullRequests"] = [{"name": f"refs/pr/{n}", "ref": f"refs/pr/{n}", "targetCommit": c}
                                   for n, c in sorted(repo["prs"].items(), key=lambda kv: int(kv[0]))]
        self._send_json(out)

    def _commits(self, rtype: str, repo_id: str, rev: str) -> None:
        store = self.hub.store
        repo = self._read_repo(rtype, repo_id)
        cid = store.resolve(rtype, repo_id, rev, repo)
        size = max(1, self.hub.commits_page_size)
        page = qint((self.query.get("p") or ["0"])[0])
        items = []
        for i, c in enumerate(store.history(rtype, repo_id, cid)):
            if i >= (page + 1) * size + 1:
                break
            items.append(c)
        chunk = items[page * size:(page + 1) * size]
        headers = {}
        if len(items) > (page + 1) * size:
            headers["Link"] = f'<{self._next_url("p", page + 1)}>; rel="next"'
        self._send_json([{"id": c["id"], "title": c["title"], "message": c["message"], "date": c["date"],
                          "authors": [{"user": c["author"], "avatar": None}]} for c in chunk], 200, headers)

    def _resolve(self, method: str, rtype: str, repo_id: str, rev: str, path: str) -> None:
        store = self.hub.store
        repo = self._read_repo(rtype, repo_id, files=True)
        cid = store.resolve(rtype, repo_id, rev, repo)
        f = store.get_commit(rtype, repo_id, cid)["files"].get(path)
        if f is None:
            raise StoreError(404, "EntryNotFound", f"Entry not found: {path}", {"X-Repo-Commit": cid})
        headers = _file_headers(f, cid)
        mode = self.hub.cdn_redirect
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if mode and host != "localhost" and (mode == "all" or f["lfs"]):
            cdn_path = f"/cdn/{URL_PREFIXES[rtype]}{repo_id}/{cid}/{quote(path)}"
            sig = self.hub._sign(cdn_path)
            headers["Location"] = f"{self.hub.cdn_url}{cdn_path}?sig={sig}"
            headers["X-Linked-Size"] = f["size"]
            headers["X-Linked-Etag"] = f'"{f["sha256"] if f["lfs"] else f["sha1"]}"'
            self._start(302, headers, 0)
            return
        self._send_file(method, file_key(rtype, repo_id, path), path, f, headers)

    def _cdn(self, method: str, segs: list) -> None:
        if method not in ("GET", "HEAD"):
            raise StoreError(405, None, "CDN is read-only")
        rtype = "model"
        if segs and segs[0] in PREFIX_TYPES:
            rtype, segs = PREFIX_TYPES[segs[0]], segs[1:]
        cdn_path = self.raw_path
        if len(segs) < 4 or not hmac.compare_digest(self.hub._sign(cdn_path),
                                                    (self.query.get("sig") or [""])[0]):
            raise StoreError(403, None, "Bad or missing CDN signature")
        repo_id, cid, path = f"{segs[0]}/{segs[1]}", segs[2], "/".join(segs[3:])
        f = self.hub.store.get_commit(rtype, repo_id, cid)["files"].get(path)
        if f is None:
            raise StoreError(404, None, "Not found")
        self._send_file(method, file_key(rtype, repo_id, path), path, f, _file_headers(f, cid))

    def _send_file(self, method: str, key: str, path: str, f: dict, headers: dict) -> None:
        size = f["size"]
        start, end = 0, size - 1
        status = 200
        rng = _parse_range(self.headers.get("Range"), size)
        if rng == "unsatisfiable":
            raise StoreError(416, None, "Range Not Satisfiable", {"Content-Range": f"bytes */{size}"})
        if rng is not None:
            start, end = rng
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        headers.setdefault("Content-Type", "application/octet-stream")
        headers["Accept-Ranges"] = "bytes"
        self._start(status, headers, length)
        if method == "HEAD" or length == 0:
            return
        hub = self.hub
        drop_at = hub._take_drop(key, path, length)
        corrupt = hub._is_corrupt(key, path)
        sent = 0
        with open(hub.store.blob_path(f["sha256"]), "rb") as fh:
            fh.seek(start)
            while sent < length:
                bps = hub.throttle_bps
                want = min(SEND_CHUNK, length - sent)
                if bps:
                    want = min(want, max(16 << 10, int(bps / 20)))
                if drop_at is not None:
                    want = min(want, drop_at - sent)
                if bps:
                    hub._throttle.wait(want, bps)
                if not corrupt and not bps and drop_at is None:
                    n = self.connection.sendfile(fh, start + sent, want)  # zero-copy fast path
                    fh.seek(start + sent + n)
                    if n == 0:
                        raise BrokenPipeError("sendfile sent nothing")
                else:
                    data = fh.read(want)
                    if not data:
                        raise OSError(f"blob for {key} is shorter than recorded")
                    self.wfile.write(data.translate(FLIP) if corrupt else data)
                    n = len(data)
                sent += n
                hub.stats._add_sent(key, n)
                if drop_at is not None and sent >= drop_at:
                    self.wfile.flush()
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    raise Dropped()

    # -- account and client probes ---------------------------------------------------------
    def _whoami(self) -> None:
        if not self._authorized():
            raise StoreError(401, None, "Invalid credentials in Authorization header")
        self._send_json({"type": "user", "id": hashlib.sha1(self.hub.user.encode()).hexdigest()[:24],
                         "name": self.hub.user, "fullname": "Test User", "email": None,
                         "emailVerified": True, "canPay": False, "isPro": False, "periodEnd": None,
                         "avatarUrl": "", "orgs": [],
                         "auth": {"type": "access_token",
                                  "accessToken": {"displayName": "test-token", "role": "write"}}})

    def _harnesses(self) -> None:
        self._send_json({"standardEnvVars": [], "harnesses": {}})



def _oid(f: dict) -> str:
    """The git object id: of the LFS pointer for LFS files, of the content otherwise."""
    return git_blob_sha1(lfs_pointer(f["sha256"], f["size"])) if f["lfs"] else f["sha1"]


def _file_headers(f: dict, cid: str) -> dict:
    h = {"X-Repo-Commit": cid, "ETag": f'"{f["sha256"] if f["lfs"] else f["sha1"]}"'}
    if f["lfs"]:
        h["X-Linked-Etag"] = f'"{f["sha256"]}"'
        h["X-Linked-Size"] = f["size"]
    return h



def _parse_range(header: str | None, size: int):
    """(start, end) for one "bytes=" range, None to serve everything, or "unsatisfiable"."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.split("=", 1)[1].strip()
    if "," in spec:
        return None  # multiple ranges: serving the whole file is allowed
    first, _, last = spec.partition("-")
    try:
        if first.strip() == "":
            n = int(last)
            if n <= 0:
                return "unsatisfiable"
            return max(0, size - n), size - 1
        start = int(first)
        end = int(last) if last.strip() else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)


