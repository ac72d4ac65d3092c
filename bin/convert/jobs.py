"""The conversions behind ``mlxk-convert``: quantize, dequantize and repair the
shard index of a model folder, plus the steps they share (finding the source,
copying the files that travel with the weights, the README, the health check
of the result).

Every conversion is a *job*: ``prepare`` refuses what can be refused before
anything is written (and before mlx is imported); ``build(out)`` writes the
model into an empty staging folder that ``run_job`` renames into place only
when the result is complete and healthy (``mlxk_common.inventory.atomic``).

Text models go through mlx-lm's own functions (``load_model``,
``dequantize_model``, ``quantize_model``); vision models through mlx-vlm's
``convert`` when it is installed and knows the model.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from mlxk_bin.convert.repair_index import index_changes, index_from_shards, read_index, weight_files
from mlxk_bin.convert.shards import DEFAULT_MAX_SHARD, INDEX_NAME, parse_shard_size, write_index, write_shards
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.atomic import staging_folder
from mlxk_common.inventory.fscopy import copy_file
from mlxk_common.inventory.health import check_integrity, model_health
from mlxk_common.inventory.names import resolve
from mlxk_common.inventory.rawio import read_all
from mlxk_common.inventory.runtime import backend_installed, is_vision, mlx_lm_supports, mlx_vlm_supports
from mlxk_common.inventory.safetensors_header import tensor_names
from mlxk_common.inventory.store import Store, is_explicit_path
from mlxk_common.inventory.workspace_sentinel import write_sentinel
from mlxk_common.jsonio import parse_untrusted

Emit = Callable[[dict], None]

BITS = (2, 3, 4, 5, 6, 8)
GROUP_SIZES = (32, 64, 128)
QUANT_MODES = ("affine", "mxfp4", "nvfp4", "mxfp8")
# The microscaling float modes have one shape each (mlx refuses others).
FIXED_MODE_SHAPES = {"mxfp4": (4, 32), "nvfp4": (4, 16), "mxfp8": (8, 32)}
DEFAULT_GROUP_SIZE = 64  # affine, as mlx-lm
DTYPES = ("float16", "bfloat16", "float32")
QUANT_KEYS = ("quantization", "quantization_config")
# Files that are weights in some format: never copied next to new weights.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".npz", ".h5", ".msgpack", ".onnx",
                   ".ckpt", ".ot", ".tflite")
OPERATIONS = {"quantize": "convert-quantize", "dequantize": "convert-dequantize",
              "repair_index": "convert-repair-index"}
# Evaluate converted tensors in batches of about this many bytes: progress
# events come regularly and at most one batch of source weights is in memory.
BATCH_BYTES = 64 * 1024 * 1024


def _event(stage: str, done: int, total: int) -> dict:
    return {"event": "progress", "stage": stage, "done": done, "total": total}


# -- the source ----------------------------------------------------------------

class Source:
    """Where a conversion reads from: a folder (or a GGUF file), and the cache
    repo and revision it belongs to when it came from the cache."""

    def __init__(self, path: Path, display: str, repo_id: str | None = None, revision: str | None = None,
                 repo_dir: Path | None = None):
        self.path = Path(path)
        self.display = display
        self.repo_id = repo_id
        self.revision = revision
        self.repo_dir = repo_dir

    def provenance(self) -> dict:
        return {"source": self.display, "source_repo": self.repo_id, "source_revision": self.revision}


def _resolve(ref: str, environ: Mapping[str, str]):
    """names.resolve, with one convenience: a bare word that names no cached
    model but an existing local path is that path (as mlx-lm's --hf-path)."""
    try:
        return resolve(ref, Store.from_environ(environ))
    except MlxkError as exc:
        if exc.type == "model_not_found" and not is_explicit_path(ref) and os.path.exists(ref):
            return None
        raise


def _cache_source(resolved) -> Source:
    repo = resolved.entry
    if resolved.revision is None:
        raise MlxkError("model_not_found", f"{repo.name} has no snapshot in the cache", reference=resolved.ref)
    return Source(Path(resolved.revision.path), repo.repo_id, repo.repo_id, resolved.revision.hash,
                  Path(repo.path))


def resolve_source(ref: str, environ: Mapping[str, str]) -> Source:
    """A model folder: an explicit path, a workspace, or a cached model (its
    revision of record, or ``@HASH``)."""
    resolved = _resolve(ref, environ)
    if resolved is None or not resolved.is_cache:
        path = Path(os.path.expanduser(ref)) if resolved is None else Path(resolved.entry.path)
        if not (path / "config.json").is_file():
            raise MlxkError("model_not_found", f"{ref} is not a model folder (no config.json)", reference=ref)
        return Source(path, ref if resolved is None else resolved.name)
    source = _cache_source(resolved)
    if not (source.path / "config.json").exists():
        hint = "for a GGUF repository use --from-gguf" if any(source.path.glob("*.gguf")) else None
        raise MlxkError("model_not_found", f"{source.repo_id} has no config.json", reference=ref,
                        **({"hint": hint} if hint else {}))
    return source


def resolve_gguf_source(ref: str, environ: Mapping[str, str], file: str | None = None) -> Source:
    """A .gguf file: a path to one, a folder holding one, or a cached GGUF repo
    (``file`` picks one when there are several)."""
    path = Path(os.path.expanduser(ref))
    if path.is_file():
        if file:
            raise MlxkError("usage_error", "--file selects a file inside a folder or cached repo, not a file path")
        return Source(path, path.name)
    if path.is_dir():
        return _pick_gguf(path, Source(path, ref), file)

    if is_explicit_path(ref) or ref.endswith(".gguf"):
        raise MlxkError("model_not_found", f"{ref}: no such file", path=ref)
    resolved = _resolve(ref, environ)
    if resolved is None or not resolved.is_cache:
        folder = path if resolved is None else Path(resolved.entry.path)
        return _pick_gguf(folder, Source(folder, ref), file)
    return _pick_gguf(None, _cache_source(resolved), file)


def _pick_gguf(folder: Path | None, source: Source, file: str | None) -> Source:
    folder = source.path if folder is None else folder
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.gguf"))
    if file is not None:
        if file not in found:
            raise MlxkError("model_not_found", f"{source.display} has no GGUF file {file!r}",
                            available=found)
        found = [file]
    if not found:
        raise MlxkError("model_not_found", f"{source.display} holds no .gguf file")
    if len(found) > 1:
        raise MlxkError("ambiguous_match", f"{source.display} holds {len(found)} GGUF files: {', '.join(found)}",
                        candidates=found, hint="pick one with --file NAME")
    name = found[0]
    display = f"{source.repo_id}/{name}" if source.repo_id else name
    return Source(folder / name, display, source.repo_id, source.revision, source.repo_dir)


# -- options -------------------------------------------------------------------

def check_quant_options(bits: int, group_size: int | None, mode: str) -> tuple[int, int]:
    """(bits, group_size) for a quantization mode, or ``usage_error``."""
    if bits not in BITS:
        raise MlxkError("usage_error", f"--quantize takes {', '.join(map(str, BITS))} bits, not {bits}")
    if mode not in QUANT_MODES:
        raise MlxkError("usage_error", f"--mode must be one of {', '.join(QUANT_MODES)}")
    if mode in FIXED_MODE_SHAPES:
        fixed_bits, fixed_group = FIXED_MODE_SHAPES[mode]
        if bits != fixed_bits or group_size not in (None, fixed_group):
            raise MlxkError("usage_error", f"--mode {mode} quantizes to {fixed_bits} bits in groups of "
                            f"{fixed_group} (use --quantize {fixed_bits} and no other --group-size)")
        return bits, fixed_group
    if group_size is not None and group_size not in GROUP_SIZES:
        raise MlxkError("usage_error", f"--group-size must be one of {', '.join(map(str, GROUP_SIZES))}")
    return bits, group_size or DEFAULT_GROUP_SIZE


def _read_config(folder: Path) -> dict:
    try:
        config = parse_untrusted(read_all(folder / "config.json"))
    except (OSError, ValueError) as exc:
        raise MlxkError("unhealthy", f"{folder / 'config.json'} cannot be read: {exc}") from None
    if not isinstance(config, dict):
        raise MlxkError("unhealthy", f"{folder / 'config.json'} is not a JSON object")
    return config


def _config_dtype(config: dict) -> str | None:
    for holder in (config, config.get("text_config") or {}):
        for key in ("torch_dtype", "dtype"):
            value = holder.get(key) if isinstance(holder, dict) else None
            if value in DTYPES:
                return value
    return None


def _check_source_health(source: Source) -> None:
    result = check_integrity(source.path, repo_dir=source.repo_dir)
    if not result.ok:
        hint = ("repair it first: mlxk-convert --repair-index SRC DEST"
                if any("index" in r.lower() for r in result.reasons) else None)
        raise MlxkError("unhealthy", f"{source.display} is unhealthy: {result.reasons[0]}",
                        reasons=result.reasons, **({"hint": hint} if hint else {}))


# -- files that travel with the weights ----------------------------------------

def copy_companions(src: Path, out: Path) -> list[str]:
    """Copy the top-level files that are not weights, not the index, not the
    config (rewritten) and not the README (rewritten): tokenizer, generation
    config, chat template, processor configs, custom tokenizer code."""
    copied = []
    for path in sorted(Path(src).iterdir()):
        name = path.name
        if (name.startswith(".") or name in ("config.json", "README.md", INDEX_NAME)
                or name.endswith(WEIGHT_SUFFIXES) or name.endswith(".index.json") or not path.is_file()):
            continue
        copy_file(path, out / name)
        copied.append(name)
    return copied


def read_front_matter(readme: Path) -> dict:
    """README.md's YAML front matter as a dict ({} when absent or unreadable)."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    try:
        import yaml

        data = yaml.safe_load(text[3:end])
    except Exception:  # noqa: BLE001 - a broken model card must not stop a conversion
        return {}
    return data if isinstance(data, dict) else {}


def write_readme(out: Path, src: Path, *, title: str, body: str, base_model: str | None) -> None:
    """A model card whose front matter keeps the source's (license, base model,
    language, ...) and says ``library_name: mlx`` with the ``mlx`` tag, so
    every tool recognises the result as an MLX model."""
    front = read_front_matter(Path(src) / "README.md")
    front["library_name"] = "mlx"
    tags = front.get("tags")
    tags = [tags] if isinstance(tags, str) else list(tags) if isinstance(tags, list) else []
    front["tags"] = tags + ([] if "mlx" in tags else ["mlx"])
    if base_model and not front.get("base_model"):
        front["base_model"] = base_model
    try:
        import yaml

        head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
    except ImportError:
        head = "library_name: mlx\ntags:\n" + "".join(f"- {t}\n" for t in front["tags"])
    (Path(out) / "README.md").write_text(f"---\n{head}---\n\n# {title}\n\n{body}\n", encoding="utf-8")


def _write_json(path: Path, obj) -> None:
    import json

    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _quiet_stdout():
    """mlx-lm and mlx-vlm print progress notes to stdout; stdout belongs to
    our JSON output, so their prints are caught here."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        yield buffer


