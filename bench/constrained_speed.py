#!/usr/bin/env python3
"""What enforcing a JSON schema costs: decoding tokens/s with and without a
grammar (llguidance, mlxk_common/engine/constrain.py), one request alone and
8 decoded together in the continuous batch, plus the grammar's own work per
token (mask + consume) replayed outside the model.

Both sides generate exactly --max-tokens tokens: the schema is an array of at
least 10000 integers (so the grammar never lets it end) and both sides carry
the same logit_bias that forbids the end-of-turn tokens.  Rounds interleave the
two sides; the table has medians over rounds, the ratio constrained /
unconstrained, and CPU seconds per generated token (process time).

xgrammar was not tried: its PyPI wheel needs torch, which this project never
installs.

usage: python bench/constrained_speed.py [--model DIR | --gguf FILE] [--max-tokens 64] [--rounds 3] [--batch 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_speed import ensure_model

SCHEMA = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 999}, "minItems": 10000}
PROMPT = "List some numbers."


def requests(engine, n: int, max_tokens: int, constrained: bool, seed0: int = 0):
    from mlxk_common.engine import SamplingParams

    no_end = {str(t): -100 for t in engine.eos_ids}
    fmt = {"type": "json_schema", "schema": SCHEMA} if constrained else None
    return [engine.prepare(prompt=PROMPT, max_tokens=max_tokens, response_format=fmt,
                           sampling=SamplingParams(temperature=1.0, seed=seed0 + i, logit_bias=no_end))
            for i in range(n)]


def single(engine, max_tokens: int, constrained: bool) -> dict:
    [request] = requests(engine, 1, max_tokens, constrained)
    cpu = time.process_time()
    finished = list(engine.generate(request))[-1]
    assert finished.completion_tokens == max_tokens, finished
    return {"tps": finished.timing["generation_tps"], "cpu_per_token": (time.process_time() - cpu) / max_tokens}


def batched(engine, n: int, max_tokens: int, constrained: bool) -> dict:
    sched = engine.batch(max_batch=n)
    for request in requests(engine, n, max_tokens, constrained):
        sched.submit(request)
    cpu = time.process_time()
    first = None
    generated = 0
    start = time.perf_counter()
    try:
        while sched.active:
            for event in sched.step():
                if first is None:
                    first = time.perf_counter()
                if event.kind == "finished":
                    generated += event.completion_tokens
    finally:
        sched.close()
    end = time.perf_counter()
    assert generated == n * max_tokens, generated
    # Decoding only: from the first event (all prompts are short and processed together) to the end.
    return {"tps": generated / (end - (first or start)), "cpu_per_token": (time.process_time() - cpu) / generated}


def mask_cost(engine, max_tokens: int) -> float:
    """Microseconds per token of the grammar alone: mask and consume, replayed
    over the tokens of an answer the constrained model wrote."""
    import llguidance
    from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

    [request] = requests(engine, 1, max_tokens, True)
    text = list(engine.generate(request))[-1].content
    tokens = engine.tokenizer.encode(text, add_special_tokens=False)
    constraint = request.constraint
    mask = allocate_token_bitmask(1, constraint.tokenizer.vocab_size)
    matcher = llguidance.LLMatcher(constraint.tokenizer, constraint.grammar, log_level=0)
    done = 0
    start = time.perf_counter()
    for token in tokens:
        fill_next_token_bitmask(matcher, mask)
        if not matcher.consume_token(token):
            break
        done += 1
    return (time.perf_counter() - start) / max(1, done) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="an MLX model folder (default: models/SmolLM2-135M-Instruct, or the "
                                        "SmolLM2 test GGUF converted)")
    parser.add_argument("--gguf", help="convert this GGUF when no --model is given")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    from mlxk_common.engine import load_engine

    engine = load_engine(ensure_model(args)[0])
    single(engine, 8, True)  # warm-up: llguidance's tokenizer (about a second) and the first compilation
    results: dict[tuple, list] = {}
    for _ in range(args.rounds):
        for constrained in (False, True):
            results.setdefault(("single", constrained), []).append(single(engine, args.max_tokens, constrained))
            results.setdefault((f"batch {args.batch}", constrained), []).append(
                batched(engine, args.batch, args.max_tokens, constrained))
    print(f"model: {engine.info.name}, vocabulary {engine.vocab_size}, {args.max_tokens} tokens per request, "
          f"{args.rounds} rounds (medians)")
    print("| case | unconstrained tok/s | json schema tok/s | ratio | CPU s/token plain | CPU s/token schema |")
    print("|---|---|---|---|---|---|")
    for case in ("single", f"batch {args.batch}"):
        plain, schema = results[(case, False)], results[(case, True)]
        p_tps = statistics.median(r["tps"] for r in plain)
        s_tps = statistics.median(r["tps"] for r in schema)
        p_cpu = statistics.median(r["cpu_per_token"] for r in plain)
        s_cpu = statistics.median(r["cpu_per_token"] for r in schema)
        print(f"| {case} | {p_tps:.1f} | {s_tps:.1f} | {s_tps / p_tps:.2f} | {p_cpu:.4f} | {s_cpu:.4f} |")
    print(f"grammar alone (llguidance mask + consume): {mask_cost(engine, args.max_tokens):.0f} µs per token")
    return 0


if __name__ == "__main__":
    sys.exit(main())
