"""The CPU path chosen at load time: which dtype the weights run in, and why.

On MLX's Linux CPU backend float16/bfloat16 arithmetic and the quantized
matmul are scalar code, while a float32 matmul goes to BLAS (OpenBLAS when
``blas.ensure`` loaded it).  So on a CPU device:

* ``auto`` (default): float parameters (norms, quantization scales and
  biases, unquantized weights) become float32 -- exact, and 9-39x faster
  than bfloat16 here -- and quantized layers are dequantized to float32
  when the extra memory fits the budget (default half of the available
  RAM); otherwise they stay quantized and the path says so.
* ``float32``: cast and dequantize whatever the budget says.
* ``native``: the model as it comes.

``MLXK2_CPU_DTYPE`` and ``MLXK2_CPU_MEMORY`` are the environment's words for
``--cpu-dtype`` and the budget.  Other devices (Metal, CUDA) are left alone.

Generation (one row per step) reads every weight once a token, so it is
bound by bytes: quantized layers the packed-weight kernel can run
(``cpu/qgemv.py``, x86-64 with AVX-512F or AVX2+FMA; ``MLXK2_CPU_KERNELS=0``
switches it off) keep their packed weights for few-row products
(``cpu/qlayers.py``) whatever the dtype decision.  Prompts (more rows) go
through the many-row kernel on the same packed weights where the variant has
one (AVX-512F: no float32 copy at all), else through ``sgemm`` on a float32
copy kept as a second form when the budget allows.  ``_kernel_*`` below is
that part.
"""

from __future__ import annotations

import time

from mlxk_common.engine.cpu import blas, prompt_ops, qgemv, qlayers
from mlxk_common.errors import MlxkError
from mlxk_common.options import CPU_DTYPES, parse_size
from mlxk_common.progress import human_bytes

MODES = CPU_DTYPES
BUDGET_SHARE = 0.5  # of MemAvailable: leaves room for the KV cache, the OS and other programs


class CpuSettings:
    """--cpu-dtype and the memory budget, resolved from flags and the environment."""

    def __init__(self, dtype: str | None = None, memory: int | None = None, environ=None):
        environ = environ or {}
        mode = (dtype or environ.get("MLXK2_CPU_DTYPE") or "auto").strip().lower()
        if mode not in MODES:
            raise MlxkError("usage_error", f"--cpu-dtype must be one of {', '.join(MODES)}, not {mode!r}")
        self.dtype = mode
        if memory is None and environ.get("MLXK2_CPU_MEMORY"):
            try:
                memory = parse_size(environ["MLXK2_CPU_MEMORY"])
            except ValueError as exc:
                raise MlxkError("usage_error", f"MLXK2_CPU_MEMORY: {exc}") from None
        self.memory = memory  # None: BUDGET_SHARE of the available memory at load time
        self.kernels = environ.get("MLXK2_CPU_KERNELS")  # None: auto (cpu/qgemv.py)


def available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def on_cpu() -> bool:
    import mlx.core as mx

    return mx.default_device().type == mx.DeviceType.cpu


def apply(model, settings: CpuSettings | None, cpu_flags: set[str] | None = None) -> dict | None:
    """Put ``model`` on the CPU path; the record of what ran and why (None off the CPU).
    ``cpu_flags``: the CPU's feature flags as the kernel's choice sees them (default /proc/cpuinfo)."""
    if not on_cpu():
        return None
    settings = settings or CpuSettings()
    record = {"device": "cpu", "dtype": settings.dtype, **_blas_record()}
    if settings.dtype == "native":
        why = "--cpu-dtype native: the model as it comes"
        return {**record, "path": "native", "reason": why, "generation": "native", "generation_reason": why,
                "prompt": "native", "prompt_reason": why}  # fmt: skip
    start = time.perf_counter()
    quantized = _quantized_layers(model)
    kernel, kernel_why, kernel_layers = _kernel_plan(quantized, settings, cpu_flags)
    quantized = [(n, m) for n, m in quantized if all(m is not k for _k, k in kernel_layers)]
    extra = (
        sum(_dequantized_extra(m) for _n, m in quantized)
        + (sum(_kernel_extra(m) for _n, m in kernel_layers) if kernel is not None and kernel.gemm is None else 0)
        + _float_cast_extra(model)
    )
    if settings.dtype == "float32":
        dequantize, why = True, "--cpu-dtype float32"
    else:
        budget = settings.memory
        if budget is None:
            free = available_memory()
            budget = int(free * BUDGET_SHARE) if free is not None else None
        if budget is None:
            dequantize, why = False, "the available memory is unknown"
        else:
            dequantize = extra <= budget
            why = (
                f"float32 weights need {human_bytes(extra)} more, "
                f"{'within' if dequantize else 'over'} the budget of {human_bytes(budget)}"
            )
    _cast_floats(model, everything=dequantize)
    if dequantize:
        _dequantize(model, quantized)
        path = "float32"
    else:
        path = "quantized" if quantized or kernel_layers else "native"
        why += "; kept as stored, float parameters of quantized layers cast to float32"
    # The prompt pass's SiLU, softmax and RoPE in NumPy (cpu/prompt_ops.py), installed on the layers as
    # loaded, before kernel layers replace them: the kernel's fused few-row MLP step builds on it.
    ops = prompt_ops.install(model)
    keep = dequantize and kernel is not None and kernel.gemm is None  # the many-row kernel needs no float32 copy
    generation = _kernel_install(model, kernel, kernel_why, kernel_layers, keep_float32=keep)
    generation = generation or {
        "generation": path,
        "generation_reason": kernel_why,
        "prompt": path,
        "prompt_reason": "through sgemm on the float32 matrices" if path == "float32" else kernel_why,
    }
    prepared = {**record, "path": path, "reason": why, **generation, "prepare_s": round(time.perf_counter() - start, 3)}
    return {**prepared, "prompt_ops": ops}


