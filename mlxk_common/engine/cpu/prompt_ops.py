"""The prompt pass's element-wise work in NumPy, on the CPU path (docs/cpu.md).

MLX's Linux CPU wheel computes ``exp``, ``sigmoid`` and ``cos``/``sin`` one
element at a time (20-28 ns an element here, against 0.4-0.8 ns for an add
or a multiply, and NumPy's SIMD ``exp`` at ~1 ns): on a prompt of a few
hundred tokens SwiGLU's SiLU, the attention's softmax (MLX's CPU fallback of
``mx.fast.scaled_dot_product_attention``) and RoPE were 30-45% of the pass.
For passes of more than one row (prompts; one-row generation steps keep
MLX's ops, whose graph stays lazy and pipelined), the llama family's MLP and
attention run these parts in NumPy, *in place* on the evaluated MLX buffers
(an evaluated ``mx.array`` is a writable NumPy view, and every buffer touched
is one just made by a product, used by nothing else); the products, norms
and adds stay in MLX:

* SwiGLU: ``gate * up / (1 + exp(-gate))``, into ``up``'s buffer, in blocks
  that stay in the cache;
* attention: the scores by ``mx.matmul`` (OpenBLAS), a block of query rows at
  a time with only the keys those rows may see under a causal mask, the mask
  and the softmax in NumPy, the product with the values by ``mx.matmul``;
* RoPE (``nn.RoPE``, and ``Llama3RoPE``'s frequencies), non-traditional:
  cos/sin tables made once per rope module with MLX's own ops (the values
  ``mx.fast.rope`` computes per call), applied to the queries and keys in
  place.

Installed on one loaded model only: its layers' modules change class to a
subclass of their own (``install``/``uninstall``), so mlx-lm's modules and
any other model stay as they are.  Only the exact classes of
``mlx_lm.models.llama`` and ``mlx_lm.models.qwen2`` (llama, mistral,
SmolLM2, Qwen2) with plain or quantized linear layers: other architectures
and sharded models are left alone.  ``MLXK2_CPU_PROMPT_OPS=0`` turns it off.
"""

from __future__ import annotations

import os
from functools import cache

ENV = "MLXK2_CPU_PROMPT_OPS"
TINY = 1.1754944e-38  # float32's smallest normal number
BLOCK = 1 << 14  # elements per NumPy block of the SwiGLU: 64 KiB of float32, in L2 with its partner
SCORE_BLOCK = 1 << 18  # attention scores per block of query rows (1 MiB), at least MIN_ROWS rows
MIN_ROWS = 32


def enabled(environ=None) -> bool:
    value = (os.environ if environ is None else environ).get(ENV, "1").strip().lower()
    return value not in ("0", "off", "no", "false")


def install(model, environ=None) -> dict:
    """Put the prompt ops on ``model``'s llama-family layers; the record:
    ``{"active": bool, "reason": str}``."""
    if not enabled(environ):
        return {"active": False, "reason": f"{ENV}=0"}
    targets = _targets(model)
    if not targets:
        return {"active": False, "reason": "not a llama-family model (llama, mistral, qwen2): MLX's own ops"}
    for module in targets:
        module.__class__ = _fast_class(type(module))
    return {"active": True, "reason": f"SwiGLU, attention softmax and RoPE in NumPy for {len(targets) // 2} layers"}


def uninstall(model) -> list:
    """MLX's own ops back on ``model``; returns ``[(module, class)]`` for ``restore``."""
    saved = []
    for _name, module in model.named_modules():
        original = getattr(type(module), "_mlxk_original", None)
        if original is not None:
            saved.append((module, type(module)))
            module.__class__ = original
    return saved


def restore(saved) -> None:
    """Undo ``uninstall``: each module gets back the class it had (the prompt ops' class, or a
    class the CPU path built on it, such as the packed-weight kernel's fused MLP)."""
    for module, cls in saved:
        module.__class__ = cls


def _targets(model) -> list:
    """The model's attention and MLP modules, when every layer is of a known class."""
    from mlx import nn

    try:
        from mlx_lm.models import llama, qwen2
    except ImportError:
        return []
    known = {llama.Attention, llama.MLP, qwen2.Attention, qwen2.MLP}
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if not isinstance(inner, nn.Module) or not isinstance(layers, list) or not layers:
        return []
    plain = (nn.Linear, nn.QuantizedLinear)
    found = []
    for layer in layers:
        attn, mlp = getattr(layer, "self_attn", None), getattr(layer, "mlp", None)
        if type(attn) not in known or type(mlp) not in known:
            return []
        linears = [getattr(attn, n, None) for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        linears += [getattr(mlp, n, None) for n in ("gate_proj", "up_proj", "down_proj")]
        if any(type(m) not in plain for m in linears):  # sharded or otherwise changed layers
            return []
        found += [attn, mlp]
    return found


@cache
def _fast_class(original):
    """A subclass of ``original`` (an attention or MLP class) whose many-row calls use the ops here."""
    name = original.__name__
    body = _Attention.__call__ if "Attention" in name else _MLP.__call__
    return type(name, (original,), {"__call__": body, "_mlxk_original": original, "__module__": original.__module__})


def _rows(x) -> int:
    rows = 1
    for n in x.shape[:-1]:
        rows *= n
    return rows


class _MLP:
    def __call__(self, x):
        if _rows(x) <= 1:  # the class mlx-lm wrote (not super(): a class may be built on this one)
            return self._mlxk_original.__call__(self, x)
        return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))


