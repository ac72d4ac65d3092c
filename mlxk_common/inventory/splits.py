"""Whether a model can be split across ranks, from its config and mlx-lm's source (no mlx import).

Tensor parallelism (mlx-lm's ``Model.shard``) splits every attention and
MLP matrix: the attention heads, the key/value heads and the MLP width must
divide by the rank count, and for a quantized model each rank's part must be
a whole number of quantization groups.  Pipelining (``PipelineMixin``) gives
each rank a range of layers.  ``static_support`` reads the mlx-lm model
module's source for both (mlxk-show reports it without importing mlx);
``engine.distributed`` checks by importing the module before a run.
"""

from __future__ import annotations

import re

from mlxk_common.inventory.runtime import _package_dirs, mlx_lm_module_name

TENSOR_RANKS_CHECKED = 16  # the rank counts reported as possible: 2 to this


def static_support(config: dict) -> dict | None:
    """``{"tensor": bool, "pipeline": bool}`` from the installed mlx-lm module's
    source, or None when mlx-lm or the module is not there."""
    name = mlx_lm_module_name(config)
    if not re.fullmatch(r"[A-Za-z0-9_]{1,100}", name):
        return None
    for root in _package_dirs("mlx_lm") or ():
        try:
            source = (root / "models" / f"{name}.py").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return {"tensor": bool(re.search(r"(?m)^\s+def shard\(", source)), "pipeline": "PipelineMixin" in source}
    return None


def text_config(config: dict) -> dict:
    inner = config.get("text_config")
    return {**inner, **{k: v for k, v in config.items() if k != "text_config"}} if isinstance(inner, dict) else config


def tensor_problem(config: dict, ranks: int) -> str | None:
    """Why ``ranks``-way tensor parallelism cannot split this config (None: it can)."""
    c = text_config(config)
    heads = c.get("num_attention_heads")
    kv_heads = c.get("num_key_value_heads", heads)
    hidden = c.get("hidden_size")
    head_dim = c.get("head_dim") or (
        hidden // heads if isinstance(hidden, int) and isinstance(heads, int) and heads else None
    )
    group = (c.get("quantization") or {}).get("group_size") if isinstance(c.get("quantization"), dict) else None
    for what, value in (
        ("attention heads", heads),
        ("key/value heads", kv_heads),
        ("MLP width (intermediate_size)", c.get("intermediate_size")),
    ):
        if isinstance(value, int) and value % ranks:
            return f"its {value} {what} do not divide by {ranks}"
    if group and isinstance(heads, int) and isinstance(head_dim, int):
        for what, width in (("attention output", heads * head_dim), ("MLP", c.get("intermediate_size"))):
            if isinstance(width, int) and (width // ranks) % group:
                return (
                    f"each rank's part of the {what} ({width // ranks}) is not a whole number of "
                    f"quantization groups of {group}"
                )
    return None


def valid_tensor_ranks(config: dict, most: int = TENSOR_RANKS_CHECKED) -> list[int]:
    return [n for n in range(2, most + 1) if tensor_problem(config, n) is None]


def split_report(config: dict) -> dict | None:
    """mlxk-show's ``split`` object: ``{tensor, pipeline, tensor_ranks}``, or None."""
    support = static_support(config)
    if support is None:
        return None
    ranks = valid_tensor_ranks(config) if support["tensor"] else []
    return {**support, "tensor_ranks": ranks}
