"""CTranslate2 Whisper → MLX Whisper folder: the library behind ``mlxk-convert SRC DEST --from-ct2``.

faster-whisper's models are CTranslate2 folders: ``model.bin`` (one binary
file of named tensors), ``config.json`` (alignment heads, suppressed ids),
``tokenizer.json`` and ``vocabulary.txt``.  The result is a folder that
``mlx_audio.stt.load(path, strict=True)`` loads: ``model.safetensors`` under
mlx-audio's Whisper names, ``config.json`` with the ten ``n_*`` dimensions,
the tokenizer with Whisper's 1501 timestamp tokens added (faster-whisper's
tokenizer lacks them; mlx-audio looks ``<|0.00|>`` up), checked against
``vocabulary.txt``, and the processor files transformers' WhisperProcessor reads.

The ``model.bin`` layout (version 6, little-endian): u32 version, str spec
name, u32 revision, u32 variable count; per variable: str name, u8 rank,
u32 dims[rank], u8 dtype, u32 byte count, the bytes; then u32 alias count and
(alias, target) string pairs.  A str is a u16 length (NUL included) and bytes.
"""

from __future__ import annotations

import json
import mmap
import re
import struct
from collections.abc import Callable
from pathlib import Path

from mlxk_bin.convert.shards import DEFAULT_MAX_SHARD, parse_shard_size, write_shards
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.workspace_sentinel import write_sentinel

OPERATION = "convert-from-ct2"
SPEC = "WhisperSpec"
# CTranslate2 dtype codes -> numpy type names
_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
_FLOAT_CODES = {0, 4, 5}
N_TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|> in 0.02 s steps
SAMPLE_RATE, N_FFT, HOP_LENGTH, CHUNK_S = 16000, 400, 160, 30

Progress = Callable[[dict], None]


def _event(stage: str, done: int, total: int) -> dict:
    return {"event": "progress", "stage": stage, "done": done, "total": total}


def _bad(src: Path, why: str) -> MlxkError:
    return MlxkError("unsupported_format", f"{src}: {why}", path=str(src))


# -- reading model.bin ---------------------------------------------------------

class Variable:
    __slots__ = ("code", "name", "nbytes", "offset", "shape")

    def __init__(self, name, shape, code, offset, nbytes):
        self.name, self.shape, self.code, self.offset, self.nbytes = name, shape, code, offset, nbytes


def read_model_bin(path: Path) -> tuple[dict[str, Variable], dict[str, str], bytes]:
    """(variables by name, aliases, the file's bytes as an mmap) or unsupported_format."""
    with open(path, "rb") as fh:
        try:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            raise _bad(path, "empty file") from None
    pos = 0

    def take(fmt: str):
        nonlocal pos
        value = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value[0]

    def text() -> str:
        nonlocal pos
        n = take("H")
        raw = bytes(data[pos:pos + n])
        if len(raw) != n:
            raise struct.error("truncated string")
        pos += n
        return raw.rstrip(b"\0").decode("utf-8")

    try:
        version = take("I")
        if version != 6:
            raise _bad(path, f"CTranslate2 model.bin version {version} (only version 6 is read)")
        spec = text()
        if spec != SPEC:
            raise _bad(path, f"a {spec or 'unnamed'} model, not Whisper ({SPEC})")
        take("I")  # spec revision
        variables = {}
        for _ in range(take("I")):
            name = text()
            shape = tuple(take("I") for _ in range(take("B")))
            code, nbytes = take("B"), take("I")
            if pos + nbytes > len(data):
                raise struct.error("truncated tensor data")
            variables[name] = Variable(name, shape, code, pos, nbytes)
            pos += nbytes
        aliases = {}
        for _ in range(take("I")):
            alias = text()
            aliases[alias] = text()
    except (struct.error, UnicodeDecodeError) as exc:
        raise _bad(path, f"not a readable CTranslate2 model.bin ({exc})") from None
    return variables, aliases, data


def _array(data, var: Variable):
    import numpy as np

    if var.code not in _DTYPES:
        raise MlxkError("unsupported_format", f"{var.name}: unknown CTranslate2 dtype code {var.code}")
    dtype = np.dtype(_DTYPES[var.code]) if var.code != 5 else np.dtype("uint16")
    count = int(np.prod(var.shape)) if var.shape else 1
    if count * dtype.itemsize != var.nbytes:
        raise MlxkError("unsupported_format", f"{var.name}: {var.nbytes} bytes for shape {list(var.shape)}")
    return np.frombuffer(data, dtype=dtype, count=count, offset=var.offset).reshape(var.shape)


