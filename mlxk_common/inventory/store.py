"""The model store, read-only: the Hugging Face cache and workspace folders.

Cache layout (``$HF_HOME/hub``)::

    models--ORG--NAME/blobs/<hash>                file contents, stored once
    models--ORG--NAME/snapshots/<40-hex>/<file>   symlinks into ../../blobs
    models--ORG--NAME/refs/<branch>               the commit a branch named at download

The revision of record is the one ``refs/main`` names; without it (or when it
names a snapshot that is gone), the newest snapshot.  Sizes follow the
symlinks; a dangling link counts as zero bytes and is reported, never raised.

A workspace is a plain folder with ``config.json``; a managed one carries the
``.mlxk_workspace.json`` sentinel with a file index, so ``clean`` can tell
whether the folder changed since the sentinel was written.

Hot paths use ``os.scandir`` and plain strings (listing a thousand models
must stay fast); every stat result is taken once and kept.
"""

from __future__ import annotations

import os
import stat as _stat

from mlxk_common.config import hub_dir, workspace_home
from mlxk_common.inventory.rawio import read_all, read_head
from mlxk_common.jsonio import parse_untrusted

REPO_PREFIX = "models--"
SENTINEL_NAME = ".mlxk_workspace.json"  # the name mlxk_common.inventory.workspace_sentinel writes
_HEX = frozenset("0123456789abcdef")


def is_commit_hash(text: str) -> bool:
    return len(text) == 40 and _HEX.issuperset(text)


def repo_folder_name(repo_id: str) -> str:
    """``ORG/NAME`` -> ``models--ORG--NAME`` (the hub's own rule)."""
    return REPO_PREFIX + repo_id.replace("/", "--")


def repo_id_from_folder(folder: str) -> str:
    """``models--ORG--NAME`` -> ``ORG/NAME``."""
    return folder[len(REPO_PREFIX):].replace("--", "/")


# -- trees: sizes, times and broken entries in one walk -----------------------

class TreeStats:
    """One walk of a folder: total size (symlinks followed), newest mtime,
    and the entries that could not be followed or read."""
    __slots__ = ("size", "mtime", "files", "links", "dangling", "unreadable", "stat_failed", "folders", "special")

    def __init__(self):
        self.size = 0
        self.mtime = 0.0
        self.files: dict[str, os.stat_result] = {}  # relative posix name -> stat (followed)
        self.links: set[str] = set()  # which of those files are symlinks
        self.dangling: list[str] = []
        self.unreadable: list[str] = []
        # With keep_files, what the health rules need besides ``files``: the
        # entries whose stat failed other than by a missing target (these are
        # in ``unreadable`` too, beside the folders that could not be listed),
        # and every folder below the root (a symlinked one too, never entered).
        self.stat_failed: list[str] = []
        self.folders: list[str] = []
        # Entries that are neither files nor folders (FIFOs, sockets, devices,
        # links to them): never in ``files``, never opened (a FIFO blocks).
        self.special: list[str] = []


def walk_files(root: str, unreadable: list | None = None, folders: list | None = None):
    """``(DirEntry, relative posix name)`` for every entry below ``root`` that
    is not a real folder; symlinked folders are yielded, never entered (no
    loops, no escape).  Folders that cannot be listed go to ``unreadable``;
    the real folders below ``root`` (entered or not) go to ``folders``."""
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            if unreadable is not None:
                unreadable.append(prefix.rstrip("/") or ".")
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if folders is not None:
                    folders.append(prefix + entry.name)
                stack.append((entry.path, prefix + entry.name + "/"))
            else:
                yield entry, prefix + entry.name


def tree_stats(root: str, *, keep_files: bool = False) -> TreeStats:
    """Sizes, times and broken entries of ``root``; symlinked files are
    followed for their size.  ``keep_files`` records each file's stat result
    under its relative name (and the folders below ``root``)."""
    result = TreeStats()
    try:
        result.mtime = os.stat(root).st_mtime
    except OSError:
        result.unreadable.append(".")
        return result
    for entry, rel in walk_files(root, result.unreadable, result.folders if keep_files else None):
        try:
            st = entry.stat()  # follows a symlink to its blob
        except FileNotFoundError:
            result.dangling.append(rel)
            continue
        except OSError:
            result.unreadable.append(rel)
            result.stat_failed.append(rel)
            continue
        if _stat.S_ISDIR(st.st_mode):
            if keep_files:
                result.folders.append(rel)
            continue  # a symlink to a folder: not followed, not counted
        if not _stat.S_ISREG(st.st_mode):
            result.special.append(rel)
            continue
        result.size += st.st_size
        if st.st_mtime > result.mtime:
            result.mtime = st.st_mtime
        if keep_files:
            result.files[rel] = st
            if entry.is_symlink():
                result.links.add(rel)
    return result


