"""Quantized layers whose few-row products run through the packed-weight kernel (docs/cpu.md).

``KernelLinear`` and ``KernelEmbedding`` replace MLX's ``nn.QuantizedLinear``
and ``nn.QuantizedEmbedding`` on the CPU path.  They keep the packed weights
(with float32 scales and biases) and, when the memory budget allows, the
float32 dequantized matrix too:

* up to ``KERNEL_ROWS`` rows (a generated token; a server batch of a few
  requests): x is evaluated, the kernel (``cpu/qgemv.py``) reads the packed
  weights once per 4 rows, and the result goes back into the graph as an
  ``mx.array``;
* more rows (a prompt): the many-row kernel on the packed weights where the
  variant has one (``Kernel.gemm``, AVX-512F; then no float32 matrix is
  kept), else ``x @ W.T`` on the float32 matrix through OpenBLAS ``sgemm``
  when it is kept, else the kernel, 4 rows per pass over the packed weights
  (compute-bound, still several times MLX's scalar ``quantized_matmul``).

The embedding's lookup gathers rows of the float32 table when kept (else
dequantizes the rows it gathers, as MLX does); its ``as_linear`` (the output
layer of a model with tied embeddings) is a product like the above.

``fuse_swiglu``: an mlx-lm SwiGLU MLP (``down(silu(gate(x)) * up(x))``) whose
three layers are kernel layers runs its few-row steps in NumPy between the
kernel calls: one host sync and three MLX operations less a layer and token
(6% of a SmolLM2 step here).  More rows do the same through the many-row
kernel where the layers have it, else take the module's own code.
"""

from __future__ import annotations

import inspect
import threading
from functools import cache

from mlxk_common.engine.cpu.prompt_ops import silu_times
from mlxk_common.engine.cpu.qgemv import BITS, GROUPS

KERNEL_ROWS = 16  # up to this many rows go through the kernel even when float32 weights are kept (measured: 2-4 rows 0.2x sgemm's time, 8 rows 0.38x, 16 rows 0.87x)


def host_rows(x):
    """``x`` evaluated, as a C-contiguous float32 NumPy array (a view where MLX's buffer allows)."""
    import mlx.core as mx
    import numpy as np

    if x.dtype != mx.float32:
        x = x.astype(mx.float32)
    mx.eval(x)
    rows = np.array(x, copy=False)
    return rows if rows.flags.c_contiguous else np.ascontiguousarray(rows)


_buffers = threading.local()


def buffer(slot: str, shape):
    """A float32 NumPy array of ``shape`` for results that are copied out (``mx.array``) or used
    up before the slot is asked for again in this thread: one growing buffer per slot and thread.
    Fresh arrays of a prompt's size came from new pages each call (50,000 page faults a
    0.49B-model pass, ~0.1 s of CPU)."""
    import numpy as np

    size = 1
    for n in shape:
        size *= n
    store = _buffers.__dict__
    flat = store.get(slot)
    if flat is None or flat.size < size:
        flat = store[slot] = np.empty(max(size, 1 << 16), np.float32)
    return flat[:size].reshape(shape)


def eligible(module) -> bool:
    """Whether the kernel can run this layer as stored (affine 4/8-bit, group 32/64/128)."""
    mode = getattr(module, "mode", "affine")
    biases = getattr(module, "biases", None)
    if mode != "affine" or biases is None or module.bits not in BITS or module.group_size not in GROUPS:
        return False
    cols = module.weight.shape[-1] * 32 // module.bits
    return module.weight.ndim == 2 and cols % module.group_size == 0


def convert(module, kernel, keep_float32: bool):
    """The kernel layer for an eligible nn.QuantizedLinear / nn.QuantizedEmbedding."""
    from mlx import nn

    cls = _classes()[1] if isinstance(module, nn.QuantizedEmbedding) else _classes()[0]
    return cls(module, kernel, keep_float32)