class _Attention:
    def __call__(self, x, mask=None, cache=None):
        B, L, _D = x.shape
        if L <= 1 or hasattr(cache, "bits"):  # one row, or a quantized KV cache: MLX's own
            return self._mlxk_original.__call__(self, x, mask, cache)
        offset = cache.offset if cache is not None else 0
        queries, keys, values = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        table = rope_table(self.rope) if isinstance(offset, int) else None
        queries = queries.reshape(B, L, self.n_heads, -1)
        keys = keys.reshape(B, L, self.n_kv_heads, -1)
        if table is not None:
            queries, keys = rope(queries, table, offset), rope(keys, table, offset)
        queries = queries.transpose(0, 2, 1, 3)
        keys = keys.transpose(0, 2, 1, 3)
        values = values.reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        if table is None:
            queries = self.rope(queries, offset=offset)
            keys = self.rope(keys, offset=offset)
        if cache is not None:
            keys, values = cache.update_and_fetch(keys, values)
        output = attention(queries, keys, values, self.scale, mask)
        return self.o_proj(output.transpose(0, 2, 1, 3).reshape(B, L, -1))


def _view(array):
    """A writable NumPy view of an evaluated, row-contiguous float32 ``mx.array``, else None."""
    import mlx.core as mx
    import numpy as np

    if array.dtype != mx.float32:
        return None
    mx.eval(array)
    try:
        view = np.array(array, copy=False)
    except ValueError:
        return None
    if not (view.flags.c_contiguous and view.flags.writeable):
        return None
    return view


def swiglu(gate, up):
    """``silu(gate) * up`` for two freshly computed float32 arrays; the result
    is ``up``'s buffer (``gate``'s is scratch).  MLX's op for other dtypes."""
    import mlx.core as mx

    mx.eval(gate, up)
    g, u = _view(gate), _view(up)
    if g is None or u is None or g.shape != u.shape:
        from mlx_lm.models.activations import swiglu as mlx_swiglu

        return mlx_swiglu(gate, up)
    silu_times(g, u)
    return up


def silu_times(g, u):
    """``u = silu(g) * u`` in place for float32 NumPy arrays of one shape (``g`` is scratch),
    a cache-sized block at a time; returns ``u``."""
    import numpy as np

    g, flat = g.reshape(-1), u.reshape(-1)
    with np.errstate(over="ignore"):  # exp(-gate) = inf for gate < -88: the result is 0, as it should be
        for start in range(0, g.size, BLOCK):
            gb, ub = g[start : start + BLOCK], flat[start : start + BLOCK]
            np.multiply(gb, ub, out=ub)
            np.negative(gb, out=gb)
            np.exp(gb, out=gb)
            gb += np.float32(1)
            np.divide(ub, gb, out=ub)
    return u


class RopeTable:
    """cos/sin of every position up to ``len``, grown on demand, for one rope module."""

    def __init__(self, dims: int, inv_freqs, scale: float):
        self.dims, self.inv_freqs, self.scale = dims, inv_freqs, scale
        self.cos = self.sin = None

    def rows(self, start: int, stop: int):
        if self.cos is None or self.cos.shape[0] < stop:
            import mlx.core as mx
            import numpy as np

            size = max(stop, 256, 2 * (0 if self.cos is None else self.cos.shape[0]))
            # as mx.fast.rope's CPU fallback does it: float32 positions times
            # the scale, times the inverse frequencies, then MLX's cos and sin
            positions = mx.arange(size, dtype=mx.float32) * mx.array(self.scale, mx.float32)
            theta = positions[:, None] * self.inv_freqs[None, :]
            cos, sin = mx.cos(theta), mx.sin(theta)
            mx.eval(cos, sin)
            self.cos, self.sin = np.array(cos), np.array(sin)
        return self.cos[start:stop], self.sin[start:stop]


def rope_table(module) -> RopeTable | None:
    """The table of a rope module this file can apply (``nn.RoPE`` and
    ``Llama3RoPE``, not traditional), made once and kept on the module."""
    table = vars(module).get("_mlxk_table", False)
    if table is not False:
        return table
    table = _make_table(module)
    object.__setattr__(module, "_mlxk_table", table)
    return table


def _make_table(module) -> RopeTable | None:
    import math

    import mlx.core as mx
    from mlx import nn

    try:
        from mlx_lm.models.rope_utils import Llama3RoPE
    except ImportError:
        Llama3RoPE = None
    if getattr(module, "traditional", True) or module.dims % 2:
        return None
    half = module.dims // 2
    if type(module) is nn.RoPE:
        inv = mx.exp(mx.arange(0, -half, -1, dtype=mx.float32) * mx.array(math.log(module.base) / half, mx.float32))
        scale = module.scale
    elif Llama3RoPE is not None and type(module) is Llama3RoPE:
        inv = mx.reciprocal(module._freqs.astype(mx.float32))
        scale = 1.0
    else:
        return None
    mx.eval(inv)
    return RopeTable(module.dims, inv, scale)