# -- quantize / dequantize ----------------------------------------------------------

class ModelJob:
    """``--quantize BITS`` (dequantizing a quantized source first) or
    ``--dequantize`` of one model folder."""
    def __init__(self, source: Source, *, bits: int | None = None, group_size: int | None = None,
                 mode: str = "affine", dequantize: bool = False, dtype: str | None = None,
                 max_shard_bytes: int, name: str | None = None, emit: Emit | None = None,
                 warn: Callable[[str], None] | None = None):
        self.source = source
        self.name = name or source.display.rstrip("/").split("/")[-1]  # the model card's title
        self.quantize = bits is not None
        self.dequantize = dequantize
        self.mode = mode
        self.bits, self.group_size = check_quant_options(bits, group_size, mode) if self.quantize else (None, None)
        self.dtype = dtype
        self.max_shard_bytes = max_shard_bytes
        self.emit = emit or (lambda event: None)
        self.warnings: list[str] = []
        self._warn = warn or (lambda message: None)
        self.operation = OPERATIONS["quantize" if self.quantize else "dequantize"]
        self.config: dict = {}
        self.vision = False

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self._warn(message)

    def prepare(self) -> "ModelJob":
        """Every refusal that needs no weights: health of the source, backend
        for the model kind, options that make no sense for this model."""
        src = self.source.path
        _check_source_health(self.source)
        self.config = config = _read_config(src)
        model_type = config.get("model_type")
        if config.get("model_file") is not None:
            raise MlxkError("capability_not_supported", f"{self.source.display} needs model-supplied code "
                            "(config.json: model_file), which mlxk never runs")
        self.vision = is_vision(src, config)
        if self.vision:
            if not backend_installed("mlx_vlm"):
                raise MlxkError("capability_not_supported", f"{self.source.display} is a vision model; "
                                "converting it needs mlx-vlm, which is not installed",
                                hint="pip install 'mlxk[vision]'")
            if not mlx_vlm_supports(config):
                raise MlxkError("capability_not_supported",
                                f"mlx-vlm cannot convert model_type {model_type!r}", model_type=model_type)
            if self.max_shard_bytes != _default_shard_bytes():
                raise MlxkError("usage_error", "--max-shard-size is not supported for vision models "
                                "(mlx-vlm writes its own 5 GB shards)")
        elif not mlx_lm_supports(config):
            raise MlxkError("capability_not_supported", f"mlx-lm does not support model_type {model_type!r}",
                            model_type=model_type)
        old = config.get("quantization") if isinstance(config.get("quantization"), dict) else None
        self.source_quantization = old
        if self.dequantize and not old and not config.get("quantization_config") and self.dtype is None:
            raise MlxkError("usage_error", f"{self.source.display} is not quantized; nothing to dequantize",
                            hint="give --dtype to cast its weights instead")
        if self.dtype is None:
            # mlx-lm's default: the config's dtype, else no cast at all (dequantized
            # weights come out in their scales' type; norms keep theirs, which
            # matters on CPUs, where float16 activations are many times slower)
            self.dtype = _config_dtype(config)
        if self.quantize and old and isinstance(old.get("bits"), int) and self.bits > old["bits"]:
            self.warn(f"re-quantizing a {old['bits']}-bit model to {self.bits} bits: it is dequantized first, "
                      f"but the {old['bits']}-bit rounding error stays; quantize the original "
                      "float model for a better result")
        return self

    # -- building ---------------------------------------------------------------
    def build(self, out: Path) -> dict:
        if self.vision:
            tensors, quantization = self._build_vision(out)
        else:
            tensors, quantization = self._build_text(out)
            copy_companions(self.source.path, out)
            self._write_config(out, quantization)
        return self._finish(out, tensors, quantization)

    def _parameters(self) -> dict:
        if self.quantize:
            return {"bits": self.bits, "group_size": self.group_size, "mode": self.mode, "dtype": self.dtype}
        return {"dtype": self.dtype}

    def _build_text(self, out: Path) -> tuple[int, dict | None]:
        import mlx.core as mx
        from mlx.utils import tree_flatten, tree_map

        emit = self.emit
        emit(_event("load", 0, 1))
        model = self._load_text_model()
        emit(_event("load", 1, 1))
        model = self._transform(model)
        quantization = getattr(model, "_mlxk_quantization", None)
        weights = dict(tree_flatten(model.parameters()))
        # Hand the arrays over: the model keeps no reference, so each batch of
        # source weights and each written shard can be freed (mlx-lm's donate).
        model.update(tree_map(lambda _: mx.array([]), model.parameters()))
        del model
        tensors = len(weights)
        _materialize(weights, emit)
        write_shards(out, weights, self.max_shard_bytes,
                     progress=lambda done, total: emit(_event("write", done, total)))
        return tensors, quantization

    def _load_text_model(self):
        from mlx_lm.utils import load_model

        try:
            with _quiet_stdout():
                model, _ = load_model(self.source.path, lazy=True)
        except ValueError as exc:
            kind = "capability_not_supported" if "not supported" in str(exc) else "unsupported_format"
            raise MlxkError(kind, f"mlx-lm cannot load {self.source.display}: {exc}") from None
        except FileNotFoundError as exc:
            raise MlxkError("unhealthy", f"{self.source.display}: {exc}") from None
        return model

    def _transform(self, model):
        """Dequantize whatever is quantized, cast floats, quantize (mlx-lm's
        functions, in mlx-lm's order)."""
        import mlx.core as mx
        from mlx.utils import tree_map_with_path
        from mlx_lm.utils import dequantize_model, quantize_model

        if _quantized_modules(model):
            model = dequantize_model(model)
            left = _quantized_modules(model)
            if left:
                raise MlxkError("capability_not_supported", f"cannot dequantize {left[0]} "
                                f"({len(left)} such layers): mlx-lm has no dequantization for them")
        if self.dtype:
            dtype = getattr(mx, self.dtype)
            cast = getattr(model, "cast_predicate", lambda _: True)
            model.update(tree_map_with_path(
                lambda k, v: v.astype(dtype) if cast(k) and mx.issubdtype(v.dtype, mx.floating) else v,
                model.parameters()))
        if self.quantize:
            plain = {k: v for k, v in self.config.items() if k not in QUANT_KEYS}
            try:
                with _quiet_stdout():
                    model, quantized = quantize_model(model, plain, self.group_size, self.bits, mode=self.mode)
            except ValueError as exc:
                raise MlxkError("capability_not_supported", f"the installed mlx cannot quantize this way: {exc}",
                                mode=self.mode) from None
            model._mlxk_quantization = quantized["quantization"]
        return model

    def _write_config(self, out: Path, quantization: dict | None) -> None:
        config = {k: v for k, v in self.config.items() if k not in QUANT_KEYS}
        if quantization is not None:
            config["quantization"] = quantization
            config["quantization_config"] = quantization
        _set_dtype(config, self.dtype)
        _write_json(out / "config.json", config)

    def _build_vision(self, out: Path) -> tuple[int, dict | None]:
        import shutil

        from mlx_vlm.convert import convert as vlm_convert

        emit = self.emit
        src = self.source.path
        scratch = None
        emit(_event("convert", 0, 1))
        try:
            with _quiet_stdout():
                if self.quantize and self.source_quantization:
                    # mlx-vlm quantizes float layers only: dequantize first.
                    scratch = out / ".dequantized"
                    vlm_convert(str(src), str(scratch), dequantize=True, dtype=self.dtype, trust_remote_code=False)
                    _drop_quantization(scratch)
                    src = scratch
                vlm_convert(str(src), str(out), quantize=self.quantize, q_bits=self.bits or 4,
                            q_group_size=self.group_size or DEFAULT_GROUP_SIZE, q_mode=self.mode,
                            dequantize=self.dequantize, dtype=self.dtype, trust_remote_code=False)
            if self.dequantize:
                _drop_quantization(out, self.dtype)
        except ValueError as exc:
            raise MlxkError("capability_not_supported", f"mlx-vlm cannot convert {self.source.display}: {exc}") from None
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        emit(_event("convert", 1, 1))
        config = _read_config(out)
        self.config = config

        tensors = sum(len(tensor_names(p)) for p in out.glob("*.safetensors"))
        return tensors, config.get("quantization")

    def _finish(self, out: Path, tensors: int, quantization: dict | None) -> dict:
        source = self.source
        if self.quantize:
            how = (f"{self.bits}-bit {self.mode} quantization, group size {self.group_size}"
                   + (f", other weights in {self.dtype}" if self.dtype else ""))
            command = f"mlxk-convert --quantize {self.bits} --group-size {self.group_size} --mode {self.mode}"
        else:
            how = f"dequantized to {self.dtype}" if self.dtype else "dequantized"
            command = "mlxk-convert --dequantize" + (f" --dtype {self.dtype}" if self.dtype else "")
        write_readme(out, source.path, title=self.name,
                     body=f"Converted from `{source.display}` with `{command}` ({how}).",
                     base_model=source.repo_id)
        self.emit(_event("index", 0, 1))
        record = write_sentinel(out, operation=self.operation, parameters=self._parameters(),
                                **source.provenance())
        self.emit(_event("index", 1, 1))
        return {
            **source.provenance(),
            "operation": self.operation,
            "model_type": self.config.get("model_type"),
            "quantization": quantization,
            "dtype": self.dtype,
            "tensors": tensors,
            "size_bytes": sum(f["size"] for f in record["files"].values()),
            "files": sorted(record["files"]),
            "warnings": self.warnings,
        }


