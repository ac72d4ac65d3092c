"""The CPU path's own kernels (engine.cpu.native, machine code built by
scripts/build_kernels.py from scripts/kernels/*.c): results against a float64
reference, refusals, the switch, and the shipped bytes against their source."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlxk_common.engine.cpu import machine_code, native

REPO = Path(__file__).resolve().parents[1]
HALF = native.unavailable("half_matvec", {})
needs_half = pytest.mark.skipif(HALF is not None, reason=f"half_matvec cannot run here: {HALF}")


@needs_half
@pytest.mark.parametrize("rows", [1, 3, 4, 5, 17, 51865])
@pytest.mark.parametrize("cols", [8, 384, 1536])
def test_half_matvec_matches_float64(rows, cols):
    """Every row, the 4-row blocks and the tail rows, against float64 products of the
    same float16 values: float32 accumulation error only."""
    rng = np.random.default_rng(rows * 7 + cols)
    weight = rng.standard_normal((rows, cols)).astype(np.float16)
    x = rng.standard_normal(cols).astype(np.float32)
    got = native.half_matvec()(weight, x)
    want = weight.astype(np.float64) @ x.astype(np.float64)
    scale = np.abs(weight.astype(np.float64)) @ np.abs(x.astype(np.float64))  # the sum of |terms| per row
    assert got.dtype == np.float32 and got.shape == (rows,)
    assert np.all(np.abs(got - want) <= 1e-6 * scale + 1e-30)


@needs_half
def test_half_matvec_writes_into_out_and_reads_a_strided_vector():
    weight = np.arange(64, dtype=np.float16).reshape(4, 16) / 16
    x = np.ones(32, np.float32)[::2]  # not contiguous: copied first
    out = np.full(4, np.nan, np.float32)
    assert native.half_matvec()(weight, x, out) is out
    np.testing.assert_allclose(out, weight.astype(np.float64).sum(axis=1), rtol=1e-6)


@needs_half
@pytest.mark.parametrize(
    "weight,x,out",
    [
        (np.zeros((4, 16), np.float32), np.zeros(16, np.float32), None),  # float32 matrix
        (np.zeros((4, 12), np.float16), np.zeros(12, np.float32), None),  # columns not a multiple of 8
        (np.zeros((4, 16), np.float16), np.zeros(8, np.float32), None),  # vector length
        (np.zeros((16, 4), np.float16).T, np.zeros(16, np.float32), None),  # column-major
        (np.zeros((4, 16), np.float16), np.zeros(16, np.float32), np.zeros(3, np.float32)),  # out too short
        (np.zeros((4, 16), np.float16), np.zeros(16, np.float32), np.zeros(4, np.float64)),  # out float64
    ],
)
def test_half_matvec_refuses_what_it_cannot_read(weight, x, out):
    with pytest.raises(ValueError):
        native.half_matvec()(weight, x, out)


def test_switched_off_by_the_environment():
    assert native.unavailable("half_matvec", {"MLXK2_CPU_KERNELS": "0"}) == "MLXK2_CPU_KERNELS=0"
    code = "from mlxk_common.engine.cpu import native; print(native.half_matvec(), native.why('half_matvec'))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "MLXK2_CPU_KERNELS": "0"},
    )
    assert proc.stdout.split() == ["None", "MLXK2_CPU_KERNELS=0"]


def test_unavailable_names_the_missing_cpu_flags(monkeypatch):
    monkeypatch.setattr(native, "cpu_flags", lambda: {"avx2", "fma"})
    reason = native.unavailable("half_matvec", {})
    assert reason in ("the CPU lacks f16c", "the kernels are x86-64 Linux code")


def test_every_kernel_declares_its_flags_and_has_code():
    for name, kernel in machine_code.KERNELS.items():
        assert (REPO / "scripts" / "kernels" / f"{name}.c").is_file()
        assert kernel["cpu_flags"] and 0 <= kernel["entry"] < len(kernel["code"])


def test_shipped_code_is_what_the_source_builds():
    """Rebuilt from scripts/kernels/*.c with the compiler that built the shipped
    bytes; another compiler makes other (equally valid) bytes, so then skipped."""
    if not shutil.which("gcc") or not shutil.which("objdump"):
        pytest.skip("gcc/objdump not installed")
    version = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    if version != machine_code.COMPILER:
        pytest.skip(f"shipped bytes come from {machine_code.COMPILER!r}, this is {version!r}")
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_kernels.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