def _scalar(data, variables: dict, name: str) -> int:
    var = variables.get(name)
    if var is None:
        raise MlxkError("unsupported_format", f"model.bin has no {name}")
    return int(_array(data, var).reshape(-1)[0])


# -- the name mapping -------------------------------------------------------------

_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)/(weight|bias|gamma|beta)$")
_NORMS = {"self_attention/layer_norm": "attn_ln", "attention/layer_norm": "cross_attn_ln",
          "ffn/layer_norm": "mlp_ln"}
_LINEARS = {"self_attention/linear_1": "attn.out", "attention/linear_0": "cross_attn.query",
            "attention/linear_2": "cross_attn.out", "ffn/linear_0": "mlp1", "ffn/linear_1": "mlp2"}
# fused projections: CT2 name -> the MLX modules its rows split into, in order
_FUSED = {"self_attention/linear_0": ("attn.query", "attn.key", "attn.value"),
          "attention/linear_1": ("cross_attn.key", "cross_attn.value")}
_GLOBAL = {"encoder/conv1/weight": "encoder.conv1.weight", "encoder/conv1/bias": "encoder.conv1.bias",
           "encoder/conv2/weight": "encoder.conv2.weight", "encoder/conv2/bias": "encoder.conv2.bias",
           "encoder/layer_norm/gamma": "encoder.ln_post.weight", "encoder/layer_norm/beta": "encoder.ln_post.bias",
           "decoder/layer_norm/gamma": "decoder.ln.weight", "decoder/layer_norm/beta": "decoder.ln.bias",
           "decoder/embeddings/weight": "decoder.token_embedding.weight",
           "decoder/position_encodings/encodings": "decoder.positional_embedding"}
# Recomputed by mlx-audio (sinusoids) or settings rather than tensors.
_SKIP = {"encoder/position_encodings/encodings"}
_SETTINGS = re.compile(r"^(encoder|decoder)/(num_heads|activation|alibi|alignment_heads|alignment_layer|pre_norm|"
                       r"scale_embeddings|start_from_zero_embedding|embeddings_merge|layernorm_embedding|"
                       r"rms_norm|multi_query|rotary_.*)$")


def map_weights(variables: dict, data) -> dict:
    """MLX name -> numpy array, every tensor of the source accounted for."""
    import numpy as np

    out = {}
    for name, var in variables.items():
        if name in _SKIP or _SETTINGS.match(name):
            continue
        if name.endswith("_scale") or var.code == 1:
            raise MlxkError("unsupported_format", "an int8-quantized CTranslate2 model: only float16/float32 "
                            "sources can be imported", variable=name,
                            hint="convert the original model with ct2-transformers-converter without --quantization")
        if var.code not in _FLOAT_CODES:
            raise MlxkError("unsupported_format", f"{name}: unexpected {_DTYPES.get(var.code, var.code)} tensor")
        arr = _array(data, var)
        if name in _GLOBAL:
            target = _GLOBAL[name]
            if target.endswith(("conv1.weight", "conv2.weight")):
                arr = np.ascontiguousarray(arr.transpose(0, 2, 1))  # (out, in, k) -> (out, k, in)
            out[target] = arr
            continue
        m = _LAYER.match(name)
        if not m:
            raise MlxkError("unsupported_format", f"model.bin holds {name}, which has no MLX Whisper counterpart")
        side, index, module, leaf = m.groups()
        prefix = f"{side}.blocks.{index}."
        leaf = {"gamma": "weight", "beta": "bias"}.get(leaf, leaf)
        if module in _NORMS:
            out[prefix + _NORMS[module] + "." + leaf] = arr
        elif module in _LINEARS:
            out[prefix + _LINEARS[module] + "." + leaf] = arr
        elif module in _FUSED:
            parts = _FUSED[module]
            if arr.shape[0] % len(parts):
                raise MlxkError("unsupported_format", f"{name}: {arr.shape[0]} rows do not split in {len(parts)}")
            for part, piece in zip(parts, np.split(arr, len(parts), axis=0)):
                if part.endswith("key") and leaf == "bias":
                    # Whisper's key projections have no bias; CT2 stores zeros in the fused one
                    if np.any(piece):
                        raise MlxkError("unsupported_format", f"{name}: a non-zero key bias (not Whisper)")
                    continue
                out[prefix + part + "." + leaf] = np.ascontiguousarray(piece)
        else:
            raise MlxkError("unsupported_format", f"model.bin holds {name}, which has no MLX Whisper counterpart")
    return out


