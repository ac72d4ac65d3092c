"""Integrity rules for one model folder (a cache snapshot or a workspace).

Fast by design: only small files and safetensors headers are read, never
weights.  Every rule adds its own human reason (one line per rule, naming
the files) and machine-readable findings (``{code, file, message}``, one per
file where a rule names files; the codes are mlx-knife's where it has one,
see ``FINDING_CODES``); a model is healthy when no rule fired.  A broken file
system entry (dangling symlink, unreadable or special file, a cache symlink
that leads out of the cache) is a finding, never an exception.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    from pathlib import Path

from mlxk_common.inventory.model_files import ModelFiles
from mlxk_common.inventory.runtime import check_runtime, is_vision, missing_model_args
from mlxk_common.inventory.safetensors_header import SafetensorsError, UnknownDtype
from mlxk_common.inventory.store import SENTINEL_NAME

LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_POINTER_MAX = 1024  # real pointer files are ~130 bytes
SHARD_RE = r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.safetensors$"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".npz")
INDEX_NAME = "model.safetensors.index.json"
BIN_INDEX_NAME = "pytorch_model.bin.index.json"
PARTIAL_SUFFIXES = (".incomplete", ".partial", ".part", ".tmp", ".download", ".copying")
TOKENIZER_VOCABS = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "tekken.json",
                    "tiktoken.model", "qwen.tiktoken", "spiece.model", "sentencepiece.bpe.model")
PROCESSOR_CONFIGS = ("preprocessor_config.json", "processor_config.json")
REPAIR_HINT = "fix: mlxk-convert --repair-index MODEL DEST"
MAX_LISTED = 5  # names listed in one reason before "… and N more"
# tokenizer.json is only looked at from its head; a run of 129 opening
# brackets (keys between them allowed) there is nesting the tokenizers
# library refuses (its JSON reader stops at 128 levels).
TOKENIZER_HEAD = 4096
DEEP_NESTING = rb'(?:[\[{]\s*(?:"[^"\\\n]{0,256}"\s*:\s*)?){129}'

# Every finding code (docs/json-api.md, "Health findings", says what each
# means).  mlx-knife's codes keep their names; extend, never rename.
FINDING_CODES = (
    "model_folder_missing", "no_snapshot", "config_missing", "config_invalid_json", "config_incomplete",
    "tokenizer_invalid", "tokenizer_missing", "lfs_pointer_detected", "no_weights_found", "empty_weight_file",
    "index_parse_error", "index_invalid", "index_missing_shard", "index_shard_mismatch", "index_wrong_tensor",
    "index_missing", "shard_missing", "shard_totals_inconsistent", "safetensors_truncated", "safetensors_corrupt",
    "unknown_dtype", "weight_unreadable", "partial_marker", "incomplete_download", "dangling_symlink",
    "unreadable_file", "special_file", "symlink_escape", "sentinel_invalid", "processor_missing",
    "processor_invalid", "checksum_mismatch",
)


class Finding:
    """One machine-readable finding: a stable ``code``, the ``file`` it is
    about (relative to the model folder; None for the folder as a whole)
    and a ``message`` for people; ``reason`` is the rule's whole line."""

    __slots__ = ("code", "file", "message", "reason")

    def __init__(self, code: str, file: str | None, message: str, reason: str | None = None):
        if code not in FINDING_CODES:
            raise ValueError(f"unknown finding code {code!r}")
        self.code = code
        self.file = file
        self.message = message
        self.reason = reason if reason is not None else message

    def to_dict(self) -> dict:
        return {"code": self.code, "file": self.file, "message": self.message}


