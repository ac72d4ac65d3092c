#!/usr/bin/env python3
"""Start-up cost of every mlxk executable compared with bare Python.

Prints the median wall time of ``python -c pass`` and of ``--help``/``--version``
for the dispatcher and each tool, over N runs (default 15), and the ratio to
bare Python.  Budget: each within 3x of bare Python (no heavy imports at start).

usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TOOLS = ["mlxk", "mlxk-list", "mlxk-show", "mlxk-health", "mlxk-rm", "mlxk-pull", "mlx-run",
         "mlxk-serve", "mlxk-clone", "mlxk-convert", "mlxk-push"]


def median_ms(cmd: list[str], runs: int, env: dict) -> float:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1000  # the first run warms the page cache


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    rows = [("python -c pass", median_ms([sys.executable, "-c", "pass"], args.runs, env))]
    base = rows[0][1]
    for tool in TOOLS:
        exe = str(BIN / tool)
        for flag in ("--help", "--version"):
            rows.append((f"{tool} {flag}", median_ms([exe, flag], args.runs, env)))
    width = max(len(name) for name, _ in rows)
    print(f"{'command':<{width}}  {'median ms':>9}  {'x python':>8}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 8}")
    for name, ms in rows:
        print(f"{name:<{width}}  {ms:9.1f}  {ms / base:8.2f}")
    worst = max(ms / base for _, ms in rows[1:])
    print(f"\nruns per command: {args.runs}; worst ratio {worst:.2f}x (budget 3.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
