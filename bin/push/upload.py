"""Workspace -> Hub: what to send, what changed, and the commit.

The file set is the workspace minus the default excludes and the patterns of its
``.hfignore`` (gitignore syntax: ``#`` comments, ``!`` re-includes, a trailing
``/`` for folders, a ``/`` inside a pattern anchors it to the workspace root,
``*``, ``?``, ``[...]`` and ``**``).  Local files are compared with the remote
branch by hash (sha256 for LFS files, the git blob sha1 for the others), which
gives the added, modified and deleted sets that ``--dry-run`` shows and that the
commit carries out: the remote branch ends up holding exactly the workspace's
files (its ``.gitattributes`` is always kept).
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.rawio import read_all

IGNORE_FILE = ".hfignore"
DEFAULT_EXCLUDES = (".git/", "__pycache__/", ".venv/", "*.pyc", ".DS_Store", ".mlxk_workspace.json",
                    ".cache/huggingface/")
KEEP_REMOTE = (".gitattributes",)


# -- ignore rules -------------------------------------------------------------------

class IgnoreRules:
    """gitignore-style rules; the last rule that matches a path decides."""

    def __init__(self, lines):
        self.rules: list[tuple[re.Pattern, bool, bool]] = []  # (regex, negated, folders only)
        for raw in lines:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            if line.startswith("\\"):
                line = line[1:]
            folders_only = line.endswith("/")
            anchored = line.startswith("/") or "/" in line.rstrip("/")
            line = line.strip("/")
            if line:
                self.rules.append((_compile(line, anchored), negated, folders_only))

    @classmethod
    def for_workspace(cls, folder: Path) -> "IgnoreRules":
        lines = list(DEFAULT_EXCLUDES)
        try:
            lines += read_all(Path(folder) / IGNORE_FILE).decode("utf-8").splitlines()
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as exc:
            raise MlxkError("usage_error", f"cannot read {IGNORE_FILE}: {exc}") from None
        return cls(lines)

    def ignored(self, path: str) -> bool:
        """Whether the file ``path`` (posix, relative) is excluded: by a rule on
        the file itself or on any folder above it."""
        parts = path.split("/")
        folders = ["/".join(parts[:i]) for i in range(1, len(parts))]
        verdict = False
        for regex, negated, folders_only in self.rules:
            hit = any(regex.fullmatch(f) for f in folders) or (not folders_only and regex.fullmatch(path))
            if hit:
                verdict = not negated
        return verdict


def _compile(pattern: str, anchored: bool) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1:end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(prefix + "".join(out))


# -- the local side -----------------------------------------------------------------

class LocalFile:
    __slots__ = ("path", "size", "sha256", "git_sha1")

    def __init__(self, path: str, size: int, sha256: str, git_sha1: str):
        self.path, self.size, self.sha256, self.git_sha1 = path, size, sha256, git_sha1


def workspace_files(folder: Path) -> tuple[list[str], list[str]]:
    """``(files to send, files excluded)``, relative posix paths, sorted."""
    folder = Path(folder)
    rules = IgnoreRules.for_workspace(folder)
    keep, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        dirnames.sort()
        for name in filenames:
            path = base / name
            if not path.is_file():
                continue  # a dangling link or something that is not a file
            rel = path.relative_to(folder).as_posix()
            (skipped if rules.ignored(rel) else keep).append(rel)
    return sorted(keep), sorted(skipped)


def hash_file(folder: Path, rel: str) -> LocalFile:
    import hashlib

    path = Path(folder) / rel
    size = path.stat().st_size
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(4 << 20)
        view = memoryview(buf)
        while n := fh.readinto(buf):
            sha256.update(view[:n])
            sha1.update(view[:n])
    return LocalFile(rel, size, sha256.hexdigest(), sha1.hexdigest())


def hash_files(folder: Path, paths: list[str]) -> dict[str, LocalFile]:
    """Hash in threads (hashlib and file reads release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(len(paths), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return {f.path: f for f in pool.map(lambda rel: hash_file(folder, rel), paths)}


# -- the remote side and the difference -----------------------------------------------

class RemoteEntry:
    __slots__ = ("path", "size", "sha256", "blob_id")

    def __init__(self, path: str, size: int, sha256: str | None, blob_id: str):
        self.path, self.size, self.sha256, self.blob_id = path, size, sha256, blob_id

    def same_as(self, local: LocalFile) -> bool:
        if self.sha256:  # an LFS file: compare content hashes
            return self.sha256 == local.sha256
        return self.blob_id == local.git_sha1


def remote_files(api, repo_id: str, revision: str) -> dict[str, RemoteEntry]:
    found = {}
    for item in api.list_repo_tree(repo_id, revision=revision, recursive=True):
        if getattr(item, "blob_id", None) is None:
            continue  # a folder
        lfs = getattr(item, "lfs", None)
        found[item.path] = RemoteEntry(item.path, item.size, lfs.sha256 if lfs else None, item.blob_id)
    return found


def diff(local: dict[str, LocalFile], remote: dict[str, RemoteEntry]) -> dict[str, list[str]]:
    added = sorted(p for p in local if p not in remote)
    modified = sorted(p for p in local if p in remote and not remote[p].same_as(local[p]))
    deleted = sorted(p for p in remote if p not in local and p not in KEEP_REMOTE)
    return {"added": added, "modified": modified, "deleted": deleted}


def exact_patterns(paths: list[str]) -> list[str]:
    """Glob patterns that match exactly these paths (for upload_folder's filters)."""
    return [glob.escape(p) for p in paths]