def rope(x, table: RopeTable, offset: int):
    """Rotate ``x`` (B, L, heads, head_dim: a fresh float32 product) in place
    for positions ``offset`` .. ``offset + L``; MLX's rope for other dtypes."""
    import mlx.core as mx
    import numpy as np

    view = _view(x)
    if view is None:
        y = mx.fast.rope(
            x.transpose(0, 2, 1, 3),
            table.dims,
            traditional=False,
            base=None,
            scale=1.0,
            offset=offset,
            freqs=1 / table.inv_freqs / table.scale,
        )
        return y.transpose(0, 2, 1, 3)
    _b, length, _h, _d = view.shape
    half = table.dims // 2
    cos, sin = table.rows(offset, offset + length)
    cos, sin = cos[:, None, :], sin[:, None, :]  # broadcast over heads
    for b in range(view.shape[0]):
        x1, x2 = view[b, :, :, :half], view[b, :, :, half : table.dims]
        a = x1 * cos  # x1 cos - x2 sin, x1 sin + x2 cos
        t = x2 * sin
        a -= t
        np.multiply(x2, cos, out=t)
        x2[...] = x1 * sin
        x2 += t
        x1[...] = a
    return x


@cache
def _finfo_min():
    import numpy as np

    return np.finfo(np.float32).min


def attention(queries, keys, values, scale: float, mask):
    """``mx.fast.scaled_dot_product_attention`` for many query rows on the CPU:
    queries (B, H, L, D), keys and values (B, H_kv, S, D), float32; ``mask``
    None, "causal" or an array (boolean: where to attend; else added)."""
    import mlx.core as mx
    import numpy as np

    B, H, L, D = queries.shape
    kv_heads, S = keys.shape[1], keys.shape[2]
    if queries.dtype != mx.float32 or H % kv_heads:
        return mx.fast.scaled_dot_product_attention(queries, keys, values, scale=scale, mask=mask)
    rep = H // kv_heads
    q = (queries * mx.array(scale, mx.float32)).reshape(B, kv_heads, rep, L, D)
    causal = isinstance(mask, str)
    if mask is not None and not causal:
        mask = _mask_view(mask, B, kv_heads, rep, L, S)
    per_row = rep * S
    step = max(MIN_ROWS, SCORE_BLOCK // max(1, per_row))
    outs = []
    for r0 in range(0, L, step):
        r1 = min(L, r0 + step)
        n = r1 - r0
        seen = S - L + r1 if causal else S  # a causal block's rows see no key past its last row's
        qb = q[:, :, :, r0:r1].reshape(B, kv_heads, rep * n, D) if step < L else q.reshape(B, kv_heads, rep * L, D)
        kb = keys[:, :, :seen] if seen < S else keys
        scores = mx.matmul(qb, kb.swapaxes(-1, -2))
        s = _view(scores)
        if s is None:
            s = np.array(scores, dtype=np.float32)
            scores = None
        s5 = s.reshape(B, kv_heads, rep, n, seen)
        if causal:
            rows = np.arange(S - L + r0, S - L + r1)[:, None]
            hidden = np.arange(seen)[None, :] > rows
            if hidden.any():  # an added -inf: as fast as any add (np.copyto with where= was 10x slower)
                s5 += np.where(hidden, np.float32(-np.inf), np.float32(0))
        elif mask is not None:
            part = mask[..., r0:r1, :] if mask.shape[-2] == L else mask
            if part.dtype == np.bool_:
                np.copyto(s5, _finfo_min(), where=~part)
            else:
                s5 += part
        s -= s.max(axis=-1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        # Probabilities below float32's smallest normal number are subnormal, and a product that
        # reads them runs several times slower on x86 (microcode assists: the 0.49B model's value
        # products took 87 instead of ~20 ms a pass); as zeros they change no sum that matters.
        s *= s >= TINY  # (np.copyto with where= took 10x as long)
        if scores is None:
            scores = mx.array(s)
        vb = values[:, :, :seen] if seen < S else values
        outs.append(mx.matmul(scores, vb).reshape(B, kv_heads, rep, n, D))
    out = outs[0] if len(outs) == 1 else mx.concatenate(outs, axis=3)
    return out.reshape(B, H, L, D)


def _mask_view(mask, B, kv_heads, rep, L, S):
    """An array mask as NumPy, shaped to broadcast over (B, H_kv, rep, L, S)."""
    import mlx.core as mx
    import numpy as np

    if mask.dtype != mx.bool_:
        mask = mask.astype(mx.float32)
    m = np.array(mask)
    while m.ndim < 4:
        m = m[None]
    # (B or 1, H or 1, L or 1, S) -> (B or 1, H_kv or 1, rep or 1, L or 1, S)
    if m.shape[1] == 1:
        return m[:, :, None]
    return m.reshape(m.shape[0], kv_heads, rep, m.shape[2], m.shape[3])