class IntegrityResult:
    """``reasons``: one human line per rule that fired; ``findings``: the
    same problems for machines, one per file where a rule names files."""

    __slots__ = ("ok", "reasons", "findings")

    def __init__(self, reasons: list[str], findings: list[Finding] | None = None):
        self.reasons = reasons
        self.findings = findings if findings is not None else []
        self.ok = not reasons

    def add(self, code: str, reason: str, files=(), each: str | None = None) -> None:
        """A rule fired: its ``reason`` line, and a finding per file in
        ``files`` (message ``"FILE: each"``) or one for the folder."""
        self.reasons.append(reason)
        self.ok = False
        if files:
            for name in sorted(files):
                self.findings.append(Finding(code, name, f"{name}: {each}" if each else reason, reason))
        else:
            self.findings.append(Finding(code, None, reason))

    def __repr__(self):
        return f"IntegrityResult(ok={self.ok}, reasons={self.reasons!r})"


def _names(items) -> str:
    items = sorted(items)
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def check_integrity(model_dir: Path, *, repo_dir: Path | None = None, files: ModelFiles | None = None
                    ) -> IntegrityResult:
    """Run every integrity rule over ``model_dir``; ``repo_dir`` (the
    ``models--ORG--NAME`` folder) adds the cache-level rules: ``blobs/*.incomplete``
    downloads of this model, and symlinks that lead out of that folder.
    ``files``: the folder's ``ModelFiles`` when the caller has walked it
    already (one walk serves the size, these rules and the runtime check)."""
    result = IntegrityResult([])
    # A walk that listed the folder has shown it is one.
    if (files is None or "." in files.stats.unreadable) and not os.path.isdir(model_dir):
        result.add("model_folder_missing", "Model folder does not exist")
        return result
    folder = files if files is not None else ModelFiles(model_dir, confine=repo_dir)
    config = _check_config(folder, result)
    _check_tokenizer(folder, result)
    lfs = _check_lfs_pointers(folder, result)
    _check_weights(folder, result, lfs)
    _check_partials(folder, repo_dir, result)
    if folder.dangling:
        result.add("dangling_symlink", "Dangling symlinks (missing blobs): " + _names(folder.dangling),
                   folder.dangling, "symlink to a missing blob")
    if folder.unreadable:
        result.add("unreadable_file", "Unreadable files: " + _names(folder.unreadable), folder.unreadable,
                   "cannot be read")
    if folder.special:
        result.add("special_file", "Not regular files (FIFO, socket or device; never opened): "
                   + _names(folder.special), folder.special, "not a regular file (never opened)")
    if folder.escaping:
        result.add("symlink_escape", "Symlinks leading outside the model's cache folder (never read): "
                   + _names(folder.escaping), folder.escaping, "symlink leads outside the cache (never read)")
    _check_sentinel(folder, result)
    if config is not None:
        if is_vision(folder.root, config, folder):
            _check_processor(folder, result)
        elif config.get("model_file") is None:  # text models: mlx-lm builds them from the config
            _check_model_args(config, result)
    return result


def _check_config(folder: ModelFiles, result: IntegrityResult) -> dict | None:
    name = "config.json"
    if name in folder.dangling:
        result.add("config_missing", "config.json missing (dangling symlink)", [name], "dangling symlink")
        return None
    if name in folder.special or name in folder.escaping:
        what = "not a regular file" if name in folder.special else "its symlink leads outside the cache"
        result.add("config_missing", f"config.json missing ({what})", [name], what)
        return None
    if not folder.has(name):
        result.add("config_missing", "config.json missing", [name], "missing")
        return None
    config, error = folder.json(name)
    if error == "invalid JSON":
        result.add("config_invalid_json", "config.json contains invalid JSON", [name], "invalid JSON")
    elif error:
        result.add("unreadable_file", f"config.json {error}", [name], error)
    elif not isinstance(config, dict) or not config:
        result.add("config_invalid_json", "config.json is empty or invalid", [name], "empty or not a JSON object")
    else:
        return config
    return None


def _check_model_args(config: dict, result: IntegrityResult) -> None:
    """config.json has what the installed mlx-lm's model class needs (decided
    from its ``ModelArgs`` source, without importing mlx-lm)."""
    problems = missing_model_args(config)
    if problems:
        model_type = config.get("model_type")
        result.add("config_incomplete", f"config.json cannot build mlx-lm's {model_type!r} model: "
                   + "; ".join(problems), ["config.json"], "; ".join(problems))