# -- the cache --------------------------------------------------------------

class Revision:
    """One snapshot folder of a cached repo."""
    __slots__ = ("hash", "path", "mtime", "refs")

    def __init__(self, hash: str, path: str, mtime: float):
        self.hash = hash
        self.path = path
        self.mtime = mtime
        self.refs: list[str] = []  # branch names (refs/…) that point here

    def __repr__(self):
        return f"Revision({self.hash[:7]}, refs={self.refs})"


class CacheRepo:
    """One ``models--ORG--NAME`` folder; revisions and refs are read on first use."""

    __slots__ = ("repo_id", "path", "hub", "_revisions", "_refs")
    kind = "cache"

    def __init__(self, hub: str, folder: str):
        self.hub = hub
        self.path = os.path.join(hub, folder)
        self.repo_id = repo_id_from_folder(folder)
        self._revisions: list[Revision] | None = None
        self._refs: dict[str, str] | None = None

    def __repr__(self):
        return f"CacheRepo({self.repo_id!r})"

    @property
    def name(self) -> str:
        return self.repo_id

    @property
    def refs(self) -> dict[str, str]:
        """``{"main": "<40-hex>", "pr/1": …}`` from ``refs/``; unreadable or
        malformed ref files are skipped."""
        if self._refs is None:
            self._refs = {}
            _read_refs(os.path.join(self.path, "refs"), self._refs)
        return self._refs

    @property
    def revisions(self) -> list[Revision]:
        """Snapshots, newest first, each with the refs that name it."""
        if self._revisions is None:
            revisions = []
            folder = os.path.join(self.path, "snapshots")
            try:
                entries = list(os.scandir(folder))
            except OSError:
                entries = []
            for entry in entries:
                if not is_commit_hash(entry.name):
                    continue
                try:
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                revisions.append(Revision(entry.name, entry.path, mtime))
            revisions.sort(key=lambda r: (r.mtime, r.hash), reverse=True)
            by_hash = {r.hash: r for r in revisions}
            for ref, commit in sorted(self.refs.items()):
                if commit in by_hash:
                    by_hash[commit].refs.append(ref)
            self._revisions = revisions
        return self._revisions

    def record(self) -> Revision | None:
        """The revision of record: what ``refs/main`` names if that snapshot
        exists, else the newest snapshot, else None."""
        main = self.refs.get("main")
        revisions = self.revisions
        for revision in revisions:
            if revision.hash == main:
                return revision
        return revisions[0] if revisions else None

    def find_revisions(self, prefix: str) -> list[Revision]:
        """Revisions whose hash starts with ``prefix`` (hex, any case), or the
        one a ref of that exact name points to."""
        by_ref = self.refs.get(prefix)
        if by_ref is not None:
            found = [r for r in self.revisions if r.hash == by_ref]
            if found:
                return found
        prefix = prefix.lower()
        return sorted((r for r in self.revisions if r.hash.startswith(prefix)), key=lambda r: r.hash)

    def locks_dir(self) -> str:
        return os.path.join(self.hub, ".locks", os.path.basename(self.path))


