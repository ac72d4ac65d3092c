"""A fast BLAS for MLX's Linux CPU wheel, loaded before ``mlx.core``.

The ``mlx[cpu]`` wheel links the reference (netlib) BLAS.  MLX's float32
matmul calls ``cblas_sgemm``, which the dynamic loader resolves in the global
scope first: a library loaded with ``RTLD_GLOBAL`` *before* ``mlx.core`` is
imported serves it (after the import it is too late).  ``ensure()`` does that
with OpenBLAS from the ``scipy-openblas32`` wheel, through a copy prepared
once into the user's cache (``elf.patch``: standard names, one-row shim).

Called at the start of the model-running tools (mlx-run, mlxk-serve) and by
the engine's loader; never by list/show/health/rm.  Only ctypes is imported.

Environment: ``MLXK2_CPU_BLAS=0`` keeps MLX's own BLAS; ``MLXK2_CPU_THREADS``
(else ``OPENBLAS_NUM_THREADS``, else 1) sets the BLAS threads: with two or
more, any other busy process on the machine made generation collapse here.
"""

from __future__ import annotations

import os
import sys

from mlxk_common.engine.cpu.elf import ElfError, patch

PATCH_VERSION = 1  # bump when elf.patch changes what it writes
LIBRARY = "libscipy_openblas.so"
DEFAULT_THREADS = 1

_state: dict | None = None


def status() -> dict:
    """What ``ensure`` did: {"blas", "library", "shim", "threads", "reason"}; {} before it ran."""
    return dict(_state or {})


def ensure(environ=None) -> dict:
    """Load the fast BLAS process-wide unless it cannot or should not be; idempotent."""
    global _state
    if _state is None:
        _state = _load(os.environ if environ is None else environ)
    return status()


def _reference(reason: str) -> dict:
    return {"blas": "reference", "library": None, "shim": False, "threads": None, "reason": reason}


def threads(environ) -> int:
    text = environ.get("MLXK2_CPU_THREADS") or environ.get("OPENBLAS_NUM_THREADS") or ""
    try:
        return max(1, int(text))
    except ValueError:
        return DEFAULT_THREADS


def _load(environ) -> dict:
    if sys.platform != "linux":
        return _reference("not Linux (MLX uses Accelerate on macOS)")
    if environ.get("MLXK2_CPU_BLAS", "").strip().lower() in {"0", "off", "false", "no"}:
        return _reference("MLXK2_CPU_BLAS=0")
    if "mlx.core" in sys.modules:
        return _reference("mlx was imported before the BLAS could be loaded")
    from importlib.util import find_spec

    mlx = find_spec("mlx")
    site = os.path.dirname(next(iter(mlx.submodule_search_locations))) if mlx else None
    if site and any(n.startswith("mlx_cuda") for n in os.listdir(site)):
        return _reference("MLX runs on CUDA")
    spec = find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        return _reference("scipy-openblas32 is not installed")
    source = os.path.join(next(iter(spec.submodule_search_locations)), "lib", LIBRARY)
    try:
        path, shim = prepared_copy(source, environ)
    except (OSError, ElfError) as exc:
        return _reference(f"cannot prepare OpenBLAS: {exc}")
    import ctypes

    count = threads(environ)
    # OpenBLAS sizes its thread pool from the environment as it loads.
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = str(count)
    try:
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        return _reference(f"cannot load OpenBLAS: {exc}")
    finally:
        if saved is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = saved
    lib.openblas_set_num_threads(count)
    return {
        "blas": "openblas",
        "library": path,
        "shim": shim,
        "threads": count,
        "reason": "" if shim else "OpenBLAS without the one-row shim (x86-64 only)",
    }


def set_threads(count: int) -> None:
    """OpenBLAS's own thread count from now on, process-wide (``engine.cpu.pool``
    sets one when it splits the work itself); ``status()["threads"]`` stays the
    configured count."""
    state = status()
    if state.get("blas") == "openblas" and state.get("library"):
        import ctypes

        ctypes.CDLL(state["library"]).openblas_set_num_threads(max(1, int(count)))