def _check_tokenizer(folder: ModelFiles, result: IntegrityResult) -> None:
    if folder.has("tokenizer_config.json"):
        data, error = folder.json("tokenizer_config.json")
        if error or not isinstance(data, dict):
            what = error or "is not a JSON object"
            result.add("tokenizer_invalid", f"tokenizer_config.json {what}", ["tokenizer_config.json"], what)
        # Sentencepiece/BPE/tiktoken vocabularies are valid alternatives to tokenizer.json.
        if not any(folder.has(name) for name in TOKENIZER_VOCABS):
            result.add("tokenizer_missing", "tokenizer_config.json present but tokenizer.json missing",
                       ["tokenizer.json"], "missing (tokenizer_config.json needs a vocabulary)")
    if folder.has("tokenizer.json"):
        size = folder.files["tokenizer.json"]
        head = folder.head("tokenizer.json", TOKENIZER_HEAD)  # megabytes: never parsed whole here
        if size == 0 or not head.lstrip().startswith(b"{"):
            result.add("tokenizer_invalid", "tokenizer.json is empty or not a JSON object", ["tokenizer.json"],
                       "empty or not a JSON object")
        elif head.count(b"[") + head.count(b"{") > 128 and re.search(DEEP_NESTING, head):
            result.add("tokenizer_invalid", "tokenizer.json nests deeper than 128 levels (no tokenizer loads it)",
                       ["tokenizer.json"], "nests deeper than 128 levels")


def _check_lfs_pointers(folder: ModelFiles, result: IntegrityResult) -> set[str]:
    # Any tracked file can be a pointer; the size says which ones need a look
    # (a file shorter than the prefix cannot start with it).
    low, high = len(LFS_POINTER_PREFIX), LFS_POINTER_MAX
    pointers = {name for name, size in folder.files.items()
                if low <= size <= high and folder.head(name, low) == LFS_POINTER_PREFIX}
    if pointers:
        result.add("lfs_pointer_detected", "LFS pointers instead of files: " + _names(pointers), pointers,
                   "Git LFS pointer instead of the file")
    return pointers


def is_weight(name: str) -> bool:
    """A weight file's name (``training_args.bin`` is none)."""
    return name.endswith(WEIGHT_SUFFIXES) and name.rsplit("/", 1)[-1] != "training_args.bin"


def _check_weights(folder: ModelFiles, result: IntegrityResult, lfs: set[str]) -> None:
    weights = [n for n in folder.files if is_weight(n)]
    missing_weights = [n for n in folder.dangling if is_weight(n)]
    indexes = _index_names(folder)
    if not weights and not missing_weights and not indexes:
        result.add("no_weights_found", "No model weights found")
        return
    empty = sorted(n for n in weights if folder.files[n] == 0)
    if empty:
        result.add("empty_weight_file", "Empty weight files: " + _names(empty), empty, "empty weight file")
    weight_map = _check_index(folder, result) if folder.has(INDEX_NAME) else None
    if folder.has(BIN_INDEX_NAME):
        _check_bin_index(folder, result)
    reported = {n for n in (weight_map or {}).values() if not folder.has(n) and n not in folder.dangling}
    _check_shard_pattern(folder, result, index_present=folder.has(INDEX_NAME) or INDEX_NAME in folder.dangling,
                         reported=reported)
    skip = lfs | set(empty)
    _check_headers(folder, result, [n for n in weights if n.endswith(".safetensors") and n not in skip],
                   weight_map)


def _index_names(folder: ModelFiles) -> list[str]:
    return [n for n in (INDEX_NAME, BIN_INDEX_NAME) if folder.has(n) or n in folder.dangling]


def _weight_map(folder: ModelFiles, result: IntegrityResult, index_name: str) -> dict | None:
    """The index's weight_map when it is usable (else a finding)."""
    index, error = folder.json(index_name)
    if error:
        code = "index_parse_error" if error == "invalid JSON" else "unreadable_file"
        result.add(code, f"Invalid index file ({index_name}: {error})", [index_name], error)
        return None
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map or not all(isinstance(v, str) for v in weight_map.values()):
        result.add("index_invalid", "Empty or invalid weight_map in index"
                   + ("" if index_name == INDEX_NAME else f" ({index_name})"), [index_name],
                   "empty or invalid weight_map")
        return None
    return weight_map


