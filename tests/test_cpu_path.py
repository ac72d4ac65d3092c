"""The Linux CPU path (mlxk_common/engine/cpu, docs/cpu.md), timing-free.

* OpenBLAS is really what MLX's matmul calls: the patched library is mapped
  in the process, and libmlx's GOT slot for ``cblas_sgemm`` holds an address
  inside it (read after a matmul, so lazy binding has happened).
* The one-row shim computes what sgemm would, for every orientation MLX uses.
* Greedy text on the float32 path with OpenBLAS equals the dequantized model
  on MLX's own (reference BLAS) path, token for token.
* A tiny memory budget keeps the quantized path and says why.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from fixtures.tooling import base_env, greedy_haiku_json, run_cli

from mlxk_common.engine.cpu.elf import ElfError, patch

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the OpenBLAS route is Linux-only")

PROBE = textwrap.dedent("""
    import ctypes, json, os, struct, sys
    from mlxk_common.engine.cpu import blas
    from mlxk_common.engine.cpu.elf import _Elf
    state = blas.ensure()
    import mlx.core as mx

    # Every orientation of a one-row product (the shim), and a many-row one (plain sgemm).
    mx.random.seed(0)
    W = mx.random.normal((300, 70)); x = mx.random.normal((1, 70)); X = mx.random.normal((5, 70))
    def ref(a, b):  # elementwise, never through BLAS
        return (a[:, :, None] * b[None, :, :]).sum(1)
    errors = {
        "row_by_transposed": mx.abs(x @ W.T - ref(x, W.T)).max().item(),
        "row_by_plain": mx.abs(x @ W[:70].T.T - ref(x, W[:70])).max().item(),
        "rows": mx.abs(X @ W.T - ref(X, W.T)).max().item(),
        "row_addmm": mx.abs(mx.addmm(mx.ones((1, 300)), x, W.T, 0.5, 2.0) - (0.5 * ref(x, W.T) + 2.0)).max().item(),
    }

    # Where libmlx's cblas_sgemm slot points now.
    libmlx = os.path.join(os.path.dirname(mx.__file__), "lib", "libmlx.so")
    real = os.path.realpath(libmlx)
    maps = [l.split() for l in open("/proc/self/maps")]
    def ranges(path):
        return [tuple(int(v, 16) for v in l[0].split("-")) + (int(l[2], 16),) for l in maps
                if len(l) > 5 and os.path.realpath(l[5]) == path]
    # dlopen's handle is glibc's link_map, whose first field is the load base
    # (not derivable from the maps: auditwheel added segments below their offsets).
    base = ctypes.c_uint64.from_address(ctypes.CDLL(real)._handle).value
    elf = _Elf(bytearray(open(real, "rb").read()))
    dynsym = elf.section(11)
    strtab = elf.shdrs[dynsym[7]]  # the dynsym section's sh_link
    slots = []
    for s in elf.shdrs:
        if s[2] != 4:  # SHT_RELA
            continue
        for i in range(s[6] // 24):
            r_offset, r_info, _ = struct.unpack_from("<QQq", elf.data, s[5] + 24 * i)
            sym = r_info >> 32
            if not sym:
                continue
            st_name = struct.unpack_from("<I", elf.data, dynsym[5] + 24 * sym)[0]
            start = strtab[5] + st_name
            if bytes(elf.data[start:elf.data.index(b"\\0", start)]) == b"cblas_sgemm":
                slots.append(r_offset)
    target = [ctypes.c_uint64.from_address(base + o).value for o in slots]
    lib = state.get("library")
    inside = bool(lib) and all(any(lo <= t < hi for lo, hi, _ in ranges(os.path.realpath(lib))) for t in target)
    print(json.dumps({"state": state, "errors": errors, "slots": len(slots), "mapped": bool(lib and ranges(
        os.path.realpath(lib))), "sgemm_in_openblas": inside}))
""")


def probe(**env) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=False, env=base_env(**env)
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_mlx_matmul_resolves_to_openblas(tmp_path):
    out = probe(XDG_CACHE_HOME=str(tmp_path), OPENBLAS_NUM_THREADS="")  # the default: one thread
    state = out["state"]
    assert state["blas"] == "openblas", state
    assert state["library"].startswith(str(tmp_path)) and state["threads"] == 1
    assert out["mapped"] and out["slots"] >= 1
    assert out["sgemm_in_openblas"], out
    if state["shim"]:
        assert all(err < 1e-3 for err in out["errors"].values()), out["errors"]


def test_without_openblas_mlx_keeps_its_own_blas(tmp_path):
    out = probe(XDG_CACHE_HOME=str(tmp_path), MLXK2_CPU_BLAS="0")
    assert out["state"] == {
        "blas": "reference",
        "library": None,
        "shim": False,
        "threads": None,
        "reason": "MLXK2_CPU_BLAS=0",
    }
    assert not out["sgemm_in_openblas"]
    assert not list(tmp_path.iterdir())  # nothing prepared


def test_threads_follow_the_environment(tmp_path):
    assert probe(XDG_CACHE_HOME=str(tmp_path), MLXK2_CPU_THREADS="2")["state"]["threads"] == 2


POOL_PROBE = textwrap.dedent("""
    import ctypes, json
    from mlxk_common.engine.cpu import blas, pool
    blas.ensure()
    lib = ctypes.CDLL(blas.status()["library"])
    before = lib.openblas_get_num_threads()
    parts = pool.pool()
    out = {"before": before, "size": parts and parts.size, "after": lib.openblas_get_num_threads()}
    if parts:
        import threading
        out["ranges"], out["chunks"] = parts.split(1500), parts.chunks(1500)
        both = threading.Barrier(2, timeout=30)  # passes only if two threads run tasks at once
        def task(i):
            both.wait()
            return i, threading.get_ident()
        done = parts.run([lambda i=i: task(i) for i in range(2)])
        out["order"] = [i for i, _ in done]
        out["threads"] = len({t for _, t in done})
        out["many"] = parts.run([lambda i=i: i * i for i in range(20)])
    print(json.dumps(out))
""")


@pytest.mark.parametrize("threads", ["1", "2"])
def test_our_own_threads_keep_openblas_at_one(tmp_path, threads):
    """With 2+ threads configured, engine.cpu.pool splits the work itself (Whisper on the CPU):
    OpenBLAS goes to one thread; the caller and a worker take the tasks, results in order."""
    proc = subprocess.run([sys.executable, "-c", POOL_PROBE], capture_output=True, text=True, timeout=300,
                          check=False, env=base_env(XDG_CACHE_HOME=str(tmp_path), MLXK2_CPU_THREADS=threads))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["before"] == int(threads)
    if threads == "1":
        assert out["size"] is None and out["after"] == 1
        return
    assert out["size"] == 2 and out["after"] == 1
    assert out["ranges"] == [[0, 750], [750, 1500]]
    assert out["chunks"] == [[i * 250, (i + 1) * 250] for i in range(6)]
    assert out["order"] == [0, 1] and out["threads"] == 2
    assert out["many"] == [i * i for i in range(20)]


def test_patch_refuses_a_library_without_the_prefixed_names():
    import os

    import mlx.core as mx  # any ELF library without scipy_ names will do

    libmlx = os.path.join(os.path.dirname(mx.__file__), "lib", "libmlx.so")
    with open(libmlx, "rb") as f:
        data = f.read()
    with pytest.raises(ElfError):
        patch(data)
    with pytest.raises(ElfError):
        patch(b"not an elf file at all")



@pytest.mark.slow
def test_greedy_text_equals_the_dequantized_model_on_mlx_own_path(smollm2_workspace, tmp_path):
    fast = greedy_haiku_json(smollm2_workspace, XDG_CACHE_HOME=str(tmp_path))
    reference = greedy_haiku_json(smollm2_workspace, "--cpu-dtype", "float32", MLXK2_CPU_BLAS="0")
    cpu = fast["timing"]["cpu"]
    assert cpu["path"] == "float32" and cpu["blas"] == "openblas" and cpu["dtype"] == "auto", cpu
    assert "within the budget" in cpu["reason"]
    ref_cpu = reference["timing"]["cpu"]
    assert ref_cpu["path"] == "float32" and ref_cpu["blas"] == "reference", ref_cpu
    assert fast["usage"]["completion_tokens"] == reference["usage"]["completion_tokens"] > 0
    assert fast["response"] == reference["response"]


@pytest.mark.slow
def test_a_tiny_memory_budget_keeps_the_quantized_path(smollm2_workspace, tmp_path):
    data = greedy_haiku_json(smollm2_workspace, "--verbose", XDG_CACHE_HOME=str(tmp_path), MLXK2_CPU_MEMORY="1kB")
    cpu = data["timing"]["cpu"]
    assert cpu["path"] == "quantized", cpu
    assert "over the budget of 1.0 KB" in cpu["reason"] and "kept as stored" in cpu["reason"]


@pytest.mark.slow
def test_native_and_verbose_say_which_path(smollm2_workspace, tmp_path):
    result = run_cli(
        [
            "mlx-run",
            str(smollm2_workspace),
            "Hi",
            "--max-tokens",
            "2",
            "--cpu-dtype",
            "native",
            "--verbose",
            "--no-chat-template",
        ],
        env=base_env(XDG_CACHE_HOME=str(tmp_path)),
    )
    assert result.code == 0, result
    assert "CPU path native (OpenBLAS" in result.stderr and "--cpu-dtype native" in result.stderr


def test_a_bad_cpu_dtype_is_a_usage_error(tmp_path):
    result = run_cli(["mlx-run", str(tmp_path), "Hi", "--cpu-dtype", "half"])
    assert result.code == 2 and "--cpu-dtype" in result.stderr and "Traceback" not in result.stderr
    result = run_cli(["mlx-run", str(tmp_path), "Hi", "--json"], env=base_env(MLXK2_CPU_DTYPE="half"))
    assert result.code == 2 and result.json()["error"]["type"] == "usage_error", result
