#!/usr/bin/env python3
"""Prompt processing in time-bounded steps against mlx-lm's one big step.

One prompt of --tokens tokens through a ``BatchScheduler``, until its first
token: ``whole`` is mlx-lm's default (steps of up to 2048 tokens, so one step
for this prompt), ``paced`` is the scheduler's default (steps sized to about
1 s by measured speed).  Rounds are interleaved.  Prints, per side, the
medians of: seconds to the first token, the longest single step (what a
cancellation or another request waits for at most), prompt tokens/s, and
CPU seconds per prompt token; then paced/whole ratios.

usage: python bench/prefill_steps.py [--model DIR | --gguf FILE] [--tokens 64] [--rounds 3] [--step-s S]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_speed import ensure_model  # noqa: E402 - the same model lookup as the speed bench



def one_round(engine, tokens: int, options: dict) -> dict:
    from mlxk_common.engine import SamplingParams

    request = engine.prepare(tokens=[1000 + i % 500 for i in range(tokens)], max_tokens=1,
                             sampling=SamplingParams(temperature=0))
    scheduler = engine.batch(max_batch=1, **options)
    scheduler.submit(request, rid="p")
    longest = 0.0
    cpu, start = time.process_time(), time.perf_counter()
    while scheduler.active:
        step = time.perf_counter()
        scheduler.step()
        longest = max(longest, time.perf_counter() - step)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    scheduler.close()
    return {"first_token_s": wall, "longest_step_s": longest, "prompt_tps": tokens / wall, "cpu_s_per_token": cpu / tokens}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default=None, help="an MLX model folder (default: models/SmolLM2-135M-Instruct)")
    parser.add_argument("--gguf", default=None, help="a GGUF to convert when there is no model folder")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--step-s", type=float, default=None, help="the paced side's step time (default: the scheduler's)")
    args = parser.parse_args()
    sides = {"whole": {"prefill_step_s": None},
             "paced": {} if args.step_s is None else {"prefill_step_s": args.step_s}}
    from mlxk_common.engine import load_engine

    engine = load_engine(ensure_model(args)[0])
    one_round(engine, 8, {})  # warm-up: compile the shapes once
    results = {side: [] for side in sides}
    for _ in range(args.rounds):
        for side, options in sides.items():
            results[side].append(one_round(engine, args.tokens, options))
    keys = ["first_token_s", "longest_step_s", "prompt_tps", "cpu_s_per_token"]
    medians = {side: {k: statistics.median(r[k] for r in rows) for k in keys} for side, rows in results.items()}
    print(f"{args.tokens}-token prompt, {args.rounds} rounds, medians")
    print(f"{'side':8}" + "".join(f"{k:>18}" for k in keys))
    for side, values in medians.items():
        print(f"{side:8}" + "".join(f"{values[k]:18.3f}" for k in keys))
    print(f"{'ratio':8}" + "".join(f"{medians['paced'][k] / medians['whole'][k]:18.2f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
