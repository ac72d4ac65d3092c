"""Read and validate the header of a ``.safetensors`` file without touching its tensors.

Layout: 8 bytes little-endian header length N, then N bytes of UTF-8 JSON
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the data section; offsets are relative to the start of the data section.
A file whose tensors' data ranges run past its end was cut short (truncated
download or copy), which is what health checks must catch cheaply.
"""

from __future__ import annotations

import os
from math import prod

from mlxk_common.inventory.rawio import read_exact
from mlxk_common.jsonio import parse_untrusted

# Bytes per element of each safetensors dtype (sub-byte types count per packed byte).
DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
    "C64": 8,
}
# The reference implementation refuses larger headers; so do we (a corrupt
# length field must not make us allocate gigabytes).
MAX_HEADER_BYTES = 100_000_000
_FIRST_READ = 4096 - 8  # header bytes read together with the length field
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class SafetensorsError(ValueError):
    """The file is not a valid safetensors file; the message says why."""


def read_header(path: os.PathLike | str, *, validate: bool = True) -> dict:
    """Return the parsed header as ``{"tensors": {name: info}, "metadata": dict,
    "header_size": N, "data_size": bytes the tensors need, "file_size": size}``.

    With ``validate`` (the default) also check that every tensor's data range
    lies inside the file and matches its dtype and shape; raise
    ``SafetensorsError`` with a human reason otherwise.  Only the header bytes
    are read.
    """
    # A bare descriptor: health reads the header of every shard of every model.
    fd = os.open(os.fspath(path), _OPEN_FLAGS)
    try:
        file_size = os.fstat(fd).st_size
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
        header = parse_untrusted(raw.decode("utf-8"))
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
                f"tensor {name!r} ends at byte {data_start + end} but the file has {file_size} bytes (truncated)")
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
    size = DTYPE_SIZES.get(dtype) if type(dtype) is str else None
    begin, end = info["data_offsets"]
    return size is None or prod(shape) * size == end - begin


def _tensor_range(name: str, info, validate: bool) -> tuple[int, int]:
    if not isinstance(info, dict):
        raise SafetensorsError(f"tensor {name!r}: entry is not an object")
    offsets = info.get("data_offsets")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(x, int) and x >= 0 for x in offsets) or offsets[0] > offsets[1]):
        raise SafetensorsError(f"tensor {name!r}: bad data_offsets {offsets!r}")
    begin, end = offsets
    if validate:
        dtype, shape = info.get("dtype"), info.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorsError(f"tensor {name!r}: bad shape {shape!r}")
        size = DTYPE_SIZES.get(dtype) if isinstance(dtype, str) else None
        if size is not None:  # unknown (newer) dtypes: only the range check applies
            count = 1
            for dim in shape:
                count *= dim
            if count * size != end - begin:
                raise SafetensorsError(
                    f"tensor {name!r}: {dtype}{shape} needs {count * size} bytes, offsets give {end - begin}")
    return begin, end


def tensor_names(path: os.PathLike | str) -> set[str]:
    """The tensor names a safetensors file holds (header only, no validation)."""
    return set(read_header(path, validate=False)["tensors"])