def _drop_quantization(folder: Path, dtype: str | None = None) -> None:
    """mlx-vlm's dequantize leaves the quantization keys in config.json; the
    weights are floats now, so they go (and the dtype is recorded)."""
    config = {k: v for k, v in _read_config(folder).items() if k not in QUANT_KEYS}
    _set_dtype(config, dtype)
    _write_json(folder / "config.json", config)


def _set_dtype(config: dict, dtype: str | None) -> None:
    """Record the float type written, under the key(s) the config already uses."""
    if dtype:
        for key in [k for k in ("torch_dtype", "dtype") if k in config] or ["torch_dtype"]:
            config[key] = dtype


def _default_shard_bytes() -> int:
    return parse_shard_size(DEFAULT_MAX_SHARD)


def _quantized_modules(model) -> list[str]:
    return [name for name, module in model.named_modules() if type(module).__name__.startswith(("Quantized", "QQ"))]


def _materialize(weights: dict, emit: Emit) -> None:
    """Evaluate the (lazy) converted tensors batch by batch, with progress."""
    import mlx.core as mx

    names = list(weights)
    pending, size = [], 0
    for done, name in enumerate(names, 1):
        pending.append(weights[name])
        size += weights[name].nbytes
        if size >= BATCH_BYTES or done == len(names):
            mx.eval(pending)
            pending, size = [], 0
            emit(_event("convert", done, len(names)))


