"""Integrity rules for one model folder (a cache snapshot or a workspace).

Fast by design: only small files and safetensors headers are read, never
weights.  Every rule adds its own human reason; a model is healthy when no
rule fired.  A broken file system entry (dangling symlink, unreadable file)
is a finding, never an exception.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    from pathlib import Path

from mlxk_common.inventory.model_files import ModelFiles
from mlxk_common.inventory.runtime import check_runtime, is_vision
from mlxk_common.inventory.safetensors_header import SafetensorsError

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_POINTER_MAX = 1024  # real pointer files are ~130 bytes
SHARD_RE = r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.safetensors$"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".npz")
INDEX_NAME = "model.safetensors.index.json"
PARTIAL_SUFFIXES = (".incomplete", ".partial", ".part", ".tmp", ".download", ".copying")
TOKENIZER_VOCABS = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "tekken.json",
                    "tiktoken.model", "qwen.tiktoken", "spiece.model", "sentencepiece.bpe.model")
PROCESSOR_CONFIGS = ("preprocessor_config.json", "processor_config.json")
REPAIR_HINT = "fix: mlxk-convert --repair-index MODEL DEST"
MAX_LISTED = 5  # names listed in one reason before "… and N more"


class IntegrityResult:
    __slots__ = ("ok", "reasons")

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        self.ok = not reasons

    def __repr__(self):
        return f"IntegrityResult(ok={self.ok}, reasons={self.reasons!r})"


def _names(items) -> str:
    items = sorted(items)
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def check_integrity(model_dir: Path, *, repo_dir: Path | None = None, files: ModelFiles | None = None
                    ) -> IntegrityResult:
    """Run every integrity rule over ``model_dir``; ``repo_dir`` (the
    ``models--ORG--NAME`` folder) adds the cache-level rule for
    ``blobs/*.incomplete`` downloads of this model.  ``files``: the folder's
    ``ModelFiles`` when the caller has walked it already (one walk serves the
    size, these rules and the runtime check)."""
    # A walk that listed the folder has shown it is one.
    if (files is None or "." in files.stats.unreadable) and not os.path.isdir(model_dir):
        return IntegrityResult(["Model folder does not exist"])
    folder = files if files is not None else ModelFiles(model_dir)
    reasons: list[str] = []
    config = _check_config(folder, reasons)
    _check_tokenizer(folder, reasons)
    lfs = _check_lfs_pointers(folder, reasons)
    _check_weights(folder, reasons, lfs)
    _check_partials(folder, repo_dir, reasons)
    if folder.dangling:
        reasons.append("Dangling symlinks (missing blobs): " + _names(folder.dangling))
    if folder.unreadable:
        reasons.append("Unreadable files: " + _names(folder.unreadable))
    if config is not None and is_vision(folder.root, config, folder):
        _check_processor(folder, reasons)
    return IntegrityResult(reasons)


def _check_config(folder: ModelFiles, reasons: list[str]) -> dict | None:
    if "config.json" in folder.dangling:
        reasons.append("config.json missing (dangling symlink)")
        return None
    if not folder.has("config.json"):
        reasons.append("config.json missing")
        return None
    config, error = folder.json("config.json")
    if error == "invalid JSON":
        reasons.append("config.json contains invalid JSON")
    elif error:
        reasons.append(f"config.json {error}")
    elif not isinstance(config, dict) or not config:
        reasons.append("config.json is empty or invalid")
    else:
        return config
    return None


def _check_tokenizer(folder: ModelFiles, reasons: list[str]) -> None:
    if folder.has("tokenizer_config.json"):
        data, error = folder.json("tokenizer_config.json")
        if error or not isinstance(data, dict):
            reasons.append(f"tokenizer_config.json {error or 'is not a JSON object'}")
        # Sentencepiece/BPE/tiktoken vocabularies are valid alternatives to tokenizer.json.
        if not any(folder.has(name) for name in TOKENIZER_VOCABS):
            reasons.append("tokenizer_config.json present but tokenizer.json missing")
    if folder.has("tokenizer.json"):
        size = folder.files["tokenizer.json"]
        head = folder.head("tokenizer.json", 64).lstrip()
        if size == 0 or not head.startswith(b"{"):
            reasons.append("tokenizer.json is empty or not a JSON object")


def _check_lfs_pointers(folder: ModelFiles, reasons: list[str]) -> set[str]:
    # Any tracked file can be a pointer; the size says which ones need a look
    # (a file shorter than the prefix cannot start with it).
    low, high = len(LFS_POINTER_PREFIX), LFS_POINTER_MAX
    pointers = {name for name, size in folder.files.items()
                if low <= size <= high and folder.head(name, low) == LFS_POINTER_PREFIX}
    if pointers:
        reasons.append("LFS pointers instead of files: " + _names(pointers))
    return pointers


def _check_weights(folder: ModelFiles, reasons: list[str], lfs: set[str]) -> None:
    weights = [n for n in folder.files if n.endswith(WEIGHT_SUFFIXES) and n.rsplit("/", 1)[-1] != "training_args.bin"]
    missing_weights = [n for n in folder.dangling if n.endswith(WEIGHT_SUFFIXES)]
    if not weights and not missing_weights and not folder.has(INDEX_NAME):
        reasons.append("No model weights found")
        return
    empty = sorted(n for n in weights if folder.files[n] == 0)
    if empty:
        reasons.append("Empty weight files: " + _names(empty))
    index_ok = _check_index(folder, reasons)
    reported = {n for n in (index_ok or {}).values() if not folder.has(n) and n not in folder.dangling}
    _check_shard_pattern(folder, reasons, index_present=folder.has(INDEX_NAME) or INDEX_NAME in folder.dangling,
                         reported=reported)
    skip = lfs | set(empty)
    _check_headers(folder, reasons, [n for n in weights if n.endswith(".safetensors") and n not in skip],
                   index_ok)


def _check_index(folder: ModelFiles, reasons: list[str]) -> dict | None:
    """Index ↔ shards.  Returns the weight_map when it is usable."""
    if not folder.has(INDEX_NAME):
        return None
    index, error = folder.json(INDEX_NAME)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if error:
        reasons.append(f"Invalid index file ({INDEX_NAME}: {error})")
        return None
    if not isinstance(weight_map, dict) or not weight_map or not all(isinstance(v, str) for v in weight_map.values()):
        reasons.append("Empty or invalid weight_map in index")
        return None
    referenced = set(weight_map.values())
    # A shard behind a dangling symlink is reported once, as dangling.
    missing = {n for n in referenced if not folder.has(n) and n not in folder.dangling}
    present = set(folder.top(".safetensors"))
    unreferenced = present - referenced
    if missing and unreferenced:
        # mlx-vlm #624: the index names shards that are not there while other
        # shards are: the index was written for a different split.
        reasons.append(
            f"Index/shard mismatch (mlx-vlm #624): index references {len(referenced)} shards, "
            f"{len(missing)} of them missing, while {len(unreferenced)} unreferenced shards exist "
            f"({_names(unreferenced)}); {REPAIR_HINT}")
    elif missing:
        reasons.append("Missing weight shards: " + _names(missing))
    return weight_map


def _check_shard_pattern(folder: ModelFiles, reasons: list[str], index_present: bool, reported: set[str]) -> None:
    """model-NNNNN-of-TTTTT: one total per set, no gaps (shards the index
    check already named as missing are not named twice)."""
    groups: dict[str, list[tuple[int, int]]] = {}
    for name in list(folder.files) + list(folder.dangling):
        if "/" in name:
            continue
        match = re.match(SHARD_RE, name)
        if match:
            groups.setdefault(match["stem"], []).append((int(match["index"]), int(match["total"])))
    for stem, shards in sorted(groups.items()):
        totals = sorted({total for _, total in shards})
        if len(totals) != 1:
            reasons.append(f"Inconsistent shard totals for {stem}-*: " + ", ".join(f"of-{t:05d}" for t in totals))
            continue
        total = totals[0]
        present = {i for i, _ in shards}
        absent = [f"{stem}-{i:05d}-of-{total:05d}.safetensors" for i in range(1, total + 1) if i not in present]
        absent = [name for name in absent if name not in reported]
        if absent:
            reasons.append(f"Missing shards by pattern: {len(present & set(range(1, total + 1)))}/{total} present "
                           f"(missing {_names(absent)})")
        elif not index_present and stem == "model":
            reasons.append("Safetensors index missing for sharded model")


def _check_headers(folder: ModelFiles, reasons: list[str], names: list[str], weight_map: dict | None) -> None:
    """Parse every safetensors header (truncation shows as data past the end)
    and check that the index's tensors are where it says."""
    held: dict[str, set[str]] = {}
    for name in sorted(names):
        try:
            held[name] = set(folder.header(name)["tensors"])
        except SafetensorsError as exc:
            label = "Truncated" if "truncated" in str(exc) else "Corrupt"
            reasons.append(f"{label} safetensors file {name}: {exc}")
        except OSError as exc:
            reasons.append(f"Unreadable safetensors file {name}: {exc.strerror or exc}")
    if not weight_map:
        return
    wrong: dict[str, list[str]] = {}
    for tensor, shard in weight_map.items():
        if shard in held and tensor not in held[shard]:
            wrong.setdefault(shard, []).append(tensor)
    for shard, tensors in sorted(wrong.items()):
        reasons.append(f"Index names {len(tensors)} tensors that {shard} does not hold "
                       f"(e.g. {_names(tensors[:3])}); {REPAIR_HINT}")


def _check_partials(folder: ModelFiles, repo_dir: Path | None, reasons: list[str]) -> None:
    partial = [n for n in (*folder.files, *folder.dangling) if _partial_name(n.lower())]
    if partial:
        reasons.append("Partial download markers: " + _names(partial))
    if repo_dir is not None:
        try:
            incomplete = [n for n in os.listdir(os.path.join(repo_dir, "blobs")) if n.endswith(".incomplete")]
        except OSError:
            incomplete = []
        if incomplete:
            reasons.append(f"Incomplete download: {len(incomplete)} blob(s) in blobs/*.incomplete")


def _partial_name(lowered: str) -> bool:
    return lowered.endswith(PARTIAL_SUFFIXES) or ".partial" in lowered


def _check_processor(folder: ModelFiles, reasons: list[str]) -> None:
    present = [n for n in PROCESSOR_CONFIGS if folder.has(n)]
    if not present:
        reasons.append("Vision model missing preprocessor_config.json or processor_config.json")
        return
    data, error = folder.json(present[0])
    if error or not isinstance(data, dict):
        reasons.append(f"{present[0]} {error or 'is not a JSON object'}")


def model_health(model_dir: Path, *, repo_dir: Path | None = None, repo_id: str | None = None,
                 stats=None) -> dict:
    """The health fields of a model record (mlx-knife JSON API names):
    ``health`` is about the files alone; ``runtime_compatible`` is false
    whenever the files are broken; ``reason`` is the first integrity reason,
    else the runtime reason, else None.  ``stats``: the folder's
    ``store.tree_stats(model_dir, keep_files=True)``, when the caller made it."""
    files = ModelFiles(model_dir, stats)
    integrity = check_integrity(model_dir, repo_dir=repo_dir, files=files)
    config = files.json("config.json")[0]
    runtime = check_runtime(model_dir, repo_id=repo_id, config=config if isinstance(config, dict) else None,
                            files=files)
    compatible = integrity.ok and runtime.runtime_compatible
    reason = integrity.reasons[0] if integrity.reasons else runtime.reason
    return {
        "health": "healthy" if integrity.ok else "unhealthy",
        "runtime_compatible": compatible,
        "reason": reason,
        "framework": runtime.framework,
        "model_type": runtime.model_type,
        "architecture": runtime.architecture,
        "capabilities": runtime.capabilities,
        "context_length": runtime.context_length,
        "integrity_reasons": integrity.reasons,
        "runtime_reason": runtime.reason,
    }
