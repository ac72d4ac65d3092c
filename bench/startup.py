#!/usr/bin/env python3
"""Start-up cost of every mlxk executable compared with bare Python.

Prints the median wall time and CPU time of ``python -c pass`` and of
``--help``/``--version`` for the dispatcher and each tool, over N runs
(default 15), and the ratio to bare Python.  Budget: each within 3x of bare
Python (no heavy imports at start).

``--baseline DIR`` also times the executables installed in another bin folder
(an older checkout's venv), interleaved run by run with this one, and adds
their medians and the ratio new/old: a layout change must not slow start-up.

usage: python bench/startup.py [--runs N] [--baseline OTHER_VENV/bin]
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

BIN = Path(sys.executable).parent
TOOLS = ["mlxk", "mlxk-list", "mlxk-show", "mlxk-health", "mlxk-rm", "mlxk-pull", "mlx-run",
         "mlxk-serve", "mlxk-clone", "mlxk-convert", "mlxk-push"]


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall ms, CPU ms of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def measure(commands: dict[str, list[list[str]]], runs: int, env: dict) -> dict[str, list[tuple[float, float]]]:
    """Every command of every variant once per round, interleaved; the first round warms caches."""
    samples = {name: [[] for _ in variants] for name, variants in commands.items()}
    for round_no in range(runs + 1):
        for name, variants in commands.items():
            for i, cmd in enumerate(variants):
                result = timed(cmd, env)
                if round_no:
                    samples[name][i].append(result)
    return samples


def med(values, index) -> float:
    return statistics.median(v[index] for v in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="bin folder of another install to compare with (interleaved)")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    bins = [BIN] + ([args.baseline] if args.baseline else [])
    for folder in bins:  # as an install does (pip compiles what it installs)
        compile_project(env, str(folder / "python"))
    commands = {"python -c pass": [[sys.executable, "-c", "pass"]]}
    for tool in TOOLS:
        for flag in ("--help", "--version"):
            commands[f"{tool} {flag}"] = [[str(b / tool), flag] for b in bins]
    samples = measure(commands, args.runs, env)
    base = med(samples["python -c pass"][0], 0)
    width = max(len(name) for name in commands)
    head = f"{'command':<{width}}  {'wall ms':>8}  {'CPU ms':>7}  {'x python':>8}"
    if args.baseline:
        head += f"  {'old wall':>8}  {'old CPU':>7}  {'new/old CPU':>11}"
    print(head)
    print("-" * len(head))
    worst, ratios = 0.0, []
    for name, variants in samples.items():
        wall, cpu = med(variants[0], 0), med(variants[0], 1)
        line = f"{name:<{width}}  {wall:8.1f}  {cpu:7.1f}  {wall / base:8.2f}"
        if name != "python -c pass":
            worst = max(worst, wall / base)
            if args.baseline:
                old_wall, old_cpu = med(variants[1], 0), med(variants[1], 1)
                ratios.append(cpu / old_cpu if old_cpu else float("nan"))
                line += f"  {old_wall:8.1f}  {old_cpu:7.1f}  {ratios[-1]:11.2f}"
        print(line)
    print(f"\nruns per command: {args.runs}; worst ratio to bare Python {worst:.2f}x (budget 3.0x)")
    if ratios:
        print(f"new/old CPU time: median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