# -- repair the index ---------------------------------------------------------------

class RepairJob:
    """``--repair-index``: copy the model, with an index rebuilt from the
    shards' headers."""
    operation = OPERATIONS["repair_index"]

    def __init__(self, source: Source, *, emit: Emit | None = None):
        self.source = source
        self.emit = emit or (lambda event: None)

    def prepare(self) -> "RepairJob":
        src = self.source.path
        # A repair copies every file: none may be one that must never be read.
        refused = [f for f in check_integrity(src, repo_dir=self.source.repo_dir).findings
                   if f.code in ("symlink_escape", "special_file")]
        if refused:
            raise MlxkError("unhealthy", f"{self.source.display}: {refused[0].message}",
                            file=refused[0].file, reasons=[f.message for f in refused])
        _read_config(src)
        self.shards = weight_files(src)
        self.old = read_index(src)
        if len(self.shards) == 1 and not (src / INDEX_NAME).exists():
            raise MlxkError("usage_error", f"{self.source.display} keeps its weights in one file "
                            f"({self.shards[0]}); a single-file model needs no index")
        self.index = index_from_shards(src, self.shards)
        self.changes = index_changes(self.old, self.index)
        return self

    def build(self, out: Path) -> dict:
        src = self.source.path
        files = [p for p in sorted(src.rglob("*")) if p.is_file() and not _hidden(p.relative_to(src))
                 and p.name != INDEX_NAME]
        for done, path in enumerate(files, 1):
            target = out / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_file(path, target)
            self.emit(_event("copy", done, len(files)))
        metadata = dict(self.old.get("metadata") or {}) if isinstance(self.old, dict) else {}
        metadata = metadata if isinstance(metadata, dict) else {}
        metadata.pop("total_size", None)
        write_index(out, self.index["weight_map"], self.index["metadata"]["total_size"], metadata)
        self.emit(_event("index", 0, 1))
        record = write_sentinel(out, operation=self.operation, **self.source.provenance())
        self.emit(_event("index", 1, 1))
        return {
            **self.source.provenance(),
            "operation": self.operation,
            "shards": self.shards,
            "tensors": len(self.index["weight_map"]),
            "index": self.changes,
            "size_bytes": sum(f["size"] for f in record["files"].values()),
            "files": sorted(record["files"]),
            "warnings": [],
        }


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