def _missing_shards(folder: ModelFiles, weight_map: dict) -> set[str]:
    # A shard behind a dangling symlink (or a special or escaping entry) is
    # reported once, by its own rule.
    return {n for n in set(weight_map.values()) if not folder.has(n) and n not in folder.dangling
            and n not in folder.special and n not in folder.escaping}


def _check_index(folder: ModelFiles, result: IntegrityResult) -> dict | None:
    """Safetensors index ↔ shards.  Returns the weight_map when it is usable."""
    weight_map = _weight_map(folder, result, INDEX_NAME)
    if weight_map is None:
        return None
    referenced = set(weight_map.values())
    missing = _missing_shards(folder, weight_map)
    present = set(folder.top(".safetensors"))
    unreferenced = present - referenced
    if missing and unreferenced:
        # mlx-vlm #624: the index names shards that are not there while other
        # shards are: the index was written for a different split.
        result.add(
            "index_shard_mismatch",
            f"Index/shard mismatch (mlx-vlm #624): index references {len(referenced)} shards, "
            f"{len(missing)} of them missing, while {len(unreferenced)} unreferenced shards exist "
            f"({_names(unreferenced)}); {REPAIR_HINT}", [INDEX_NAME],
            f"names {len(missing)} missing shards while {len(unreferenced)} unreferenced shards exist; {REPAIR_HINT}")
    elif missing:
        result.add("index_missing_shard", "Missing weight shards: " + _names(missing), missing,
                   f"named by {INDEX_NAME} but missing")
    return weight_map


def _check_bin_index(folder: ModelFiles, result: IntegrityResult) -> None:
    """PyTorch's index ↔ its ``.bin`` shards (as mlx-knife checks it)."""
    weight_map = _weight_map(folder, result, BIN_INDEX_NAME)
    if weight_map is None:
        return
    missing = _missing_shards(folder, weight_map)
    if missing:
        result.add("index_missing_shard", "Missing weight shards: " + _names(missing), missing,
                   f"named by {BIN_INDEX_NAME} but missing")


def _check_shard_pattern(folder: ModelFiles, result: IntegrityResult, index_present: bool,
                         reported: set[str]) -> None:
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
            result.add("shard_totals_inconsistent", f"Inconsistent shard totals for {stem}-*: "
                       + ", ".join(f"of-{t:05d}" for t in totals))
            continue
        total = totals[0]
        present = {i for i, _ in shards}
        absent = [f"{stem}-{i:05d}-of-{total:05d}.safetensors" for i in range(1, total + 1) if i not in present]
        absent = [name for name in absent if name not in reported]
        if absent:
            result.add("shard_missing", f"Missing shards by pattern: {len(present & set(range(1, total + 1)))}/{total} "
                       f"present (missing {_names(absent)})", absent, "missing from the shard numbering")
        elif not index_present and stem == "model":
            result.add("index_missing", "Safetensors index missing for sharded model", [INDEX_NAME],
                       "missing for a sharded model")


def _check_headers(folder: ModelFiles, result: IntegrityResult, names: list[str], weight_map: dict | None) -> None:
    """Parse every safetensors header (truncation shows as data past the end)
    and check that the index's tensors are where it says."""
    held: dict[str, set[str]] = {}
    for name in sorted(names):
        try:
            held[name] = set(folder.header(name)["tensors"])
        except UnknownDtype as exc:
            result.add("unknown_dtype", f"Unsupported safetensors file {name}: {exc}", [name], str(exc))
        except SafetensorsError as exc:
            truncated = "truncated" in str(exc)
            result.add("safetensors_truncated" if truncated else "safetensors_corrupt",
                       f"{'Truncated' if truncated else 'Corrupt'} safetensors file {name}: {exc}", [name], str(exc))
        except OSError as exc:
            result.add("weight_unreadable", f"Unreadable safetensors file {name}: {exc.strerror or exc}", [name],
                       f"unreadable ({exc.strerror or exc})")
    if not weight_map:
        return
    wrong: dict[str, list[str]] = {}
    for tensor, shard in weight_map.items():
        if shard in held and tensor not in held[shard]:
            wrong.setdefault(shard, []).append(tensor)
    for shard, tensors in sorted(wrong.items()):
        result.add("index_wrong_tensor", f"Index names {len(tensors)} tensors that {shard} does not hold "
                   f"(e.g. {_names(tensors[:3])}); {REPAIR_HINT}", [shard],
                   f"{INDEX_NAME} places {len(tensors)} tensors here that it does not hold; {REPAIR_HINT}")