def _read_refs(folder: str, into: dict[str, str]) -> None:
    for entry, name in walk_files(folder):
        try:
            raw = read_head(entry.path, 256)
        except OSError:
            continue
        # What reading 100 characters in text mode gives (ASCII, bad bytes
        # replaced, universal newlines), without a text file object per ref.
        text = raw.decode("ascii", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        commit = text[:100].strip()
        if is_commit_hash(commit):
            into[name] = commit


def scan_cache(hub: str) -> list[CacheRepo]:
    """Every ``models--*`` folder in the hub, sorted by repo id.  A missing or
    unreadable hub is an empty cache."""
    try:
        entries = list(os.scandir(hub))
    except OSError:
        return []
    repos = []
    for entry in entries:
        name = entry.name
        if not name.startswith(REPO_PREFIX) or len(name) <= len(REPO_PREFIX):
            continue
        try:
            if not entry.is_dir():
                continue
        except OSError:
            continue
        repos.append(CacheRepo(hub, name))
    repos.sort(key=lambda r: r.repo_id)
    return repos


def cache_repo(hub: str, repo_id: str) -> CacheRepo | None:
    """The cached repo with exactly this id, or None."""
    folder = repo_folder_name(repo_id)
    if not os.path.isdir(os.path.join(hub, folder)):
        return None
    # On a case-insensitive file system isdir() also says yes for another
    # spelling; the folder's own name decides what the repo is called.
    try:
        if folder not in os.listdir(hub):
            return None
    except OSError:
        return None
    return CacheRepo(hub, folder)


# -- blobs, for deleting -----------------------------------------------------

def snapshot_blobs(revision_path: str) -> dict[str, str]:
    """``{relative file name: blob name}`` for the symlinks of one snapshot
    that point into the repo's own ``blobs/`` folder; anything else (a copied
    file, a link elsewhere) is not a blob of this repo and is left out."""
    blobs_dir = os.path.normpath(os.path.join(revision_path, os.pardir, os.pardir, "blobs"))
    found: dict[str, str] = {}
    for entry, rel in walk_files(revision_path):
        try:
            if not entry.is_symlink():
                continue
            target = os.readlink(entry.path)
        except OSError:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(entry.path), target))
        if os.path.dirname(target) == blobs_dir:
            found[rel] = os.path.basename(target)
    return found


# -- workspaces --------------------------------------------------------------

def is_model_folder(path: str) -> bool:
    """A folder with a ``config.json`` (the workspace test)."""
    return os.path.isfile(os.path.join(path, "config.json"))


class Workspace:
    """A model folder outside the cache.  ``name`` is how the user should see
    and refer to it (mirroring how it was found); ``path`` is absolute."""
    __slots__ = ("path", "name", "_sentinel", "_stats")
    kind = "workspace"

    def __init__(self, path: str, name: str):
        self.path = os.path.abspath(path)
        self.name = name
        self._sentinel: dict | None | bool = False  # False: not read yet
        self._stats: TreeStats | None = None

    def __repr__(self):
        return f"Workspace({self.name!r})"

    @property
    def sentinel(self) -> dict | None:
        """The parsed sentinel, or None when there is none (or it is not a JSON object)."""
        if self._sentinel is False:
            self._sentinel = read_sentinel(self.path)
        return self._sentinel

    @property
    def managed(self) -> bool:
        return bool(self.sentinel) and self.sentinel.get("managed") is True

    def stats(self) -> TreeStats:
        if self._stats is None:
            self._stats = tree_stats(self.path, keep_files=True)
        return self._stats

    def clean(self) -> bool | None:
        return workspace_clean(self.path, self.sentinel, self.stats())


