#!/usr/bin/env python3
"""Throughput of ``mlxk-health --deep`` against ``sha256sum`` over the same blobs.

Builds a throw-away Hugging Face cache in a temporary folder holding one model
whose blobs total about --gb gigabytes (several LFS blobs named by their sha256,
plus small git blobs named by their git blob sha1, linked from a snapshot the
way huggingface_hub lays them out), then times, N times each after one warm-up
run (so every contender reads from the page cache):

* ``mlxk-health --deep --json MODEL`` (the installed executable, all cores);
* one ``sha256sum`` over all blobs (the target: mlxk at least 1.5x faster on 2 cores);
* ``sha256sum`` run in parallel, one process per core (``xargs -P``), for reference.

Prints a table of medians and removes the cache.

usage: python bench/health_deep.py [--gb 2] [--blobs 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
REPO_ID = "bench-org/deep-bench"
CHUNK = 8 << 20


def write_random_blob(blobs: Path, size: int, seed: int) -> str:
    """Write ``size`` pseudo-random bytes under a temporary name, then rename
    the file to its sha256 (an LFS blob name)."""
    import random

    rng = random.Random(seed)
    tmp = blobs / f"tmp-{seed}"
    digest = hashlib.sha256()
    with open(tmp, "wb") as fh:
        left = size
        while left:
            chunk = rng.randbytes(min(CHUNK, left))
            digest.update(chunk)
            fh.write(chunk)
            left -= len(chunk)
    name = digest.hexdigest()
    tmp.rename(blobs / name)
    return name


def git_blob(blobs: Path, data: bytes) -> str:
    name = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    (blobs / name).write_bytes(data)
    return name


def build_cache(root: Path, total_bytes: int, count: int) -> tuple[Path, list[Path]]:
    repo = root / "hub" / ("models--" + REPO_ID.replace("/", "--"))
    blobs = repo / "blobs"
    blobs.mkdir(parents=True)
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    files = {}
    per = total_bytes // count
    for i in range(count):
        files[f"model-{i + 1:05d}-of-{count:05d}.safetensors"] = write_random_blob(blobs, per, i)
    index = {"weight_map": {}}
    files["model.safetensors.index.json"] = git_blob(blobs, json.dumps(index).encode())
    files["config.json"] = git_blob(blobs, b'{"model_type": "llama"}')
    for name, blob in files.items():
        (snapshot / name).symlink_to(os.path.relpath(blobs / blob, snapshot))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return root, sorted(blobs.iterdir())


def timed(cmd: list[str], runs: int, env: dict, check_output=None) -> float:
    times = []
    for i in range(runs + 1):  # the first run warms the page cache and is not counted
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, text=True)
        elapsed = time.perf_counter() - start
        if check_output is not None:
            check_output(proc)
        if i:
            times.append(elapsed)
    return statistics.median(times)


def check_mlxk(proc) -> None:
    doc = json.loads(proc.stdout)
    models = doc["data"]["healthy"] + doc["data"]["unhealthy"]
    deep = models[0]["deep"]
    if not deep["blobs_verified"] or any("Checksum" in r for r in models[0]["integrity_reasons"]):
        raise SystemExit(f"mlxk-health --deep did not verify the blobs: {deep}")


def check_sha256sum(proc) -> None:
    if proc.returncode != 0:
        raise SystemExit(f"sha256sum failed: {proc.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=2.0, help="total size of the blobs in GB (default 2)")
    parser.add_argument("--blobs", type=int, default=8, help="number of large blobs (default 8)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per contender (default 3)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    root = Path(tempfile.mkdtemp(prefix="mlxk-bench-deep-"))
    try:
        _, blob_paths = build_cache(root, int(args.gb * 1e9), args.blobs)
        total = sum(p.stat().st_size for p in blob_paths)
        env = {**os.environ, "HF_HOME": str(root), "HF_HUB_OFFLINE": "1"}
        env.pop("MLXK_WORKSPACE_HOME", None)
        paths = [str(p) for p in blob_paths]
        rows = [
            ("mlxk-health --deep", timed([str(BIN / "mlxk-health"), "--deep", "--json", REPO_ID],
                                         args.runs, env, check_mlxk)),
            ("sha256sum (one process)", timed(["sha256sum", *paths], args.runs, env, check_sha256sum)),
            (f"sha256sum x{cores} (xargs -P{cores})",
             timed(["sh", "-c", f'printf "%s\\n" "$@" | xargs -P{cores} -n1 sha256sum', "sh", *paths],
                   args.runs, env, check_sha256sum)),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    base = rows[1][1]
    width = max(len(name) for name, _ in rows)
    print(f"{len(blob_paths)} blobs, {total / 1e9:.2f} GB, {cores} cores, median of {args.runs} warm runs")
    print(f"{'contender':<{width}}  {'median s':>8}  {'GB/s':>6}  {'vs sha256sum':>12}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 6}  {'-' * 12}")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {total / 1e9 / seconds:6.2f}  {base / seconds:11.2f}x")
    speedup = base / rows[0][1]
    print(f"\nmlxk-health --deep is {speedup:.2f}x one sha256sum (target >= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