# -- the common frame -------------------------------------------------------------------

def verify(folder: Path, warn: Callable[[str], None] | None = None) -> dict:
    """The post-conversion health check: integrity must pass; a runtime
    incompatibility (e.g. no backend for the kind here) is only a warning."""
    health = model_health(folder)
    if health["health"] != "healthy":
        reasons = health["integrity_reasons"]
        raise MlxkError("unhealthy", f"the converted model failed its health check: {reasons[0]}",
                        reasons=reasons, hint="rerun with --skip-health to keep it anyway")
    if not health["runtime_compatible"] and warn:
        warn(f"the converted model cannot run here: {health['reason']}")
    return {"health": health["health"], "runtime_compatible": health["runtime_compatible"]}


def run_job(job, dest: Path, *, environ: Mapping[str, str], skip_health: bool = False,
            emit: Emit | None = None, warn: Callable[[str], None] | None = None) -> dict:
    """Build ``job`` in a staging folder next to ``dest``, check its health,
    and rename it into place; nothing is left at ``dest`` on any failure."""

    emit = emit or (lambda event: None)
    dest = Path(dest)
    with staging_folder(dest, environ) as tmp:
        summary = job.build(tmp)
        if skip_health:
            summary.update({"health": None, "runtime_compatible": None})
        else:
            emit(_event("health", 0, 1))
            summary.update(verify(tmp, warn))
            emit(_event("health", 1, 1))
    return {"path": str(dest), **summary}