def read_sentinel(folder: str) -> dict | None:
    try:
        raw = read_all(os.path.join(folder, SENTINEL_NAME))  # a regular file only: a FIFO would block
    except OSError:
        return None

    try:
        data = parse_untrusted(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def workspace_clean(folder: str, sentinel: dict | None, stats: TreeStats) -> bool | None:
    """Whether the folder still holds exactly the files the sentinel indexed.

    None when there is no sentinel file index to compare with.  The same names
    and sizes are required; a file modified at or after the moment the sentinel
    was written is hashed and compared (so the usual case reads no file).
    """
    index = sentinel.get("files") if isinstance(sentinel, dict) else None
    if not isinstance(index, dict):
        return None
    # The sentinel's index leaves symlinks out; so does the comparison.
    current = {rel: st for rel, st in stats.files.items()
               if rel.rsplit("/", 1)[-1] != SENTINEL_NAME and rel not in stats.links}
    if set(current) != set(index) or stats.dangling:
        return False
    try:
        written = os.stat(os.path.join(folder, SENTINEL_NAME)).st_mtime_ns
    except OSError:
        return False
    for rel, st in current.items():
        entry = index[rel]
        if not isinstance(entry, dict) or entry.get("size") != st.st_size:
            return False
        if st.st_mtime_ns >= written:
            expected = entry.get("sha256")
            if not isinstance(expected, str) or _sha256(os.path.join(folder, rel)) != expected:
                return False
    return True


def _sha256(path: str) -> str | None:
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def content_hash(sentinel: dict | None) -> str | None:
    """A stable fingerprint of the sentinel's file index (``sha256:…``): the
    workspace's identity as written, the way a commit hash names a revision."""
    index = sentinel.get("files") if isinstance(sentinel, dict) else None
    if not isinstance(index, dict) or not index:
        return None
    import hashlib

    digest = hashlib.sha256()
    for rel in sorted(index):
        entry = index[rel]
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        digest.update(f"{rel}\0{sha}\n".encode("utf-8", "surrogateescape"))
    return "sha256:" + digest.hexdigest()


def scan_workspace_home(home: str) -> list[Workspace]:
    """The model folders directly inside ``MLXK_WORKSPACE_HOME``, by name."""
    try:
        entries = list(os.scandir(home))
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir() and is_model_folder(entry.path):
                found.append(Workspace(entry.path, entry.name))
        except OSError:
            continue
    found.sort(key=lambda w: w.name)
    return found


# -- path patterns (``mlxk-list .``, ``mlxk-list ./gemma-``) -----------------

def is_explicit_path(ref: str) -> bool:
    """``.``, ``..``, ``~``, or starting with ``./``, ``../``, ``/``, ``~/``:
    a folder, never a cache name."""
    return ref in (".", "..", "~") or ref.startswith(("./", "../", "/", "~/"))


def match_path_pattern(pattern: str) -> list[Workspace]:
    """Workspaces an explicit path pattern names, with names in the pattern's
    own style (relative in, relative out):

    * a model folder itself -> that one (``./ws``);
    * a folder of model folders -> each of them (``.`` -> ``./a``, ``./b``);
    * anything else -> siblings whose name starts with the last part
      (``./gemma-`` -> ``./gemma-2b``, ``./gemma-7b``).
    """
    path = os.path.expanduser(pattern)
    if os.path.isdir(path):
        if is_model_folder(path):
            shown = pattern.rstrip("/") or "/"
            return [Workspace(path, shown)]
        base = pattern if pattern.endswith("/") else pattern + "/"
        return _children(path, base, "")
    head, sep, prefix = pattern.rpartition("/")
    shown_dir = head + sep
    folder = os.path.expanduser(head or "/") if sep else "."
    if not prefix or not os.path.isdir(folder):
        return []
    return _children(folder, shown_dir, prefix)


def _children(folder: str, shown_dir: str, prefix: str) -> list[Workspace]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        if not entry.name.startswith(prefix) or (entry.name.startswith(".") and not prefix.startswith(".")):
            continue
        try:
            if entry.is_dir() and is_model_folder(entry.path):
                found.append(Workspace(entry.path, shown_dir + entry.name))
        except OSError:
            continue
    found.sort(key=lambda w: w.name)
    return found


# -- the whole inventory ---------------------------------------------------------

class Store:
    """The cache and the workspace home of one tool run (from its environment)."""
    def __init__(self, hub: str, workspace_home: str | None = None):
        self.hub = hub
        self.workspace_home = workspace_home
        self._repos: list[CacheRepo] | None = None
        self._home: list[Workspace] | None = None

    @classmethod
    def from_environ(cls, environ) -> "Store":
        home = workspace_home(environ)
        return cls(str(hub_dir(environ)), str(home) if home else None)

    def repos(self) -> list[CacheRepo]:
        if self._repos is None:
            self._repos = scan_cache(self.hub)
        return self._repos

    def repo(self, repo_id: str) -> CacheRepo | None:
        if self._repos is not None:
            return next((r for r in self._repos if r.repo_id == repo_id), None)
        return cache_repo(self.hub, repo_id)

    def refresh(self) -> None:
        """Forget what was scanned (after a change to the cache)."""
        self._repos = None
        self._home = None

    def home_workspaces(self) -> list[Workspace]:
        if self._home is None:
            self._home = scan_workspace_home(self.workspace_home) if self.workspace_home else []
        return self._home
