"""GGUF import (mlxk_bin.convert.gguf.convert_gguf) on the real SmolLM2 GGUF and on
tiny synthetic llamas of every supported GGML type."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fixtures.tiny_gguf import CHATML, HEADS, HIDDEN, KV_HEADS, llamacpp_permute, tiny_config, write_tiny_llama
from mlxk_common.errors import MlxkError
from mlxk_bin.convert.gguf import convert_gguf, llama3_rope_factors

N_LAYERS = 30
PROJ = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def _json(folder: Path, name: str):
    return json.loads((folder / name).read_text())


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".partial-" in p.name]


# -- the real model -----------------------------------------------------------

def test_tensor_names_shapes_and_format(smollm2_workspace):
    import mlx.core as mx

    weights, meta = mx.load(str(smollm2_workspace / "model.safetensors"), return_metadata=True)
    assert meta == {"format": "mlx"}
    expected = {"model.embed_tokens.weight", "model.embed_tokens.scales", "model.embed_tokens.biases",
                "model.norm.weight"}
    for i in range(N_LAYERS):
        expected |= {f"model.layers.{i}.input_layernorm.weight", f"model.layers.{i}.post_attention_layernorm.weight"}
        expected |= {f"model.layers.{i}.{p}.{s}" for p in PROJ for s in ("weight", "scales", "biases")}
    assert set(weights) == expected  # tied: no lm_head
    # 8-bit embedding (Q8_0): 576 inputs -> 144 uint32 words, 18 groups of 32
    assert weights["model.embed_tokens.weight"].shape == (49152, 144)
    assert weights["model.embed_tokens.weight"].dtype == mx.uint32
    assert weights["model.embed_tokens.scales"].shape == (49152, 18)
    # 4-bit projections (Q4_1); k has 3 kv heads of 64
    assert weights["model.layers.0.self_attn.q_proj.weight"].shape == (576, 72)
    assert weights["model.layers.0.self_attn.k_proj.weight"].shape == (192, 72)
    assert weights["model.layers.0.mlp.down_proj.weight"].shape == (576, 192)
    assert weights["model.layers.7.mlp.down_proj.scales"].dtype == mx.float16
    assert weights["model.norm.weight"].shape == (576,)


def test_config_fields(smollm2_workspace):
    config = _json(smollm2_workspace, "config.json")
    assert {k: config[k] for k in (
        "model_type", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "rms_norm_eps", "rope_theta", "vocab_size", "max_position_embeddings",
        "tie_word_embeddings", "rope_traditional", "bos_token_id", "eos_token_id")} == {
        "model_type": "llama", "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
        "num_attention_heads": 9, "num_key_value_heads": 3, "rms_norm_eps": 1e-5, "rope_theta": 100000.0,
        "vocab_size": 49152, "max_position_embeddings": 8192, "tie_word_embeddings": True,
        "rope_traditional": False, "bos_token_id": 1, "eos_token_id": 2}
    assert _json(smollm2_workspace, "generation_config.json") == {"bos_token_id": 1, "pad_token_id": 2,
                                                                    "eos_token_id": 2}


def test_quantization_majority_and_overrides(smollm2_workspace):
    config = _json(smollm2_workspace, "config.json")
    expected = {"group_size": 32, "bits": 4, "mode": "affine",
                "model.embed_tokens": {"group_size": 32, "bits": 8, "mode": "affine"}}
    assert config["quantization"] == expected
    assert config["quantization_config"] == expected


def test_qk_rows_are_unpermuted_to_hf_layout(smollm2_gguf, smollm2_workspace):
    """Converted q/k rows, permuted the way llama.cpp permutes HF weights, give
    back the GGUF's rows exactly: packed weights, scales and biases alike."""
    import mlx.core as mx

    gguf = mx.load(str(smollm2_gguf))
    ours = mx.load(str(smollm2_workspace / "model.safetensors"))
    for name, proj, heads in (("attn_q", "q_proj", 9), ("attn_k", "k_proj", 3)):
        for suffix in ("weight", "scales", "biases"):
            key = f"blk.3.{name}.{suffix}"
            converted = np.array(ours[f"model.layers.3.self_attn.{proj}.{suffix}"])
            assert not np.array_equal(converted, np.array(gguf[key]))  # it did move rows
            assert np.array_equal(llamacpp_permute(converted, heads), np.array(gguf[key]))
    # everything else is carried over unchanged
    assert np.array_equal(np.array(ours["model.layers.3.self_attn.v_proj.weight"]),
                          np.array(gguf["blk.3.attn_v.weight"]))