def dimensions(variables: dict, data) -> dict:
    """The ten ``n_*`` of mlx-audio's ModelDimensions, from tensor shapes."""
    def shape(name):
        if name not in variables:
            raise MlxkError("unsupported_format", f"model.bin has no {name}: not a Whisper model")
        return variables[name].shape

    def layers(side):
        return len({m.group(2) for n in variables if (m := _LAYER.match(n)) and m.group(1) == side})

    conv1 = shape("encoder/conv1/weight")
    vocab, text_state = shape("decoder/embeddings/weight")
    enc_pos = variables.get("encoder/position_encodings/encodings")
    return {"n_mels": conv1[1], "n_audio_ctx": enc_pos.shape[0] if enc_pos else 1500,
            "n_audio_state": conv1[0], "n_audio_head": _scalar(data, variables, "encoder/num_heads"),
            "n_audio_layer": layers("encoder"), "n_vocab": vocab,
            "n_text_ctx": shape("decoder/position_encodings/encodings")[0], "n_text_state": text_state,
            "n_text_head": _scalar(data, variables, "decoder/num_heads"), "n_text_layer": layers("decoder")}


# -- the tokenizer -----------------------------------------------------------------

def timestamp_tokens() -> list[str]:
    return [f"<|{i * 0.02:.2f}|>" for i in range(N_TIMESTAMPS)]


