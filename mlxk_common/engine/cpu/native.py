"""The CPU path's own kernels: machine code from ``machine_code`` made callable.

Where no library has the kernel a model step needs (a float16 matrix times a
float32 vector: OpenBLAS has none, NumPy's float16 loops are scalar), the
engine carries a few small C functions as bytes (``scripts/build_kernels.py``
compiles them; docs/cpu.md says why machine code rather than a compiler on the
user's machine).  Loading one: an anonymous mapping is written, then made
read+execute (never writable and executable at once), and ctypes calls it.

x86-64 Linux only, and only where /proc/cpuinfo lists the CPU flags the code
needs; ``MLXK2_CPU_KERNELS=0`` turns them off.  Otherwise callers keep their
OpenBLAS path.

    half = native.half_matvec()        # None when the kernel cannot run here
    half(weight16, x, out)             # out = weight16 @ x, float32
"""

from __future__ import annotations

import os
import platform
import sys

from mlxk_common.engine.cpu.machine_code import KERNELS

_loaded: dict = {}  # name -> ctypes function, or the reason it is unavailable (str)
_maps: list = []  # the executable mappings, kept for the life of the process


def unavailable(name: str, environ=None) -> str | None:
    """Why kernel ``name`` cannot run in this process, or None when it can."""
    environ = os.environ if environ is None else environ
    if environ.get("MLXK2_CPU_KERNELS", "").strip().lower() in {"0", "off", "false", "no"}:
        return "MLXK2_CPU_KERNELS=0"
    if sys.platform != "linux" or platform.machine().lower() not in {"x86_64", "amd64"}:
        return "the kernels are x86-64 Linux code"
    missing = [flag for flag in KERNELS[name]["cpu_flags"] if flag not in cpu_flags()]
    if missing:
        return f"the CPU lacks {', '.join(missing)}"
    return None


def cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def function(name: str, restype, argtypes):
    """Kernel ``name`` as a ctypes function, or the reason it is unavailable (str)."""
    if name not in _loaded:
        _loaded[name] = unavailable(name) or _map(name, restype, argtypes)
    return _loaded[name]


def _map(name: str, restype, argtypes):
    import ctypes
    import mmap

    kernel = KERNELS[name]
    code = kernel["code"]
    size = -(-len(code) // mmap.PAGESIZE) * mmap.PAGESIZE
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        return f"mmap failed (errno {ctypes.get_errno()})"
    ctypes.memmove(address, code, len(code))
    if libc.mprotect(address, size, mmap.PROT_READ | mmap.PROT_EXEC) != 0:
        return f"the system refused executable memory (errno {ctypes.get_errno()})"
    _maps.append((address, size))
    return ctypes.CFUNCTYPE(restype, *argtypes)(address + kernel["entry"])


def half_matvec():
    """``out = weight @ x`` for a row-major float16 NumPy matrix (columns a multiple
    of 8) and a float32 vector, through the ``half_matvec`` kernel; None when it
    cannot run here (``why("half_matvec")`` says why).  Releases the GIL."""
    import ctypes

    kernel = function("half_matvec", None, [ctypes.c_void_p] * 3 + [ctypes.c_long] * 2)
    if isinstance(kernel, str):
        return None
    import numpy as np

    def run(weight, x, out=None):
        rows, cols = weight.shape
        if weight.dtype != np.float16 or not weight.flags.c_contiguous or cols % 8 or x.shape != (cols,):
            raise ValueError("half_matvec takes a row-major float16 matrix (columns a multiple of 8) and a vector")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if out is None:
            out = np.empty(rows, np.float32)
        elif out.shape != (rows,) or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError("half_matvec: out must be a contiguous float32 vector of the matrix's rows")
        kernel(weight.ctypes.data, x.ctypes.data, out.ctypes.data, rows, cols)
        return out

    return run


def why(name: str) -> str | None:
    """The reason kernel ``name`` did not load (after a first attempt), else None."""
    state = _loaded.get(name)
    return state if isinstance(state, str) else None
