"""Read and validate the header of a ``.safetensors`` file without touching its tensors.

Layout: 8 bytes little-endian header length N, then N bytes of UTF-8 JSON
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the data section; offsets are relative to the start of the data section.
A file whose tensors' data ranges run past its end was cut short (truncated
download or copy), which is what health checks must catch cheaply.
"""

from __future__ import annotations

import os

from mlxk_common.inventory.rawio import open_regular, read_exact
from mlxk_common.jsonio import parse_untrusted

# Bits per element of every dtype the safetensors format defines; any other
# dtype is refused (no loader could read it).
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64,
    "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}
# The reference implementation refuses larger headers; so do we (a corrupt
# length field must not make us allocate gigabytes).
MAX_HEADER_BYTES = 100_000_000
_FIRST_READ = 4096 - 8  # header bytes read together with the length field


class SafetensorsError(ValueError):
    """The file is not a valid safetensors file; the message says why."""


class UnknownDtype(SafetensorsError):
    """A tensor's dtype is none the format defines (``Q9``)."""


def read_header(path: os.PathLike | str, *, validate: bool = True) -> dict:
    """Return the parsed header as ``{"tensors": {name: info}, "metadata": dict,
    "header_size": N, "data_size": bytes the tensors need, "file_size": size}``.

    With ``validate`` (the default) also check that every tensor's data range
    lies inside the file and matches its dtype and shape; raise
    ``SafetensorsError`` with a human reason otherwise.  Only the header bytes
    are read.
    """
    # A bare descriptor: health reads the header of every shard of every model.
    fd, st = open_regular(os.fspath(path))  # a FIFO named *.safetensors must not block
    try:
        file_size = st.st_size
        # Most headers fit the first read; a long one takes a second.
        first = read_exact(fd, 8 + _FIRST_READ)
        prefix = first[:8]
        if len(prefix) < 8:
            raise SafetensorsError(f"file too short for a safetensors header ({file_size} bytes)")
        header_size = int.from_bytes(prefix, "little")
        if header_size > MAX_HEADER_BYTES:
            raise SafetensorsError(f"header length {header_size} is implausible")
        if 8 + header_size > file_size:
            raise SafetensorsError(
                f"header length {header_size} exceeds the file size {file_size} (truncated)")
        raw = first[8:8 + header_size]
        if len(raw) < header_size and len(first) == 8 + _FIRST_READ:
            raw += read_exact(fd, header_size - len(raw))
    finally:
        os.close(fd)
    try:
        # No depth walk: every tensor entry's shape is checked below, and the
        # metadata is only ever asked for its "format" string.
        header = parse_untrusted(raw.decode("utf-8"), max_depth=None)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SafetensorsError(f"header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise SafetensorsError("__metadata__ is not an object")
    data_start = 8 + header_size
    data_size = 0
    for name, info in header.items():
        if not (validate and _well_formed(info) or not validate and _offsets_ok(info)):
            _tensor_range(name, info, validate)  # names what is wrong (or accepts what the fast check did not)
        end = info["data_offsets"][1]
        if end > data_size:
            data_size = end
        if validate and data_start + end > file_size:
            raise SafetensorsError(
                f"tensor {_short(name)} ends at byte {data_start + end} but the file has {file_size} bytes (truncated)")
    return {
        "tensors": header,
        "metadata": metadata,
        "header_size": header_size,
        "data_size": data_size,
        "file_size": file_size,
    }


def _offsets_ok(info) -> bool:
    """The common case of ``_tensor_range`` without validation, checked fast
    (exact types: a JSON header has no subclasses; True means it accepts)."""
    if type(info) is not dict:
        return False
    offsets = info.get("data_offsets")
    if type(offsets) is not list or len(offsets) != 2:
        return False
    begin, end = offsets
    return type(begin) is int and type(end) is int and 0 <= begin <= end


def _well_formed(info) -> bool:
    """The common case of ``_tensor_range`` with validation, checked fast."""
    if not _offsets_ok(info):
        return False
    shape = info.get("shape")
    if type(shape) is not list:
        return False
    for dim in shape:
        if type(dim) is not int or dim < 0:
            return False
    dtype = info.get("dtype")
    bits = DTYPE_BITS.get(dtype) if type(dtype) is str else None
    begin, end = info["data_offsets"]
    return bits is not None and element_count(shape) * bits == (end - begin) * 8


# No file holds more elements than this: counting stops here, so a crafted
# shape of a thousand 2^62 dimensions costs no bignum arithmetic.
COUNT_LIMIT = 1 << 64


def element_count(shape: list) -> int:
    """The number of elements ``shape`` describes, or ``COUNT_LIMIT`` when it
    is at least that many (never a number too large to print)."""
    if 0 in shape:
        return 0
    count = 1
    for dim in shape:
        count *= dim
        if count >= COUNT_LIMIT:
            return COUNT_LIMIT
    return count


def _tensor_range(name: str, info, validate: bool) -> tuple[int, int]:
    if not isinstance(info, dict):
        raise SafetensorsError(f"tensor {_short(name)}: entry is not an object")
    offsets = info.get("data_offsets")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(x, int) and x >= 0 for x in offsets) or offsets[0] > offsets[1]):
        raise SafetensorsError(f"tensor {_short(name)}: bad data_offsets {_short(offsets)}")
    begin, end = offsets
    if validate:
        dtype, shape = info.get("dtype"), info.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorsError(f"tensor {_short(name)}: bad shape {_short(shape)}")
        bits = DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            raise UnknownDtype(f"tensor {_short(name)}: unknown dtype {_short(dtype)}")
        count = element_count(shape)
        if count * bits != (end - begin) * 8:
            needed = "more than 2^64" if count == COUNT_LIMIT else f"{count * bits / 8:g}"
            raise SafetensorsError(f"tensor {_short(name)}: {dtype}{_short(shape)} needs {needed} bytes, "
                                   f"offsets give {_short(end - begin)}")
    return begin, end


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def tensor_names(path: os.PathLike | str) -> set[str]:
    """The tensor names a safetensors file holds (header only, no validation)."""
    return set(read_header(path, validate=False)["tensors"])
