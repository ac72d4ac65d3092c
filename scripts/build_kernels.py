#!/usr/bin/env python3
"""Build the CPU path's own kernels into mlxk_common/engine/cpu/machine_code.py.

Each kernel is one C function in scripts/kernels/NAME.c.  The user's machine
needs no compiler (docs/cpu.md): this script, run by a developer, compiles
each with gcc and writes the bytes of its code into a Python module, with the
disassembly beside them.  It refuses code that is not self-contained: any
relocation (a call, a constant in .rodata, a global) or any section other
than .text with bytes in it.

    python scripts/build_kernels.py            # rewrite the module
    python scripts/build_kernels.py --check    # exit 1 if the module differs
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "scripts" / "kernels"
TARGET = REPO / "mlxk_common" / "engine" / "cpu" / "machine_code.py"

# name: (CPU flags it needs, as /proc/cpuinfo names them; gcc flags)
KERNELS = {
    "half_matvec": (("avx2", "fma", "f16c"), ["-mavx2", "-mfma", "-mf16c"]),
    # MLX's affine-quantized weights times float32 rows (scripts/kernels/qgemv.h; cpu/qgemv.py)
    "qgemv4_avx512": (("avx512f",), ["-mavx512f"]),
    "qgemv8_avx512": (("avx512f",), ["-mavx512f"]),
    "qgemv4_avx2": (("avx2", "fma"), ["-mavx2", "-mfma"]),
    "qgemv8_avx2": (("avx2", "fma"), ["-mavx2", "-mfma"]),
    # the same weights times many rows, blocked like a matrix product (scripts/kernels/qgemm.h)
    "qgemm4_avx512": (("avx512f",), ["-mavx512f"]),
    "qgemm8_avx512": (("avx512f",), ["-mavx512f"]),
}
COMMON = [
    "-O2",
    "-fno-asynchronous-unwind-tables",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-fno-pic",
    "-ffreestanding",
    "-fno-builtin",
    "-c",
]


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build(name: str, flags: list[str], work: Path) -> tuple[bytes, int, str]:
    """(code, entry offset, listing) of the function ``name`` in scripts/kernels/NAME.c."""
    obj = work / f"{name}.o"
    run("gcc", *COMMON, *flags, str(SOURCES / f"{name}.c"), "-o", str(obj))
    relocations = [line for line in run("objdump", "-r", str(obj)).splitlines() if line[:1].isdigit()]
    if relocations:
        raise SystemExit(f"{name}: the code is not self-contained (relocations: {relocations[:3]})")
    for line in run("objdump", "-h", str(obj)).splitlines():
        parts = line.split()
        if (
            len(parts) > 2
            and parts[0].isdigit()
            and parts[1] != ".text"
            and int(parts[2], 16)
            and not parts[1].startswith((".comment", ".note"))
        ):
            raise SystemExit(f"{name}: section {parts[1]} has bytes; only .text may")
    raw = work / f"{name}.bin"
    run("objcopy", "-O", "binary", "-j", ".text", str(obj), str(raw))
    symbols = {s.split()[-1]: int(s.split()[0], 16) for s in run("nm", str(obj)).splitlines() if " T " in s}
    listing = run("objdump", "-d", "--no-show-raw-insn", "-M", "intel", str(obj))
    body = [line.rstrip() for line in listing.splitlines() if line.startswith(" ") or line.endswith(">:")]
    return raw.read_bytes(), symbols[name], "\n".join(body)


def render() -> str:
    version = run("gcc", "--version").splitlines()[0]
    out = [
        '"""Machine code of the CPU path\'s own kernels (x86-64), written by',
        "scripts/build_kernels.py from scripts/kernels/*.c -- do not edit, rebuild.",
        "",
        "Each entry: the CPU flags the code needs, the offset of the function in the",
        "bytes, and the bytes.  The disassembly of each follows as a comment.",
        '"""',
        "",
        f"COMPILER = {version!r}",
        "",
        "KERNELS = {",
    ]
    listings = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (cpu_flags, flags) in KERNELS.items():
            code, entry, listing = build(name, flags, Path(tmp))
            hexed = code.hex()
            chunks = [hexed[i : i + 96] for i in range(0, len(hexed), 96)]
            out.append(f"    {name!r}: {{")
            out.append(f'        "cpu_flags": {cpu_flags!r},')
            out.append(f'        "entry": {entry},')
            out.append('        "code": bytes.fromhex(')
            out.extend(f"            {c!r}" for c in chunks)
            out.append("        ),")
            out.append("    },")
            listings.append((name, listing))
    out.append("}")
    for name, listing in listings:
        out.append("")
        out.append(f"# {name} (gcc {' '.join(KERNELS[name][1])}), intel syntax:")
        out.extend(f"# {line}" if line else "#" for line in listing.splitlines())
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the module is not what the sources build")
    args = parser.parse_args()
    text = render()
    if args.check:
        same = TARGET.exists() and TARGET.read_text() == text
        print("up to date" if same else f"{TARGET.relative_to(REPO)} differs from what the sources build")
        return 0 if same else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
