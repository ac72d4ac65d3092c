"""Read a GGUF file's header: its metadata and its tensor table, never the data.

Pure Python on purpose: it tells a GGUF from anything else, names each
tensor's GGML type (``mlx.core.load`` does not report it, and fails on some
types without naming the tensor), and checks that every tensor fits in the
file, all before the slow weight load.  Layout: GGUF v2/v3, little-endian.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from mlxk_common.errors import MlxkError

# GGML type id -> (name, elements per block, bytes per block); enough to name
# every type and to size the ones the converter accepts.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}

# Metadata value types: id -> struct format (8 = string, 9 = array).
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_MAX_COUNT = 1 << 40  # sanity bound so garbage cannot make us loop forever
# Metadata arrays nest one level in real files (a list of lists at most);
# deeper nesting is refused before it can exhaust the stack.
_MAX_ARRAY_DEPTH = 8


class TensorInfo:
    __slots__ = ("name", "shape", "type_id")

    def __init__(self, name: str, shape: tuple[int, ...], type_id: int):
        self.name = name
        self.shape = shape  # row-major (numpy/MLX order): GGUF stores ne[] innermost first
        self.type_id = type_id

    def __eq__(self, other):
        return isinstance(other, TensorInfo) and (self.name, self.shape, self.type_id) == (
            other.name, other.shape, other.type_id)

    def __hash__(self):
        return hash((self.name, self.shape, self.type_id))

    def __repr__(self):
        return f"TensorInfo({self.name!r}, {self.shape}, {self.type_id})"

    @property
    def type_name(self) -> str:
        return GGML_TYPES.get(self.type_id, (f"type {self.type_id}", 0, 0))[0]

    def nbytes(self) -> int | None:
        spec = GGML_TYPES.get(self.type_id)
        if spec is None:
            return None
        count = 1
        for d in self.shape:
            count *= d
        return count // spec[1] * spec[2]


class GGUFHeader:
    __slots__ = ("version", "metadata", "tensors")

    def __init__(self, version: int, metadata: dict, tensors: list[TensorInfo]):
        self.version = version
        self.metadata = metadata
        self.tensors = tensors


class _Cursor:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str):
        value = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def count(self) -> int:
        n = self.unpack("<Q")
        if n > _MAX_COUNT:
            raise ValueError(f"implausible count {n}")
        return n

    def string(self) -> str:
        n = self.count()
        end = self.pos + n
        if end > len(self.buf):
            raise ValueError("string runs past the end of the file")
        s = bytes(self.buf[self.pos:end]).decode("utf-8", errors="replace")
        self.pos = end
        return s

    def value(self, vtype: int, depth: int = 0):
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            if depth >= _MAX_ARRAY_DEPTH:
                raise ValueError(f"metadata arrays nested more than {_MAX_ARRAY_DEPTH} deep")
            etype = self.unpack("<I")
            n = self.count()
            # Every element takes at least one byte: a count the rest of the
            # file cannot hold is garbage (and must not become a huge loop).
            if n > len(self.buf) - self.pos:
                raise ValueError(f"array of {n} elements runs past the end of the file")
            return [self.value(etype, depth + 1) for _ in range(n)]
        raise ValueError(f"unknown metadata value type {vtype}")


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def read_header(path: Path) -> GGUFHeader:
    """Parse ``path``'s GGUF header; ``unsupported_format`` when it is not one."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = path.stat().st_size
            if size < 24 or fh.read(4) != b"GGUF":
                raise MlxkError("unsupported_format", f"{path.name}: not a GGUF file (no GGUF magic)",
                                path=str(path))
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, size, path)
    except MlxkError:
        raise
    except PermissionError as e:
        raise MlxkError("permission_denied", f"{path}: {e.strerror}", path=str(path)) from None
    except (ValueError, struct.error, OverflowError, MemoryError, RecursionError) as e:
        raise MlxkError("unsupported_format", f"{path.name}: corrupt or truncated GGUF header ({e})",
                        path=str(path)) from None


def _parse(buf, size: int, path: Path) -> GGUFHeader:
    cur = _Cursor(buf)
    cur.pos = 4
    version = cur.unpack("<I")
    if version not in (2, 3):
        # v1 used 32-bit counts; a byte-swapped number means a big-endian file.
        raise MlxkError("unsupported_format", f"{path.name}: GGUF version {version} is not supported "
                        "(only little-endian v2 and v3)", path=str(path))
    n_tensors, n_kv = cur.count(), cur.count()
    metadata = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.unpack("<I"))
    tensors = []
    offsets = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack("<I")
        if n_dims > 8:
            raise ValueError(f"tensor {name!r} has {n_dims} dimensions")
        dims = [cur.unpack("<Q") for _ in range(n_dims)]
        info = TensorInfo(name, tuple(reversed(dims)), cur.unpack("<I"))
        tensors.append(info)
        offsets.append(cur.unpack("<Q"))
    align = metadata.get("general.alignment", 32)
    if type(align) is not int or not 0 < align <= 1 << 20 or align & (align - 1):
        raise MlxkError("unsupported_format", f"{path.name}: general.alignment must be a power of two, "
                        f"not {_short(align)}", path=str(path), key="general.alignment")
    data_start = (cur.pos + align - 1) // align * align
    for info, offset in zip(tensors, offsets):
        nbytes = info.nbytes()
        if nbytes is not None and data_start + offset + nbytes > size:
            raise MlxkError("unsupported_format", f"{path.name}: tensor {info.name!r} extends past the end "
                            "of the file (truncated download?)", path=str(path), tensor=info.name)
    return GGUFHeader(version, metadata, tensors)
