"""The packed-weight CPU kernel (engine/cpu/qgemv.py, qlayers.py; docs/cpu.md), timing-free.

* Every variant is shipped, with the CPU flags it needs (the bytes against a
  fresh build: tests/test_cpu_half_kernel.py, for all of scripts/kernels/).
* Each variant the CPU has computes ``mx.dequantize(w) @ x`` for 4 and 8 bits,
  groups 32/64/128, odd row counts and 1-6 rows of x.
* The choice of variant: switched off, forced, or a CPU without the features.
* The many-row kernel (prompts; AVX-512F) computes the same for row counts
  around its tile sizes, several column blocks and row blocks, rows split
  over two threads; layers that have it keep no float32 copy.
* Greedy text through the kernel equals the float32 path, token for token.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest
from fixtures.tooling import greedy_haiku_json

from mlxk_common.engine.cpu import machine_code, native, qgemv

REPO = Path(__file__).resolve().parents[1]
X86_LINUX = sys.platform == "linux" and platform.machine().lower() in ("x86_64", "amd64")
HAS = [v for v in qgemv.VARIANTS if qgemv.NEEDS[v] <= native.cpu_flags()] if X86_LINUX else []
GEMM = [v for v in HAS if v in qgemv.GEMM_VARIANTS]


def test_every_variant_is_shipped_with_its_cpu_flags():
    """The bytes themselves are checked against a fresh build of scripts/kernels/ by
    tests/test_cpu_half_kernel.py::test_shipped_code_is_what_the_source_builds (all kernels)."""
    for variant in qgemv.VARIANTS:
        for bits in qgemv.BITS:
            entry = machine_code.KERNELS[f"qgemv{bits}_{variant}"]
            assert set(entry["cpu_flags"]) == qgemv.NEEDS[variant] and entry["code"], (variant, bits)
            assert (REPO / "scripts" / "kernels" / f"qgemv{bits}_{variant}.c").is_file()
    for variant in qgemv.GEMM_VARIANTS:
        for bits in qgemv.BITS:
            entry = machine_code.KERNELS[f"qgemm{bits}_{variant}"]
            assert set(entry["cpu_flags"]) == qgemv.NEEDS[variant] and entry["code"], (variant, bits)
            assert (REPO / "scripts" / "kernels" / f"qgemm{bits}_{variant}.c").is_file()


@pytest.mark.skipif(not HAS, reason="no x86-64 CPU with AVX2+FMA or AVX-512F")
@pytest.mark.parametrize("variant", HAS)
@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("group", [32, 64, 128])
def test_the_kernel_computes_the_dequantized_product(variant, bits, group):
    import mlx.core as mx
    import numpy as np

    kernel, why = qgemv.kernel({"MLXK2_CPU_KERNELS": variant})
    assert kernel is not None and kernel.variant == variant, why
    rng = np.random.default_rng(bits * group)
    for rows, groups, n in ((1, 1, 1), (67, 3, 1), (33, 5, 2), (5, 2, 3), (131, 4, 4), (7, 3, 6)):
        cols = group * groups
        mx.random.seed(rows)
        q, s, b = mx.quantize(mx.random.normal((rows, cols)), group_size=group, bits=bits)
        ref_w = np.array(mx.dequantize(q, s, b, group_size=group, bits=bits), np.float64)
        x = rng.standard_normal((n, cols)).astype(np.float32)
        out = np.full((n, rows), np.nan, np.float32)
        kernel.run(bits, group, np.array(q), np.array(s), np.array(b), x, out)
        ref = x.astype(np.float64) @ ref_w.T
        assert np.abs(out - ref).max() <= 1e-5 * np.abs(ref).max(), (rows, cols, n)


def _packed(rows: int, cols: int, bits: int, group: int, seed: int):
    """MLX-quantized random weights as NumPy arrays, and their dequantized float64 matrix."""
    import mlx.core as mx
    import numpy as np

    mx.random.seed(seed)
    q, s, b = mx.quantize(mx.random.normal((rows, cols)), group_size=group, bits=bits)
    dense = np.array(mx.dequantize(q, s, b, group_size=group, bits=bits), np.float64)
    return (np.array(q), np.array(s), np.array(b)), dense


@pytest.mark.skipif(not GEMM, reason="no x86-64 CPU with AVX-512F")
@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("group", [32, 64, 128])
def test_the_many_row_kernel_computes_the_dequantized_product(bits, group):
    """Row counts of x around the kernel's tiles (16-row vectors, 48-row sub-blocks, 192-row blocks),
    weight rows not a multiple of its 8-row panels, and more than one 1024-column block."""
    import numpy as np

    kernel, why = qgemv.kernel({"MLXK2_CPU_KERNELS": GEMM[0]})
    assert kernel.gemm == f"qgemm-{GEMM[0]}", why
    rng = np.random.default_rng(bits + group)
    for rows, groups, n in ((8, 1, 17), (67, 3, 33), (13, 2, 47), (13, 2, 48), (13, 2, 49), (21, 2, 64),
                            (21, 2, 65), (9, 2048 // group + 1, 151), (131, 4, 193), (40, 2, 400)):  # fmt: skip
        cols = group * groups
        weights, dense = _packed(rows, cols, bits, group, seed=rows * n)
        x = rng.standard_normal((n, cols)).astype(np.float32)
        out = np.full((n, rows), np.nan, np.float32)
        kernel.run(bits, group, *weights, x, out, many=True)
        ref = x.astype(np.float64) @ dense.T
        assert np.abs(out - ref).max() <= 1e-5 * np.abs(ref).max(), (rows, cols, n)


@pytest.mark.skipif(not GEMM, reason="no x86-64 CPU with AVX-512F")
def test_the_many_row_kernel_splits_the_rows_over_two_threads(monkeypatch):
    """With two threads configured the weight rows go out in 8-row panels to the engine's pool
    (a real one of two threads here); the result is the same."""
    import numpy as np

    from mlxk_common.engine.cpu import pool

    parts, tasks = pool.Pool(2), []
    run = parts.run
    monkeypatch.setattr(parts, "run", lambda work: tasks.append(len(work := list(work))) or run(work))
    monkeypatch.setattr(pool, "pool", lambda: parts)
    kernel, _why = qgemv.kernel({})
    weights, dense = _packed(203, 256, 4, 64, seed=1)
    x = np.random.default_rng(1).standard_normal((40, 256)).astype(np.float32)
    out = np.full((40, 203), np.nan, np.float32)
    kernel.run(4, 64, *weights, x, out, many=True)
    ref = x.astype(np.float64) @ dense.T
    assert np.abs(out - ref).max() <= 1e-5 * np.abs(ref).max()
    assert tasks == [pool.CHUNKS * 2]


def test_the_choice_of_variant():
    avx2, avx512 = {"avx2", "fma"}, {"avx2", "fma", "avx512f"}
    if X86_LINUX:
        assert qgemv.select({}, avx512) == ("avx512", "the CPU has avx512f")
        assert qgemv.select({}, avx2) == ("avx2", "the CPU has avx2+fma")
        assert qgemv.select({"MLXK2_CPU_KERNELS": "avx2"}, avx512) == ("avx2", "MLXK2_CPU_KERNELS=avx2")
        assert qgemv.select({"MLXK2_CPU_KERNELS": "avx512"}, avx2) == (
            None,
            "MLXK2_CPU_KERNELS=avx512 but the CPU lacks avx512f",
        )
        assert qgemv.select({}, {"avx2", "sse4_2"}) == (None, "the CPU has neither AVX-512F nor AVX2+FMA")
    else:
        assert qgemv.select({}, avx512)[0] is None
    assert qgemv.select({"MLXK2_CPU_KERNELS": "0"}, avx512) == (None, "MLXK2_CPU_KERNELS=0")


@pytest.mark.skipif(not HAS, reason="no x86-64 CPU with AVX2+FMA or AVX-512F")
def test_the_path_falls_back_without_the_kernel(smollm2_workspace):
    """A CPU without the features, or MLXK2_CPU_KERNELS=0: the float32 path as before, and it says why."""
    from mlx import nn
    from mlx_lm import load

    from mlxk_common.engine.cpu.path import CpuSettings, apply

    for settings, flags, why in (
        (CpuSettings(), set(), "neither AVX-512F nor AVX2+FMA"),
        (CpuSettings(environ={"MLXK2_CPU_KERNELS": "0"}), None, "MLXK2_CPU_KERNELS=0"),
    ):
        model, _tok = load(str(smollm2_workspace))
        record = apply(model, settings, cpu_flags=flags)
        assert record["path"] == "float32" and record["generation"] == "float32", record
        assert record["prompt"] == "float32" and "sgemm" in record["prompt_reason"], record
        assert why in record["generation_reason"]
        kinds = {type(m).__name__ for _n, m in model.named_modules()}
        assert "KernelLinear" not in kinds and not any(
            isinstance(m, nn.QuantizedLinear) for _n, m in model.named_modules()
        )
    model, _tok = load(str(smollm2_workspace))
    record = apply(model, CpuSettings(), cpu_flags={"avx2", "fma"})
    assert record["generation"] == "qgemv-avx2" and "the CPU has avx2+fma" in record["generation_reason"], record
    kinds = {type(m).__name__ for _n, m in model.named_modules()}
    assert {"KernelLinear", "KernelEmbedding"} <= kinds
    # Without the many-row kernel (AVX2) prompts use sgemm on a float32 copy kept beside the packed weights.
    assert record["prompt"] == "float32", record
    layers = [m for _n, m in model.named_modules() if type(m).__name__ == "KernelLinear"]
    assert layers and all(m.dense is not None and not m.many for m in layers)


@pytest.mark.skipif(not GEMM, reason="no x86-64 CPU with AVX-512F")
def test_with_the_many_row_kernel_no_float32_copy_is_kept(smollm2_workspace):
    from mlx_lm import load

    from mlxk_common.engine.cpu.path import CpuSettings, apply

    model, _tok = load(str(smollm2_workspace))
    record = apply(model, CpuSettings(), cpu_flags={"avx2", "fma", "avx512f"})
    assert record["path"] == "float32" and record["generation"] == "qgemv-avx512", record
    assert record["prompt"] == "qgemm-avx512" and "no float32 copy" in record["prompt_reason"], record
    assert "1-16 rows" in record["generation_reason"]
    layers = [m for _n, m in model.named_modules() if type(m).__name__ in ("KernelLinear", "KernelEmbedding")]
    assert layers and all(m.dense is None and m.many for m in layers)


@pytest.mark.slow
@pytest.mark.skipif(not HAS, reason="no x86-64 CPU with AVX2+FMA or AVX-512F")
def test_greedy_text_through_the_kernel_equals_the_float32_path(smollm2_workspace, tmp_path):
    reference = greedy_haiku_json(smollm2_workspace, "--cpu-dtype", "float32", XDG_CACHE_HOME=str(tmp_path),
                          MLXK2_CPU_KERNELS="0")  # fmt: skip
    assert reference["timing"]["cpu"]["generation"] == "float32"
    assert "MLXK2_CPU_KERNELS=0" in reference["timing"]["cpu"]["generation_reason"]
    for variant in HAS:
        fast = greedy_haiku_json(smollm2_workspace, XDG_CACHE_HOME=str(tmp_path), MLXK2_CPU_KERNELS=variant)
        cpu = fast["timing"]["cpu"]
        assert cpu["path"] == "float32" and cpu["generation"] == f"qgemv-{variant}", cpu
        assert fast["usage"]["completion_tokens"] == reference["usage"]["completion_tokens"] > 0
        assert fast["response"] == reference["response"], variant
        # Prompts: the many-row kernel where the variant has one, else sgemm on float32 copies.
        assert cpu["prompt"] == ("qgemm-avx512" if variant in GEMM else "float32"), cpu
    # Over the memory budget: no float32 copy; prompts through a kernel too (the few-row one 4 rows a
    # pass where there is no many-row kernel).
    for variant in HAS:
        small = greedy_haiku_json(smollm2_workspace, XDG_CACHE_HOME=str(tmp_path), MLXK2_CPU_MEMORY="1kB",
                                  MLXK2_CPU_KERNELS=variant)  # fmt: skip
        cpu = small["timing"]["cpu"]
        assert cpu["path"] == "quantized" and cpu["generation"] == f"qgemv-{variant}", cpu
        if variant in GEMM:
            assert cpu["prompt"] == f"qgemm-{variant}" and "1-16 rows" in cpu["generation_reason"], cpu
        else:
            assert cpu["prompt"] == cpu["generation"] and "every product" in cpu["generation_reason"], cpu
        assert small["response"] == reference["response"], variant


@pytest.mark.skipif(not HAS, reason="no x86-64 CPU with AVX2+FMA or AVX-512F")
@pytest.mark.parametrize("keep_float32", [True, False])
def test_kernel_layers_compute_what_mlx_layers_do(keep_float32):
    """KernelLinear (with a bias) and KernelEmbedding (lookup and as_linear) against MLX's own
    quantized layers, for 1, 3 and 40 rows (the kernel, its 4-row passes, or the float32 matrix)."""
    import mlx.core as mx
    from mlx import nn

    from mlxk_common.engine.cpu import qlayers

    kernel, _why = qgemv.kernel({})
    mx.random.seed(3)
    linear = nn.QuantizedLinear(192, 70, bias=True, group_size=64, bits=4)
    linear.bias = mx.random.normal((70,))
    embed = nn.QuantizedEmbedding(50, 96, group_size=32, bits=8)
    ours_linear = qlayers.convert(linear, kernel, keep_float32)
    ours_embed = qlayers.convert(embed, kernel, keep_float32)
    for rows in (1, 3, 40):
        x = mx.random.normal((1, rows, 192))
        ref = linear(x)
        assert mx.abs(ours_linear(x) - ref).max().item() <= 1e-5 * mx.abs(ref).max().item(), rows
        h = mx.random.normal((1, rows, 96))
        ref = embed.as_linear(h)
        assert mx.abs(ours_embed.as_linear(h) - ref).max().item() <= 1e-5 * mx.abs(ref).max().item(), rows
    ids = mx.array([[0, 7, 49, 7]])
    assert mx.array_equal(ours_embed(ids), embed(ids)).item()


@pytest.mark.skipif(not HAS, reason="no x86-64 CPU with AVX2+FMA or AVX-512F")
@pytest.mark.parametrize("keep_float32", [True, False])
def test_a_swiglu_mlp_steps_in_numpy_and_computes_the_same(keep_float32):
    """mlx-lm's llama MLP with kernel layers: its few-row steps in NumPy (fuse_swiglu), and its
    many-row ones too where the layers have the many-row kernel; the same result as the module's
    own code; a module of another shape is left alone."""
    import mlx.core as mx
    from mlx import nn
    from mlx.utils import tree_unflatten
    from mlx_lm.models import llama

    from mlxk_common.engine.cpu import qlayers

    kernel, _why = qgemv.kernel({})
    mx.random.seed(5)
    mlp = llama.MLP(llama.ModelArgs(model_type="llama", hidden_size=128, num_hidden_layers=1,
                                    intermediate_size=256, num_attention_heads=2, rms_norm_eps=1e-5,
                                    vocab_size=10))  # fmt: skip
    nn.quantize(mlp, group_size=32, bits=4)
    x1, x40 = mx.random.normal((1, 1, 128)), mx.random.normal((1, 40, 128))
    ref1, ref40 = mlp(x1), mlp(x40)
    for name in ("gate_proj", "up_proj", "down_proj"):
        mlp.update_modules(tree_unflatten([(name, qlayers.convert(getattr(mlp, name), kernel, keep_float32))]))
    assert qlayers.fuse_swiglu(mlp) and type(mlp).__name__ == "KernelSwiGLUMLP"
    for x, ref in ((x1, ref1), (x40, ref40), (x40, ref40)):  # twice: the second reuses the buffers
        assert mx.abs(mlp(x) - ref).max().item() <= 1e-5 * mx.abs(ref).max().item()
    assert not qlayers.fuse_swiglu(nn.Linear(4, 4))


def test_result_buffers_are_reused_per_slot_and_grow():
    from mlxk_common.engine.cpu import qlayers

    a = qlayers.buffer("test", (3, 5))
    b = qlayers.buffer("test", (2, 4))
    assert a.shape == (3, 5) and b.shape == (2, 4) and a.dtype == b.dtype == "float32"
    assert b.__array_interface__["data"][0] == a.__array_interface__["data"][0]
    big = qlayers.buffer("test", (1000, 1000))
    assert big.size == 10**6 and qlayers.buffer("test", (2, 2)).base is big.base
    other = qlayers.buffer("other", (3, 5))
    assert other.__array_interface__["data"][0] != big.__array_interface__["data"][0]
