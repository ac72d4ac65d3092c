#!/usr/bin/env python3
"""Where a prompt pass's CPU time goes on the CPU path, with MLX's ops and with the prompt ops (docs/cpu.md).

In one process, after ``blas.ensure()``: loads MODEL through the engine (its
CPU path), then times, in CPU seconds (medians of --repeat; honest on a
loaded machine):

* one prompt pass of --tokens tokens (a fresh KV cache, the output layer on
  the last row as the engine runs it), with MLX's own ops and with
  ``engine/cpu/prompt_ops.py`` installed, in alternating repeats;
* the parts, each alone at the pass's shapes summed over the layers: the
  products (every Linear of the layers on --tokens rows), SwiGLU's SiLU,
  the attention's softmax and mask (``scaled_dot_product_attention`` less
  its two products), RoPE (queries and keys), the RMS norms; "rest" is the
  pass less these (adds, reshapes, the embedding, graph build, dispatch).
  The same parts with the prompt ops.

usage: python bench/cpu_prompt_profile.py MODEL [--tokens 151] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from mlxk_common.engine.cpu import blas


def cpu_time(fn, repeat: int, setup=None) -> float:
    """Median CPU seconds of ``fn(setup())`` (setup untimed)."""
    times = []
    for _ in range(repeat):
        arg = setup() if setup else None
        c = time.process_time()
        fn(arg)
        times.append(time.process_time() - c)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--tokens", type=int, default=151)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    blas.ensure()
    import mlx.core as mx
    from mlx import nn
    from mlx_lm.models.activations import swiglu as mlx_swiglu
    from mlx_lm.models.cache import make_prompt_cache

    from mlxk_common.engine import load_engine
    from mlxk_common.engine.cpu import prompt_ops
    from mlxk_common.engine.steps import head_on_last_row

    engine = load_engine(args.model)
    model, path = engine.model, engine.cpu_path or {}
    print(f"CPU path: {path.get('path')} ({path.get('blas')}); prompt ops: {path.get('prompt_ops')}")
    saved = prompt_ops.uninstall(model)  # the classes the engine installed, prompt ops and all
    n, rep = args.tokens, args.repeat
    layers = model.model.layers
    attn0, mlp0 = layers[0].self_attn, layers[0].mlp
    hidden = attn0.q_proj.weight.shape[1] * (32 // attn0.q_proj.bits if hasattr(attn0.q_proj, "bits") else 1)
    inter = mlp0.gate_proj.weight.shape[0]
    heads, kv_heads = attn0.n_heads, attn0.n_kv_heads
    head_dim = hidden // heads if not hasattr(attn0, "head_dim") else attn0.head_dim
    tokens = mx.array([[i % 200 + 3 for i in range(n)]])
    print(
        f"{len(layers)} layers, hidden {hidden}, intermediate {inter}, heads {heads}/{kv_heads}, "
        f"head_dim {head_dim}; prompt {n} tokens; CPU ms, median of {rep}\n"
    )

    def one_pass(_):
        cache = make_prompt_cache(model)
        with head_on_last_row(model):
            logits = model(tokens, cache=cache)
        mx.eval(logits)

    one_pass(None)
    passes = {"mlx": [], "ops": []}
    for _ in range(rep):  # alternating, so load drifts hit both alike
        prompt_ops.uninstall(model)
        passes["mlx"].append(cpu_time(one_pass, 1))
        prompt_ops.restore(saved)
        passes["ops"].append(cpu_time(one_pass, 1))
    prompt_ops.uninstall(model)
    whole = {k: statistics.median(v) for k, v in passes.items()}

    def fresh(shape, count, scale=1.0):
        def make():
            arrays = [mx.random.normal(shape) * scale + 0 for _ in range(count)]
            mx.eval(arrays)
            return arrays

        return make

    L = len(layers)
    rows = mx.random.normal((1, n, hidden))
    mx.eval(rows)

    def width(m):  # a layer's input columns: float, quantized, or the CPU path's kernel layers (cols)
        if hasattr(m, "cols"):
            return m.cols
        return m.weight.shape[1] * (32 // m.bits if isinstance(m, nn.QuantizedLinear) else 1)

    linears = [
        m
        for layer in layers
        for m in layer.modules()
        if isinstance(m, (nn.Linear, nn.QuantizedLinear)) or type(m).__name__ == "KernelLinear"
    ]
    inputs = {}
    for m in linears:
        inputs.setdefault(width(m), mx.random.normal((1, n, width(m))))
    mx.eval(list(inputs.values()))

    def products(_):  # a layer's products at a time, as the pass evaluates them
        per_layer = len(linears) // L
        for i in range(0, len(linears), per_layer):
            mx.eval([m(inputs[width(m)]) for m in linears[i : i + per_layer]])

    parts = {"mlx": {}, "ops": {}}
    parts["mlx"]["products"] = parts["ops"]["products"] = cpu_time(products, rep)
    pairs = fresh((1, n, inter), 2 * L, 3.0)
    parts["mlx"]["SiLU (SwiGLU)"] = cpu_time(
        lambda a: mx.eval([mlx_swiglu(a[2 * i], a[2 * i + 1]) for i in range(L)]), rep, pairs
    )
    parts["ops"]["SiLU (SwiGLU)"] = cpu_time(
        lambda a: mx.eval([prompt_ops.swiglu(a[2 * i], a[2 * i + 1]) for i in range(L)]), rep, pairs
    )
    qkv = fresh((1, heads, n, head_dim), L)
    kvs = fresh((1, kv_heads, n, head_dim), 2)
    keys, values = kvs()
    scale = head_dim**-0.5
    reps = heads // kv_heads

    def attn_products(qs):
        out = []
        for q in qs:
            s = mx.matmul(q.reshape(1, kv_heads, reps * n, head_dim), keys.swapaxes(-1, -2))
            out.append(mx.matmul(s, values))
        mx.eval(out)

    prods = cpu_time(attn_products, rep, qkv)
    sdpa = cpu_time(
        lambda qs: mx.eval(
            [mx.fast.scaled_dot_product_attention(q, keys, values, scale=scale, mask="causal") for q in qs]
        ),
        rep,
        qkv,
    )
    ours = cpu_time(lambda qs: mx.eval([prompt_ops.attention(q, keys, values, scale, "causal") for q in qs]), rep, qkv)
    parts["mlx"]["softmax + mask (attention less its products)"] = sdpa - prods
    parts["ops"]["softmax + mask (attention less its products)"] = ours - prods
    parts["mlx"]["attention products"] = parts["ops"]["attention products"] = prods
    rope = attn0.rope
    table = prompt_ops.rope_table(rope)
    both = fresh((1, n, heads + kv_heads, head_dim), L)
    parts["mlx"]["RoPE (queries and keys)"] = cpu_time(
        lambda a: mx.eval(
            [rope(x[:, :, :heads].transpose(0, 2, 1, 3)) for x in a]
            + [rope(x[:, :, heads:].transpose(0, 2, 1, 3)) for x in a]
        ),
        rep,
        both,
    )
    qs, ks = fresh((1, n, heads, head_dim), L), fresh((1, n, kv_heads, head_dim), L)
    if table is not None:
        parts["ops"]["RoPE (queries and keys)"] = cpu_time(
            lambda a: [prompt_ops.rope(x, table, 0) for x in a], rep, lambda: qs() + ks()
        )
    else:
        parts["ops"]["RoPE (queries and keys)"] = parts["mlx"]["RoPE (queries and keys)"]
    norm = layers[0].input_layernorm
    parts["mlx"]["RMS norms"] = parts["ops"]["RMS norms"] = cpu_time(
        lambda _: mx.eval([norm(rows) for _ in range(2 * L + 1)]), rep
    )
    for key in ("mlx", "ops"):
        parts[key]["rest"] = whole[key] - sum(parts[key].values())
    width = max(map(len, parts["mlx"])) + 2
    print(f"{'part':<{width}} {'MLX ops':>9} {'share':>6} {'prompt ops':>11} {'share':>6}")
    for name in parts["mlx"]:
        a, b = parts["mlx"][name], parts["ops"][name]
        print(f"{name:<{width}} {a * 1e3:9.1f} {a / whole['mlx']:6.0%} {b * 1e3:11.1f} {b / whole['ops']:6.0%}")
    print(f"{'whole pass':<{width}} {whole['mlx'] * 1e3:9.1f} {'':>6} {whole['ops'] * 1e3:11.1f}")
    print(
        f"\nprompt tokens per CPU second: MLX ops {n / whole['mlx']:.1f}, prompt ops {n / whole['ops']:.1f} "
        f"({whole['mlx'] / whole['ops']:.2f}x); passes: mlx {[round(t * 1e3) for t in passes['mlx']]}, "
        f"ops {[round(t * 1e3) for t in passes['ops']]} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
