"""The files of one model folder, listed once and read at most once each.

The integrity rules (health.py) and the runtime judgement (runtime.py) ask
the same questions of the same few small files: is there a config.json, what
does it say, which names end in ``.safetensors``, what do the tokenizer files
and README.md hold.  ``ModelFiles`` answers them from one walk of the folder
(the ``TreeStats`` the store already made for the record's size, or a fresh
one) instead of a system call per question, and keeps what it read, so that
listing a thousand models stays fast.

The answers are those a direct look at the disk would give: a name the walk
did not see is absent, except where a name differing only in case was seen
(a case-insensitive file system would find it) or the folder could not be
listed (its files may still open): then the disk is asked.

Two kinds of entry are kept out of ``files`` so that nothing reads them:
non-regular files (``special``: a FIFO would block any reader) and, in a
cache snapshot, symlinks whose target lies outside the repository's folder
(``escaping``: a cache entry must not make a tool read ``/etc/passwd``).
The health rules report both.
"""

from __future__ import annotations

import os
import stat as _stat

from mlxk_common.inventory.rawio import read_all, read_head
from mlxk_common.inventory.safetensors_header import read_header
from mlxk_common.inventory.store import tree_stats
from mlxk_common.jsonio import parse_untrusted

# Files up to this size are read whole the first time any part of them is
# wanted: as cheap as reading a head, and the rules usually want them again.
SMALL_FILE = 1024


