"""Rebuild a Hugging Face tokenizer (``tokenizer.json`` and friends) from the
vocabulary a GGUF file carries in its ``tokenizer.ggml.*`` metadata.

Only byte-level BPE vocabularies (``tokenizer.ggml.model == "gpt2"``) are
rebuilt, with the pre-tokenizer that llama.cpp uses for the file's
``tokenizer.ggml.pre`` (its regexes, from llama-vocab.cpp).  Anything else is
refused with ``unsupported_format`` rather than approximated: a tokenizer that
is almost right makes a model that is quietly wrong.
"""

from __future__ import annotations

from pathlib import Path

from mlxk_common.errors import MlxkError

# The GPT-2 split regex (what ByteLevel(use_regex=True) applies by itself).
_GPT2 = ("gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
         "a.x-4.0", "mellum", "mpt", "olmo", "jais", "trillion", "exaone4", "granite-docling")
# Each digit on its own, then the GPT-2 regex.
_DIGITS_GPT2 = ("smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b")
_LLAMA3 = ("llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
           "lfm2", "dbrx", "smaug-bpe")
_QWEN2 = ("qwen2", "deepseek-r1-qwen", "megrez", "stablelm2")
LLAMA3_REGEX = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"
                r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"
               r"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SUPPORTED_PRE = _GPT2 + _DIGITS_GPT2 + _LLAMA3 + _QWEN2

TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4


def _pre_tokenizer(pre: str):
    """(pre_tokenizer, llama.cpp's ignore_merges, llama.cpp's default add_bos) for ``pre``."""
    from tokenizers import Regex
    from tokenizers import pre_tokenizers as pt

    if pre in _GPT2:
        return pt.ByteLevel(add_prefix_space=False, use_regex=True), False, False
    if pre in _DIGITS_GPT2:
        return pt.Sequence([pt.Digits(individual_digits=True),
                            pt.ByteLevel(add_prefix_space=False, use_regex=True)]), False, False
    regex, ignore_merges, add_bos = (LLAMA3_REGEX, True, True) if pre in _LLAMA3 else (QWEN2_REGEX, False, False)
    return pt.Sequence([pt.Split(Regex(regex), behavior="isolated", invert=False),
                        pt.ByteLevel(add_prefix_space=False, use_regex=False)]), ignore_merges, add_bos


def _shown(value) -> str:
    return repr(value[:60]) if isinstance(value, str) else type(value).__name__


def check_supported(meta: dict) -> None:
    """Raise ``unsupported_format`` unless ``meta`` holds a vocabulary this
    module rebuilds, every value of the type the rebuild uses."""
    model = meta.get("tokenizer.ggml.model")
    pre = meta.get("tokenizer.ggml.pre", "default")
    if model != "gpt2":
        raise MlxkError("unsupported_format",
                        f"tokenizer model {_shown(model)} is not supported (only byte-level BPE, 'gpt2')",
                        tokenizer_model=model if isinstance(model, str) else None)
    if not isinstance(pre, str) or pre not in SUPPORTED_PRE:
        raise MlxkError("unsupported_format",
                        f"pre-tokenizer {_shown(pre)} is not supported (supported: {', '.join(SUPPORTED_PRE)})",
                        tokenizer_pre=pre[:60] if isinstance(pre, str) else None)
    tokens = meta.get("tokenizer.ggml.tokens")
    merges = meta.get("tokenizer.ggml.merges")
    if not tokens or merges is None:
        raise MlxkError("unsupported_format", "the GGUF has no tokenizer vocabulary or merges")
    _check_types(meta, tokens, merges)


def _malformed(what: str) -> MlxkError:
    return MlxkError("unsupported_format", f"the GGUF's tokenizer metadata is malformed: {what}")


def _check_types(meta: dict, tokens, merges) -> None:
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise _malformed("tokenizer.ggml.tokens is not a list of strings")
    if not isinstance(merges, list) or not all(isinstance(m, str) and " " in m for m in merges):
        raise _malformed("tokenizer.ggml.merges is not a list of 'a b' strings")
    types = meta.get("tokenizer.ggml.token_type")
    if types is not None and (not isinstance(types, list) or not all(type(t) is int for t in types)):
        raise _malformed("tokenizer.ggml.token_type is not a list of integers")
    for key in _ID_KEYS.values():
        idx = meta.get(f"tokenizer.ggml.{key}")
        if idx is not None and (type(idx) is not int or not 0 <= idx < len(tokens)):
            raise _malformed(f"tokenizer.ggml.{key} is not a token id")
    for key in ("eot_token_id", "eom_token_id"):
        idx = meta.get(f"tokenizer.ggml.{key}")
        if idx is not None and (type(idx) is not int or not 0 <= idx < len(tokens)):
            raise _malformed(f"tokenizer.ggml.{key} is not a token id")
    for key in ("add_bos_token", "add_eos_token"):
        if meta.get(f"tokenizer.ggml.{key}") is not None and type(meta[f"tokenizer.ggml.{key}"]) is not bool:
            raise _malformed(f"tokenizer.ggml.{key} is not a boolean")
    template = meta.get("tokenizer.chat_template")
    if template is not None and not isinstance(template, str):
        raise _malformed("tokenizer.chat_template is not a string")