def _blas_record() -> dict:
    state = blas.status() or {"blas": "reference", "shim": False, "threads": None}
    return {"blas": state["blas"], "shim": state["shim"], "threads": state["threads"]}


def _quantized_layers(model) -> list:
    from mlx import nn

    return [
        (name, m) for name, m in model.named_modules() if isinstance(m, (nn.QuantizedLinear, nn.QuantizedEmbedding))
    ]


def _dequantized_extra(module) -> int:
    rows, packed = module.weight.shape
    cols = packed * 32 // module.bits
    return rows * cols * 4 - module.weight.nbytes


def _kernel_plan(quantized, settings: CpuSettings, cpu_flags):
    """(kernel or None, why, the layers it will run): exact nn.QuantizedLinear /
    nn.QuantizedEmbedding layers in a layout the kernel reads (subclasses, such as
    sharded layers, compute otherwise and stay as they are)."""
    from mlx import nn

    environ = {} if settings.kernels is None else {"MLXK2_CPU_KERNELS": settings.kernels}
    kernel, why = qgemv.kernel(environ, cpu_flags)
    if kernel is None:
        return None, f"no packed-weight kernel: {why}", []
    layers = [
        (n, m) for n, m in quantized if type(m) in (nn.QuantizedLinear, nn.QuantizedEmbedding) and qlayers.eligible(m)
    ]
    if not layers:
        return None, "no quantized layer the packed-weight kernel runs (affine, 4/8 bits, group 32/64/128)", []
    return kernel, why, layers


def _kernel_extra(module) -> int:
    """The float32 matrix a kernel layer keeps for prompts (its packed weights stay)."""
    rows, packed = module.weight.shape
    return rows * packed * 32 // module.bits * 4


def _kernel_install(model, kernel, why: str, layers, keep_float32: bool) -> dict | None:
    """Replace each layer by its kernel layer, one at a time; the record's generation and
    prompt fields."""
    if kernel is None:
        return None
    from mlx.utils import tree_unflatten

    packed = dense = 0
    for name, module in layers:
        layer = qlayers.convert(module, kernel, keep_float32)
        packed += sum(a.nbytes for a in (layer.weight, layer.scales, layer.biases))
        dense += layer.rows * layer.cols * 4
        model.update_modules(tree_unflatten([(name, layer)]))
    fused = sum(qlayers.fuse_swiglu(m) for _n, m in model.named_modules())
    few = keep_float32 or kernel.gemm is not None
    rows = f"1-{qlayers.KERNEL_ROWS} rows" if few else "every product"
    layers_read = f"{len(layers)} quantized layers read their packed weights"
    record = {
        "generation": f"qgemv-{kernel.variant}",
        "generation_reason": (
            f"{why}: {rows} of {layers_read} ({human_bytes(packed)} instead of {human_bytes(dense)} as float32)"
            + (f"; {fused} SwiGLU MLPs step in NumPy between the kernel calls" if fused else "")
        ),
    }
    if kernel.gemm is not None:
        prompt = {
            "prompt": kernel.gemm,
            "prompt_reason": (
                f"{why}: more than {qlayers.KERNEL_ROWS} rows of {layers_read} through the many-row kernel "
                f"(no float32 copy of them kept: {human_bytes(dense)} less)"
            ),
        }
    elif keep_float32:
        prompt = {"prompt": "float32", "prompt_reason": "their float32 matrices kept for prompts, through sgemm"}
    else:
        prompt = {"prompt": record["generation"], "prompt_reason": "over the memory budget: no float32 copy, "
                  f"{qgemv.MAX_ROWS_PER_PASS} rows a pass over the packed weights"}  # fmt: skip
    return {**record, **prompt}


def _float_cast_extra(model) -> int:
    import mlx.core as mx
    from mlx.utils import tree_flatten

    return sum(
        a.nbytes for _n, a in tree_flatten(model.parameters()) if a.dtype in (mx.float16, mx.bfloat16) and a.ndim >= 2
    )


def _cast_floats(model, everything: bool) -> None:
    """float16/bfloat16 -> float32: all of them, or only the small ones (norms,
    scales, biases: fewer than two dimensions, or a quantized layer's)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten, tree_unflatten

    cast = [
        (name, a.astype(mx.float32))
        for name, a in tree_flatten(model.parameters())
        if a.dtype in (mx.float16, mx.bfloat16) and (everything or a.ndim < 2 or name.endswith((".scales", ".biases")))
    ]
    for i in range(0, len(cast), 64):  # in slices: the float16 copies go as their float32 ones land
        part = cast[i : i + 64]
        mx.eval([a for _n, a in part])
        model.update(tree_unflatten(part), strict=False)


def _dequantize(model, quantized) -> None:
    """Each quantized layer becomes its float32 nn.Linear / nn.Embedding, one at a time."""
    import mlx.core as mx
    from mlx import nn
    from mlx.utils import tree_unflatten

    for name, module in quantized:
        weight = mx.dequantize(
            module.weight,
            module.scales,
            getattr(module, "biases", None),
            module.group_size,
            module.bits,
            mode=getattr(module, "mode", "affine"),
        )
        weight = weight.astype(mx.float32)
        if isinstance(module, nn.QuantizedEmbedding):
            layer = nn.Embedding(1, 1)
        else:
            layer = nn.Linear(1, 1, bias="bias" in module)
            if "bias" in module:
                layer.bias = module.bias.astype(mx.float32)
        layer.weight = weight
        mx.eval(layer.parameters())
        model.update_modules(tree_unflatten([(name, layer)]))