@cache
def _classes():
    import mlx.core as mx
    import numpy as np
    from mlx import nn

    class _Packed(nn.Module):
        def __init__(self, module, kernel, keep_float32: bool):
            super().__init__()
            self.group_size, self.bits, self.mode = module.group_size, module.bits, "affine"
            self.weight = module.weight
            self.scales = module.scales.astype(mx.float32)
            self.biases = module.biases.astype(mx.float32)
            self.dense = None
            self.many = kernel.gemm is not None  # more rows than KERNEL_ROWS: the many-row kernel, not sgemm
            if keep_float32:
                self.dense = mx.dequantize(self.weight, self.scales, self.biases, self.group_size, self.bits).astype(
                    mx.float32
                )
            mx.eval(self.parameters())
            self.rows = self.weight.shape[0]
            self.cols = self.weight.shape[1] * 32 // self.bits
            # The kernel reads NumPy views of the evaluated MLX buffers (no copies; the module
            # keeps the arrays alive).
            views = [np.array(a, copy=False) for a in (self.weight, self.scales, self.biases)]
            call = kernel.bind(self.bits, self.group_size, *views, many=self.many)
            object.__setattr__(self, "_call", call)
            self.freeze()

        def _extra_repr(self):
            return f"rows={self.rows}, cols={self.cols}, bits={self.bits}, group_size={self.group_size}, " + (
                "float32 kept" if self.dense is not None else "packed only"
            )

        def product(self, x):
            """``x @ W.T`` for x of any leading shape."""
            lead = x.shape[:-1]
            if self.dense is not None and x.size > KERNEL_ROWS * self.cols:
                return x @ self.dense.T
            return mx.array(self._call(host_rows(x), buffer("out", (*lead, self.rows))))

    class KernelLinear(_Packed):
        def __init__(self, module, kernel, keep_float32: bool):
            super().__init__(module, kernel, keep_float32)
            if "bias" in module:
                self.bias = module.bias.astype(mx.float32)
                mx.eval(self.bias)

        def __call__(self, x):
            y = self.product(x)
            return y + self.bias if "bias" in self else y

    class KernelEmbedding(_Packed):
        def __call__(self, ids):
            if self.dense is not None:
                return self.dense[ids]
            return mx.dequantize(
                self.weight[ids], self.scales[ids], self.biases[ids], self.group_size, self.bits
            ).astype(mx.float32)

        def as_linear(self, x):
            return self.product(x)

    return KernelLinear, KernelEmbedding


# The bodies of mlx-lm's SwiGLU MLPs (llama, qwen2, qwen3, mistral, ...): nothing else is fused.
SWIGLU = (
    "return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))",
    "return self.down_proj(nn.silu(self.gate_proj(x)) * self.up_proj(x))",
)


def fuse_swiglu(module) -> bool:
    """Give ``module`` the fused few-row step if it is such an MLP; whether it was."""
    linear = _classes()[0]
    parts = [getattr(module, k, None) for k in ("gate_proj", "up_proj", "down_proj")]
    if not all(type(p) is linear and "bias" not in p for p in parts):
        return False
    # The class as mlx-lm wrote it: under the prompt ops (cpu/prompt_ops.py) the MLP's class is their
    # subclass, whose many-row calls the fused class below hands on to (super().__call__).
    written = getattr(type(module), "_mlxk_original", type(module))
    try:
        lines = inspect.getsource(written.__call__).splitlines()[1:]
    except (OSError, TypeError):
        return False
    body = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if body not in ([form] for form in SWIGLU):
        return False
    module.__class__ = _fused(type(module))  # same children and parameter names, another __call__
    return True


@cache
def _fused(cls):
    import mlx.core as mx
    import numpy as np

    class Fused(cls):
        def __call__(self, x):
            gate, up, down = self.gate_proj, self.up_proj, self.down_proj
            if x.size > KERNEL_ROWS * gate.cols:
                if not (gate.many and up.many and down.many):
                    return super().__call__(x)
                # A prompt through the many-row kernel: the SwiGLU between its calls in NumPy
                # (prompt_ops.silu_times), no MLX array in between.
                rows = host_rows(x)
                lead = rows.shape[:-1]
                g = gate._call(rows, buffer("gate", (*lead, gate.rows)))
                u = up._call(rows, buffer("up", (*lead, up.rows)))
                return mx.array(down._call(silu_times(g, u), buffer("out", (*lead, down.rows))))
            rows = host_rows(x)
            lead = rows.shape[:-1]
            g = gate._call(rows, np.empty((*lead, gate.rows), np.float32))
            u = up._call(rows, np.empty((*lead, up.rows), np.float32))
            with np.errstate(over="ignore"):  # exp(-g) overflows to inf for very negative g: silu -> -0
                h = np.exp(-g)
            h += 1
            np.reciprocal(h, out=h)
            h *= g
            h *= u
            return mx.array(down._call(h, np.empty((*lead, down.rows), np.float32)))

    Fused.__name__ = Fused.__qualname__ = f"KernelSwiGLU{cls.__name__}"
    return Fused