def test_readme_and_sentinel(smollm2_gguf, smollm2_workspace):
    from mlxk_common.inventory.workspace_sentinel import sha256_file

    readme = (smollm2_workspace / "README.md").read_text()
    front = readme.split("---\n")[1]
    assert "library_name: mlx" in front and "- mlx" in front and "license: apache-2.0" in front
    assert "Smollm2 135M" in readme and smollm2_gguf.name in readme
    sentinel = _json(smollm2_workspace, ".mlxk_workspace.json")
    assert sentinel["operation"] == "convert-from-gguf"
    assert sentinel["source"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert sentinel["managed"] is True
    assert sentinel["created_at"].endswith("Z") and sentinel["created_at"][10] == "T"
    files = sorted(p.name for p in smollm2_workspace.iterdir() if p.name != ".mlxk_workspace.json")
    assert sorted(sentinel["files"]) == files
    for name in ("config.json", "model.safetensors"):
        path = smollm2_workspace / name
        assert sentinel["files"][name] == {"size": path.stat().st_size, "sha256": sha256_file(path)}


# -- tokenizer: compared with an independent byte-level BPE over the GGUF vocabulary

def _bytes_to_unicode() -> dict[int, str]:
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars, n = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + n)
            n += 1
    return chars


class ReferenceBPE:
    """GPT-2 style BPE written from the algorithm, with SmolLM's pre-tokenizer
    (each digit alone, then the GPT-2 regex), special tokens matched first."""

    GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

    def __init__(self, tokens, types, merges):
        import regex

        self.vocab = {t: i for i, t in enumerate(tokens)}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        specials = sorted((t for t, ty in zip(tokens, types) if ty == 3), key=len, reverse=True)
        self.special_re = regex.compile("(" + "|".join(regex.escape(s) for s in specials) + ")")
        self.word_re = regex.compile(self.GPT2)
        self.digit_re = regex.compile(r"\p{N}|[^\p{N}]+")
        self.byte_char = _bytes_to_unicode()

    def _bpe(self, word: str) -> list[str]:
        parts = list(word)
        while len(parts) > 1:
            rank, i = min((self.ranks.get(pair, float("inf")), i) for i, pair in enumerate(zip(parts, parts[1:])))
            if rank == float("inf"):
                break
            a, b = parts[i], parts[i + 1]
            merged, j = [], 0
            while j < len(parts):
                if j + 1 < len(parts) and parts[j] == a and parts[j + 1] == b:
                    merged.append(a + b)
                    j += 2
                else:
                    merged.append(parts[j])
                    j += 1
            parts = merged
        return parts

    def encode(self, text: str) -> list[int]:
        ids = []
        for k, chunk in enumerate(self.special_re.split(text)):
            if k % 2:
                ids.append(self.vocab[chunk])
                continue
            for piece in self.digit_re.findall(chunk):
                for word in self.word_re.findall(piece):
                    mapped = "".join(self.byte_char[b] for b in word.encode("utf-8"))
                    ids += [self.vocab[p] for p in self._bpe(mapped)]
        return ids


SAMPLES = [
    "Hello, world!",
    "What is the capital of France?",
    "Ünïcödé: naïve café, Straße, Ελληνικά, 日本語のテキスト",
    "Emoji 🤖🎉👍🏽 and a flag 🇫🇷",
    "def add(a, b):\n    return a + b  # sum\n\n\tindented",
    "Numbers 1234567 and 3.14159, $99.99",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "  leading and trailing spaces   ",
    "don't you're we'll I'd they've",
    "<repo_name>mlxk<file_sep>src/main.py",
]


@pytest.fixture(scope="module")
def reference_bpe(smollm2_gguf):
    import mlx.core as mx

    _, meta = mx.load(str(smollm2_gguf), return_metadata=True)
    return ReferenceBPE(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"].tolist(),
                        meta["tokenizer.ggml.merges"])


