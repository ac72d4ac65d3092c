"""GGUF → MLX model folder: the library behind ``mlxk-convert SRC.gguf DEST --from-gguf``.

A llama-architecture GGUF becomes a folder that ``mlx_lm.load`` loads:
``config.json``, ``model.safetensors`` (quantized blocks stay quantized),
a tokenizer rebuilt from the GGUF vocabulary, ``README.md`` and the
``.mlxk_workspace.json`` sentinel.  The folder is built next to DEST under a
hidden name and renamed into place at the end (``mlxk_common.inventory.atomic``), so
DEST is either complete or absent, even after an error or Ctrl-C.

mlx is imported inside functions: importing this module stays cheap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from mlxk_bin.convert.gguf_header import GGUFHeader, TensorInfo, read_header
from mlxk_bin.convert.gguf_tokenizer import check_supported, eos_ids, write_tokenizer_files
from mlxk_bin.convert.shards import DEFAULT_MAX_SHARD, parse_shard_size, write_shards
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.atomic import check_target_free, staging_folder
from mlxk_common.inventory.workspace_sentinel import write_sentinel

OPERATION = "convert-from-gguf"
GROUP_SIZE = 32  # mlx.core.load unpacks Q4_0/Q4_1/Q8_0 blocks into MLX groups of 32
# GGML types mlx.core.load reads faithfully: native floats, or the block
# formats it maps onto MLX affine quantization (bits).  K-quants and the rest
# are refused: mlx reads some of them (Q4_K, Q6_K, ...) as float16 values that
# differ from llama.cpp's own dequantization, and refuses others.
FLOAT_TYPES = {"F32", "F16", "BF16"}
QUANT_BITS = {"Q4_0": 4, "Q4_1": 4, "Q8_0": 8}

_GLOBAL_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
_BLOCK_NAMES = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}
_SKIPPED = {"attn_rot_embd"}  # precomputed rotary tables; mlx-lm computes its own
_NAME = r"^(?:blk\.(\d+)\.)?([a-z_]+)\.(weight|bias)$"

Progress = Callable[[dict], None]


def convert_gguf(src: Path, dest: Path, *, progress: Progress | None = None,
                 environ: Mapping[str, str] | None = None, **provenance) -> dict:
    """Convert the GGUF file ``src`` into a new MLX model folder ``dest``.

    Calls ``progress`` with ``{"event": "progress", "stage", "done", "total"}``
    dicts.  Returns a summary (``path, source, model_type, tensors,
    quantization, tie_word_embeddings, size_bytes, files``).  Raises
    ``MlxkError`` (``model_not_found``, ``usage_error``, ``unsupported_format``,
    ``target_exists``, ``cache_write_refused``, ``permission_denied``);
    nothing is left behind on error.  ``provenance`` (``source``,
    ``source_repo``, ``source_revision``) goes into the sentinel.
    """

    dest = Path(dest)
    job = prepare_gguf(src, dest, progress=progress)
    with staging_folder(dest, environ) as tmp:
        summary = job.build(tmp, **provenance)
    return {"path": str(dest), **summary}


class GGUFJob:
    """A checked and planned GGUF import: everything that can be refused has
    been refused before ``build`` writes anything."""

    def __init__(self, src: Path, header: GGUFHeader, plan: dict, emit: Progress):
        self.src = src
        self.header = header
        self.plan = plan
        self.emit = emit

    def build(self, out: Path, *, max_shard_bytes: int | None = None, **provenance) -> dict:
        """Write the model into the existing empty folder ``out``, in shards of
        at most ``max_shard_bytes`` (default 5 GB)."""
        return _build(self.src, Path(out), self.header, self.plan, self.emit, provenance, max_shard_bytes)


def prepare_gguf(src: Path, dest: Path | None = None, *, progress: Progress | None = None) -> GGUFJob:
    """Check the source (and ``dest``, when given) and plan the import."""
    src = Path(src)
    emit = progress or (lambda event: None)
    _check_source(src)
    if dest is not None:
        check_target_free(Path(dest))
    emit(_event("header", 0, 1))
    header = read_header(src)
    try:
        plan = _plan(header)
        check_supported(header.metadata)
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        # The typed checks above name what they refuse; this catches metadata
        # malformed in a way they did not foresee, still as the file's fault.
        raise MlxkError("unsupported_format", f"{src.name}: malformed GGUF metadata "
                        f"({type(exc).__name__}: {str(exc)[:200]})", path=str(src)) from None
    emit(_event("header", 1, 1))
    return GGUFJob(src, header, plan, emit)


def _event(stage: str, done: int, total: int) -> dict:
    return {"event": "progress", "stage": stage, "done": done, "total": total}


def _check_source(src: Path) -> None:
    if not src.exists():
        raise MlxkError("model_not_found", f"{src}: no such file", path=str(src))
    if not src.is_file():
        raise MlxkError("usage_error", f"{src}: not a file (--from-gguf takes a .gguf file)", path=str(src))


# -- planning: everything that can be refused is refused before any write ----

def _meta_int(meta: dict, key: str, default=None):
    """An integer metadata value (a uniform per-layer list counts as its value)."""
    value = meta.get(key, default)
    if isinstance(value, list):  # a per-layer list (e.g. head_count_kv) must be uniform
        if not value or any(v != value[0] for v in value):
            raise MlxkError("unsupported_format", f"per-layer {key} values are not supported", key=key)
        value = value[0]
    if value is not None and (type(value) is not int or value < 0):
        raise MlxkError("unsupported_format", f"the GGUF's {key} is not a non-negative integer", key=key)
    return value


def _meta_float(meta: dict, key: str, default: float) -> float:
    value = meta.get(key, default)
    if type(value) not in (int, float) or not math.isfinite(value):
        raise MlxkError("unsupported_format", f"the GGUF's {key} is not a finite number", key=key)
    return float(value)


def _meta_str(meta: dict, key: str, default: str | None = None) -> str | None:
    value = meta.get(key, default)
    if value is not None and not isinstance(value, str):
        raise MlxkError("unsupported_format", f"the GGUF's {key} is not a string", key=key)
    return value


_REQUIRED = ("llama.block_count", "llama.embedding_length", "llama.attention.head_count")


def _plan(header: GGUFHeader) -> dict:
    meta = header.metadata
    arch = meta.get("general.architecture")
    if arch != "llama":
        arch = arch[:60] if isinstance(arch, str) else type(arch).__name__
        raise MlxkError("unsupported_format", f"architecture {arch!r} is not supported (only 'llama')",
                        architecture=arch)
    for key in _REQUIRED:
        if not isinstance(meta.get(key), (int, list)):
            raise MlxkError("unsupported_format", f"the GGUF lacks the metadata key {key}", key=key)
    names: dict[str, str] = {}
    infos: dict[str, TensorInfo] = {}
    rope_freqs = None
    for info in header.tensors:
        if info.name == "rope_freqs.weight":
            rope_freqs = info
            continue
        kind = info.type_name
        if kind not in FLOAT_TYPES and kind not in QUANT_BITS:
            raise MlxkError("unsupported_format",
                            f"tensor {info.name!r} has GGML type {kind}, which is not supported "
                            f"(supported: {', '.join(sorted(FLOAT_TYPES | set(QUANT_BITS)))})",
                            tensor=info.name, ggml_type=kind)
        m = re.match(_NAME, info.name)
        part = m and m.group(2)
        if m and part in _SKIPPED:
            continue
        table = _BLOCK_NAMES if m and m.group(1) is not None else _GLOBAL_NAMES
        if not m or part not in table:
            raise MlxkError("unsupported_format", f"tensor {info.name!r} has no llama counterpart in mlx-lm",
                            tensor=info.name)
        if kind in QUANT_BITS and (len(info.shape) != 2 or m.group(3) != "weight"):
            raise MlxkError("unsupported_format", f"tensor {info.name!r}: quantized {kind} is only "
                            "supported for 2-D weights", tensor=info.name)
        prefix = f"model.layers.{m.group(1)}." if m.group(1) is not None else ""
        names[info.name] = f"{prefix}{table[part]}.{m.group(3)}"
        infos[info.name] = info
    if "token_embd.weight" not in infos:
        raise MlxkError("unsupported_format", "the GGUF has no token_embd.weight tensor")
    n_layers = int(_meta_int(meta, "llama.block_count"))
    layers = {int(n.split(".")[1]) for n in infos if n.startswith("blk.")}
    if layers != set(range(n_layers)):
        raise MlxkError("unsupported_format", f"llama.block_count is {n_layers} but the file has blocks "
                        f"{sorted(layers)[:3]}...", block_count=n_layers)
    return {"names": names, "infos": infos, "config": _config(meta, infos, rope_freqs, n_layers),
            "rope_freqs": rope_freqs}


def _clean_float(x: float) -> float:
    return float(f"{x:.7g}")  # float32 metadata: 9.999999747e-06 -> 1e-05


def _config(meta: dict, infos: dict[str, TensorInfo], rope_freqs, n_layers: int) -> dict:
    vocab, hidden = infos["token_embd.weight"].shape
    heads = int(_meta_int(meta, "llama.attention.head_count"))
    kv_heads = int(_meta_int(meta, "llama.attention.head_count_kv", heads))
    ffn = _meta_int(meta, "llama.feed_forward_length")
    if ffn is None and "blk.0.ffn_gate.weight" in infos:
        ffn = infos["blk.0.ffn_gate.weight"].shape[0]
    head_dim = _meta_int(meta, "llama.attention.key_length")
    if not heads or not vocab or not hidden or hidden % heads:
        raise MlxkError("unsupported_format", f"{heads} attention heads do not divide the hidden size {hidden}")
    if head_dim is not None and head_dim != _meta_int(meta, "llama.attention.value_length", head_dim):
        raise MlxkError("unsupported_format", "different key and value head sizes are not supported")
    rot = _meta_int(meta, "llama.rope.dimension_count")
    if rot is not None and rot != (head_dim or hidden // heads):
        raise MlxkError("unsupported_format", f"partial rotary embeddings ({rot} of "
                        f"{head_dim or hidden // heads} dims) are not supported")
    tied = "output.weight" not in infos
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": int(hidden),
        "intermediate_size": int(ffn),
        "num_hidden_layers": n_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "rms_norm_eps": _clean_float(_meta_float(meta, "llama.attention.layer_norm_rms_epsilon", 1e-5)),
        "rope_theta": _clean_float(_meta_float(meta, "llama.rope.freq_base", 10000.0)),
        "rope_traditional": False,  # q/k rows are un-permuted back to the HF layout
        "vocab_size": int(vocab),
        "max_position_embeddings": int(_meta_int(meta, "llama.context_length", 2048)),
        "tie_word_embeddings": tied,
        "attention_bias": any(n.startswith("blk.0.attn_") and n.endswith(".bias") for n in infos),
        "mlp_bias": any(n.startswith("blk.0.ffn_") and n.endswith(".bias") for n in infos),
    }
    if head_dim is not None:
        config["head_dim"] = int(head_dim)
    if (scaling := _rope_scaling(meta)) is not None:
        config["rope_scaling"] = scaling
    if rope_freqs is not None:
        config["rope_scaling"] = {"rope_type": "llama3"}  # parameters filled in from the tensor later

    if isinstance(meta.get("tokenizer.ggml.bos_token_id"), int):
        config["bos_token_id"] = meta["tokenizer.ggml.bos_token_id"]
    if eos := eos_ids(meta):
        config["eos_token_id"] = eos[0] if len(eos) == 1 else eos
    return config


def _rope_scaling(meta: dict) -> dict | None:
    kind = _meta_str(meta, "llama.rope.scaling.type", "none")
    factor = _meta_float(meta, "llama.rope.scaling.factor", 1.0)
    if kind == "none" or (kind == "linear" and factor == 1.0):
        return None
    if kind == "linear":
        return {"type": "linear", "factor": _clean_float(factor)}
    raise MlxkError("unsupported_format", f"rope scaling {kind[:60]!r} is not supported", rope_scaling=kind[:60])


def llama3_rope_factors(head_dim: int, theta: float, factor: float, low: float = 1.0,
                        high: float = 4.0, original: int = 8192) -> list[float]:
    """The per-frequency divisors llama.cpp stores as ``rope_freqs`` for llama3 scaling."""
    out = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi * theta ** (i / head_dim)
        if wavelen < original / high:
            out.append(1.0)
        elif wavelen > original / low:
            out.append(factor)
        else:
            smooth = (original / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return out


def _llama3_scaling(config: dict, freqs: list[float]) -> dict:
    """Recognise llama3 rope scaling (as Llama 3.1/3.2 ship it) from the stored factors."""
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    factor = max(freqs)
    expected = llama3_rope_factors(head_dim, config["rope_theta"], factor)
    if len(freqs) != len(expected) or any(abs(a - b) > 1e-3 * b for a, b in zip(freqs, expected)):
        raise MlxkError("unsupported_format", "rope_freqs.weight does not match llama3 rope scaling "
                        "(factor, low 1, high 4, original context 8192)", tensor="rope_freqs.weight")
    return {"rope_type": "llama3", "factor": _clean_float(factor), "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


# -- building ------------------------------------------------------------------

def _unpermute(a, n_head: int):
    """Undo llama.cpp's q/k row permutation (rotary pairs interleaved per head)
    to get the HF layout.  Rows only, so it applies alike to float weights,
    packed quantized weights and their scales/biases (quantized along columns)."""
    rows = a.shape[0]
    return a.reshape(n_head, rows // n_head // 2, 2, *a.shape[1:]).swapaxes(1, 2).reshape(a.shape)


def _build(src: Path, out: Path, header: GGUFHeader, plan: dict, emit: Progress, provenance: dict,
           max_shard_bytes: int | None) -> dict:
    import mlx.core as mx

    config = plan["config"]
    emit(_event("load", 0, 1))
    try:
        loaded = mx.load(str(src), format="gguf")
    except (RuntimeError, ValueError) as e:
        raise MlxkError("unsupported_format", f"{src.name}: mlx cannot read it: {e}", path=str(src)) from None
    emit(_event("load", 1, 1))
    if plan["rope_freqs"] is not None:
        config["rope_scaling"] = _llama3_scaling(config, loaded["rope_freqs.weight"].astype(mx.float32).tolist())
    heads = {"attn_q": config["num_attention_heads"], "attn_k": config["num_key_value_heads"]}
    weights: dict = {}
    bits_of: dict[str, int] = {}  # quantized module -> bits
    total = len(plan["names"])
    for done, (gname, hname) in enumerate(plan["names"].items(), 1):
        info = plan["infos"][gname]
        base = gname[: -len(".weight")] if gname.endswith(".weight") else None
        parts = {hname: loaded[gname]}
        if info.type_name in QUANT_BITS:
            module = hname[: -len(".weight")]
            bits_of[module] = QUANT_BITS[info.type_name]
            parts[f"{module}.scales"] = loaded[f"{base}.scales"]
            parts[f"{module}.biases"] = loaded[f"{base}.biases"]
        elif info.type_name == "BF16":
            # mlx reads BF16 as float16; refuse values that did not survive that.
            if not mx.all(mx.isfinite(parts[hname])).item():
                raise MlxkError("unsupported_format", f"tensor {gname!r}: BF16 values overflow float16",
                                tensor=gname)
        n_head = heads.get(gname.split(".")[2]) if gname.startswith("blk.") else None
        for key, value in parts.items():
            weights[key] = _unpermute(value, n_head) if n_head else value
        emit(_event("tensors", done, total))
    if bits_of:
        config["quantization"] = _quantization(bits_of)
        config["quantization_config"] = config["quantization"]
    del loaded

    emit(_event("write", 0, 1))
    write_shards(out, weights, max_shard_bytes or parse_shard_size(DEFAULT_MAX_SHARD))
    del weights
    _write_json(out / "config.json", dict(sorted(config.items())))
    meta = header.metadata
    emit(_event("tokenizer", 0, 1))
    write_tokenizer_files(out, meta, config["max_position_embeddings"])
    emit(_event("tokenizer", 1, 1))
    (out / "README.md").write_text(_readme(src.name, meta, config), encoding="utf-8")
    emit(_event("write", 1, 1))
    emit(_event("index", 0, 1))
    provenance = {"source": src.name, **provenance}
    record = write_sentinel(out, operation=OPERATION, **provenance)
    emit(_event("index", 1, 1))
    return {
        "source": provenance["source"],
        "model_type": "llama",
        "tensors": total,
        "quantization": config.get("quantization"),
        "tie_word_embeddings": config["tie_word_embeddings"],
        "size_bytes": sum(f["size"] for f in record["files"].values()),
        "files": sorted(record["files"]),
    }


def _quantization(bits_of: dict[str, int]) -> dict:
    """mlx-lm's form: the majority as defaults, per-module entries for the rest
    (mlx-lm's class_predicate looks module paths up in this dict first)."""
    counts: dict[int, int] = {}
    for b in bits_of.values():
        counts[b] = counts.get(b, 0) + 1
    majority = max(sorted(counts), key=lambda b: counts[b])
    quant: dict = {"group_size": GROUP_SIZE, "bits": majority, "mode": "affine"}
    for module, b in sorted(bits_of.items()):
        if b != majority:
            quant[module] = {"group_size": GROUP_SIZE, "bits": b, "mode": "affine"}
    return quant


def _write_json(path: Path, obj) -> None:
    import json

    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _base_model(meta: dict) -> str | None:
    """A Hub repo id for the model card's ``base_model``, only when the GGUF names one."""
    url = meta.get("general.base_model.0.repo_url") or meta.get("general.source.repo_url") or ""
    m = re.match(r"^https?://huggingface\.co/([\w.-]+/[\w.-]+)/?$", url)
    return m.group(1) if m else None


def _readme(source: str, meta: dict, config: dict) -> str:
    lines = ["---", "library_name: mlx", "tags:", "- mlx"]
    if base := _base_model(meta):
        lines.append(f"base_model: {base}")
    if isinstance(meta.get("general.license"), str):
        lines.append(f"license: {meta['general.license']}")
    lines.append("---")
    name = meta.get("general.name") or source
    by = f" by {meta['general.organization']}" if isinstance(meta.get("general.organization"), str) else ""
    quant = config.get("quantization")
    how = (f"{quant['bits']}-bit affine quantization, group size {quant['group_size']}"
           if quant else "unquantized weights")
    lines += ["", f"# {name}", "",
              f"{name}{by}, converted to MLX from the GGUF file `{source}` with "
              f"`mlxk-convert --from-gguf` ({how}; the GGUF's quantized blocks are kept as they are).", ""]
    return "\n".join(lines)
