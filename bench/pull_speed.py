#!/usr/bin/env python3
"""mlxk-pull against ``hf download``: throughput, and what a SIGKILL costs.

Serves one repo (several files, 512 MiB by default) from the project's test Hub on
127.0.0.1, and downloads it with each tool into a fresh cache (same folder, emptied
before every run), unthrottled and with the server throttled, alternating the tools
over ``--runs`` rounds; the table shows the median throughput and the ratio
(target: mlxk-pull >= 1.0 x hf download).

Then the resume test, per tool: the server is throttled, the download is killed
with SIGKILL once the server has sent half of the repo, and the same command is
run again.  The server's byte counter measures both runs.  "re-fetched" is what the
re-run fetched although the killed run had already written it to the cache
(target for mlxk-pull: <= 1 % of the repo).  "sent twice" is everything the server
sent over both runs beyond the repo size: the re-fetched bytes plus the bytes that
were not on disk at the kill (in socket buffers, or in the killed client's memory).  A
last row runs mlxk-pull after a killed ``hf download``: it adopts the partial
files huggingface_hub leaves behind.

usage: python bench/pull_speed.py [--size-mib 512] [--files 4] [--runs 3] [--throttle-mib 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from hubserver import HubServer  # noqa: E402

BIN = Path(sys.executable).parent
MiB = 1 << 20
REPO_ID = "bench/model"


def make_repo(folder: Path, size_mib: int, files: int) -> dict[str, Path]:
    """``files`` safetensors shards sharing ``size_mib`` MiB, plus small JSON files (seeded bytes)."""
    rng = random.Random(42)
    out = {}
    per_file = size_mib * MiB // files
    for i in range(files):
        path = folder / f"model-{i + 1:05d}-of-{files:05d}.safetensors"
        with open(path, "wb") as fh:
            left = per_file + i * 4099  # unequal sizes, not multiples of the chunk size
            while left:
                n = min(left, 8 * MiB)
                fh.write(rng.randbytes(n))
                left -= n
        out[path.name] = path
    for name, text in (("config.json", '{"model_type": "llama"}'), ("tokenizer.json", '{"version": "1.0"}')):
        (folder / name).write_text(text)
        out[name] = folder / name
    return out


def command(tool: str) -> list[str]:
    if tool == "mlxk-pull":
        return [str(BIN / "mlxk-pull"), REPO_ID]
    return [str(BIN / "hf"), "download", REPO_ID]


def client_env(hub: HubServer, hf_home: Path) -> dict:
    env = hub.client_env(hf_home)
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    return env


def fresh(hf_home: Path) -> None:
    shutil.rmtree(hf_home, ignore_errors=True)
    hf_home.mkdir(parents=True)


def timed_run(hub: HubServer, tool: str, hf_home: Path) -> float:
    fresh(hf_home)
    start = time.perf_counter()
    proc = subprocess.run(command(tool), env=client_env(hub, hf_home), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{tool} failed: {proc.stderr[-2000:]}")
    return elapsed


def throughput(hub, total: int, caches: dict, runs: int, throttle: float | None) -> dict:
    hub.throttle_bps = throttle
    times = {tool: [] for tool in caches}
    for round_ in range(runs):
        order = list(caches) if round_ % 2 == 0 else list(reversed(caches))
        for tool in order:
            times[tool].append(timed_run(hub, tool, caches[tool]))
    hub.throttle_bps = None
    return {tool: total / statistics.median(t) / MiB for tool, t in times.items()}


def kill_at_half(hub: HubServer, tool: str, hf_home: Path, total: int) -> int:
    """Start ``tool``, SIGKILL it once the server has sent half the repo; returns bytes sent."""
    proc = subprocess.Popen(command(tool), env=client_env(hub, hf_home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while hub.stats.bytes_sent < total // 2:
            if proc.poll() is not None:
                raise SystemExit(f"{tool} finished before half the repo was sent")
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    return hub.stats.bytes_sent


def on_disk(hf_home: Path) -> int:
    """Bytes of the repo in the cache: finished blobs and partial files of any tool."""
    blobs = hf_home / "hub" / ("models--" + REPO_ID.replace("/", "--")) / "blobs"
    return sum(p.stat().st_size for p in blobs.iterdir()) if blobs.is_dir() else 0


def resume(hub, total: int, hf_home: Path, first: str, second: str, throttle: float) -> dict:
    fresh(hf_home)
    hub.stats.reset()
    hub.throttle_bps = throttle
    sent_first = kill_at_half(hub, first, hf_home, total)
    kept = on_disk(hf_home)
    hub.throttle_bps = None
    hub.stats.reset()
    proc = subprocess.run(command(second), env=client_env(hub, hf_home), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{second} failed: {proc.stderr[-2000:]}")
    sent_second = hub.stats.bytes_sent
    refetched = sent_second - (total - kept)
    twice = sent_first + sent_second - total
    return {"killed": first, "rerun": second, "sent_before_kill": sent_first, "on_disk_after_kill": kept,
            "sent_on_rerun": sent_second, "refetched": refetched, "refetched_pct": 100 * refetched / total,
            "sent_twice": twice, "sent_twice_pct": 100 * twice / total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=512, help="repo size in MiB (default 512)")
    parser.add_argument("--files", type=int, default=4, help="number of weight files (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="rounds per tool and setting (default 3)")
    parser.add_argument("--throttle-mib", type=float, default=100, help="server throttle in MiB/s (default 100)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mlxk-pull-bench-"))
    try:
        source = work / "source"
        source.mkdir()
        files = make_repo(source, args.size_mib, args.files)
        total = sum(p.stat().st_size for p in files.values())
        with HubServer(work / "hub") as hub:
            hub.add_repo(*REPO_ID.split("/"), files)
            shutil.rmtree(source)
            caches = {"mlxk-pull": work / "cache-mlxk", "hf download": work / "cache-hf"}
            throttle = args.throttle_mib * MiB
            speeds = {"unthrottled": throughput(hub, total, caches, args.runs, None),
                      f"throttled {args.throttle_mib:g} MiB/s": throughput(hub, total, caches, args.runs, throttle)}
            resumes = [resume(hub, total, work / "cache-resume", tool, tool, throttle) for tool in caches]
            resumes.append(resume(hub, total, work / "cache-resume", "hf download", "mlxk-pull", throttle))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps({"repo_bytes": total, "files": len(files), "throughput_mib_s": speeds,
                          "resume": resumes}, indent=2))
        return 0
    print(f"repo: {total / MiB:.0f} MiB in {len(files)} files, 127.0.0.1, median of {args.runs} runs\n")
    print("| setting | mlxk-pull MiB/s | hf download MiB/s | ratio |")
    print("|---|---:|---:|---:|")
    for setting, row in speeds.items():
        print(f"| {setting} | {row['mlxk-pull']:.0f} | {row['hf download']:.0f} | "
              f"{row['mlxk-pull'] / row['hf download']:.2f} x |")
    print("\n| killed at 50 % (SIGKILL) | re-run with | sent before kill | on disk after kill | sent on re-run "
          "| re-fetched | sent twice |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in resumes:
        print(f"| {r['killed']} | {r['rerun']} | {r['sent_before_kill'] / MiB:.1f} MiB | "
              f"{r['on_disk_after_kill'] / MiB:.1f} MiB | {r['sent_on_rerun'] / MiB:.1f} MiB | "
              f"{r['refetched'] / MiB:.1f} MiB ({r['refetched_pct']:.2f} %) | "
              f"{r['sent_twice'] / MiB:.1f} MiB ({r['sent_twice_pct']:.2f} %) |")
    print("\nre-fetched: bytes the re-run downloaded although the killed run had written them to the cache; "
          "sent twice: all bytes the server sent beyond the repo size over both runs (re-fetched, plus what was "
          "not on disk at the kill: socket buffers, or data the killed client still held in memory).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
