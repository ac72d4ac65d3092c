"""What a model's config.json and safetensors headers say about it, for
``mlxk-show``: architecture, quantization, parameter count, window, vocabulary
and depth.  Headers only; weights are never read.
"""

from __future__ import annotations

from mlxk_common.inventory.safetensors_header import COUNT_LIMIT, SafetensorsError, element_count, read_header

# A quantized MLX layer stores ``X.weight`` packed into 32-bit words next to
# ``X.scales`` (and ``X.biases``): one scale per group of inputs.
_PACKED_DTYPES = ("U32", "U8")


def quantization(config: dict) -> dict | None:
    """``{"bits", "group_size", ...}`` from MLX's ``quantization`` key (or the
    Hub's ``quantization_config``), or None for a full-precision model."""
    for key in ("quantization", "quantization_config"):
        value = config.get(key)
        if isinstance(value, dict) and value:
            return value
    return None


def _layer_quantization(quant: dict | None, layer: str) -> dict:
    """Per-layer settings override the global ones (MLX mixed quantization)."""
    if not quant:
        return {}
    override = quant.get(layer)
    if isinstance(override, dict):
        return {**quant, **override}
    return quant


# At most this many parameters per stored byte (1-bit weights packed eight to
# a byte): a tensor whose shape claims more than its data could hold is not
# counted (a crafted 2^62 x 2^62 shape must not become a 2^124 estimate).
MAX_PARAMS_PER_BYTE = 8


def estimate_params(files, config: dict | None = None) -> int | None:
    """Parameters counted from the tensor shapes in every top-level
    safetensors file of ``files`` (a ``ModelFiles``); packed quantized
    weights are counted as the inputs they stand for, their scales and
    biases not at all.  None when no header reads."""
    tensors: dict[str, dict] = {}
    for name in files.top(".safetensors"):
        try:
            tensors.update(read_header(files.path(name), validate=False)["tensors"])
        except (OSError, SafetensorsError):
            continue
    if not tensors:
        return None
    quant = quantization(config or {})
    total = 0
    for name, info in tensors.items():
        shape = info.get("shape") if isinstance(info, dict) else None
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            continue
        layer, _, leaf = name.rpartition(".")
        if leaf in ("scales", "biases") and _is_packed(tensors, layer):
            continue
        count = element_count(shape)
        if leaf == "weight" and _is_packed(tensors, layer) and shape:
            count = element_count(shape[:-1]) * _unpacked_inputs(tensors, layer, shape,
                                                                 _layer_quantization(quant, layer))
        begin, end = info["data_offsets"]  # read_header checked them
        if count >= COUNT_LIMIT or count > (end - begin) * MAX_PARAMS_PER_BYTE:
            continue
        total += count
    return total


def _is_packed(tensors: dict, layer: str) -> bool:
    weight = tensors.get(layer + ".weight")
    return (isinstance(weight, dict) and weight.get("dtype") in _PACKED_DTYPES
            and (layer + ".scales") in tensors)


def _unpacked_inputs(tensors: dict, layer: str, shape: list, settings: dict) -> int:
    scales = tensors[layer + ".scales"].get("shape") or []
    group = settings.get("group_size")
    if isinstance(scales, list) and scales and type(scales[-1]) is int and type(group) is int and group > 0:
        return min(scales[-1] * group, COUNT_LIMIT)
    bits = settings.get("bits")
    word = 32 if tensors[layer + ".weight"].get("dtype") == "U32" else 8
    if type(bits) is int and bits > 0:
        return shape[-1] * word // bits
    return shape[-1]


def human_count(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}".replace(".0" + unit, unit)
    return str(n)


def _field(config: dict, *keys):
    """First of ``keys`` in the config, else in its ``text_config`` (multimodal models)."""
    text = config.get("text_config")
    for section in (config, text if isinstance(text, dict) else {}):
        for key in keys:
            value = section.get(key)
            if value is not None:
                return value
    return None


def model_metadata(files, config: dict | None, *, context_length: int | None = None) -> dict | None:
    """The ``metadata`` object of ``mlxk-show`` (mlx-knife's keys, plus
    ``params`` and the quantization parts); None without a readable config.
    ``files``: the model folder's ``ModelFiles``."""
    if not isinstance(config, dict) or files is None:
        return None
    architectures = config.get("architectures")
    quant = quantization(config)
    bits = quant.get("bits") if quant else None
    params = estimate_params(files, config)
    bits = _int(bits)
    return {
        "architecture": _text(architectures[0]) if isinstance(architectures, list) and architectures else None,
        "model_type": _text(config.get("model_type")),
        "quantization": f"{bits}bit" if bits and bits > 0 else None,
        "quantization_bits": bits,
        "quantization_group_size": _int(quant.get("group_size")) if quant else None,
        "params": params,
        "params_estimated": params is not None,
        "context_length": context_length,
        "vocab_size": _int(_field(config, "vocab_size")),
        "hidden_size": _int(_field(config, "hidden_size", "d_model", "n_embd")),
        "num_attention_heads": _int(_field(config, "num_attention_heads", "n_head")),
        "num_hidden_layers": _int(_field(config, "num_hidden_layers", "n_layer", "num_layers")),
    }


# The metadata reports what a config says only when it has the type the
# field promises: a crafted config's list, string or 10**30 is unknown (null).
def _int(value) -> int | None:
    return value if type(value) is int and -(1 << 63) <= value < (1 << 63) else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None
