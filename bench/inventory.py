#!/usr/bin/env python3
"""Inventory speed: mlxk-list / mlxk-health / mlxk-show on a large cache,
against `hf cache ls` and mlx-knife 2.0.8, and every inventory tool on an
empty cache against bare Python start-up.

Builds a synthetic cache of N models (default 1,000: mixed sizes from 50 KB to
9 GB as sparse files, 1 to 4 shards, a few broken), installs mlx-knife 2.0.8
from PyPI into a separate virtual environment (with mlx[cpu]; reused on later
runs), runs each command once to warm the page cache and then --runs times,
and prints the median wall and CPU (user+sys) time of each.  The targets are
judged on CPU time: on a shared, busy machine wall time mostly measures the
neighbours.

Targets: `mlxk-list --json` on 1,000 models at least 5x faster than mlx-knife
2.0.8's `mlxk list --json` and faster than `hf cache ls`; every inventory tool
on an empty cache within 3x of bare Python start-up.

usage: python bench/inventory.py [--models N] [--runs N] [--work DIR] [--no-mlx-knife]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import compile_project

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MLX_KNIFE = ("mlx-knife==2.0.8", "mlx[cpu]<0.32.1")
INVENTORY_TOOLS = ("mlxk-list", "mlxk-show", "mlxk-health", "mlxk-rm")


class Command:
    """One command line to time; its samples are collected round by round."""

    def __init__(self, label: str, where: str, cmd: list[str] | None, env: dict, note: str = ""):
        self.label, self.where, self.cmd, self.env, self.note = label, where, cmd, env, note
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.code: int | None = None

    def run_once(self, keep: bool) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env,
                              check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if keep:
            self.wall.append(wall * 1000)
            self.cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        self.code = proc.returncode

    @property
    def ms(self) -> float | None:
        return statistics.median(self.wall) if self.wall else None

    @property
    def cpu_ms(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None


def time_in_rounds(commands: list[Command], runs: int) -> None:
    """Every command once per round (a warm-up round first), so a busy
    machine slows all of them alike and the ratios stay fair."""
    live = [c for c in commands if c.cmd is not None]
    for round_no in range(runs + 1):
        for command in live:
            command.run_once(keep=round_no > 0)


def ensure_mlx_knife(venv: Path) -> Path | None:
    """The mlx-knife ``mlxk`` executable, installed on first use."""
    exe = venv / "bin" / "mlxk"
    if exe.exists():
        return exe
    if venv.is_symlink():  # a link to an environment that is gone
        venv.unlink()
    print(f"installing {' '.join(MLX_KNIFE)} into {venv} (once) ...", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *MLX_KNIFE], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"mlx-knife could not be installed ({exc}); its rows are left out", file=sys.stderr)
        return None
    return exe if exe.exists() else None


def implemented(tool: str, env: dict) -> bool:
    """False for a tool that is still a placeholder (exits 2 on any input)."""
    exe = BIN / tool
    if not exe.exists():
        return False
    proc = subprocess.run([str(exe), "--json"] if tool != "mlxk-show" else [str(exe), "x", "--json"],
                          capture_output=True, text=True, env=env, check=False)
    return '"not_implemented"' not in proc.stdout


def build_cache(home: Path, count: int) -> str:
    """The synthetic cache (rebuilt each run); returns a sharded model's name for mlxk-show."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixtures.caches import synthetic_cache

    start = time.perf_counter()
    ids = synthetic_cache(home / "hub", count)
    print(f"built {count} models in {time.perf_counter() - start:.1f}s under {home}", file=sys.stderr)
    return next(i for i in ids if i.startswith("mlx-community/") and i.endswith("9000M"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=1000, help="models in the synthetic cache")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (after one warm-up run)")
    parser.add_argument("--work", type=Path, default=REPO / ".cache" / "bench" / "inventory",
                        help="folder for the caches and the mlx-knife environment")
    parser.add_argument("--no-mlx-knife", action="store_true", help="leave out the mlx-knife 2.0.8 rows")
    args = parser.parse_args()

    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MLXK", "HUGGINGFACE"))}
    base.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", NO_COLOR="1")
    compile_project(base)
    full_home, empty_home = args.work / "hf_home", args.work / "empty_home"
    (empty_home / "hub").mkdir(parents=True, exist_ok=True)
    name = build_cache(full_home, args.models)
    full = {**base, "HF_HOME": str(full_home)}
    empty = {**base, "HF_HOME": str(empty_home)}
    knife = None if args.no_mlx_knife else ensure_mlx_knife(args.work / "venv-mlx-knife")
    health_ok = implemented("mlxk-health", empty)
    hf = BIN / "hf"

    n = f"{args.models} models"
    python = Command("python -c pass", "-", [sys.executable, "-c", "pass"], base)
    listing = Command("mlxk-list --json", n, [str(BIN / "mlxk-list"), "--json"], full)
    hf_ls = Command("hf cache ls --format json", n, [str(hf), "cache", "ls", "--format", "json"] if hf.exists()
                    else None, full, "" if hf.exists() else "hf not installed")
    knife_list = Command("mlx-knife 2.0.8: mlxk list --json", n, [str(knife), "list", "--json"] if knife else None,
                         full, "" if knife else "not installed")
    big = [
        listing,
        Command("mlxk list", n, [str(BIN / "mlxk"), "list"], full),
        Command("mlxk-health --json", n, [str(BIN / "mlxk-health"), "--json"] if health_ok else None, full,
                "" if health_ok else "not implemented yet"),
        Command(f"mlxk-show {name.split('/')[1]} --json", n, [str(BIN / "mlxk-show"), name, "--json"], full),
        hf_ls,
        knife_list,
        Command("mlx-knife 2.0.8: mlxk health --json", n, [str(knife), "health", "--json"] if knife else None,
                full, "" if knife else "not installed"),
    ]
    small = [python]
    for label, cmd in (("mlxk-list --json", ["mlxk-list", "--json"]), ("mlxk list", ["mlxk", "list"]),
                       ("mlxk-health --json", ["mlxk-health", "--json"]),
                       ("mlxk-show org/x --json", ["mlxk-show", "org/x", "--json"]),
                       ("mlxk-rm --dry-run org/x", ["mlxk-rm", "--dry-run", "org/x"])):
        skip = label.startswith("mlxk-health") and not health_ok
        small.append(Command(label, "empty cache", None if skip else [str(BIN / cmd[0]), *cmd[1:]], empty,
                             "not implemented yet" if skip else ""))
    time_in_rounds(big, args.runs)
    time_in_rounds(small, max(args.runs, 15))

    rows = [python, *big, *small[1:]]
    width = max(len(r.label) for r in rows)
    print(f"{'command':<{width}}  {'cache':<12}  {'wall ms':>8}  {'cpu ms':>8}  {'x python':>8}  {'cpu x py':>8}"
          "  exit")
    print(f"{'-' * width}  {'-' * 12}  {'-' * 8}  {'-' * 8}  {'-' * 8}  {'-' * 8}  ----")
    for r in rows:
        if r.ms is None:
            print(f"{r.label:<{width}}  {r.where:<12}  {'-':>8}  {'-':>8}  {'-':>8}  {'-':>8}  -     {r.note}")
        else:
            print(f"{r.label:<{width}}  {r.where:<12}  {r.ms:8.1f}  {r.cpu_ms:8.1f}  {r.ms / python.ms:8.2f}  "
                  f"{r.cpu_ms / python.cpu_ms:8.2f}  {r.code:<4}  {r.note}".rstrip())
    print(f"\nmedians of {args.runs} rounds for the {args.models}-model cache, {max(args.runs, 15)} for the empty "
          f"one (every command once per round, after a warm-up round); wall and CPU (user+sys) time; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    verdicts = []
    if knife_list.ms:
        verdicts.append((f"mlxk-list --json vs mlx-knife 2.0.8 list --json: CPU {knife_list.cpu_ms / listing.cpu_ms:.1f}x "
                         f"less (wall {knife_list.ms / listing.ms:.1f}x faster); target >= 5x",
                         knife_list.cpu_ms / listing.cpu_ms >= 5))
    if hf_ls.ms:
        verdicts.append((f"mlxk-list --json vs hf cache ls: CPU {hf_ls.cpu_ms / listing.cpu_ms:.1f}x less "
                         f"(wall {hf_ls.ms / listing.ms:.1f}x faster); target > 1x", hf_ls.cpu_ms > listing.cpu_ms))
    worst = max((r.cpu_ms / python.cpu_ms, r.label, r.ms / python.ms) for r in small[1:] if r.ms)
    verdicts.append((f"empty cache: worst {worst[1]} at {worst[0]:.2f}x bare Python's CPU (wall {worst[2]:.2f}x); "
                     f"target <= 3x", worst[0] <= 3))
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'MISS'}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
