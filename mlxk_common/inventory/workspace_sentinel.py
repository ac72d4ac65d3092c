"""The ``.mlxk_workspace.json`` sentinel that marks a managed workspace.

Fields (mlx-knife's, plus a file index): ``mlxk_version``, ``created_at`` (UTC,
``Z``), ``source`` (what it was made from: a repo id or a file name),
``source_repo``, ``source_revision``, ``managed``, ``operation`` and ``files``
(``{relative name: {"size", "sha256"}}`` of every other file in the folder),
so a later check can tell whether the workspace changed since it was written.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    from pathlib import Path

from mlxk_common import __version__

SENTINEL_NAME = ".mlxk_workspace.json"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_index(folder: Path) -> dict[str, dict]:
    """``{posix relative name: {"size", "sha256"}}`` for the folder's files, sentinel excluded."""
    from pathlib import Path

    folder = Path(folder)
    index = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != SENTINEL_NAME:
            index[path.relative_to(folder).as_posix()] = {"size": path.stat().st_size,
                                                          "sha256": sha256_file(path)}
    return index


def utc_now() -> str:
    import datetime as _dt

    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_sentinel(folder: Path, *, operation: str, source: str | None,
                   source_repo: str | None = None, source_revision: str | None = None,
                   parameters: dict | None = None, files: dict[str, dict] | None = None) -> dict:
    """Index ``folder`` and write its sentinel atomically; return what was written.
    ``parameters`` (optional) records how the operation ran (e.g. quantization bits).
    ``files`` (optional) is an index the caller already knows (a clone knows its
    blobs' sha256 from their names); without it every file is hashed here."""
    import json
    from pathlib import Path

    folder = Path(folder)
    record = {
        "mlxk_version": __version__,
        "created_at": utc_now(),
        "source": source,
        "source_repo": source_repo,
        "source_revision": source_revision,
        "managed": True,
        "operation": operation,
        **({"parameters": parameters} if parameters else {}),
        "files": file_index(folder) if files is None else files,
    }
    tmp = folder / (SENTINEL_NAME + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / SENTINEL_NAME)
    return record
