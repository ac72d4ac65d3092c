"""Rebuild ``model.safetensors.index.json`` from the shards' own headers.

The mlx-vlm #624 failure: an index written for one split of the weights sits
next to the shards of another split, so loaders that follow the index look
for tensors in files that do not hold them.  The headers say where every
tensor really is; the index is rebuilt from them alone.  A tensor held by two
shards cannot be placed and is refused; so is a shard whose header is broken
(a truncated download is not something an index can fix).

Only headers are read, never tensor data.
"""

from __future__ import annotations

from pathlib import Path

from mlxk_bin.convert.shards import INDEX_NAME
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.rawio import read_all
from mlxk_common.inventory.safetensors_header import SafetensorsError, read_header
from mlxk_common.jsonio import parse_untrusted


def weight_files(folder: Path) -> list[str]:
    """The safetensors files a loader reads: ``model*.safetensors`` as mlx-lm
    globs them, or every top-level ``*.safetensors`` when none is named so."""
    folder = Path(folder)
    names = sorted(p.name for p in folder.glob("model*.safetensors") if p.is_file())
    return names or sorted(p.name for p in folder.glob("*.safetensors") if p.is_file())


def index_from_shards(folder: Path, shards: list[str] | None = None) -> dict:
    """``{"metadata": {"total_size"}, "weight_map": {tensor: shard}}`` built from
    the headers of ``shards`` (default: ``weight_files(folder)``)."""
    folder = Path(folder)
    shards = weight_files(folder) if shards is None else shards
    if not shards:
        raise MlxkError("unhealthy", f"{folder}: no safetensors weight files to index", path=str(folder))
    owners: dict[str, list[str]] = {}
    total_size = 0
    for shard in shards:
        try:
            header = read_header(folder / shard)
        except SafetensorsError as exc:
            raise MlxkError("unhealthy", f"{shard}: {exc}; an index cannot repair a broken shard",
                            path=str(folder / shard)) from None
        except OSError as exc:
            raise MlxkError("unhealthy", f"{shard}: unreadable ({exc.strerror or exc})",
                            path=str(folder / shard)) from None
        total_size += header["data_size"]
        for tensor in header["tensors"]:
            owners.setdefault(tensor, []).append(shard)
    duplicates = {t: s for t, s in sorted(owners.items()) if len(s) > 1}
    if duplicates:
        first = next(iter(duplicates))
        raise MlxkError("unhealthy", f"{len(duplicates)} tensors are held by more than one shard "
                        f"(e.g. {first} in {', '.join(duplicates[first])}); the index cannot choose",
                        duplicates={t: s for t, s in list(duplicates.items())[:20]},
                        duplicate_count=len(duplicates))
    weight_map = {t: s[0] for t, s in sorted(owners.items())}
    return {"metadata": {"total_size": total_size}, "weight_map": weight_map}


def read_index(folder: Path) -> dict | None:
    """The existing index as parsed JSON, or None when missing or unreadable."""
    try:
        data = parse_untrusted(read_all(Path(folder) / INDEX_NAME))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def index_changes(old: dict | None, new: dict) -> dict:
    """What the rebuild changed: counts of tensors moved, added and dropped."""
    old_map = old.get("weight_map") if isinstance(old, dict) else None
    old_map = old_map if isinstance(old_map, dict) else {}
    new_map = new["weight_map"]
    return {
        "moved": sum(1 for t, s in new_map.items() if t in old_map and old_map[t] != s),
        "added": sum(1 for t in new_map if t not in old_map),
        "dropped": sum(1 for t in old_map if t not in new_map),
        "had_index": old is not None,
    }
