"""Make a copy of scipy-openblas32's library serve MLX's ``cblas_sgemm``.

PyPI's ``scipy-openblas32`` ships OpenBLAS with every exported name prefixed
``scipy_`` (so it never clashes with another BLAS); MLX's Linux wheel looks
for ``cblas_sgemm``.  ``patch`` edits a copy of the library, in pure Python,
so that no compiler and no patchelf binary is needed on the user's machine:

* **Names**: each defined ``scipy_NAME`` symbol's name offset is moved six
  bytes on, to the ``NAME`` that already ends the same string in ``.dynstr``
  (no string is added, nothing moves).  The GNU hash table indexes the old
  names and its order depends on their hashes, so it is replaced, in its own
  space, by a classic SysV ``DT_HASH`` table (no ordering rule; glibc's
  loader reads either).
* **One-row shim** (x86-64): MLX computes a generated token's products as
  ``sgemm`` with M = 1, which OpenBLAS runs 3-4x slower than its
  matrix-vector routine.  ``cblas_sgemm`` is pointed at 107 bytes of machine
  code (``SHIM_X86_64``, its assembly beside it) written into the alignment
  padding after the executable segment: for a row-major M = 1 product it
  rearranges the arguments and jumps to OpenBLAS's ``cblas_sgemv``; anything
  else jumps to the real ``sgemm``.  Both jumps are relative, so the code
  needs no relocation.  Elsewhere (aarch64), or where the padding is too
  small, the copy is made without the shim and ``patch`` says so.
"""

from __future__ import annotations

import struct

PREFIX = b"scipy_"
PT_LOAD, PT_DYNAMIC, PF_X = 1, 2, 1
DT_NULL, DT_HASH, DT_STRTAB, DT_SYMTAB, DT_GNU_HASH = 0, 4, 5, 6, 0x6FFFFEF5
SHT_HASH, SHT_DYNSYM, SHT_GNU_HASH, SHT_NOBITS = 5, 11, 0x6FFFFFF6, 8
EM_X86_64 = 62

# cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
#   -> cblas_sgemv(order, trans, rows, cols, alpha, B, ldb, X=A, 1, beta, Y=C, 1)
# System V x86-64: the six ints in edi esi edx ecx r8d r9d, alpha/beta in
# xmm0/xmm1 (the same for both calls), A lda B ldb C ldc on the stack at
# rsp+8..48.  A callee owns its stack arguments, so the shim rewrites them in
# place into sgemv's X incX Y incY and tail-jumps (assembled with GNU as):
#     endbr64
#     cmp edi,101 ; jne orig        row-major only
#     cmp ecx,1   ; jne orig        M == 1
#     cmp esi,111 ; jne orig        A not transposed (x has stride 1)
#     test r8d,r8d ; jle orig       N > 0 and K > 0: sgemv returns early on an
#     test r9d,r9d ; jle orig       empty matrix where sgemm would scale C
#     cmp edx,112 ; je tb
#     cmp edx,111 ; jne orig
#     mov esi,112 ; mov edx,r9d ; mov ecx,r8d ; jmp common   B is KxN: y = B^T x
# tb: mov esi,111 ; mov edx,r8d ; mov ecx,r9d                B is NxK: y = B x
# common:
#     mov r8,[rsp+24] ; mov r9d,[rsp+32]            sgemv's A, lda = B, ldb
#     mov rax,[rsp+40] ; mov [rsp+24],rax           Y = C (X = A is in place)
#     mov qword [rsp+16],1 ; mov qword [rsp+32],1   incX = incY = 1
#     jmp cblas_sgemv                               rel32 at GEMV_REL
# orig: jmp <sgemm>                                 rel32 at ORIG_REL
SHIM_X86_64 = bytes.fromhex(
    "f30f1efa"
    "83ff65756183f901755c83fe6f75574585c07e524585c97e4d83fa70741283fa6f7543"
    "be700000004489ca4489c1eb0bbe6f0000004489c24489c9"
    "4c8b442418448b4c2420488b442428488944241848c744241001000000"
    "48c744242001000000e900000000e900000000"
)
GEMV_REL, ORIG_REL = 4 + 0x62, 4 + 0x67


class ElfError(ValueError):
    """The library is not the ELF layout this patcher knows."""


def elf_hash(name: bytes) -> int:
    h = 0
    for c in name:
        h = ((h << 4) + c) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


def _cstr(data: bytes, at: int) -> bytes:
    return bytes(data[at : data.index(b"\0", at)])


class _Elf:
    def __init__(self, data: bytearray):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ElfError("not a 64-bit little-endian ELF file")
        self.data = data
        self.machine = struct.unpack_from("<H", data, 0x12)[0]
        phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 0x36)
        self.phdrs = [
            (phoff + i * phentsize, *struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)) for i in range(phnum)
        ]
        self.shdrs = [
            (shoff + i * shentsize, *struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize))
            for i in range(shnum)
        ]

    def offset(self, vaddr: int) -> int:
        for _at, ptype, _flags, off, va, _pa, filesz, _memsz, _align in self.phdrs:
            if ptype == PT_LOAD and va <= vaddr < va + filesz:
                return off + vaddr - va
        raise ElfError(f"address {vaddr:#x} is in no loaded segment")

    def section(self, sh_type: int):
        found = [s for s in self.shdrs if s[2] == sh_type]
        if len(found) != 1:
            raise ElfError(f"expected one section of type {sh_type:#x}, found {len(found)}")
        return found[0]

    def dynamic(self) -> list[tuple[int, int, int]]:
        """(file offset of the entry, tag, value) of each dynamic entry."""
        dyn = [p for p in self.phdrs if p[1] == PT_DYNAMIC]
        if not dyn:
            raise ElfError("no dynamic segment")
        out, at = [], dyn[0][3]
        while True:
            tag, val = struct.unpack_from("<QQ", self.data, at)
            if tag == DT_NULL:
                return out
            out.append((at, tag, val))
            at += 16


