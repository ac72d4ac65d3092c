"""Embeddings: vectors for texts, from embedding models or (when allowed) chat models.

``load_embed_engine(located)`` loads an embedding model (BERT family,
Qwen3-Embedding style decoders, whatever mlx-embeddings has a module for)
with mlx-embeddings' model classes, and reads how the model wants its vectors
made from its sentence-transformers files: ``modules.json`` (a ``Normalize``
module means unit length) and ``1_Pooling/config.json`` (cls, mean, max,
mean_sqrt_len or last-token pooling).  A model without them gets what its
kind is trained for: mean pooling for encoders, the last token for
decoders, normalised either way.

``LlmEmbedder(text_engine)`` makes vectors from a chat/base model that
mlx-lm loaded: the mean of the last hidden state (after the final norm) over
the input's tokens, normalised to unit length.  Such vectors are not what an
embedding model gives; mlxk-serve offers them only with --allow-llm-embeddings.

Both have the same shape: ``tokenize(texts)``, ``check(ids)``,
``embed(token_lists) -> numpy float32 (n, dim)`` (one padded forward pass
for the whole list: callers bound the list), ``dim``, ``context_length``.
Everything runs on the caller's thread (mlxk-serve's engine thread).
"""

from __future__ import annotations

import os
import time

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import Located
from mlxk_common.inventory.runtime import embedder_route, mlx_embeddings_supports, read_front_matter

# sentence-transformers' pooling modes, in the order it concatenates them.
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len", "lasttoken")
_POOLING_KEYS = {"pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max",
                 "pooling_mode_mean_tokens": "mean", "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
                 "pooling_mode_lasttoken": "lasttoken"}
_NORMALIZE_MODULE = "sentence_transformers.models.Normalize"
_POOLING_MODULE = "sentence_transformers.models.Pooling"


def _json(files, name: str):
    if not files.is_file(name):
        return None
    return files.json(name)[0]


def pooling_of(located: Located) -> tuple[tuple[str, ...], bool]:
    """(pooling modes, normalise) as the model's sentence-transformers files
    declare them; the defaults for its kind when it has none."""
    files = located.files
    modules = _json(files, "modules.json")
    pooling_dir, normalize = None, None
    if isinstance(modules, list):
        normalize = False
        for module in modules:
            if not isinstance(module, dict):
                continue
            kind = str(module.get("type", ""))
            if kind == _NORMALIZE_MODULE:
                normalize = True
            elif kind == _POOLING_MODULE:
                pooling_dir = str(module.get("path") or "1_Pooling")
    pooling_dir = pooling_dir or "1_Pooling"
    config = _json(files, f"{pooling_dir}/config.json")
    modes: tuple[str, ...] = ()
    if isinstance(config, dict):
        if config.get("pooling_mode_weightedmean_tokens"):
            raise MlxkError("unhealthy", f"{located.name}: weighted-mean pooling is not supported",
                            model=located.name, reason="pooling_mode_weightedmean_tokens")
        declared = {_POOLING_KEYS[k] for k, v in config.items() if k in _POOLING_KEYS and v is True}
        modes = tuple(m for m in POOLING_MODES if m in declared)
    if not modes:
        decoder = embedder_route(located.config, located.name) == "decoder"
        modes = ("lasttoken",) if decoder else ("mean",)
    return modes, True if normalize is None else normalize


def matryoshka(located: Located) -> bool:
    """Trained so that a prefix of the vector is itself an embedding (the
    model card's ``matryoshka`` tag, or a Qwen3-Embedding): then a request may
    ask for fewer ``dimensions``."""
    tags = {t.lower() for t in read_front_matter(located.path, located.files)["tags"]}
    return "matryoshka" in tags or "qwen3-embedding" in located.name.lower()


def pool(hidden, mask, modes: tuple[str, ...], normalize: bool):
    """(batch, seq, dim) hidden states and a (batch, seq) 0/1 mask of real
    (right-padded) tokens -> (batch, dim') pooled vectors, as mlx arrays."""
    import mlx.core as mx

    hidden = hidden.astype(mx.float32)
    m = mask.astype(mx.float32)[..., None]
    lengths = mx.maximum(m.sum(axis=1), 1.0)
    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode == "max":
            parts.append(mx.where(m > 0, hidden, -mx.inf).max(axis=1))
        elif mode == "mean":
            parts.append((hidden * m).sum(axis=1) / lengths)
        elif mode == "mean_sqrt_len":
            parts.append((hidden * m).sum(axis=1) / mx.sqrt(lengths))
        elif mode == "lasttoken":
            last = (mask.astype(mx.int32).sum(axis=1) - 1).astype(mx.int32)
            parts.append(mx.take_along_axis(hidden, last[:, None, None], axis=1)[:, 0])
    out = parts[0] if len(parts) == 1 else mx.concatenate(parts, axis=-1)
    if normalize:
        out = out / mx.maximum(mx.linalg.norm(out, axis=-1, keepdims=True), 1e-12)
    return out


def _pad(token_lists: list[list[int]], pad_id: int):
    import mlx.core as mx
    import numpy as np

    width = max(len(t) for t in token_lists)
    ids = np.full((len(token_lists), width), pad_id, dtype=np.int32)
    mask = np.zeros((len(token_lists), width), dtype=np.int32)
    for row, tokens in enumerate(token_lists):
        ids[row, :len(tokens)] = tokens
        mask[row, :len(tokens)] = 1
    return mx.array(ids), mx.array(mask)


