"""The prompt pass's SiLU, softmax and RoPE in NumPy (mlxk_common/engine/cpu/prompt_ops.py).

* Each op against MLX's own within float32 rounding: SwiGLU; RoPE (base,
  scale, offsets, Llama3 frequencies); attention with no mask, causal,
  causal with an offset into a KV cache, boolean masks (padding, a row with
  nothing to see), additive masks, grouped heads, a batch of two, and query
  rows in several blocks.
* Whole models: greedy tokens with the prompt ops equal those without, on
  tiny random llama and qwen2 models built here (prompts in one pass and in
  several chunks) and on the SmolLM2 fixture through the engine.
* One-row steps keep MLX's ops (bit for bit); other architectures, sharded
  layers and MLXK2_CPU_PROMPT_OPS=0 leave the model alone, and the record says so.
"""

from __future__ import annotations

import pytest

from mlxk_common.engine.cpu import prompt_ops


def _max_err(a, b) -> float:
    import mlx.core as mx

    return mx.abs(a - b).max().item()


def _fresh(array):
    """A copy in its own buffer, evaluated (the ops write into their inputs)."""
    import mlx.core as mx

    out = array + 0
    mx.eval(out)
    return out


def test_swiglu_matches_mlx():
    import mlx.core as mx
    from mlx_lm.models.activations import swiglu

    mx.random.seed(1)
    gate = mx.random.normal((2, 37, 300)) * 40  # tails too: exp(-gate) overflows to inf for gate < -88
    up = mx.random.normal((2, 37, 300))
    reference = swiglu(gate, up)
    ours = prompt_ops.swiglu(_fresh(gate), _fresh(up))
    assert ours.shape == reference.shape and ours.dtype == mx.float32
    assert _max_err(ours, reference) <= 1e-6 * mx.abs(reference).max().item()
    assert not mx.isnan(ours).any().item()
    # other dtypes: MLX's own op
    half = prompt_ops.swiglu(gate.astype(mx.bfloat16), up.astype(mx.bfloat16))
    assert half.dtype == mx.bfloat16


@pytest.mark.parametrize("base,scale,dims", [(10000.0, 1.0, 64), (100000.0, 0.25, 64), (10000.0, 1.0, 32)])
def test_rope_matches_mlx(base, scale, dims):
    import mlx.core as mx
    from mlx import nn

    rope = nn.RoPE(dims, traditional=False, base=base, scale=scale)
    x = mx.random.normal((2, 20, 3, 64))  # (B, L, heads, head_dim); dims < 64: the rest passes through
    table = prompt_ops.rope_table(rope)
    for offset in (0, 7, 300):  # 300: the table grows past its first size
        reference = rope(x.transpose(0, 2, 1, 3), offset=offset).transpose(0, 2, 1, 3)
        ours = prompt_ops.rope(_fresh(x), table, offset)
        assert _max_err(ours, reference) <= 1e-5, offset
    half = x.astype(mx.bfloat16)  # not float32: MLX's rope with the table's frequencies
    reference = rope(half.transpose(0, 2, 1, 3), offset=5).transpose(0, 2, 1, 3)
    ours = prompt_ops.rope(half, table, 5)
    assert ours.dtype == mx.bfloat16 and _max_err(ours.astype(mx.float32), reference.astype(mx.float32)) == 0


def test_rope_llama3_frequencies_and_unsupported_kinds():
    import mlx.core as mx
    from mlx import nn
    from mlx_lm.models.rope_utils import Llama3RoPE

    rope = Llama3RoPE(
        64,
        max_position_embeddings=4096,
        base=500000.0,
        scaling_config={"factor": 8.0, "original_max_position_embeddings": 256},
    )
    x = mx.random.normal((1, 9, 2, 64))
    reference = rope(x.transpose(0, 2, 1, 3), offset=5).transpose(0, 2, 1, 3)
    assert _max_err(prompt_ops.rope(_fresh(x), prompt_ops.rope_table(rope), 5), reference) <= 1e-5
    assert prompt_ops.rope_table(nn.RoPE(64, traditional=True)) is None  # left to MLX


def _mask_case(kind, L, S):
    import mlx.core as mx
    from mlx_lm.models.base import create_causal_mask

    if kind in (None, "causal"):
        return kind
    if kind == "padding":  # as a batch cache makes it: causal, the first keys of the second row hidden
        mask = create_causal_mask(L, S - L)[None, None]
        pad = mx.array([0, 5])[:, None, None, None]
        return mask & (pad <= mx.arange(S))
    if kind == "blind row":  # the first query rows see nothing (left padding): a uniform mix, as MLX does
        return create_causal_mask(L, S - L) & (mx.arange(S) >= S - L + 3)
    return mx.random.normal((L, S))  # additive


