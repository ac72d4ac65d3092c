#!/usr/bin/env python3
"""Batched against sequential generation: N prompts through ``mlx-run
--ndjson-in`` against N one-shot generations one after another, in one
process, with one loaded model.

Both are greedy with no repetition penalty and the same per-request
--max-tokens.  The batched side runs mlx-run's own entry point in-process
(stdin: one JSON request per line) and its model load time, which it reports,
is left out; the sequential side loads the engine once and generates each
prompt in turn, as a one-shot mlx-run does after loading.  Prints, per side:
wall seconds, prompt and generated tokens, and the aggregate generated
tokens/s (and prompt+generated tokens/s).

usage: python bench/batch_speed.py [--model DIR] [--prompts 32] [--max-tokens 32]
           [--batch-size 8,32] [--no-chat-template]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_speed import ensure_model  # noqa: E402 - the same model lookup as the speed bench


def prompts(n: int) -> list[str]:
    topics = ["the sea", "a cat", "winter", "coffee", "a library", "the moon", "trains", "bread"]
    return [f"Tell me about {topics[i % len(topics)]} and the number {i}." for i in range(n)]


def sequential(model: Path, texts: list[str], max_tokens: int, chat_template: bool) -> dict:
    from mlxk_common.engine import SamplingParams, load_engine

    engine = load_engine(model)
    sampling = SamplingParams(temperature=0, repetition_penalty=1.0)
    prompt_tokens = generated = 0
    start = time.perf_counter()
    for text in texts:
        request = engine.prepare(prompt=text, max_tokens=max_tokens, sampling=sampling, chat_template=chat_template)
        finished = list(engine.generate(request))[-1]
        prompt_tokens += finished.prompt_tokens
        generated += finished.completion_tokens
    return {"wall_s": time.perf_counter() - start, "prompt_tokens": prompt_tokens, "generated": generated}


def batched(model: Path, texts: list[str], max_tokens: int, batch_size: int, chat_template: bool) -> dict:
    from mlxk_bin.run import main
    from mlxk_common.iox import IOEnv

    stdin = "".join(json.dumps({"prompt": t, "max_tokens": max_tokens}) + "\n" for t in texts)
    out, err = io.StringIO(), io.StringIO()
    env = IOEnv(stdin=io.StringIO(stdin), stdout=out, stderr=err, environ={**os.environ, "HF_HUB_OFFLINE": "1"})
    argv = [str(model), "--ndjson-in", "--json", "--batch-size", str(batch_size), "--temperature", "0",
            "--repetition-penalty", "1.0"] + ([] if chat_template else ["--no-chat-template"])
    start = time.perf_counter()
    code = main(argv, env)
    wall = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"mlx-run --ndjson-in failed: {out.getvalue()[-500:]} {err.getvalue()[-500:]}")
    data = json.loads(out.getvalue())["data"]
    results = data["results"]
    return {"wall_s": wall - data["load_s"], "prompt_tokens": sum(r["usage"]["prompt_tokens"] for r in results),
            "generated": sum(r["usage"]["completion_tokens"] for r in results)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="MLX model folder (default: as bench/run_speed.py)")
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--batch-size", default="8,32", help="comma-separated --batch-size values to try")
    parser.add_argument("--no-chat-template", action="store_true",
                        help="raw prompts (shorter: prompt processing is slow on CPU)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model, _ = ensure_model(args)
    texts = prompts(args.prompts)
    template = not args.no_chat_template
    rows = [("sequential one-shot", sequential(model, texts, args.max_tokens, template))]
    for size in (int(s) for s in args.batch_size.split(",")):
        rows.append((f"--ndjson-in --batch-size {size}", batched(model, texts, args.max_tokens, size, template)))
    print(f"model: {model}  prompts: {args.prompts}  max tokens each: {args.max_tokens}  "
          f"chat template: {'yes' if template else 'no'}")
    header = f"{'mode':<30} {'wall s':>8} {'prompt tok':>10} {'gen tok':>8} {'gen tok/s':>10} {'all tok/s':>10}"
    print(header)
    print("-" * len(header))
    base = rows[0][1]["generated"] / rows[0][1]["wall_s"] or float("nan")
    for name, r in rows:
        rate = r["generated"] / r["wall_s"]
        print(f"{name:<30} {r['wall_s']:8.1f} {r['prompt_tokens']:10d} {r['generated']:8d} {rate:10.1f} "
              f"{(r['prompt_tokens'] + r['generated']) / r['wall_s']:10.1f}" + ("" if r is rows[0][1] else
                                                                                 f"  ({rate / base:.2f}x)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
