"""Write a model's weights as safetensors shards with an index.

One file (``model.safetensors``, no index) when the weights fit in one shard;
otherwise ``model-NNNNN-of-TTTTT.safetensors`` plus
``model.safetensors.index.json``, the Hugging Face layout mlx-lm and mlx-vlm
load.  Sizes are decimal (``5GB`` is 5·10⁹ bytes), as the Hub counts them.

mlx is imported inside functions: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.options import parse_size

INDEX_NAME = "model.safetensors.index.json"
DEFAULT_MAX_SHARD = "5GB"
def parse_shard_size(text: str) -> int:
    """``--max-shard-size``: a positive size (``5GB``, ``500MB``, ``2GiB``)."""
    try:
        size = parse_size(text)
    except ValueError as exc:
        raise MlxkError("usage_error", f"--max-shard-size: {exc}") from None
    if size < 1:
        raise MlxkError("usage_error", f"shard size {text!r} must be positive")
    return size


def plan_shards(sizes: dict[str, int], max_bytes: int) -> list[list[str]]:
    """Split tensor names (in order) into shards of at most ``max_bytes``;
    a tensor larger than that gets a shard of its own."""
    shards: list[list[str]] = []
    current = 0
    for name, size in sizes.items():
        if not shards or (shards[-1] and current + size > max_bytes):
            shards.append([])
            current = 0
        shards[-1].append(name)
        current += size
    return shards


def shard_names(count: int) -> list[str]:
    if count == 1:
        return ["model.safetensors"]
    return [f"model-{i:05d}-of-{count:05d}.safetensors" for i in range(1, count + 1)]


def write_shards(out: Path, weights: dict, max_bytes: int, *,
                 progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Save ``weights`` (name -> mx.array) into ``out``; the dict is emptied as
    shards are written so each shard's memory can be freed.  Returns the file
    names written (index included)."""
    import mlx.core as mx

    out = Path(out)
    groups = plan_shards({k: v.nbytes for k, v in weights.items()}, max_bytes)
    names = shard_names(len(groups))
    total_size = sum(v.nbytes for v in weights.values())
    weight_map = {}
    for done, (group, name) in enumerate(zip(groups, names), 1):
        shard = {key: weights.pop(key) for key in group}
        mx.save_safetensors(str(out / name), shard, metadata={"format": "mlx"})
        weight_map.update(dict.fromkeys(group, name))
        del shard
        if progress:
            progress(done, len(groups))
    if len(names) > 1:
        write_index(out, weight_map, total_size)
        names.append(INDEX_NAME)
    return names


def write_index(out: Path, weight_map: dict[str, str], total_size: int, metadata: dict | None = None) -> None:
    """``model.safetensors.index.json`` with the weight map sorted by tensor name."""
    import json

    index = {"metadata": {**(metadata or {}), "total_size": total_size},
             "weight_map": {k: weight_map[k] for k in sorted(weight_map)}}
    (Path(out) / INDEX_NAME).write_text(json.dumps(index, indent=4) + "\n", encoding="utf-8")