@pytest.fixture(scope="module")
def hf_tokenizer(smollm2_workspace):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(smollm2_workspace))


@pytest.mark.parametrize("text", SAMPLES)
def test_tokenizer_matches_reference_bpe(text, smollm2_workspace, reference_bpe, hf_tokenizer):
    from tokenizers import Tokenizer

    expected = reference_bpe.encode(text)
    assert Tokenizer.from_file(str(smollm2_workspace / "tokenizer.json")).encode(text).ids == expected
    assert hf_tokenizer.encode(text, add_special_tokens=False) == expected
    assert hf_tokenizer.encode(text) == expected  # add_bos_token is false in the GGUF
    assert hf_tokenizer.decode(expected) == text


def test_special_tokens(hf_tokenizer):
    assert hf_tokenizer.bos_token == "<|im_start|>" and hf_tokenizer.eos_token == "<|im_end|>"
    assert hf_tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>", "<|endoftext|>"]) == [1, 2, 0]
    assert hf_tokenizer.decode([1, 9690, 2], skip_special_tokens=True) == hf_tokenizer.decode([9690])


def test_chat_template_renders_chatml(hf_tokenizer):
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = hf_tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt == ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
                      "<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                      "<|im_start|>assistant\n")


@pytest.mark.slow
def test_mlx_lm_loads_and_answers_paris(smollm2_workspace):
    from mlx_lm import generate, load

    model, tokenizer = load(str(smollm2_workspace))
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    text = generate(model, tokenizer, prompt, max_tokens=20)  # greedy by default
    assert "Paris" in text


# -- synthetic llamas: every supported GGML type, logits against a float reference

CASES = {  # weights, embedding, output (None: tied)
    "Q4_0+Q8_0-out": ("Q4_0", None, "Q8_0"),
    "Q4_1-tied": ("Q4_1", None, None),
    "Q8_0+Q4_0-emb+F16-out": ("Q8_0", "Q4_0", "F16"),
    "F16-tied": ("F16", None, None),
    "F32": ("F32", None, "F32"),
    "BF16-tied": ("BF16", None, None),
}


def _reference_logits(weights: dict, tied: bool, tokens):
    import mlx.core as mx
    from mlx_lm.models import llama

    model = llama.Model(llama.ModelArgs.from_dict(tiny_config(tied)))
    model.load_weights([(k, mx.array(v)) for k, v in weights.items()])
    return np.array(model(tokens).astype(mx.float32))


@pytest.mark.parametrize("case", CASES)
def test_synthetic_types_load_and_match_reference(case, tmp_path):
    import mlx.core as mx
    from mlx_lm import load

    weight_type, embed_type, output_type = CASES[case]
    src = tmp_path / "tiny.gguf"
    reference = write_tiny_llama(src, weight_type, embed_type=embed_type, output_type=output_type)
    summary = convert_gguf(src, tmp_path / "out")
    config = _json(tmp_path / "out", "config.json")
    assert config["tie_word_embeddings"] is (output_type is None)
    bits = {"Q4_0": 4, "Q4_1": 4, "Q8_0": 8}
    if weight_type in bits:
        assert config["quantization"]["bits"] == bits[weight_type]
        overrides = {k: v["bits"] for k, v in config["quantization"].items() if isinstance(v, dict)}
        expected = {}
        if embed_type:
            expected["model.embed_tokens"] = bits[embed_type]
        if output_type in bits and bits[output_type] != bits[weight_type]:
            expected["lm_head"] = bits[output_type]
        assert overrides == expected
    else:
        assert "quantization" not in config and summary["quantization"] is None

    model, tokenizer = load(str(tmp_path / "out"))
    # ids: 3 specials, then the 256 byte stand-ins, then one token per merge
    assert tokenizer.encode(" the cat") == [261, 3 + 32, 3 + ord("c"), 3 + ord("a"), 3 + ord("t")]
    tokens = mx.array([[5, 70, 80, 100, 7, 250, 40, 41]])
    ours = np.array(model(tokens).astype(mx.float32))
    expected = _reference_logits(reference, output_type is None, tokens)
    scale = np.abs(expected).max()
    # floats are exact; quantized models run in float16 activations: ~1% drift
    tolerance = 0.02 * scale if weight_type in bits or embed_type else 1e-3 * scale
    assert np.abs(ours - expected).max() < tolerance
    # the check can fail: the same weights in llama.cpp's q/k order are far off
    permuted = dict(reference)
    for i in range(2):
        for proj, heads in (("q_proj", HEADS), ("k_proj", KV_HEADS)):
            key = f"model.layers.{i}.self_attn.{proj}.weight"
            permuted[key] = llamacpp_permute(reference[key], heads)
    assert np.abs(_reference_logits(permuted, output_type is None, tokens) - expected).max() > 0.2 * scale


