#!/usr/bin/env python3
"""Where one generated token's time goes on the CPU path (docs/cpu.md).

In one process, after ``blas.ensure()``: loads MODEL through the engine (its
CPU path, or --cpu-dtype), processes a prompt, then times --steps decode
steps split into graph build (the model's Python call), eval, and sampling
(argmax + .item()), in wall and CPU seconds (CPU time is the honest one on a
loaded machine).  Then the parts of the eval:

* the one-row products alone (every Linear of the model on one row, one
  graph), and the same through ``mx.eval`` per product;
* per-op dispatch: a graph of as many tiny element-wise ops as a step has;
* the KV cache: a step at context 32 and at --long;
* kernels on one row of a 4096x1024 weight matrix: float32 (BLAS), bfloat16,
  float16, quantized 8-bit and 4-bit (MLX's CPU kernels), in GB/s of weight
  bytes read;
* the machine's single-thread read bandwidth (numpy sum over 1 GB).

usage: python bench/cpu_profile.py MODEL [--cpu-dtype auto] [--cpu-memory SIZE] [--steps 32] [--long 512]

(``--cpu-memory 1kB`` keeps a quantized model quantized: the quantized path.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from mlxk_common.engine.cpu import blas, qgemv, qlayers
from mlxk_common.options import parse_size


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median (wall s, CPU s) of ``fn()`` over ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--cpu-dtype", default=None)
    parser.add_argument("--cpu-memory", default=None, help="the float32 budget (default: half the available memory)")
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--long", type=int, default=512)
    args = parser.parse_args()
    state = blas.ensure()
    import mlx.core as mx
    from mlx import nn
    from mlx_lm.models.cache import make_prompt_cache

    from mlxk_common.engine import CpuSettings, load_engine

    memory = parse_size(args.cpu_memory) if args.cpu_memory else None
    engine = load_engine(args.model, cpu=CpuSettings(args.cpu_dtype, memory))
    model = engine.model
    print(
        f"BLAS: {state['blas']} (shim {state['shim']}, threads {state['threads']}); "
        f"CPU path: {engine.cpu_path['path']}: {engine.cpu_path['reason']}; generation "
        f"{engine.cpu_path.get('generation')}: {engine.cpu_path.get('generation_reason')}"
    )
    params = sum(v.nbytes for _k, v in __import__("mlx.utils").utils.tree_flatten(model.parameters()))
    print(f"parameters in memory: {params / 1e6:.0f} MB")

    def decode_profile(context: int, steps: int) -> dict:
        cache = make_prompt_cache(model)
        prompt = mx.array([[i % 200 + 10 for i in range(context)]])
        mx.eval(model(prompt, cache=cache))
        token = mx.array([[42]])
        parts = {"build": [], "eval": [], "sample": [], "step": []}
        cpu_step, cpu_build = [], []
        for _ in range(steps):
            t0, c0 = time.perf_counter(), time.process_time()
            logits = model(token, cache=cache)
            t1 = time.perf_counter()
            cpu_build.append(time.process_time() - c0)
            mx.eval(logits)
            t2 = time.perf_counter()
            token = mx.argmax(logits[:, -1, :], axis=-1, keepdims=True)
            token.item()
            t3 = time.perf_counter()
            parts["build"].append(t1 - t0)
            parts["eval"].append(t2 - t1)
            parts["sample"].append(t3 - t2)
            parts["step"].append(t3 - t0)
            cpu_step.append(time.process_time() - c0)
        out = {k: statistics.median(v) for k, v in parts.items()}
        out["cpu"] = statistics.median(cpu_step)
        out["cpu_build"] = statistics.median(cpu_build)
        return out

    short = decode_profile(32, args.steps)
    print(f"\ndecode step at context 32 (median of {args.steps}):")
    for k in ("build", "eval", "sample", "step"):
        print(f"  {k:<7} {short[k] * 1e3:8.2f} ms wall")
    print(f"  build   {short['cpu_build'] * 1e3:8.2f} ms CPU (the model's Python call: graph construction)")
    print(
        f"  step    {short['cpu'] * 1e3:8.2f} ms CPU   -> {1 / short['step']:.1f} tokens/s wall, "
        f"{1 / short['cpu']:.1f} per CPU second"
    )
    long = decode_profile(args.long, max(8, args.steps // 2))
    print(
        f"decode step at context {args.long}: {long['step'] * 1e3:.2f} ms wall, {long['cpu'] * 1e3:.2f} ms CPU "
        f"(KV-cache growth: {(long['cpu'] - short['cpu']) * 1e3:+.2f} ms CPU)"
    )

    # The one-row products alone (KernelLinear: the packed-weight kernel, cpu/qlayers.py).
    kernel_cls = qlayers._classes()
    linears = [m for _n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.QuantizedLinear, kernel_cls[0]))]
    embed = model.model.embed_tokens if hasattr(model, "model") else None

    def packed(m) -> bool:
        return isinstance(m, (nn.QuantizedLinear, nn.QuantizedEmbedding, *kernel_cls))

    def cols(m) -> int:
        return m.weight.shape[1] * (32 // m.bits if packed(m) else 1)

    rows = {}
    for m in linears:
        rows.setdefault(cols(m), mx.random.normal((1, cols(m))).astype(mx.float32))
    mx.eval(list(rows.values()))

    def products():
        outs = [m(rows[cols(m)]) for m in linears]
        if embed is not None and getattr(model.args, "tie_word_embeddings", False):
            outs.append(embed.as_linear(rows.setdefault(cols(embed), mx.random.normal((1, model.args.hidden_size)))))
        mx.eval(outs)

    products()
    wall, cpu = timed(products, 7)
    count = len(linears) + (1 if embed is not None and getattr(model.args, "tie_word_embeddings", False) else 0)
    print(
        f"\nthe {count} one-row products of a step, one graph: {wall * 1e3:.2f} ms wall, {cpu * 1e3:.2f} ms CPU "
        f"({cpu / short['cpu']:.0%} of a step's CPU)"
    )

    # Per-op dispatch: as many tiny element-wise ops as the step has nodes (~15 per layer).
    n_ops = 15 * len(model.layers) if hasattr(model, "layers") else 450
    x = mx.ones((1, 64))
    mx.eval(x)

    def tiny_ops():
        y = x
        for _ in range(n_ops):
            y = y * 1.0001
        mx.eval(y)

    tiny_ops()
    wall, cpu = timed(tiny_ops, 7)
    print(
        f"{n_ops} tiny element-wise ops in one graph: {wall * 1e3:.2f} ms wall, {cpu * 1e3:.2f} ms CPU "
        f"({cpu / n_ops * 1e6:.1f} us each)"
    )

    # Kernels on one row.
    n, k = 4096, 1024
    w32 = mx.random.normal((n, k))
    row = mx.random.normal((1, k))
    mx.eval(w32, row)
    kernels = {"float32 (BLAS)": (lambda: row @ w32.T, w32.nbytes)}
    for dt, name in ((mx.bfloat16, "bfloat16"), (mx.float16, "float16")):
        w, r = w32.astype(dt), row.astype(dt)
        mx.eval(w, r)
        kernels[name] = (lambda w=w, r=r: r @ w.T, w.nbytes)
    for bits in (8, 4):
        wq, s, b = mx.quantize(w32, group_size=32, bits=bits)
        mx.eval(wq, s, b)
        kernels[f"quantized {bits}-bit"] = (
            lambda wq=wq, s=s, b=b, bits=bits: mx.quantized_matmul(
                row, wq, s, b, transpose=True, group_size=32, bits=bits
            ),
            wq.nbytes + s.nbytes + b.nbytes,
        )
    kernel, _why = qgemv.kernel()
    if kernel is not None:
        import numpy as np

        for bits in (8, 4):
            wq, s, b = (np.array(a) for a in mx.quantize(w32, group_size=32, bits=bits))
            xr, yr = np.array(row), np.empty((1, n), np.float32)
            kernels[f"packed {bits}-bit (qgemv-{kernel.variant})"] = (
                lambda wq=wq, s=s, b=b, bits=bits, xr=xr, yr=yr: kernel.run(bits, 32, wq, s, b, xr, yr),
                wq.nbytes + s.nbytes + b.nbytes,
            )
    print(f"\none row x a {n}x{k} matrix (weight bytes read / CPU time):")
    rates = {}
    for name, (fn, nbytes) in kernels.items():
        if name.startswith("packed"):
            fn()
            wall, cpu = timed(fn, 9)
        else:
            mx.eval(fn())
            wall, cpu = timed(lambda fn=fn: mx.eval(fn()), 9)
        rates[name] = (nbytes / (n * k), nbytes / cpu)  # bytes per weight, bytes per CPU second
        print(f"  {name:<18} {cpu * 1e3:8.2f} ms CPU  {nbytes / cpu / 1e9:6.1f} GB/s  ({nbytes / 1e6:.1f} MB)")

    import numpy as np

    a = np.ones(2**28, np.float32)
    best = min(timed(a.sum, 1)[1] for _ in range(5))  # CPU time: wall time lies on a loaded machine
    bandwidth = a.nbytes / best
    f32 = sum(m.weight.shape[0] * cols(m) for m in linears) * 4
    if embed is not None and getattr(model.args, "tie_word_embeddings", False):
        f32 += embed.weight.shape[0] * cols(embed) * 4
    print(
        f"\nread bandwidth, one thread: {bandwidth / 1e9:.1f} GB/s; float32 bytes per token {f32 / 1e6:.0f} MB "
        f"-> bound {bandwidth / f32:.1f} tokens/s; measured {1 / short['cpu']:.1f} per CPU second "
        f"({(1 / short['cpu']) / (bandwidth / f32):.2f}x the bound)"
    )
    # Each path's bound: the bytes its products read per token at the lesser of
    # its kernel's rate (measured on a matrix that sits in cache) and memory's.
    weights = f32 / 4
    print(
        f"\nbound by path ({weights / 1e6:.0f}M weights in the products; CPU time; this run's path: "
        f"{engine.cpu_path['path'] if engine.cpu_path else 'n/a'}, generation "
        f"{engine.cpu_path.get('generation') if engine.cpu_path else 'n/a'}, {1 / short['cpu']:.1f} tokens per CPU second):"
    )
    for name, (per_weight, rate) in rates.items():
        nbytes = weights * per_weight
        limit = min(rate, bandwidth)
        print(
            f"  {name:<18} {nbytes / 1e6:7.0f} MB/token at {limit / 1e9:5.1f} GB/s "
            f"({'kernel' if rate < bandwidth else 'memory'}) -> {limit / nbytes:6.1f} tokens/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
