"""Upload side of the test Hub: repos, settings, branches, tags, preupload, LFS, commits."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import math
import os
import shutil
import threading

from .base import SEND_CHUNK, qint
from .body import SPILL_MARK, BadBody, NdjsonSplitter
from .store import REPO_TYPES, Store, StoreError, check_file_path, is_lfs_path, repo_not_found


class UploadRoutes:
    """Endpoint methods mixed into the request handler (see base.HandlerBase)."""

    def _validate_yaml(self) -> None:
        self._json_body()  # any README front matter is fine here
        self._send_json({"errors": [], "warnings": []})

    def _create_repo(self) -> None:
        user = self._require_write()
        data = self._json_body()
        name, org = data.get("name"), data.get("organization") or user
        rtype = data.get("type") or "model"
        if rtype not in REPO_TYPES or not isinstance(name, str):
            raise StoreError(400, None, "Invalid repo type or name")
        repo_id = f"{org}/{name}"
        private = data.get("visibility") == "private" or data.get("private") is True
        try:
            created = self.hub.store.create_repo(rtype, repo_id, private=private, author=user)
        except StoreError:
            raise StoreError(400, None, f"Invalid repo name: {repo_id}") from None
        url = self._repo_url(rtype, repo_id)
        if not created:
            return self._send_json({"error": "You already created this model repo", "url": url}, 409,
                                   {"X-Error-Message": "You already created this model repo"})
        self._send_json({"url": url, "name": repo_id, "id": repo_id})

    def _delete_repo(self) -> None:
        user = self._require_write()
        data = self._json_body()
        repo_id = f"{data.get('organization') or user}/{data.get('name')}"
        rtype = data.get("type") or "model"
        if rtype not in REPO_TYPES:
            raise repo_not_found()
        self.hub.store.delete_repo(rtype, repo_id)
        self._send_json({})

    def _settings(self, rtype: str, repo_id: str) -> None:
        self._write_repo(rtype, repo_id)
        data = self._json_body()
        private = data.get("private")
        if data.get("visibility") in ("private", "public"):
            private = data["visibility"] == "private"
        self.hub.store.update_settings(rtype, repo_id, private=private, gated=data.get("gated"))
        self._send_json({})

    def _branch(self, method: str, rtype: str, repo_id: str, branch: str) -> None:
        self._write_repo(rtype, repo_id)
        if method == "POST":
            start = self._json_body().get("startingPoint")
            self.hub.store.create_branch(rtype, repo_id, branch, start)
        else:
            self.hub.store.delete_ref(rtype, repo_id, "branches", branch)
        self._send_json({})

    def _tag(self, method: str, rtype: str, repo_id: str, arg: str) -> None:
        self._write_repo(rtype, repo_id)
        if method == "POST":
            data = self._json_body()
            if not data.get("tag"):
                raise StoreError(400, None, "Missing tag name")
            self.hub.store.create_tag(rtype, repo_id, data["tag"], arg, data.get("message") or "")
        else:
            self.hub.store.delete_ref(rtype, repo_id, "tags", arg)
        self._send_json({})

    def _preupload(self, rtype: str, repo_id: str, rev: str) -> None:
        store = self.hub.store
        repo = self._write_repo(rtype, repo_id)
        if self._qflag("create_pr") and rev not in repo["branches"]:
            rev = "main"
        files = store.get_commit(rtype, repo_id, store.resolve(rtype, repo_id, rev, repo))["files"]
        data = self._json_body()
        ignore = _gitignore_patterns(data.get("gitIgnore"), files, store)
        out = []
        for item in data.get("files") or []:
            path, size = check_file_path(item.get("path") or ""), int(item.get("size") or 0)
            if self.hub.inline_uploads or not is_lfs_path(path, size, store.lfs_threshold):
                mode = "regular"
            else:
                mode = "lfs"
            r = {"path": path, "uploadMode": mode, "shouldIgnore": _ignored(path, ignore)}
            old = files.get(path)
            if old is not None:
                r["oid"] = old["sha256"] if mode == "lfs" else old["sha1"]
            out.append(r)
        self._send_json({"files": out})

    def _lfs_batch(self, rtype: str, repo_id: str) -> None:
        self._write_repo(rtype, repo_id)
        data = self._json_body()
        if data.get("operation") != "upload":
            raise StoreError(400, None, "Only the upload operation is supported")
        transfers = data.get("transfers") or ["basic"]
        chunk = self.hub.multipart_chunk_size
        base = self._base()
        objects, used_multipart = [], False
        for obj in data.get("objects") or []:
            oid, size = obj.get("oid"), obj.get("size")
            if not isinstance(oid, str) or len(oid) != 64 or not isinstance(size, int):
                raise StoreError(422, None, "Invalid LFS object")
            out = {"oid": oid, "size": size, "authenticated": True}
            if not self.hub.store.has_blob(oid, size):
                href = f"/lfs-upload/{oid}"
                upload = {"href": f"{base}{href}?size={size}&sig={self.hub._sign(f'{href}:{size}')}"}
                if chunk and size > chunk and "multipart" in transfers:
                    used_multipart = True
                    parts = math.ceil(size / chunk)
                    upload["header"] = {"chunk_size": str(chunk)}
                    for n in range(1, parts + 1):
                        p = f"{href}/part/{n}"
                        upload["header"][f"{n:05d}"] = f"{base}{p}?size={size}&sig={self.hub._sign(f'{p}:{size}')}"
                out["actions"] = {"upload": upload, "verify": {"href": f"{base}/lfs-verify/{oid}"}}
            objects.append(out)
        self._send_json({"transfer": "multipart" if used_multipart else "basic", "objects": objects},
                        200, {"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_upload(self, method: str, segs: list) -> None:
        size = qint((self.query.get("size") or ["-1"])[0])
        if not hmac.compare_digest(self.hub._sign(f"{self.raw_path}:{size}"),
                                   (self.query.get("sig") or [""])[0]):
            raise StoreError(403, None, "Bad or missing upload signature")
        oid = segs[0] if segs else ""
        parts_dir = self.hub.root / "uploads" / oid
        if method == "PUT" and len(segs) == 1:  # basic transfer: the whole object
            self._ingest_body(size, oid)
            return self._send_json({})
        if method == "PUT" and len(segs) == 3 and segs[1] == "part":  # one multipart part
            parts_dir.mkdir(parents=True, exist_ok=True)
            md5 = hashlib.md5()
            tmp = parts_dir / f".{segs[2]}.{threading.get_ident()}"
            with open(tmp, "wb") as fh:
                for data in self.body.chunks():
                    md5.update(data)
                    fh.write(data)
            os.replace(tmp, parts_dir / f"{int(segs[2]):05d}")
            return self._send_json({}, 200, {"ETag": f'"{md5.hexdigest()}"'})
        if method == "POST" and len(segs) == 1:  # multipart completion
            data = self._json_body()
            parts = sorted(data.get("parts") or [], key=lambda p: p["partNumber"])
            chunk = self.hub.multipart_chunk_size or 1
            if len(parts) != math.ceil(size / chunk):
                raise StoreError(400, None, "Wrong number of parts")
            w = self.hub.store.blob_writer(size)
            try:
                for p in parts:
                    with open(parts_dir / f"{int(p['partNumber']):05d}", "rb") as fh:
                        while data := fh.read(SEND_CHUNK):
                            w.write(data)
            except OSError:
                w.abort()
                raise StoreError(400, None, "Missing multipart part") from None
            w.finish(expected_sha256=oid)
            shutil.rmtree(parts_dir, ignore_errors=True)
            return self._send_json({})
        raise StoreError(404, None, "Not found")

    def _ingest_body(self, size: int, oid: str | None) -> dict:
        w = self.hub.store.blob_writer(size if size >= 0 else None)
        try:
            for data in self.body.chunks():
                w.write(data)
        except BaseException:
            w.abort()
            raise
        return w.finish(expected_sha256=oid)

    def _lfs_verify(self, oid: str) -> None:
        data = self._json_body()
        if not self.hub.store.has_blob(oid, data.get("size")):
            raise StoreError(404, None, f"LFS object {oid} not found")
        self._send_json({})

    def _commit(self, rtype: str, repo_id: str, rev: str) -> None:
        store = self.hub.store
        user = self._require_write()
        repo = store.get_repo(rtype, repo_id)
        create_pr = self._qflag("create_pr")
        if rev not in repo["branches"]:
            if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
                raise StoreError(400, None, f"Invalid rev id: {rev} (commits go to a branch)")
            raise StoreError(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        header, ops = {}, []
        splitter = NdjsonSplitter()
        for data in self.body.chunks():
            for obj, spills in splitter.feed(data):
                self._commit_line(obj, spills, header, ops)
        for obj, spills in splitter.finish():
            self._commit_line(obj, spills, header, ops)
        result = store.commit_ops(rtype, repo_id, rev, ops, header.get("summary") or "Upload files",
                                  header.get("description") or "", header.get("parentCommit"),
                                  author=user, create_pr=create_pr)
        cid, pr = result if create_pr else (result, None)
        url = self._repo_url(rtype, repo_id)
        self._send_json({"success": True, "commitOid": cid, "commitUrl": f"{url}/commit/{cid}",
                         "pullRequestUrl": f"{url}/discussions/{pr}" if pr else None})

    def _commit_line(self, obj: dict, spills: list, header: dict, ops: list) -> None:
        store = self.hub.store
        try:
            key, value = obj.get("key"), obj.get("value") or {}
            if key == "header":
                header.update({k: _unspill(v, spills) for k, v in value.items()})
            elif key == "file":
                path = check_file_path(value.get("path") or "")
                content = value.get("content") or ""
                w = store.blob_writer(None)
                try:
                    if isinstance(content, str) and content.startswith(SPILL_MARK):
                        for data in spills[int(content[len(SPILL_MARK):])].iter_base64_decoded():
                            w.write(data)
                    elif value.get("encoding") == "base64":
                        w.write(base64.b64decode(content, validate=True))
                    else:
                        w.write(content.encode())
                except (ValueError, BadBody):
                    w.abort()
                    raise StoreError(400, None, f"Bad base64 content for {path}") from None
                ops.append(("add", path, store.file_record(path, w.finish())))
            elif key == "lfsFile":
                path = check_file_path(value.get("path") or "")
                oid = value.get("oid") or ""
                if not store.has_blob(oid, value.get("size")):
                    raise StoreError(400, None, f"LFS object {oid} for {path} was never uploaded")
                ops.append(("add", path, {**store.blob_entry(oid), "lfs": True}))
            elif key == "deletedFile":
                ops.append(("delete", value.get("path")))
            elif key == "deletedFolder":
                ops.append(("delete_folder", value.get("path")))
            else:
                raise StoreError(400, None, f"Unsupported commit operation: {key}")
        finally:
            for s in spills:
                s.close()




def _unspill(value, spills):
    if isinstance(value, str) and value.startswith(SPILL_MARK):
        return spills[int(value[len(SPILL_MARK):])].text()
    return value


def _gitignore_patterns(content, files: dict, store: Store) -> list[str]:
    if content is None and ".gitignore" in files:
        try:
            content = store.blob_path(files[".gitignore"]["sha256"]).read_text(errors="replace")
        except OSError:
            content = None
    lines = (content or "").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith(("#", "!"))]


def _ignored(path: str, patterns: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    for p in patterns:
        p = p.rstrip("/")
        if p.startswith("/"):
            if fnmatch.fnmatchcase(path, p[1:]) or path.startswith(p[1:] + "/"):
                return True
        elif fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path, p) or f"/{p}/" in f"/{path}":
            return True
    return False