def test_synthetic_chat_template_and_eos(tmp_path):
    from transformers import AutoTokenizer

    write_tiny_llama(tmp_path / "t.gguf", "F16")
    convert_gguf(tmp_path / "t.gguf", tmp_path / "out")
    tok = AutoTokenizer.from_pretrained(str(tmp_path / "out"))
    assert tok.chat_template == CHATML
    assert tok.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                   tokenize=False) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert tok.eos_token == "<|im_end|>"


@pytest.mark.parametrize("pre, pieces, bos", [
    # GPT-2 regex: digit runs stay whole
    ("gpt-2", ["abc", "Ġ12345", "Ġdon", "'t", "Ċ"], False),
    # SmolLM/StarCoder: every digit alone first, then the GPT-2 regex
    ("smollm", ["abc", "Ġ", "1", "2", "3", "4", "5", "Ġdon", "'t", "Ċ"], False),
    # Llama 3: digits in threes, space not glued to digits; BOS by default
    ("llama-bpe", ["abc", "Ġ", "123", "45", "Ġdon", "'t", "Ċ"], True),
    # Qwen2: single digits, otherwise as Llama 3
    ("qwen2", ["abc", "Ġ", "1", "2", "3", "4", "5", "Ġdon", "'t", "Ċ"], False),
])
def test_pre_tokenizer_families(pre, pieces, bos, tmp_path):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    write_tiny_llama(tmp_path / "t.gguf", "F16", pre=pre, add_bos=None)
    convert_gguf(tmp_path / "t.gguf", tmp_path / "out")
    tok = Tokenizer.from_file(str(tmp_path / "out" / "tokenizer.json"))
    assert [p for p, _ in tok.pre_tokenizer.pre_tokenize_str("abc 12345 don't\n")] == pieces
    hf = AutoTokenizer.from_pretrained(str(tmp_path / "out"))
    assert (hf.encode("abc")[0] == 1) is bos
    assert _json(tmp_path / "out", "tokenizer_config.json")["add_bos_token"] is bos


