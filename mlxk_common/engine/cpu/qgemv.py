"""The quantized matrix-vector kernel, loaded from shipped machine code (docs/cpu.md).

A generated token on the CPU reads every weight once: on the float32 path
4 bytes a weight, through OpenBLAS ``sgemv``.  This kernel reads MLX's packed
4/8-bit weights (plus float32 scales and biases: 0.75 bytes a weight at 4
bits, group 32) at close to the same speed.  Its C source is
scripts/kernels/qgemv.h (entry points qgemv{4,8}_{avx512,avx2}.c), which
scripts/build_kernels.py compiles at development time into the engine's
``machine_code`` module, so the user's machine needs no compiler; ``native``
maps the bytes of the variant the CPU can run (AVX-512F, else AVX2 + FMA)
read + execute and ctypes calls them.

Prompts (many rows of x) are compute, not bytes: the AVX-512F variant also
has the many-row kernel (scripts/kernels/qgemm.h, ``qgemm{4,8}_avx512``),
blocked like a float32 matrix product on weight panels dequantized from the
packed bytes, so no float32 copy of the weights is needed (``Kernel.gemm``).

x86-64 Linux only.  ``MLXK2_CPU_KERNELS``: ``0``/``off`` switches the kernel
off; ``avx2`` or ``avx512`` asks for that variant (if the CPU lacks it, none
is used and the reason says so); anything else (default ``auto``) picks.
"""

from __future__ import annotations

import platform
import sys
import threading

from mlxk_common.engine.cpu import native, pool

OFF = {"0", "off", "false", "no", "none"}
VARIANTS = ("avx512", "avx2")
NEEDS = {"avx512": {"avx512f"}, "avx2": {"avx2", "fma"}}
BITS = (4, 8)
GROUPS = (32, 64, 128)
MAX_ROWS_PER_PASS = 4  # rows of x one pass over the weights serves (the C code's widest case)
GEMM_VARIANTS = ("avx512",)  # variants with the many-row kernel (scripts/kernels/qgemm.h)
GEMM_SCRATCH = 192 * 1024 + 8 * 1024  # floats a call needs (QGEMM_SCRATCH in qgemm.h: MC * KC + NR * KC)
GEMM_PANEL = 8  # weight rows the many-row kernel computes together: threads split at these
GEMM_MIN_ROWS = 16  # up to this many rows qgemv is as fast or faster (4096 x 1024, 4 bits: 5 rows 0.38x its time)

_loaded: dict = {}


def select(environ=None, flags: set[str] | None = None) -> tuple[str | None, str]:
    """(the variant to use or None, why) from the platform, the CPU's flags and the environment."""
    environ = {} if environ is None else environ
    asked = (environ.get("MLXK2_CPU_KERNELS") or "auto").strip().lower()
    if asked in OFF:
        return None, "MLXK2_CPU_KERNELS=0"
    if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        return None, "the quantized kernel exists for x86-64 Linux only"
    flags = native.cpu_flags() if flags is None else flags
    wanted = [asked] if asked in VARIANTS else list(VARIANTS)
    for variant in wanted:
        if NEEDS[variant] <= flags:
            return variant, f"MLXK2_CPU_KERNELS={asked}" if asked in VARIANTS else "the CPU has " + "+".join(
                sorted(NEEDS[variant])
            )
    if asked in VARIANTS:
        return None, f"MLXK2_CPU_KERNELS={asked} but the CPU lacks {'+'.join(sorted(NEEDS[asked] - flags))}"
    return None, "the CPU has neither AVX-512F nor AVX2+FMA"


def _entry(name: str, ints: int):
    """Kernel ``name`` (five pointers, ``ints`` int64 sizes, a scratch pointer) as a ctypes
    function; OSError when it cannot be loaded."""
    import ctypes

    fn = native.function(name, None, [ctypes.c_void_p] * 5 + [ctypes.c_int64] * ints + [ctypes.c_void_p])
    if isinstance(fn, str):
        raise OSError(fn)
    return fn