def build_tokenizer(src: Path, n_vocab: int) -> tuple[dict, int]:
    """faster-whisper's tokenizer.json plus the timestamp tokens, checked id
    by id against vocabulary.txt: (tokenizer, id of ``<|notimestamps|>``)."""
    try:
        tokenizer = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
        vocabulary = (src / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(src, f"tokenizer.json or vocabulary.txt unreadable ({exc})") from None
    if vocabulary and vocabulary[-1] == "":
        vocabulary.pop()
    added = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", [])}
    no_ts = added.get("<|notimestamps|>")
    if no_ts is None:
        raise _bad(src, "tokenizer.json has no <|notimestamps|> token")
    begin = no_ts + 1
    stamps = timestamp_tokens()
    have = [t for t in stamps if t in added]
    if have and len(have) != len(stamps):
        raise _bad(src, f"tokenizer.json has {len(have)} of the {len(stamps)} timestamp tokens")
    if not have:
        if max(added.values()) >= begin:
            raise _bad(src, f"tokenizer.json uses ids from {begin} on, where the timestamp tokens go")
        tokenizer["added_tokens"] += [
            {"id": begin + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": False} for i, t in enumerate(stamps)]
    # vocabulary.txt lists every id's token: the model, the added tokens and the timestamps must agree.
    if len(vocabulary) != n_vocab or begin + N_TIMESTAMPS != n_vocab:
        raise _bad(src, f"vocabulary.txt has {len(vocabulary)} tokens, the model {n_vocab}, the tokenizer "
                        f"{begin + N_TIMESTAMPS} with timestamps")
    ids = dict(tokenizer["model"]["vocab"])
    ids.update({t["content"]: t["id"] for t in tokenizer["added_tokens"]})
    wrong = [i for i, token in enumerate(vocabulary) if ids.get(token) != i]
    if wrong:
        raise _bad(src, f"tokenizer.json and vocabulary.txt disagree at {len(wrong)} ids "
                        f"(first: {wrong[0]} = {vocabulary[wrong[0]]!r})")
    return tokenizer, no_ts


# -- the job ---------------------------------------------------------------------------

class CT2Job:
    """Plan checked up front (``prepare_ct2``), written by ``build`` into the staging folder."""

    def __init__(self, src: Path, weights: dict, ct2_config: dict, dims: dict, dtype: str | None,
                 emit: Progress, provenance: dict):
        self.src, self.weights = src, weights
        self.ct2_config, self.dims, self.dtype, self.emit = ct2_config, dims, dtype, emit
        self.provenance = provenance

    def build(self, out: Path) -> dict:
        import mlx.core as mx

        emit = self.emit
        emit(_event("tensors", 0, 1))
        weights, self.weights = self.weights, None
        source_dtype = str(next(iter(weights.values())).dtype)
        target = self.dtype or source_dtype
        # np.array copies out of the mmap: the source file can be closed before the write ends
        weights = {k: mx.array(v).astype(getattr(mx, target)) for k, v in weights.items()}
        emit(_event("tensors", 1, 1))
        emit(_event("write", 0, 1))
        tensors = len(weights)
        write_shards(out, weights, parse_shard_size(DEFAULT_MAX_SHARD))
        del weights
        tokenizer, no_ts = build_tokenizer(self.src, self.dims["n_vocab"])
        _write_json(out / "tokenizer.json", tokenizer)
        _write_processor_files(out, self.dims, self.ct2_config, no_ts)
        _write_json(out / "config.json", {"model_type": "whisper", **self.dims, "torch_dtype": target})
        (out / "README.md").write_text(_readme(self.provenance["source"], target), encoding="utf-8")
        emit(_event("write", 1, 1))
        record = write_sentinel(out, operation=OPERATION, **self.provenance)
        return {**self.provenance, "operation": OPERATION, "model_type": "whisper", "tensors": tensors,
                "dtype": target, "quantization": None,
                "size_bytes": sum(f["size"] for f in record["files"].values()),
                "files": sorted(record["files"]), "warnings": []}


def prepare_ct2(src: Path, *, dtype: str | None = None, progress: Progress | None = None,
                **provenance) -> CT2Job:
    """Check a CTranslate2 Whisper folder and plan its import (nothing is written)."""
    src = Path(src)
    emit = progress or (lambda event: None)
    missing = [n for n in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt") if not (src / n).is_file()]
    if missing:
        raise MlxkError("unsupported_format", f"{src} is not a CTranslate2 Whisper folder (missing "
                        f"{', '.join(missing)})", path=str(src))
    emit(_event("header", 0, 1))
    try:
        ct2_config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(src / "config.json", f"unreadable ({exc})") from None
    if not isinstance(ct2_config, dict):
        raise _bad(src / "config.json", "not a JSON object")
    variables, _aliases, data = read_model_bin(src / "model.bin")
    dims = dimensions(variables, data)
    weights = map_weights(variables, data)  # int8 sources and unknown tensors are refused here
    build_tokenizer(src, dims["n_vocab"])  # a tokenizer mismatch fails before anything is written
    emit(_event("header", 1, 1))
    provenance.setdefault("source", src.name)
    return CT2Job(src, weights, ct2_config, dims, dtype, emit, provenance)


def _write_processor_files(out: Path, dims: dict, ct2_config: dict, no_ts: int) -> None:
    """What transformers' WhisperProcessor and mlx-audio's post-load hook read."""
    multilingual = dims["n_vocab"] >= 51865
    _write_json(out / "preprocessor_config.json", {
        "feature_extractor_type": "WhisperFeatureExtractor", "processor_class": "WhisperProcessor",
        "feature_size": dims["n_mels"], "sampling_rate": SAMPLE_RATE, "hop_length": HOP_LENGTH,
        "chunk_length": CHUNK_S, "n_fft": N_FFT, "n_samples": SAMPLE_RATE * CHUNK_S,
        "nb_max_frames": SAMPLE_RATE * CHUNK_S // HOP_LENGTH, "padding_side": "right", "padding_value": 0.0,
        "return_attention_mask": False})
    eot = "<|endoftext|>"
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "WhisperTokenizer", "processor_class": "WhisperProcessor",
        "model_max_length": dims["n_text_ctx"], "bos_token": eot, "eos_token": eot, "unk_token": eot,
        "pad_token": eot, "add_prefix_space": False, "errors": "replace"})
    _write_json(out / "special_tokens_map.json", {"bos_token": eot, "eos_token": eot, "unk_token": eot,
                                                  "pad_token": eot})
    generation = {"is_multilingual": multilingual, "no_timestamps_token_id": no_ts,
                  "max_length": dims["n_text_ctx"], "decoder_start_token_id": 50257,
                  "eos_token_id": 50256, "pad_token_id": 50256}
    heads = ct2_config.get("alignment_heads")
    if isinstance(heads, list) and all(isinstance(h, list) and len(h) == 2 for h in heads):
        generation["alignment_heads"] = heads
    if isinstance(ct2_config.get("suppress_ids"), list):
        generation["suppress_tokens"] = ct2_config["suppress_ids"]
    if isinstance(ct2_config.get("suppress_ids_begin"), list):
        generation["begin_suppress_tokens"] = ct2_config["suppress_ids_begin"]
    _write_json(out / "generation_config.json", generation)


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _readme(source: str, dtype: str) -> str:
    return "\n".join(["---", "library_name: mlx", "tags:", "- mlx", "- whisper", "- speech-to-text", "---", "",
                      f"# {source}", "",
                      (f"Whisper, imported from the CTranslate2 (faster-whisper) model `{source}` with "
                       f"`mlxk-convert --from-ct2` ({dtype} weights).  Run it with `mlx-run MODEL --audio FILE`."),
                      ""])