def _check_partials(folder: ModelFiles, repo_dir: Path | None, result: IntegrityResult) -> None:
    partial = [n for n in (*folder.files, *folder.dangling, *folder.special) if _partial_name(n.lower())]
    if partial:
        result.add("partial_marker", "Partial download markers: " + _names(partial), partial,
                   "partial-download marker")
    if repo_dir is not None:
        try:
            incomplete = [n for n in os.listdir(os.path.join(repo_dir, "blobs")) if n.endswith(".incomplete")]
        except OSError:
            incomplete = []
        if incomplete:
            result.add("incomplete_download", f"Incomplete download: {len(incomplete)} blob(s) in blobs/*.incomplete")


def _partial_name(lowered: str) -> bool:
    return lowered.endswith(PARTIAL_SUFFIXES) or ".partial" in lowered


def _check_sentinel(folder: ModelFiles, result: IntegrityResult) -> None:
    """A workspace's sentinel, when it has one, must be a JSON object (the
    tools that wrote it did; anything else was altered or cut short)."""
    if not folder.has(SENTINEL_NAME):
        return
    data, error = folder.json(SENTINEL_NAME)
    if error or not isinstance(data, dict):
        what = error or "is not a JSON object"
    else:
        wrong = [key for key, types in _SENTINEL_TYPES.items() if key in data and not isinstance(data[key], types)]
        if not wrong:
            return
        what = "has fields of the wrong type: " + ", ".join(wrong)
    result.add("sentinel_invalid", f"{SENTINEL_NAME} {what}", [SENTINEL_NAME], what)


# The sentinel's fields and their types, as the tools write them.
_SENTINEL_TYPES = {"mlxk_version": str, "created_at": str, "source": (str, type(None)),
                   "source_repo": (str, type(None)), "source_revision": (str, type(None)), "managed": bool,
                   "operation": str, "parameters": dict, "files": dict}


def _check_processor(folder: ModelFiles, result: IntegrityResult) -> None:
    present = [n for n in PROCESSOR_CONFIGS if folder.has(n)]
    if not present:
        result.add("processor_missing", "Vision model missing preprocessor_config.json or processor_config.json")
        return
    data, error = folder.json(present[0])
    if error or not isinstance(data, dict):
        what = error or "is not a JSON object"
        result.add("processor_invalid", f"{present[0]} {what}", [present[0]], what)


def healthy_reason(files: ModelFiles) -> str:
    """The reason a healthy model's health record gives (mlx-knife's words)."""
    if _index_names(files):
        return "Multi-file model complete"
    return "Model is healthy"


def model_health(model_dir: Path, *, repo_dir: Path | None = None, repo_id: str | None = None,
                 stats=None) -> dict:
    """The health fields of a model record (mlx-knife JSON API names):
    ``health`` is about the files alone; ``runtime_compatible`` is false
    whenever the files are broken; ``reason`` is the first integrity reason,
    else the runtime reason, else None.  ``stats``: the folder's
    ``store.tree_stats(model_dir, keep_files=True)``, when the caller made it."""
    files = ModelFiles(model_dir, stats, confine=repo_dir)
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
        "findings": [f.to_dict() for f in integrity.findings],
        "healthy_reason": healthy_reason(files) if integrity.ok else None,
    }
