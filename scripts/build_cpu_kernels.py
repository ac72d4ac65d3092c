#!/usr/bin/env python3
"""Build the CPU kernels' machine code into mlxk_common/engine/cpu/qgemv_code.py (dev time only).

The engine ships the quantized matrix-vector kernel (scripts/kernels/qgemv.c)
as bytes in a Python module, so a user's machine needs no compiler
(docs/cpu.md).  This script compiles the C source with gcc, checks that each
entry point is position-independent leaf code (no relocations, no calls, no
data or read-only data outside its own bytes, no jumps out of itself), and
writes the module: each function's bytes, its disassembly as a comment, the
compiler and flags, and the source's SHA-256 (tests/test_cpu_kernels.py
checks both that the source is the one built and, where the same gcc is
installed, that rebuilding gives the same bytes).

usage: python scripts/build_cpu_kernels.py [--check]   (--check: compare, write nothing; exit 1 if stale)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "scripts" / "kernels" / "qgemv.c"
TARGET = REPO / "mlxk_common" / "engine" / "cpu" / "qgemv_code.py"
FUNCTIONS = ("qgemv4_avx512", "qgemv8_avx512", "qgemv4_avx2", "qgemv8_avx2")
FLAGS = [
    "-O2",
    "-fno-pic",
    "-fno-asynchronous-unwind-tables",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-ffunction-sections",
    "-fno-ident",
]


class BuildError(RuntimeError):
    pass


def gcc_version() -> str:
    return subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]


def compile_functions(source: Path = SOURCE) -> dict[str, tuple[bytes, str]]:
    """{function: (machine code, disassembly)}, each checked to be self-contained leaf code."""
    with tempfile.TemporaryDirectory(prefix="mlxk-kernels-") as tmp:
        obj = Path(tmp) / "qgemv.o"
        subprocess.run(["gcc", *FLAGS, "-c", str(source), "-o", str(obj)], check=True)
        relocs = subprocess.run(["objdump", "-r", str(obj)], capture_output=True, text=True, check=True).stdout
        if "R_X86_64" in relocs:
            raise BuildError(f"the object has relocations:\n{relocs}")
        headers = subprocess.run(["objdump", "-h", str(obj)], capture_output=True, text=True, check=True).stdout
        sections = re.findall(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)", headers, re.MULTILINE)
        for name, size in sections:
            if int(size, 16) and not name.startswith(".text.") and name not in (".note.GNU-stack",):
                raise BuildError(f"section {name} has {int(size, 16)} bytes: code must keep no data outside itself")
        texts = {name[len(".text.") :] for name, size in sections if name.startswith(".text.") and int(size, 16)}
        if texts != set(FUNCTIONS):
            raise BuildError(f"expected exactly the functions {FUNCTIONS}, found {sorted(texts)}")
        out = {}
        for fn in FUNCTIONS:
            raw = Path(tmp) / f"{fn}.bin"
            subprocess.run(["objcopy", "-O", "binary", f"--only-section=.text.{fn}", str(obj), str(raw)], check=True)
            code = raw.read_bytes()
            dis = subprocess.run(
                ["objdump", "-d", "--no-show-raw-insn", "-M", "intel", f"--section=.text.{fn}", str(obj)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            lines = [ln.strip() for ln in dis.splitlines() if re.match(r"^\s+[0-9a-f]+:\t", ln)]
            _check_leaf(fn, code, lines)
            out[fn] = (code, "\n".join(re.sub(r"\s+", " ", ln.replace("\t", " ")) for ln in lines))
        return out


def _check_leaf(fn: str, code: bytes, lines: list[str]) -> None:
    for ln in lines:
        op = ln.split(":", 1)[1].split()
        mnemonic = op[0] if op else ""
        if mnemonic.startswith(("call", "syscall", "int")):
            raise BuildError(f"{fn}: {ln}: the code must be a leaf")
        if "rip" in ln:
            raise BuildError(f"{fn}: {ln}: no memory outside the arguments and the stack")
        if mnemonic.startswith("j") and len(op) > 1:
            target = op[1]
            if not re.fullmatch(r"[0-9a-f]+", target) or int(target, 16) >= len(code):
                raise BuildError(f"{fn}: {ln}: a jump out of the function")


def render(functions: dict[str, tuple[bytes, str]], version: str, digest: str) -> str:
    out = [
        '"""Machine code of the CPU kernels (scripts/kernels/qgemv.c), written by',
        "scripts/build_cpu_kernels.py: do not edit.  Loaded by ``engine.cpu.qgemv``;",
        'each function is position-independent leaf code (the script checks it)."""',
        "",
        f"GCC = {json.dumps(version)}",
        "FLAGS = [",
        *(f"    {json.dumps(flag)}," for flag in FLAGS),
        "]",
        f"SOURCE_SHA256 = {json.dumps(digest)}",
        "",
        "CODE = {}",
    ]
    for fn, (code, dis) in functions.items():
        out.append("")
        out.append(f"# {fn}: {len(code)} bytes")
        out.extend(f"#   {ln}" for ln in dis.splitlines())
        hexed = code.hex()
        out.append(f"CODE[{json.dumps(fn)}] = bytes.fromhex(")
        out.extend(f'    "{hexed[i : i + 96]}"' for i in range(0, len(hexed), 96))
        out.append(")")
    return "\n".join(out) + "\n"


def build() -> str:
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    return render(compile_functions(), gcc_version(), digest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped module, write nothing")
    args = parser.parse_args()
    text = build()
    if args.check:
        same = TARGET.is_file() and TARGET.read_text() == text
        print("up to date" if same else f"{TARGET} is stale: run this script")
        return 0 if same else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