class ModelFiles:
    """What one walk saw below ``root``, and what was read from it since."""

    __slots__ = ("root", "stats", "files", "dangling", "unreadable", "special", "escaping", "memo", "_prefix",
                 "_data", "_json", "_headers", "_lower", "_folders")

    def __init__(self, root, stats=None, confine=None):
        """``stats``: a ``store.tree_stats(root, keep_files=True)`` result to
        reuse; ``confine``: the folder every symlink must lead into (a cached
        model's ``models--ORG--NAME``), None for no such rule (a workspace)."""
        self.root = os.fspath(root)
        self._prefix = os.path.join(self.root, "")  # root and separator: names are relative, never absolute
        if stats is None:
            stats = tree_stats(self.root, keep_files=True)
        self.stats = stats
        self.files: dict[str, int] = {rel: st.st_size for rel, st in stats.files.items()}  # sizes, links followed
        self.dangling: set[str] = set(stats.dangling)
        self.unreadable: list[str] = stats.stat_failed
        self.special: list[str] = sorted(stats.special)
        self.escaping: list[str] = []
        if confine is not None and stats.links:
            self.escaping = _escaping_links(self.root, stats.links, os.fspath(confine))
            for name in self.escaping:
                del self.files[name]
        self.memo: dict = {}  # for callers' own conclusions about this folder
        self._data: dict[str, bytes | OSError] = {}
        self._json: dict[str, tuple] = {}
        self._headers: dict[str, dict] = {}
        self._lower: set[str] | None = None
        self._folders: set[str] | None = None

    def path(self, name: str) -> str:
        return self._prefix + name

    # -- names ---------------------------------------------------------------

    def has(self, name: str) -> bool:
        """A file (not a folder) that exists, behind its symlink if it is one."""
        return name in self.files

    def top(self, suffix: str) -> list[str]:
        """Files directly in the folder whose name ends with ``suffix``, sorted."""
        return sorted(n for n in self.files if "/" not in n and n.endswith(suffix))

    def _all_names(self):
        return (*self.files, *self.dangling, *self.unreadable, *self.stats.folders)

    def top_names(self, suffix: str) -> list[str]:
        """Every entry directly in the folder (files, folders, broken links)
        whose name ends with ``suffix``, sorted: what a listing would show."""
        return sorted(n for n in self._all_names() if "/" not in n and n.endswith(suffix))

    def any_name(self, prefix: str, suffix: str) -> bool:
        """Whether any entry at any depth (real folders entered, symlinked
        ones not) has a name that starts with ``prefix`` and ends with ``suffix``."""
        return any(n.rpartition("/")[2].startswith(prefix) and n.endswith(suffix) for n in self._all_names())

    def may_open(self, name: str) -> bool:
        """False when the walk shows that opening ``name`` would fail, or that
        it must not be opened (a special file, a link out of the cache)."""
        if name in self.files:
            return True
        if name in self.escaping or name in self.special:
            return False
        return self._ask_disk(name)

    def _ask_disk(self, name: str) -> bool:
        """True when the walk cannot answer for ``name``: the folder could not
        be listed, or an entry differing only in case exists."""
        if self._lower is None:
            self._lower = {n.lower() for n in self._all_names()}
        return "." in self.stats.unreadable or name.lower() in self._lower

    def is_file(self, name: str) -> bool:
        if name in self.escaping:
            return False
        st = self.stats.files.get(name)
        if st is not None:
            return _stat.S_ISREG(st.st_mode)
        return self._ask_disk(name) and os.path.isfile(self.path(name))

    def exists(self, name: str) -> bool:
        if name in self.files:
            return True
        if self._folders is None:
            self._folders = set(self.stats.folders)
        if name in self._folders:
            return True
        return self._ask_disk(name) and os.path.exists(self.path(name))

    # -- contents ------------------------------------------------------------

    def read(self, name: str) -> bytes | None:
        """The whole file, or None when it cannot be read (see ``read_error``)."""
        data = self._load(name)
        return None if isinstance(data, OSError) else data

    def read_error(self, name: str) -> OSError | None:
        data = self._load(name)
        return data if isinstance(data, OSError) else None

    def _load(self, name: str) -> bytes | OSError:
        data = self._data.get(name)
        if data is None:
            if not self.may_open(name):
                data = FileNotFoundError(2, "No such file or directory")
            else:
                try:
                    data = read_all(self.path(name), self.files.get(name))
                except OSError as exc:
                    data = exc
            self._data[name] = data
        return data

    def cached(self, name: str) -> bytes | None:
        """The file's bytes if they were read already, else None."""
        data = self._data.get(name)
        return data if isinstance(data, bytes) else None

    def head(self, name: str, size: int) -> bytes:
        """The first ``size`` bytes (fewer for a short file, b"" for an unreadable one)."""
        data = self._data.get(name)
        if data is None and self.files.get(name, SMALL_FILE + 1) <= SMALL_FILE:
            data = self._load(name)
        if isinstance(data, bytes):
            return data[:size]
        if isinstance(data, OSError):
            return b""
        try:
            return read_head(self.path(name), size)
        except OSError:
            return b""

    def json(self, name: str) -> tuple:
        """``(value, None)`` or ``(None, error text)`` for a JSON file."""
        found = self._json.get(name)
        if found is None:
            data = self._load(name)
            if isinstance(data, OSError):
                found = None, f"unreadable ({data.strerror or data})"
            else:
                try:
                    found = parse_untrusted(data), None
                except ValueError:
                    found = None, "invalid JSON"
            self._json[name] = found
        return found

    def header(self, name: str) -> dict:
        """The validated safetensors header (``safetensors_header.read_header``);
        raises as it does.  A header that read once is kept."""
        header = self._headers.get(name)
        if header is None:
            header = self._headers[name] = read_header(self.path(name))
        return header

    def known_header(self, name: str) -> dict | None:
        """The header if ``header`` already read it."""
        return self._headers.get(name)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _escaping_links(root: str, links, confine: str) -> list[str]:
    """The symlinks below ``root`` whose target lies outside ``confine``
    (compared as real paths).  Cheap for the usual cache: a link that reads
    ``../../blobs/NAME`` from a snapshot whose folders are no links, to a blob
    that is no link, stays inside by construction (one readlink and one
    lstat); anything else is resolved in full."""
    blobs = os.path.join(confine, "blobs")
    plain = os.path.dirname(root) == os.path.join(confine, "snapshots") and all(
        _real_folder(p) for p in (root, os.path.dirname(root), blobs))
    real_confine = None
    escaping = []
    top, root_, blobs_ = "../../blobs/", root + os.sep, blobs + os.sep
    for rel in links:
        path = root_ + rel
        try:
            if plain:
                text = os.readlink(path)
                prefix = top if "/" not in rel else "../" * (rel.count("/") + 2) + "blobs/"
                name = text[len(prefix):] if text.startswith(prefix) else ""
                if name and "/" not in name and name not in (".", "..") and not _stat.S_ISLNK(
                        os.lstat(blobs_ + name).st_mode):
                    continue
            real_confine = real_confine or os.path.realpath(confine)
            if not _inside(os.path.realpath(path), real_confine):
                escaping.append(rel)
        except OSError:
            continue  # it resolved during the walk; gone since: not ours to judge here
    return sorted(escaping)


def _real_folder(path: str) -> bool:
    try:
        return _stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