class Kernel:
    """``run(w, scales, biases, x, out)``: ``out[m] = dequantize(w) @ x[m]`` for NumPy arrays
    (w: rows x packed uint32; scales, biases: rows x groups float32; x: n x cols float32;
    out: n x rows float32, all C-contiguous)."""

    def __init__(self, variant: str):
        self.variant = variant
        self._fns = {bits: _entry(f"qgemv{bits}_{variant}", 4) for bits in BITS}
        # Many rows (a prompt): the blocked kernel, where this variant has one (one more argument: ldy).
        self._gemms = {bits: _entry(f"qgemm{bits}_{variant}", 5) for bits in BITS} if variant in GEMM_VARIANTS else {}
        self.gemm = f"qgemm-{variant}" if self._gemms else None
        self._local = threading.local()

    def check(self, bits: int, group: int, w, scales, biases) -> None:
        """Raise ValueError unless the packed weights are in the layout the kernel reads."""
        import numpy as np

        rows, packed = w.shape
        cols = packed * 32 // bits
        if (
            bits not in self._fns
            or group not in GROUPS
            or w.dtype != np.uint32
            or cols % group
            or scales.shape != (rows, cols // group)
            or biases.shape != scales.shape
            or not all(a.flags.c_contiguous for a in (w, scales, biases))
            or not all(a.dtype == np.float32 for a in (scales, biases))
        ):
            raise ValueError("qgemv: packed weights, scales or biases do not match")

    def bind(self, bits: int, group: int, w, scales, biases, many: bool = False):
        """``call(x, out)`` for fixed weights (checked once here): x n x cols and out n x rows,
        float32, C-contiguous (any leading shape; the caller makes them).  The hot path of a
        generated token: no checks, the pointers computed once.  ``many``: calls of more than
        ``GEMM_MIN_ROWS`` rows go to the many-row kernel (``self.gemm`` says whether
        there is one), split over the engine's threads (``cpu/pool.py``) when there are two."""
        import numpy as np

        self.check(bits, group, w, scales, biases)
        fn, gemm = self._fns[bits], self._gemms.get(bits) if many else None
        rows, cols = w.shape[0], w.shape[1] * 32 // bits
        wp, sp, bp = w.ctypes.data, scales.ctypes.data, biases.ctypes.data
        w_row, g_row = w.strides[0], scales.strides[0]  # bytes a weight row takes, packed and in scales
        local = self._local

        def scratch(size):
            if size > getattr(local, "size", 0):  # one buffer a thread, kept
                local.buffer = np.empty(max(size, 1 << 16), np.float32)
                local.size, local.ptr = local.buffer.size, local.buffer.ctypes.data
            return local.ptr

        def call(x, out):
            n = x.size // cols
            if gemm is None or n <= GEMM_MIN_ROWS:
                fn(wp, sp, bp, x.ctypes.data, out.ctypes.data, rows, cols, group, n, scratch(n * cols))
                return out
            xp, yp = x.ctypes.data, out.ctypes.data
            parts = pool.pool()
            if parts is None:
                gemm(wp, sp, bp, xp, yp, rows, cols, group, n, rows, scratch(GEMM_SCRATCH))
                return out

            def part(lo, hi):
                r0, r1 = lo * GEMM_PANEL, min(hi * GEMM_PANEL, rows)
                return lambda: gemm(
                    wp + r0 * w_row, sp + r0 * g_row, bp + r0 * g_row, xp, yp + r0 * 4,
                    r1 - r0, cols, group, n, rows, scratch(GEMM_SCRATCH),
                )  # fmt: skip

            parts.run([part(lo, hi) for lo, hi in parts.chunks(-(-rows // GEMM_PANEL))])
            return out

        return call

    def run(self, bits: int, group: int, w, scales, biases, x, out, many: bool = False):
        """``out[m] = dequantize(w) @ x[m]``, checked (tests, benches)."""
        import numpy as np

        n, cols = x.shape
        if (
            w.shape[1] * 32 != cols * bits
            or out.shape != (n, w.shape[0])
            or not all(a.flags.c_contiguous and a.dtype == np.float32 for a in (x, out))
        ):
            raise ValueError("qgemv: x or out do not match the weights")
        return self.bind(bits, group, w, scales, biases, many)(x, out)


def kernel(environ=None, flags: set[str] | None = None) -> tuple[Kernel | None, str]:
    """(the loaded kernel or None, why); loaded once per variant and process."""
    variant, why = select(environ, flags)
    if variant is None:
        return None, why
    if variant not in _loaded:
        try:
            _loaded[variant] = Kernel(variant)
        except OSError as exc:
            return None, f"cannot load the kernel's code: {exc}"
    return _loaded[variant], why