def cache_dir(environ) -> str:
    xdg = environ.get("XDG_CACHE_HOME")
    return os.path.join(os.path.expanduser(xdg) if xdg else os.path.expanduser("~/.cache"), "mlxk", "cpu")


def prepared_copy(source: str, environ) -> tuple[str, bool]:
    """(path of the patched copy, whether it has the shim): made once per OpenBLAS build."""
    st = os.stat(source)
    key = f"{st.st_size:x}-{int(st.st_mtime):x}-v{PATCH_VERSION}"
    folder = cache_dir(environ)
    for shim, name in ((True, f"libopenblas-{key}-shim.so"), (False, f"libopenblas-{key}.so")):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name), shim
    with open(source, "rb") as f:
        data, info = patch(f.read())
    name = f"libopenblas-{key}-shim.so" if info["shim"] else f"libopenblas-{key}.so"
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, name)
    temp = f"{target}.{os.getpid()}.tmp"  # concurrent first runs each write their own, then one wins
    with open(temp, "wb") as f:
        f.write(data)
    os.replace(temp, target)
    return target, info["shim"]


def matvec():
    """``y = W @ x`` for a row-major float32 matrix and vector (NumPy arrays) through
    the OpenBLAS that serves MLX (its threads), or None when that is not loaded.
    For code that runs a model step by step on the CPU: one C call, no graph."""
    global _matvec
    if _matvec is None:
        _matvec = _make_matvec()
    return _matvec or None


_matvec = None


def _make_matvec():
    state = status()
    if state.get("blas") != "openblas" or not state.get("library"):
        return False
    import ctypes

    import numpy as np

    gemv = ctypes.CDLL(state["library"]).cblas_sgemv
    c_int, c_float, ptr = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    gemv.argtypes = [c_int, c_int, c_int, c_int, c_float, ptr, c_int, ptr, c_int, c_float, ptr, c_int]
    gemv.restype = None

    def run(weight, x, out=None):
        rows, cols = weight.shape
        if not weight.flags.c_contiguous or weight.dtype != np.float32 or x.shape != (cols,):
            raise ValueError("matvec takes a row-major float32 matrix and a matching vector")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if out is None:
            out = np.empty(rows, np.float32)
        gemv(101, 111, rows, cols, 1.0, weight.ctypes.data, cols, x.ctypes.data, 1, 0.0, out.ctypes.data, 1)
        return out

    return run


def gemm():
    """``out = alpha * a @ b`` (``b.T`` with ``trans_b``) for float32 NumPy matrices
    whose rows may be strided (a head's columns of a wider matrix), through the
    OpenBLAS that serves MLX, writing into ``out``; NumPy's matmul when that
    library is not loaded."""
    global _gemm
    if _gemm is None:
        _gemm = _make_gemm()
    return _gemm


_gemm = None


def _make_gemm():
    import numpy as np

    state = status()
    if state.get("blas") != "openblas" or not state.get("library"):

        def fallback(a, b, out, trans_b=False, alpha=1.0):
            np.matmul(a, b.T if trans_b else b, out=out)
            if alpha != 1.0:
                out *= np.float32(alpha)
            return out

        return fallback
    import ctypes

    mm = ctypes.CDLL(state["library"]).cblas_sgemm
    c_int, c_float, ptr = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    mm.argtypes = [c_int] * 6 + [c_float, ptr, c_int, ptr, c_int, c_float, ptr, c_int]
    mm.restype = None

    def lead(m):
        if m.dtype != np.float32 or m.ndim != 2 or m.strides[1] != 4 or m.strides[0] % 4:
            raise ValueError("gemm takes float32 matrices with contiguous rows")
        return max(1, m.strides[0] // 4)

    def run(a, b, out, trans_b=False, alpha=1.0):
        rows, inner = a.shape
        cols = out.shape[1]
        if out.shape[0] != rows or b.shape != ((cols, inner) if trans_b else (inner, cols)):
            raise ValueError("gemm: shapes do not match")
        mm(
            101,
            111,
            112 if trans_b else 111,
            rows,
            cols,
            inner,
            alpha,
            a.ctypes.data,
            lead(a),
            b.ctypes.data,
            lead(b),
            0.0,
            out.ctypes.data,
            lead(out),
        )
        return out

    return run
