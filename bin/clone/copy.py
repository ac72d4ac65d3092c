"""Cache -> workspace: flat copies of one cached revision, written atomically.

The files are copied (reflink/clonefile where the file system can, see ``fscopy``)
into a hidden temporary folder next to the target, the ``.mlxk_workspace.json``
sentinel is written with the file index, and the folder is renamed into place at
the end: an interrupted or failed clone leaves no half-filled workspace.  Nothing
is ever written into the cache.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.atomic import check_target_free, refuse_cache_target, staging_folder
from mlxk_common.inventory.fscopy import COPY, copy_file
from mlxk_common.inventory.workspace_sentinel import sha256_file, write_sentinel

_HEX64 = r"[0-9a-f]{64}"


def check_target(target: Path, environ) -> Path:
    """The absolute target, if it may be written: outside the cache (and
    ``$HF_HOME``), and absent or an empty folder."""
    target = Path(os.path.abspath(os.path.expanduser(target)))
    refuse_cache_target(target, environ)
    check_target_free(target)
    return target


def snapshot_files(snapshot: Path) -> list[tuple[str, Path]]:
    """``(relative name, resolved source file)`` for every file of a snapshot.
    Nothing outside the repository's own folder is ever read, and only
    regular files are (a FIFO would block the copy)."""
    repo = os.path.realpath(Path(snapshot).parent.parent)  # models--ORG--NAME
    files = []
    for dirpath, _, names in os.walk(snapshot):
        for name in names:
            link = Path(dirpath) / name
            rel = link.relative_to(snapshot).as_posix()
            source = Path(os.path.realpath(link))
            if not str(source).startswith(repo + os.sep):
                raise MlxkError("unhealthy", f"{rel} is a symlink that leads outside the cache; it is never read",
                                file=rel, hint="mlxk-health shows what else is wrong with the model")
            if not source.exists():
                raise MlxkError("unhealthy", f"{rel} is missing from the cache (dangling link); pull the model "
                                "again", file=rel)
            if not source.is_file():
                raise MlxkError("unhealthy", f"{rel} is not a regular file (a FIFO, socket or device); it is "
                                "never read", file=rel)
            files.append((rel, source))
    return sorted(files)


def clone_snapshot(snapshot: Path, target: Path, environ, *, repo_id: str, commit: str, progress=None) -> dict:
    """Copy ``snapshot`` to ``target`` and write the sentinel, atomically.
    Returns ``{"files", "size_bytes", "method"}``."""
    files = snapshot_files(snapshot)
    methods, index = set(), {}
    with staging_folder(target, environ) as tmp:
        for rel, source in files:
            dest = tmp.joinpath(*rel.split("/"))
            dest.parent.mkdir(parents=True, exist_ok=True)
            size = source.stat().st_size
            if progress is not None:
                progress.start(rel, size, 0)
            try:
                methods.add(copy_file(source, dest))
            except OSError as exc:
                raise _copy_error(exc, rel, target) from None
            # An LFS blob is named by its sha256 already; small files are hashed here.
            digest = source.name if re.fullmatch(_HEX64, source.name) else sha256_file(dest)
            index[rel] = {"size": size, "sha256": digest}
            if progress is not None:
                progress.advance(rel, size)
                progress.finish(rel)
        write_sentinel(tmp, operation="clone", source=repo_id, source_repo=repo_id, source_revision=commit,
                       files=index)
    method = methods.pop() if len(methods) == 1 else ("mixed" if methods else COPY)
    return {"files": len(files), "size_bytes": sum(e["size"] for e in index.values()), "method": method}


def _copy_error(exc: OSError, rel: str, target: Path) -> MlxkError:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return MlxkError("download_failed", f"no space left while copying {rel} to {target.parent}",
                         file=rel, reason="disk_full")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return MlxkError("permission_denied", f"cannot write {target}: {exc.strerror}", target=str(target))
    return MlxkError("download_failed", f"copying {rel} failed: {exc.strerror or exc}", file=rel)