@pytest.mark.parametrize("kind", [None, "causal", "padding", "blind row", "additive"])
@pytest.mark.parametrize("offset", [0, 23])
@pytest.mark.parametrize("block", [1 << 18, 64])
def test_attention_matches_mlx(kind, offset, block, monkeypatch):
    import mlx.core as mx

    monkeypatch.setattr(prompt_ops, "SCORE_BLOCK", block)  # 64: query rows in blocks of MIN_ROWS
    mx.random.seed(offset + len(str(kind)))
    B, H, kv, L, D = 2, 8, 2, 70, 16
    S = L + offset  # keys: what the cache held before the prompt chunk, then the chunk's own
    q = mx.random.normal((B, H, L, D))
    k, v = mx.random.normal((B, kv, S, D)), mx.random.normal((B, kv, S, D))
    mask = _mask_case(kind, L, S)
    reference = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.25, mask=mask)
    ours = prompt_ops.attention(q, k, v, 0.25, mask)
    assert ours.shape == reference.shape
    assert _max_err(ours, reference) <= 2e-6, (kind, offset, block)


def test_attention_gives_its_value_product_no_subnormal_probabilities(monkeypatch):
    """Peaked attention (scores far apart, as in the 0.49B model) makes probabilities below float32's
    smallest normal number; they go to the value product as zeros (a product over subnormal numbers
    ran 4x slower), and the result still matches MLX's."""
    import mlx.core as mx
    import numpy as np

    mx.random.seed(7)
    B, H, kv, L, D = 1, 4, 2, 40, 16
    q, k, v = mx.random.normal((B, H, L, D)) * 12, mx.random.normal((B, kv, L, D)) * 12, mx.random.normal((B, kv, L, D))
    reference = mx.fast.scaled_dot_product_attention(q, k, v, scale=1.0, mask="causal")
    seen, matmul = [], mx.matmul

    def watch(a, b):
        seen.append(np.array(a, dtype=np.float32))
        return matmul(a, b)

    monkeypatch.setattr(mx, "matmul", watch)
    ours = prompt_ops.attention(q, k, v, 1.0, "causal")
    probabilities = seen[-1]  # the last product: probabilities @ values
    assert probabilities.shape[-1] == L and np.allclose(probabilities.sum(axis=-1), 1, atol=1e-5)
    smallest = np.finfo(np.float32).tiny
    # This case has them: a float32 softmax of the same scores gives subnormal probabilities.
    scores = np.array(q, np.float32) @ np.array(mx.repeat(k, H // kv, axis=1), np.float32).swapaxes(-1, -2)
    scores[..., np.triu_indices(L, 1)[0], np.triu_indices(L, 1)[1]] = -np.inf
    plain = np.exp(scores - scores.max(axis=-1, keepdims=True))
    plain /= plain.sum(axis=-1, keepdims=True)
    assert ((plain != 0) & (plain < smallest)).any()
    masked = H * L * (L - 1) // 2
    assert (probabilities == 0).sum() > masked and not ((probabilities != 0) & (np.abs(probabilities) < smallest)).any()
    assert _max_err(ours, reference) <= 2e-6


def _tiny(model_type: str, **extra):
    import mlx.core as mx
    from mlx.utils import tree_map
    from mlx_lm.models import llama, qwen2

    args = dict(
        model_type=model_type,
        hidden_size=64,
        num_hidden_layers=3,
        intermediate_size=160,
        num_attention_heads=4,
        num_key_value_heads=2,
        rms_norm_eps=1e-5,
        vocab_size=97,
        tie_word_embeddings=True,
        **extra,
    )
    module = {"llama": llama, "qwen2": qwen2}[model_type]
    mx.random.seed(7)
    model = module.Model(module.ModelArgs.from_dict(args))
    # weights large enough that the attention is not uniform and the SiLU bends
    model.update(tree_map(lambda p: p * 4 if p.ndim == 2 else p, model.parameters()))
    mx.eval(model.parameters())
    return model


def _greedy(model, prompt, max_tokens=12, prefill_step=2048):
    import mlx.core as mx
    from mlx_lm.models.cache import make_prompt_cache

    from mlxk_common.engine.steps import token_steps

    return [
        t
        for t, _ in token_steps(
            model,
            mx.array(prompt),
            make_prompt_cache(model),
            max_tokens=max_tokens,
            sampler=lambda lp: mx.argmax(lp, axis=-1),
            prefill_step=prefill_step,
        )
    ]


@pytest.mark.parametrize("model_type", ["llama", "qwen2"])
def test_tiny_models_give_the_same_tokens(model_type):
    import mlx.core as mx

    model = _tiny(model_type)
    prompt = [(i * 37) % 97 for i in range(41)]
    before = [_greedy(model, prompt), _greedy(model, prompt, prefill_step=16)]
    logits_before = model(mx.array([prompt]))
    record = prompt_ops.install(model, {})
    assert record["active"] and "3 layers" in record["reason"], record
    assert type(model.model.layers[0].mlp).__name__ == "MLP"  # a subclass of the model's own
    after = [_greedy(model, prompt), _greedy(model, prompt, prefill_step=16)]  # one pass; three chunks
    logits_after = model(mx.array([prompt]))
    assert after == before
    assert _max_err(logits_after, logits_before) <= 1e-4 * mx.abs(logits_before).max().item()
    prompt_ops.uninstall(model)
    assert all(not hasattr(type(m), "_mlxk_original") for _n, m in model.named_modules())  # classes restored


def test_one_row_steps_keep_mlx_ops():
    import mlx.core as mx
    from mlx_lm.models.cache import make_prompt_cache

    model = _tiny("llama")

    def steps():
        cache = make_prompt_cache(model)
        model(mx.array([[1, 2, 3, 4, 5]]), cache=cache)
        return [model(mx.array([[t]]), cache=cache) for t in (6, 7)]

    plain = steps()
    prompt_ops.install(model, {})
    ours = steps()
    prompt_ops.uninstall(model)
    # the prompt's keys differ only by rounding; the steps themselves run MLX's ops
    assert all(_max_err(a, b) <= 1e-4 for a, b in zip(ours, plain))
    x = mx.random.normal((1, 1, 64))
    mlp = model.model.layers[0].mlp
    reference = mlp(x)
    prompt_ops.install(model, {})
    assert mx.array_equal(mlp(x), reference).item()  # bit for bit: no NumPy in a one-row call
    prompt_ops.uninstall(model)


def test_others_are_left_alone():
    from mlx import nn

    model = _tiny("llama")
    assert prompt_ops.install(model, {"MLXK2_CPU_PROMPT_OPS": "0"}) == {
        "active": False,
        "reason": "MLXK2_CPU_PROMPT_OPS=0",
    }
    assert "_mlxk_original" not in vars(type(model.model.layers[0].mlp))

    class Other(nn.Module):  # another architecture: its own attention classes
        def __init__(self):
            super().__init__()
            self.model = nn.Module()
            self.model.layers = [nn.Linear(2, 2)]

    record = prompt_ops.install(Other(), {})
    assert not record["active"] and "not a llama-family model" in record["reason"]
    model.model.layers[1].mlp.up_proj = nn.Sequential(nn.Linear(64, 160))  # a changed (e.g. sharded) layer
    assert not prompt_ops.install(model, {})["active"]
    assert "_mlxk_original" not in vars(type(model.model.layers[0].self_attn))


@pytest.mark.slow
@pytest.mark.parametrize("path", ["float32", "quantized"])
def test_smollm2_greedy_tokens_with_and_without(smollm2_workspace, path):
    from mlxk_common.engine import CpuSettings, load_engine

    engine = load_engine(smollm2_workspace, cpu=CpuSettings(memory=1 if path == "quantized" else None))
    record = engine.cpu_path["prompt_ops"]
    assert engine.cpu_path["path"] == path and record["active"], engine.cpu_path
    prompt = engine.prepare(prompt="Write a short poem about the sea and a lighthouse.").prompt_tokens
    ours = [_greedy(engine.model, prompt, 16), _greedy(engine.model, prompt, 16, prefill_step=8)]
    prompt_ops.uninstall(engine.model)
    theirs = [_greedy(engine.model, prompt, 16), _greedy(engine.model, prompt, 16, prefill_step=8)]
    assert ours == theirs and len(ours[0]) == 16


@pytest.mark.slow
def test_mlx_run_says_whether_the_prompt_ops_ran(smollm2_workspace, tmp_path):
    from fixtures.tooling import base_env, run_cli

    def run(**env):
        result = run_cli(
            [
                "mlx-run",
                str(smollm2_workspace),
                "Write a haiku about rain.",
                "--temperature",
                "0",
                "--max-tokens",
                "12",
                "--json",
                "--verbose",
            ],
            env=base_env(XDG_CACHE_HOME=str(tmp_path), **env),
        )
        assert result.code == 0, result
        return result.json()["data"], result.stderr

    (on, on_log), (off, off_log) = run(), run(MLXK2_CPU_PROMPT_OPS="0")
    assert on["timing"]["cpu"]["prompt_ops"]["active"] is True, on["timing"]["cpu"]
    assert off["timing"]["cpu"]["prompt_ops"] == {"active": False, "reason": "MLXK2_CPU_PROMPT_OPS=0"}
    assert "prompt ops on: SwiGLU" in on_log and "prompt ops off: MLXK2_CPU_PROMPT_OPS=0" in off_log
    assert on["response"] == off["response"] and on["usage"]["completion_tokens"] > 0