def build_tokenizer(meta: dict):
    """A ``tokenizers.Tokenizer`` equal to the GGUF's byte-level BPE vocabulary."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, processors

    check_supported(meta)
    tokens: list[str] = meta["tokenizer.ggml.tokens"]
    types: list[int] = list(meta.get("tokenizer.ggml.token_type") or [1] * len(tokens))
    pre_tok, ignore_merges, default_bos = _pre_tokenizer(meta.get("tokenizer.ggml.pre", "default"))
    vocab: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        vocab.setdefault(tok, i)  # a duplicate string keeps its first id, as llama.cpp's lookup does
    merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
    try:
        tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges,
                                   fuse_unk=False, byte_fallback=False))
    except Exception as e:  # the tokenizers library says what is inconsistent
        raise MlxkError("unsupported_format", f"the GGUF vocabulary does not form a BPE tokenizer: {e}") from None
    tok.pre_tokenizer = pre_tok
    tok.decoder = decoders.ByteLevel()
    special = [AddedToken(t, special=True, normalized=False)
               for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_CONTROL]
    user = [AddedToken(t, special=False, normalized=False)
            for t, ty in zip(tokens, types) if ty == TOKEN_TYPE_USER_DEFINED]
    tok.add_special_tokens(special)
    tok.add_tokens(user)
    bos_id = meta.get("tokenizer.ggml.bos_token_id")
    if meta.get("tokenizer.ggml.add_bos_token", default_bos) and bos_id is not None:
        bos = tokens[bos_id]
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1", special_tokens=[(bos, bos_id)])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


_ID_KEYS = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id",
            "pad": "padding_token_id"}


def _token(meta: dict, key: str) -> str | None:
    idx = meta.get(f"tokenizer.ggml.{_ID_KEYS[key]}")
    tokens = meta["tokenizer.ggml.tokens"]
    return tokens[idx] if isinstance(idx, int) and 0 <= idx < len(tokens) else None


def eos_ids(meta: dict) -> list[int]:
    """EOS plus end-of-turn/-message ids: generation must stop at any of them."""
    ids = []
    for key in ("eos", "eot", "eom"):
        idx = meta.get(f"tokenizer.ggml.{key}_token_id")
        if isinstance(idx, int) and idx not in ids:
            ids.append(idx)
    return ids


def chat_template(meta: dict):
    """The default template, or HF's list form when the GGUF also names others."""
    default = meta.get("tokenizer.chat_template")
    named = {k.rsplit(".", 1)[1]: v for k, v in meta.items()
             if k.startswith("tokenizer.chat_template.") and isinstance(v, str)}
    if not named:
        return default
    out = [{"name": "default", "template": default}] if default else []
    return out + [{"name": n, "template": t} for n, t in sorted(named.items())]


def write_tokenizer_files(folder: Path, meta: dict, model_max_length: int | None) -> list[str]:
    """Write tokenizer.json, tokenizer_config.json, special_tokens_map.json and
    generation_config.json into ``folder``; return the file names."""
    import json

    tok = build_tokenizer(meta)
    tok.save(str(folder / "tokenizer.json"))
    special = {f"{k}_token": t for k in ("bos", "eos", "unk", "pad") if (t := _token(meta, k)) is not None}
    _, _, default_bos = _pre_tokenizer(meta.get("tokenizer.ggml.pre", "default"))
    config = {
        "add_bos_token": bool(meta.get("tokenizer.ggml.add_bos_token", default_bos)),
        "add_eos_token": bool(meta.get("tokenizer.ggml.add_eos_token", False)),
        **special,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length or 1_000_000_000_000_000_019_884_624_838_656,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    if (template := chat_template(meta)) is not None:
        config["chat_template"] = template
    gen = {f"{k}_token_id": meta[f"tokenizer.ggml.{_ID_KEYS[k]}"] for k in ("bos", "pad")
           if isinstance(meta.get(f"tokenizer.ggml.{_ID_KEYS[k]}"), int)}
    if eos := eos_ids(meta):
        gen["eos_token_id"] = eos[0] if len(eos) == 1 else eos
    files = {"tokenizer_config.json": config, "special_tokens_map.json": special,
             "generation_config.json": gen}
    for name, obj in files.items():
        (folder / name).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ["tokenizer.json", *files]
