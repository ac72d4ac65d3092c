#!/usr/bin/env python3
"""Lay a model folder into the Hugging Face cache as revision of ORG/NAME.

usage: python scripts/cache_import.py FOLDER ORG/NAME

``make demo`` uses it so that the model it converts is found by name by every
tool (``mlxk list``, ``mlx-run SmolLM2``, ``mlxk serve --model SmolLM2``).
The layout is the one a download writes: ``blobs/<etag>`` (sha256 for weights
and files of 10 MB or more, as the Hub keeps them in LFS; the git blob sha1
for the rest, so ``mlxk health --deep`` verifies every blob), ``snapshots/
<commit>/`` of relative symlinks, and ``refs/main``.  The commit is a hash of
the file index: the same folder always lands in the same revision, and a
second run changes nothing.  Blobs are copied copy-on-write where the file
system can; the cache is ``$HF_HUB_CACHE`` or ``$HF_HOME/hub``.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from mlxk_common.config import hub_dir
from mlxk_common.errors import MlxkError
from mlxk_common.hub.cache_write import RepoCache
from mlxk_common.hub.client import RemoteFile
from mlxk_common.inventory.fscopy import copy_file
from mlxk_common.inventory.names import validate_repo_id
from mlxk_common.inventory.store import SENTINEL_NAME
from mlxk_common.progress import human_bytes

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".npz", ".pt", ".pth", ".model")
LFS_MIN_SIZE = 10 * 1000 * 1000


def etag(path: Path) -> tuple[str, bool]:
    """(the blob name the Hub would give the file, whether it is an LFS file)."""
    size = path.stat().st_size
    lfs = path.name.endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE
    digest = hashlib.sha256() if lfs else hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest(), lfs


def import_folder(folder: Path, repo_id: str, cache: Path) -> tuple[str, list[RemoteFile], bool]:
    """Lay ``folder`` into ``cache`` as ``repo_id``: (commit, files, whether anything was written)."""
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != SENTINEL_NAME)
    if not (folder / "config.json").is_file():
        raise MlxkError("model_not_found", f"{folder} is not a model folder (no config.json)")
    files = []
    for path in paths:
        name, lfs = etag(path)
        files.append(RemoteFile(path.relative_to(folder).as_posix(), path.stat().st_size, name, lfs))
    commit = hashlib.sha1("".join(f"{f.path}\0{f.etag}\n" for f in files).encode()).hexdigest()
    repo = RepoCache(cache, repo_id)
    changed = False
    for f, path in zip(files, paths):
        if not repo.blob_ok(f):
            repo.blobs.mkdir(parents=True, exist_ok=True)
            partial = repo.blob(f.etag + ".mlxk-import")
            partial.unlink(missing_ok=True)
            copy_file(path, partial)
            os.replace(partial, repo.blob(f.etag))  # a blob is whole or absent
            changed = True
        if not repo.has_file(commit, f):
            repo.link(commit, f)
            changed = True
    if repo.read_ref("main") != commit:
        repo.write_ref("main", commit)
        changed = True
    return commit, files, changed


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    try:
        repo_id = validate_repo_id(argv[1])
        cache = hub_dir(os.environ)
        commit, files, changed = import_folder(Path(argv[0]), repo_id, cache)
    except MlxkError as exc:
        sys.stderr.write(f"cache_import: error: {exc.message}\n")
        return exc.exit_code
    size = human_bytes(sum(f.size for f in files))
    state = "added to" if changed else "already in"
    print(f"{repo_id}@{commit[:8]} ({len(files)} files, {size}) {state} {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