def normalized(vectors, normalize: bool):
    """Unit length again after cutting vectors to fewer dimensions (numpy)."""
    import numpy as np

    if not normalize:
        return vectors
    norms = np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)
    return (vectors / norms).astype(np.float32)


class _Tokenizer:
    """tokenizer.json through ``tokenizers`` (with the model's special tokens
    around each text, as sentence-transformers adds them)."""

    def __init__(self, path: str):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()
        self.vocab_size = self.tok.get_vocab_size(with_added_tokens=True)
        pad = self.tok.token_to_id("[PAD]")
        if pad is None:
            pad = self.tok.token_to_id("<pad>")
        self.pad_id = pad or 0

    def encode(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=True)]


class EmbedEngine:
    """A loaded embedding model."""

    kind = "embedding"

    def __init__(self, info: Located, model, tokenizer: _Tokenizer, load_s: float):
        self.info = info
        self.model = model
        self.tokenizer = tokenizer
        self.load_s = load_s
        self.context_length = info.context_length
        self.modes, self.normalize = pooling_of(info)
        self.matryoshka = matryoshka(info)
        # The model's embedding table decides which ids are valid.
        vocab = (info.config or {}).get("vocab_size")
        self.vocab_size = vocab if isinstance(vocab, int) and vocab > 0 else tokenizer.vocab_size
        self.dim = None  # known after the first forward pass

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer.encode(texts)

    def embed(self, token_lists: list[list[int]]):
        import mlx.core as mx
        import numpy as np

        ids, mask = _pad(token_lists, self.tokenizer.pad_id)
        out = self.model(ids, attention_mask=mask)
        hidden = getattr(out, "last_hidden_state", None)
        if hidden is None:  # a model that only gives its own pooled vectors
            vectors = out.text_embeds.astype(mx.float32)
        else:
            vectors = pool(hidden, mask, self.modes, self.normalize)
        result = np.array(vectors, dtype=np.float32)
        self.dim = result.shape[-1]
        return result


class LlmEmbedder:
    """Vectors from a text model mlx-lm loaded: the mean of its last hidden
    state (after the final norm) over the input's tokens, unit length."""

    kind = "llm"
    matryoshka = False
    normalize = True

    def __init__(self, text_engine):
        inner = getattr(text_engine.model, "model", None)
        if inner is None or not callable(inner):
            raise MlxkError("capability_not_supported",
                            f"{text_engine.info.name}: its hidden states are not reachable for embeddings",
                            model=text_engine.info.name)
        self.inner = inner
        self.info = text_engine.info
        self.tokenizer = text_engine.tokenizer
        self.context_length = text_engine.context_length
        self.vocab_size = text_engine.vocab_size
        self.dim = None

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [list(self.tokenizer.encode(t)) for t in texts]

    def embed(self, token_lists: list[list[int]]):
        import numpy as np

        # Right padding: attention is causal, so no real token sees a pad.
        ids, mask = _pad(token_lists, 0)
        hidden = self.inner(ids)
        result = np.array(pool(hidden, mask, ("mean",), True), dtype=np.float32)
        self.dim = result.shape[-1]
        return result


def check_tokens(engine, token_lists: list[list[int]]) -> None:
    """Refuse empty inputs, unknown token ids and inputs over the model's window."""
    window = engine.context_length
    for index, tokens in enumerate(token_lists):
        if not tokens:
            raise MlxkError("usage_error", f"input {index} is empty", index=index)
        if window and len(tokens) > window:
            raise MlxkError("context_length_exceeded",
                            f"input {index} has {len(tokens)} tokens; this model takes at most {window}",
                            index=index, prompt_tokens=len(tokens), context_length=window)
        if engine.vocab_size and any(not 0 <= t < engine.vocab_size for t in tokens):
            raise MlxkError("usage_error", f"input {index} has a token id outside 0..{engine.vocab_size - 1}",
                            index=index)


def load_embed_engine(info: Located) -> EmbedEngine:
    """Load an embedding model with mlx-embeddings' model classes."""
    name = os.path.basename(info.path)
    config = info.require_config()
    if not mlx_embeddings_supports(config):
        raise MlxkError("unhealthy", f"{name}: model_type {info.architecture!r} is not supported by the "
                        "installed mlx-embeddings (or it is not installed: the 'embeddings' extra)",
                        path=str(info.path), runtime_compatible=False)
    if not os.path.isfile(os.path.join(info.path, "tokenizer.json")):
        raise MlxkError("unhealthy", f"{name} has no tokenizer.json", path=str(info.path),
                        reason="tokenizer.json missing")
    start = time.perf_counter()
    from pathlib import Path

    from mlx_embeddings.utils import load_model

    try:
        model = load_model(Path(info.path), path_to_repo=str(info.path))
        tokenizer = _Tokenizer(info.path)
    except Exception as exc:  # noqa: BLE001 - broken files: a clear 'unhealthy', not a traceback
        message = " ".join(str(exc).split())[:300]
        raise MlxkError("unhealthy", f"cannot load {name}: {type(exc).__name__}" + (f": {message}" if message else ""),
                        path=str(info.path)) from None
    return EmbedEngine(info, model, tokenizer, time.perf_counter() - start)