def test_llama3_rope_scaling_from_rope_freqs(tmp_path):
    from mlx_lm import load

    factors = np.array(llama3_rope_factors(HIDDEN // HEADS, 10000.0, 8.0), np.float32)
    assert factors.min() == 1.0 and factors.max() == 8.0 and len(set(factors.tolist())) > 2
    write_tiny_llama(tmp_path / "t.gguf", "F16", extra={"rope_freqs.weight": (factors, "F32")})
    convert_gguf(tmp_path / "t.gguf", tmp_path / "out")
    assert _json(tmp_path / "out", "config.json")["rope_scaling"] == {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192}
    load(str(tmp_path / "out"))  # mlx-lm accepts the scaling


def test_unknown_rope_freqs_refused(tmp_path):
    write_tiny_llama(tmp_path / "t.gguf", "F16", extra={"rope_freqs.weight": (np.full(HIDDEN // HEADS // 2, 3.0, np.float32), "F32")})
    with pytest.raises(MlxkError) as err:
        convert_gguf(tmp_path / "t.gguf", tmp_path / "out")
    assert err.value.type == "unsupported_format" and "rope_freqs" in err.value.message
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


# -- errors: a clear type, and nothing left behind

def test_not_a_gguf(tmp_path):
    src = tmp_path / "model.gguf"
    src.write_text("this is not a model\n")
    with pytest.raises(MlxkError) as err:
        convert_gguf(src, tmp_path / "out")
    assert err.value.type == "unsupported_format" and "not a GGUF" in err.value.message
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_garbage_after_magic(tmp_path):
    src = tmp_path / "model.gguf"
    src.write_bytes(b"GGUF" + bytes([3, 0, 0, 0]) + bytes(range(256)) * 4)
    with pytest.raises(MlxkError) as err:
        convert_gguf(src, tmp_path / "out")
    assert err.value.type == "unsupported_format"
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_truncated_gguf(smollm2_gguf, tmp_path):
    src = tmp_path / "cut.gguf"
    with open(smollm2_gguf, "rb") as fh:
        src.write_bytes(fh.read(20_000_000))
    with pytest.raises(MlxkError) as err:
        convert_gguf(src, tmp_path / "out")
    assert err.value.type == "unsupported_format" and "past the end" in err.value.message
    assert not (tmp_path / "out").exists()


def test_missing_source(tmp_path):
    with pytest.raises(MlxkError) as err:
        convert_gguf(tmp_path / "nope.gguf", tmp_path / "out")
    assert err.value.type == "model_not_found"
    with pytest.raises(MlxkError) as err:
        convert_gguf(tmp_path, tmp_path / "out")
    assert err.value.type == "usage_error"


def test_non_empty_target_is_refused(tmp_path):
    write_tiny_llama(tmp_path / "t.gguf", "F16")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(MlxkError) as err:
        convert_gguf(tmp_path / "t.gguf", dest)
    assert err.value.type == "target_exists"
    assert [p.name for p in dest.iterdir()] == ["keep.txt"] and _leftovers(tmp_path) == []
    # an existing but empty folder is fine, and so is a missing parent
    (tmp_path / "empty").mkdir()
    convert_gguf(tmp_path / "t.gguf", tmp_path / "empty")
    convert_gguf(tmp_path / "t.gguf", tmp_path / "a" / "b")
    assert (tmp_path / "empty" / "config.json").is_file() and (tmp_path / "a" / "b" / "config.json").is_file()


def test_interrupt_leaves_nothing(tmp_path):
    write_tiny_llama(tmp_path / "t.gguf", "Q4_0")
    seen = []

    def progress(event):
        seen.append(event)
        if event["stage"] == "tensors" and event["done"] == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_gguf(tmp_path / "t.gguf", tmp_path / "out", progress=progress)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gguf"]
    assert seen[-1] == {"event": "progress", "stage": "tensors", "done": 5, "total": 20}


def test_progress_events(tmp_path):
    write_tiny_llama(tmp_path / "t.gguf", "Q8_0")
    events = []
    convert_gguf(tmp_path / "t.gguf", tmp_path / "out", progress=events.append)
    assert all(set(e) == {"event", "stage", "done", "total"} and e["event"] == "progress" for e in events)
    tensors = [e["done"] for e in events if e["stage"] == "tensors"]
    assert tensors == list(range(1, 21))
    assert [e["stage"] for e in events][-1] == "index" and events[-1]["done"] == events[-1]["total"]


@pytest.mark.parametrize("kwargs, needle", [
    ({"arch": "qwen2"}, "architecture 'qwen2'"),
    ({"embed_type": "Q6_K"}, "'token_embd.weight' has GGML type Q6_K"),
    ({"embed_type": "Q4_K"}, "'token_embd.weight' has GGML type Q4_K"),
    ({"embed_type": "Q5_0"}, "'token_embd.weight' has GGML type Q5_0"),
    ({"tokenizer_model": "llama"}, "tokenizer model 'llama'"),
    ({"pre": "no-such-pre"}, "pre-tokenizer 'no-such-pre'"),
])
def test_unsupported_inputs(kwargs, needle, tmp_path):
    write_tiny_llama(tmp_path / "t.gguf", "F16", **kwargs)
    with pytest.raises(MlxkError) as err:
        convert_gguf(tmp_path / "t.gguf", tmp_path / "out")
    assert err.value.type == "unsupported_format"
    assert needle in err.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gguf"]


def test_import_is_light():
    code = ("import sys, mlxk_bin.convert.gguf, mlxk_bin.convert.gguf_tokenizer; "
            "print(sorted(m for m in ('mlx', 'mlx_lm', 'transformers', 'tokenizers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