def patch(data: bytes, shim: bool = True) -> tuple[bytes, dict]:
    """The patched library, and what was done: {"renamed": N, "shim": bool, "shim_reason": str}."""
    elf = _Elf(bytearray(data))
    buf = elf.data
    dyn = elf.dynamic()
    tags = {tag: val for _at, tag, val in dyn}
    if DT_GNU_HASH not in tags or DT_HASH in tags:
        raise ElfError("expected a GNU hash table and no SysV one")
    strtab = elf.offset(tags[DT_STRTAB])
    dynsym = elf.section(SHT_DYNSYM)
    _at, _name, _type, _flags, _addr, sym_off, sym_size, *_rest = dynsym
    nsym = sym_size // 24
    names, sym_at = [], {}
    renamed = 0
    for i in range(nsym):
        at = sym_off + 24 * i
        st_name, _info, _other, shndx = struct.unpack_from("<IBBH", buf, at)
        name = _cstr(buf, strtab + st_name)
        if shndx != 0 and name.startswith(PREFIX):
            struct.pack_into("<I", buf, at, st_name + len(PREFIX))
            name = name[len(PREFIX) :]
            renamed += 1
        names.append(name)
        sym_at[name] = at
    if renamed == 0 or b"cblas_sgemm" not in sym_at or b"cblas_sgemv" not in sym_at:
        raise ElfError("no scipy_-prefixed cblas_sgemm/cblas_sgemv symbols")
    defined = [n for n in names if n]
    if len(set(defined)) != len(defined):
        raise ElfError("renaming would give two symbols one name")

    # The SysV hash table, in the GNU table's space: nbucket, nchain, buckets, chains.
    gnu = elf.section(SHT_GNU_HASH)
    gnu_at, gnu_off, gnu_size = gnu[0], gnu[5], gnu[6]
    nbucket = min(nsym, gnu_size // 4 - 2 - nsym)
    if nbucket < max(1, nsym // 8):
        raise ElfError("no room for a SysV hash table")
    buckets, chains = [0] * nbucket, [0] * nsym
    for i in range(1, nsym):
        b = elf_hash(names[i]) % nbucket
        chains[i], buckets[b] = buckets[b], i
    table = struct.pack(f"<II{nbucket}I{nsym}I", nbucket, nsym, *buckets, *chains)
    buf[gnu_off : gnu_off + gnu_size] = table + bytes(gnu_size - len(table))
    for at, tag, _val in dyn:
        if tag == DT_GNU_HASH:
            struct.pack_into("<Q", buf, at, DT_HASH)
    struct.pack_into("<I", buf, gnu_at + 4, SHT_HASH)
    struct.pack_into("<Q", buf, gnu_at + 56, 4)  # sh_entsize

    info = {"renamed": renamed, "shim": False, "shim_reason": ""}
    if not shim:
        info["shim_reason"] = "not asked for"
    elif elf.machine != EM_X86_64:
        info["shim_reason"] = "the one-row shim exists for x86-64 only"
    else:
        reason = _add_shim(elf, sym_at[b"cblas_sgemm"], sym_at[b"cblas_sgemv"])
        info["shim"], info["shim_reason"] = reason is None, reason or ""
    return bytes(buf), info


def _add_shim(elf: _Elf, sgemm_sym: int, sgemv_sym: int) -> str | None:
    """Write the shim after the executable segment; None, or why it could not."""
    buf = elf.data
    text = [p for p in elf.phdrs if p[1] == PT_LOAD and p[2] & PF_X]
    if len(text) != 1:
        return "no single executable segment"
    ph_at, _type, _flags, off, vaddr, _pa, filesz, memsz, _align = text[0]
    if filesz != memsz:
        return "the executable segment has a zero-filled tail"
    code_off = (off + filesz + 15) & ~15
    end = code_off + len(SHIM_X86_64)
    later = [p[3] for p in elf.phdrs if p[1] == PT_LOAD and p[3] > off]
    if not later or end > min(later) or end > len(buf):
        return "no room after the executable segment"
    for s in elf.shdrs:  # nothing the file keeps may lie in the padding
        if s[2] != SHT_NOBITS and s[6] and s[5] < end and s[5] + s[6] > off + filesz:
            return "the padding after the executable segment is in use"
    code_va = vaddr + code_off - off
    sgemm = struct.unpack_from("<Q", buf, sgemm_sym + 8)[0]
    sgemv = struct.unpack_from("<Q", buf, sgemv_sym + 8)[0]
    code = bytearray(SHIM_X86_64)
    struct.pack_into("<i", code, GEMV_REL, sgemv - (code_va + GEMV_REL + 4))
    struct.pack_into("<i", code, ORIG_REL, sgemm - (code_va + ORIG_REL + 4))
    buf[code_off:end] = code
    struct.pack_into("<QQ", buf, ph_at + 32, end - off, end - off)  # p_filesz, p_memsz
    struct.pack_into("<QQ", buf, sgemm_sym + 8, code_va, len(code))  # st_value, st_size
    return None
