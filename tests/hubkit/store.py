"""A small git-like, content-addressed repo store behind the test Hub server.

Standard library only (bench scripts import it too). Layout under ``root``:

    blobs/<aa>/<sha256>            file contents, stored once (``.sha1`` sidecar: git blob sha1)
    <models|datasets|spaces>/<org>/<name>/repo.json        settings + refs
    <models|datasets|spaces>/<org>/<name>/commits/<id>.json one commit (full file map)

A commit id is the sha1 over the parent id and the sorted (path, sha256, size) list, so
the same content on the same parent always gets the same id: the client caches tree
listings per commit forever, so content and id must never drift apart.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path

# The Hub's default .gitattributes patterns (plus GGUF): files matching them are LFS.
LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gguf", "*.gz", "*.h5",
    "*.joblib", "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx",
    "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar",
    "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm",
    "*.xz", "*.zip", "*.zst", "*tfevents*",
)
DEFAULT_LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores anything this large in LFS
REPO_TYPES = {"model": "models", "dataset": "datasets", "space": "spaces"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_CHUNK = 1 << 20


class StoreError(Exception):
    """A failure with its HTTP status and Hub error code (``X-Error-Code``)."""

    def __init__(self, status: int, code: str | None, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def repo_not_found() -> StoreError:
    return StoreError(404, "RepoNotFound", "Repository not found")


def revision_not_found(rev: str) -> StoreError:
    return StoreError(404, "RevisionNotFound", f"Invalid rev id: {rev}")


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def default_gitattributes() -> bytes:
    lines = [f"{p} filter=lfs diff=lfs merge=lfs -text" for p in LFS_PATTERNS]
    return ("\n".join(lines) + "\n").encode()


def is_lfs_path(path: str, size: int, threshold: int = DEFAULT_LFS_THRESHOLD) -> bool:
    """Whether the Hub would keep this file in LFS: by pattern or by size; never when empty."""
    if size == 0:
        return False
    if size >= threshold:
        return True
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(path, p) for p in LFS_PATTERNS)


def check_repo_id(repo_id: str) -> tuple[str, str]:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_NAME_RE.match(p) for p in parts) or ".." in repo_id:
        raise repo_not_found()
    return parts[0], parts[1]


def check_file_path(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in path:
        raise StoreError(400, None, f"Invalid path in repo: {path!r}")
    return path


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def commit_id(parent: str | None, files: dict) -> str:
    h = hashlib.sha1(b"mlxk-test-hub commit v1\nparent %s\n" % (parent or "").encode())
    for path in sorted(files):
        f = files[path]
        h.update(f"{path}\0{f['sha256']}\0{f['size']}\n".encode())
    return h.hexdigest()


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))
    os.replace(tmp, path)


class _BlobWriter:
    """Streams bytes into a temp file under blobs/, hashing on the way (bounded memory)."""

    def __init__(self, store: "Store", size: int | None):
        self._store = store
        self.size_hint = size
        self._sha256 = hashlib.sha256()
        self._sha1 = hashlib.sha1(b"blob %d\0" % size) if size is not None else None
        tmpdir = store.root / "blobs" / "tmp"
        tmpdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmpdir)
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self.written = 0

    def write(self, data: bytes) -> None:
        self._sha256.update(data)
        if self._sha1 is not None:
            self._sha1.update(data)
        self._file.write(data)
        self.written += len(data)

    def abort(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def finish(self, expected_sha256: str | None = None) -> dict:
        self._file.close()
        sha256 = self._sha256.hexdigest()
        if expected_sha256 is not None and sha256 != expected_sha256:
            self._tmp.unlink(missing_ok=True)
            raise StoreError(400, None, f"Content hash mismatch: expected {expected_sha256}, got {sha256}")
        if self.size_hint is not None and self.written != self.size_hint:
            self._tmp.unlink(missing_ok=True)
            raise StoreError(400, None, f"Size mismatch: expected {self.size_hint}, got {self.written}")
        if self._sha1 is not None:
            sha1 = self._sha1.hexdigest()
        else:  # size was unknown up front: git's sha1 needs it first, so hash a second time
            sha1 = _file_git_sha1(self._tmp, self.written)
        self._store._place_blob(self._tmp, sha256, sha1)
        return {"sha256": sha256, "size": self.written, "sha1": sha1}


def _file_git_sha1(path: Path, size: int) -> str:
    h = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class Store:
    """Repos, commits, refs and blobs on disk; all mutations under one lock."""

    def __init__(self, root: str | os.PathLike, lfs_threshold: int = DEFAULT_LFS_THRESHOLD):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.lfs_threshold = lfs_threshold
        self.lock = threading.RLock()
        self._commits: dict[tuple, dict] = {}

    # ---- blobs ----------------------------------------------------------------------------
    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def has_blob(self, sha256: str, size: int | None = None) -> bool:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
            return False
        p = self.blob_path(sha256)
        try:
            return size is None or p.stat().st_size == size
        except OSError:
            return False

    def blob_entry(self, sha256: str) -> dict:
        p = self.blob_path(sha256)
        sidecar = p.with_name(p.name + ".sha1")
        size = p.stat().st_size
        try:
            sha1 = sidecar.read_text().strip()
        except OSError:
            sha1 = _file_git_sha1(p, size)
            sidecar.write_text(sha1)
        return {"sha256": sha256, "size": size, "sha1": sha1}

    def _place_blob(self, tmp: Path, sha256: str, sha1: str) -> None:
        dest = self.blob_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            tmp.unlink(missing_ok=True)
        else:
            dest.with_name(dest.name + ".sha1").write_text(sha1)
            os.replace(tmp, dest)

    def blob_writer(self, size: int | None = None) -> _BlobWriter:
        return _BlobWriter(self, size)

    def ingest(self, content) -> dict:
        """Store bytes, str or a file Path (streamed from disk, never loaded whole)."""
        if isinstance(content, str):
            content = content.encode()
        if isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
            w = self.blob_writer(len(data))
            w.write(data)
            return w.finish()
        path = Path(content)
        w = self.blob_writer(path.stat().st_size)
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    w.write(chunk)
        except BaseException:
            w.abort()
            raise
        return w.finish()

    # ---- repos ----------------------------------------------------------------------------
    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        org, name = check_repo_id(repo_id)
        return self.root / REPO_TYPES[repo_type] / org / name

    def get_repo(self, repo_type: str, repo_id: str) -> dict:
        try:
            return json.loads((self.repo_dir(repo_type, repo_id) / "repo.json").read_text())
        except (OSError, ValueError):
            raise repo_not_found() from None

    def _save_repo(self, repo_type: str, repo_id: str, repo: dict) -> None:
        _write_json(self.repo_dir(repo_type, repo_id) / "repo.json", repo)

    def create_repo(self, repo_type: str, repo_id: str, private: bool = False,
                    seed_gitattributes: bool | None = True, author: str = "tester") -> bool:
        """Create a repo; False if it exists. Like the Hub, the first commit holds a
        .gitattributes; ``seed_gitattributes=None`` makes no commit at all (no branch yet)."""
        with self.lock:
            try:
                self.get_repo(repo_type, repo_id)
                return False
            except StoreError:
                pass
            repo = {"private": bool(private), "gated": False, "gated_tokens": [],
                    "created_at": now_iso(), "branches": {}, "tags": {}, "prs": {}}
            self._save_repo(repo_type, repo_id, repo)
            if seed_gitattributes is not None:
                files = {".gitattributes": default_gitattributes()} if seed_gitattributes else {}
                self.commit_snapshot(repo_type, repo_id, files, "main", "initial commit", author=author)
            return True

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        import shutil

        with self.lock:
            self.get_repo(repo_type, repo_id)
            d = self.repo_dir(repo_type, repo_id)
            trash = d.with_name(f".deleted-{d.name}-{os.getpid()}-{threading.get_ident()}")
            os.replace(d, trash)
            self._commits = {k: v for k, v in self._commits.items() if k[:2] != (repo_type, repo_id)}
            shutil.rmtree(trash, ignore_errors=True)

    def update_settings(self, repo_type: str, repo_id: str, private=None, gated=None,
                        gated_tokens=None) -> dict:
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            if private is not None:
                repo["private"] = bool(private)
            if gated is not None:
                repo["gated"] = gated if gated in ("auto", "manual") else (bool(gated) and "auto")
            if gated_tokens is not None:
                repo["gated_tokens"] = sorted(gated_tokens)
            self._save_repo(repo_type, repo_id, repo)
            return repo

    # ---- commits and refs -----------------------------------------------------------------
    def get_commit(self, repo_type: str, repo_id: str, cid: str) -> dict:
        key = (repo_type, repo_id, cid)
        c = self._commits.get(key)
        if c is None:
            if not _HEX40.match(cid):
                raise revision_not_found(cid)
            try:
                c = json.loads((self.repo_dir(repo_type, repo_id) / "commits" / f"{cid}.json").read_text())
            except (OSError, ValueError):
                raise revision_not_found(cid) from None
            self._commits[key] = c
        return c

    def resolve(self, repo_type: str, repo_id: str, rev: str, repo: dict | None = None) -> str:
        """Branch, tag, refs/heads|tags|pr/..., or a full commit id -> commit id."""
        repo = repo if repo is not None else self.get_repo(repo_type, repo_id)
        for prefix, table in (("refs/heads/", "branches"), ("refs/tags/", "tags"), ("refs/pr/", "prs")):
            name = rev[len(prefix):] if rev.startswith(prefix) else None
            if name is not None and name in repo[table]:
                return _target(repo[table][name])
        if rev in repo["branches"]:
            return repo["branches"][rev]
        if rev in repo["tags"]:
            return _target(repo["tags"][rev])
        if _HEX40.match(rev):
            self.get_commit(repo_type, repo_id, rev)
            return rev
        raise revision_not_found(rev)

    def history(self, repo_type: str, repo_id: str, cid: str):
        while cid:
            c = self.get_commit(repo_type, repo_id, cid)
            yield c
            cid = c["parent"]

    def last_commit_touching(self, repo_type: str, repo_id: str, cid: str, path: str) -> dict:
        """The newest commit at or before ``cid`` that changed ``path`` (file or folder)."""
        def view(c):
            files = c["files"]
            if path in files:
                return files[path]["sha256"]
            pre = path + "/"
            return tuple(sorted((p, f["sha256"]) for p, f in files.items() if p.startswith(pre)))

        found = None
        for c in self.history(repo_type, repo_id, cid):
            if found is not None and view(c) != view(found):
                break
            found = c
        return found

    def _new_commit(self, repo_type, repo_id, parent, files, title, message, author) -> str:
        cid = commit_id(parent, files)
        c = {"id": cid, "parent": parent, "title": title, "message": message or "",
             "date": now_iso(), "author": author, "files": files}
        path = self.repo_dir(repo_type, repo_id) / "commits" / f"{cid}.json"
        if not path.exists():
            _write_json(path, c)
            self._commits[(repo_type, repo_id, cid)] = c
        return cid

    def file_record(self, path: str, blob: dict) -> dict:
        return {**blob, "lfs": is_lfs_path(path, blob["size"], self.lfs_threshold)}

    def commit_snapshot(self, repo_type: str, repo_id: str, files: dict, branch: str = "main",
                        message: str = "Upload files", author: str = "tester") -> str:
        """Commit exactly ``files`` ({path: bytes | str | Path}) on ``branch``; when the branch
        already holds exactly these files, nothing is committed and its head is returned, so
        seeding the same repo twice keeps the same commit id."""
        records = {check_file_path(p): self.file_record(p, self.ingest(v)) for p, v in files.items()}
        return self.commit_ops(repo_type, repo_id, branch, [("replace_all", records)], message,
                               author=author, create_branch=True, skip_unchanged=True)

    def commit_ops(self, repo_type: str, repo_id: str, branch: str, ops: list, title: str,
                   description: str = "", parent_commit: str | None = None, author: str = "tester",
                   create_branch: bool = False, create_pr: bool = False,
                   skip_unchanged: bool = False) -> tuple | str:
        """Apply ``ops`` on top of ``branch``: ("add", path, record), ("delete", path),
        ("delete_folder", path), ("replace_all", {path: record}). Returns the commit id,
        or (commit id, pr number) when ``create_pr``."""
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            head = repo["branches"].get(branch)
            if head is None:
                if not create_branch:
                    raise StoreError(404, "RevisionNotFound", f"Invalid rev id: {branch}")
                head = repo["branches"].get("main")
            if parent_commit is not None and parent_commit != head:
                raise StoreError(412, None, "A commit has happened since. Please refresh and try again.")
            before = self.get_commit(repo_type, repo_id, head)["files"] if head else {}
            files = dict(before)
            for op in ops:
                kind = op[0]
                if kind == "replace_all":
                    files = dict(op[1])
                elif kind == "add":
                    files[check_file_path(op[1])] = op[2]
                elif kind == "delete":
                    if files.pop(op[1], None) is None:
                        raise StoreError(404, "EntryNotFound", f"A file with this name doesn't exist: {op[1]}")
                elif kind == "delete_folder":
                    pre = op[1].rstrip("/") + "/"
                    gone = [p for p in files if p.startswith(pre)]
                    if not gone:
                        raise StoreError(404, "EntryNotFound", f"A folder with this name doesn't exist: {op[1]}")
                    for p in gone:
                        del files[p]
            if skip_unchanged and head and _same_tree(files, before):
                if repo["branches"].get(branch) != head:  # a new branch: point it at the fork
                    repo["branches"][branch] = head
                    self._save_repo(repo_type, repo_id, repo)
                return head
            cid = self._new_commit(repo_type, repo_id, head, files, title, description, author)
            if create_pr:
                num = str(max((int(n) for n in repo["prs"]), default=0) + 1)
                repo["prs"][num] = cid
                self._save_repo(repo_type, repo_id, repo)
                return cid, int(num)
            repo["branches"][branch] = cid
            self._save_repo(repo_type, repo_id, repo)
            return cid

    def create_branch(self, repo_type, repo_id, branch, starting_point=None) -> str:
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            if branch in repo["branches"]:
                raise StoreError(409, None, f"Reference already exists: refs/heads/{branch}")
            if not branch or branch.startswith("refs/") or ".." in branch:
                raise StoreError(400, None, f"Invalid reference for a branch: {branch}")
            cid = self.resolve(repo_type, repo_id, starting_point or "main", repo)
            repo["branches"][branch] = cid
            self._save_repo(repo_type, repo_id, repo)
            return cid

    def create_tag(self, repo_type, repo_id, tag, revision="main", message="") -> str:
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            if tag in repo["tags"]:
                raise StoreError(409, None, f"Tag already exists: {tag}")
            cid = self.resolve(repo_type, repo_id, revision, repo)
            repo["tags"][tag] = {"commit": cid, "message": message or ""}
            self._save_repo(repo_type, repo_id, repo)
            return cid

    def delete_ref(self, repo_type, repo_id, table: str, name: str) -> None:
        """Delete a branch (table "branches") or a tag (table "tags")."""
        with self.lock:
            repo = self.get_repo(repo_type, repo_id)
            if repo[table].pop(name, None) is None:
                raise revision_not_found(name)
            self._save_repo(repo_type, repo_id, repo)

def _same_tree(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[p]["sha256"] == b[p]["sha256"] for p in a)


def _target(ref) -> str:
    return ref["commit"] if isinstance(ref, dict) else ref


def tree_oid(files: dict, folder: str) -> str:
    """A stable id for a folder: sha1 over the (path, sha256) of everything under it."""
    pre = folder + "/"
    h = hashlib.sha1(b"tree\n")
    for p in sorted(files):
        if p.startswith(pre):
            h.update(f"{p[len(pre):]}\0{files[p]['sha256']}\n".encode())
    return h.hexdigest()


def folders_of(files: dict) -> set[str]:
    out = set()
    for p in files:
        parts = p.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out
