#!/usr/bin/env python3
"""mlx-run against raw mlx-lm and llama.cpp: same model, same prompt, same settings.

Each run is a fresh process (so peak RSS is the whole tool's); runs of the
three are interleaved, so background load hits them alike.  Prints medians
over --runs of prompt tokens/s, generation tokens/s, time to first token and
peak RSS for:

* mlx-run MODEL PROMPT --json (timing from its JSON result);
* python -m mlx_lm generate (its own "Prompt:"/"Generation:" lines; TTFT is
  prompt tokens / prompt tokens/s, which is how mlx-lm computes that rate);
* llama.cpp through llama-cpp-python on the GGUF file the MLX model was
  converted from (CPU, --threads threads), fed the same rendered prompt.

All greedy, no repetition penalty, --max-tokens tokens at most (each stops
at its end-of-turn token).  Generation tokens/s is mlx-lm's definition for
all three: sampled tokens over the time since the first one arrived.
Targets: mlx-run generation tokens/s >= 0.97 x mlx-lm's, peak RSS <= mlx-lm's
+ 50 MB.  A second table isolates the engine's per-token cost: in one
process, the engine's ``generate`` and mlx-lm's ``stream_generate`` on the
same prompt tokens, alternating.  llama.cpp is skipped, with a note, when llama-cpp-python is not
installed.

usage: python bench/run_speed.py [--model DIR] [--gguf FILE] [--runs 5]
           [--max-tokens 128] [--prompt TEXT] [--threads 2] [--skip-llama] [--skip-in-process]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_PROMPT = "Write a long story about a robot who learns to paint."


def measured(cmd: list[str], env: dict) -> tuple[str, float]:
    """Run ``cmd``; (stdout, peak RSS in MB of that process)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()  # small outputs: no deadlock
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err.decode()[-800:]}")
    return out.decode(), usage.ru_maxrss / 1024  # Linux reports KB


def run_mlxk(model: Path, prompt: str, max_tokens: int, env: dict) -> dict:
    out, rss = measured([str(BIN / "mlx-run"), str(model), prompt, "--json", "--temperature", "0",
                         "--repetition-penalty", "1.0", "--max-tokens", str(max_tokens)], env)
    data = json.loads(out)["data"]
    t = data["timing"]
    return {"prompt_tps": t["prompt_tps"], "generation_tps": t["generation_tps"], "ttft_s": t["ttft_s"],
            "rss_mb": rss, "tokens": data["usage"]["completion_tokens"]}


def run_mlx_lm(model: Path, prompt: str, max_tokens: int, env: dict) -> dict:
    out, rss = measured([sys.executable, "-m", "mlx_lm", "generate", "--model", str(model), "--prompt", prompt,
                         "--max-tokens", str(max_tokens), "--temp", "0"], env)
    p = re.search(r"Prompt: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    g = re.search(r"Generation: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    if not (p and g):
        raise RuntimeError(f"unexpected mlx_lm output: {out[-400:]}")
    prompt_tokens, prompt_tps = int(p.group(1)), float(p.group(2))
    return {"prompt_tps": prompt_tps, "generation_tps": float(g.group(2)), "ttft_s": prompt_tokens / prompt_tps,
            "rss_mb": rss, "tokens": int(g.group(1))}


LLAMA_CHILD = r"""
import json, sys, time
import llama_cpp
gguf, prompt_file, max_tokens, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
llm = llama_cpp.Llama(model_path=gguf, n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
text = open(prompt_file, encoding="utf-8").read()
tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
vocab = llama_cpp.llama_model_get_vocab(llm.model)
start = time.perf_counter(); first = None; sampled = 0
for token in llm.generate(tokens, top_k=1, top_p=1.0, temp=0.0, repeat_penalty=1.0, reset=True):
    if first is None:
        first = time.perf_counter()
    sampled += 1
    if llama_cpp.llama_vocab_is_eog(vocab, token) or sampled >= max_tokens:
        break
end = time.perf_counter()
ttft = first - start
print(json.dumps({"prompt_tokens": len(tokens), "ttft_s": ttft, "prompt_tps": len(tokens) / ttft,
                  "generation_tps": sampled / (end - first), "tokens": sampled}))
"""


def run_llama(gguf: Path, prompt_file: Path, max_tokens: int, threads: int, env: dict) -> dict:
    out, rss = measured([sys.executable, "-c", LLAMA_CHILD, str(gguf), str(prompt_file), str(max_tokens),
                         str(threads)], env)
    data = json.loads(out.strip().splitlines()[-1])
    return {**data, "rss_mb": rss}


def in_process(model: Path, prompt: str, max_tokens: int, runs: int) -> dict[str, list[float]]:
    """Generation tokens/s of engine.generate and mlx_lm.stream_generate, alternating in one process."""
    from mlx_lm.generate import stream_generate

    from mlxk_common.engine import SamplingParams, load_engine

    engine = load_engine(model)
    request = engine.prepare(prompt=prompt, max_tokens=max_tokens,
                             sampling=SamplingParams(temperature=0, repetition_penalty=1.0))
    rates: dict[str, list[float]] = {"engine.generate": [], "mlx_lm.stream_generate": []}
    def ours():
        return list(engine.generate(request))[-1].timing["generation_tps"]

    def theirs():
        return list(stream_generate(engine.model, engine.tokenizer, request.prompt_tokens,
                                    max_tokens=max_tokens))[-1].generation_tps

    for i in range(runs + 1):
        pair = [("engine.generate", ours), ("mlx_lm.stream_generate", theirs)]
        for name, run in pair if i % 2 else pair[::-1]:  # alternate who goes first
            rate = run()
            if i:  # the first round warms up
                rates[name].append(rate)
    return rates


def rendered_prompt(model: Path, prompt: str) -> str:
    """The chat-templated prompt text mlx-run sends, for llama.cpp to get the same tokens."""
    from mlx_lm.tokenizer_utils import load

    from mlxk_common.engine.prompting import build_messages, render

    text, _ = render(load(model), build_messages(prompt))
    return text


def ensure_model(args) -> tuple[Path, Path | None]:
    gguf = Path(args.gguf) if args.gguf else None
    if gguf is None:
        candidate = Path(os.environ.get("MLXK_TEST_DATA") or REPO / ".cache" / "fixtures") / GGUF_NAME
        gguf = candidate if candidate.is_file() else None
    if args.model:
        return Path(args.model), gguf
    default = REPO / "models" / "SmolLM2-135M-Instruct"
    if (default / "config.json").is_file():
        return default, gguf
    if gguf is None:
        sys.exit("no model: give --model DIR (or --gguf FILE to convert), or run 'make demo' first")
    target = Path(tempfile.mkdtemp(prefix="run-speed-")) / "model"
    subprocess.run([str(BIN / "mlxk-convert"), str(gguf), str(target), "--from-gguf"], check=True,
                   stdout=subprocess.DEVNULL)
    return target, gguf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="MLX model folder (default: models/SmolLM2-135M-Instruct, or the GGUF "
                                        "converted into a temporary folder)")
    parser.add_argument("--gguf", help="the GGUF file for llama.cpp (default: the test fixture's SmolLM2)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--prompt", default=DEFAULT_PROMPT)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (default 2)")
    parser.add_argument("--skip-llama", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true", help="leave out the in-process table")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    model, gguf = ensure_model(args)
    contenders = {"mlx-run": lambda: run_mlxk(model, args.prompt, args.max_tokens, env),
                  "mlx_lm.generate": lambda: run_mlx_lm(model, args.prompt, args.max_tokens, env)}
    note = None
    if args.skip_llama:
        note = "llama.cpp: skipped (--skip-llama)"
    elif gguf is None:
        note = "llama.cpp: skipped (no GGUF file; give --gguf)"
    else:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            note = "llama.cpp: skipped (llama-cpp-python is not installed: pip install llama-cpp-python)"
    if note is None:
        prompt_file = Path(tempfile.mkdtemp(prefix="run-speed-")) / "prompt.txt"
        prompt_file.write_text(rendered_prompt(model, args.prompt), encoding="utf-8")
        contenders[f"llama.cpp ({args.threads} threads)"] = lambda: run_llama(gguf, prompt_file, args.max_tokens,
                                                                               args.threads, env)
    results: dict[str, list[dict]] = {name: [] for name in contenders}
    for name, run in contenders.items():  # warm-up: page cache, compiled kernels on disk
        run()
    for i in range(args.runs):
        for name, run in contenders.items():
            results[name].append(run())
        print(f"run {i + 1}/{args.runs} done", file=sys.stderr)
    print(f"model: {model}  prompt: {args.prompt!r}  max tokens: {args.max_tokens}  runs: {args.runs} (medians)")
    header = f"{'tool':<24} {'prompt tok/s':>12} {'gen tok/s':>10} {'TTFT s':>8} {'peak RSS MB':>12} {'tokens':>7}"
    print(header)
    print("-" * len(header))
    med = {}
    for name, rows in results.items():
        med[name] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        m = med[name]
        print(f"{name:<24} {m['prompt_tps']:12.1f} {m['generation_tps']:10.1f} {m['ttft_s']:8.2f} "
              f"{m['rss_mb']:12.0f} {m['tokens']:7.0f}")
    if note:
        print(note)
    ours, raw = med["mlx-run"], med["mlx_lm.generate"]
    # Runs i of the two tools ran back to back: their ratio cancels most of
    # the background load, which drifts over the whole benchmark.
    paired = [a["generation_tps"] / b["generation_tps"] for a, b in zip(results["mlx-run"],
                                                                           results["mlx_lm.generate"])]
    ratio = statistics.median(paired)
    extra = ours["rss_mb"] - raw["rss_mb"]
    print(f"mlx-run generation = {ratio:.3f} x mlx-lm, median of paired runs "
          f"(range {min(paired):.3f}-{max(paired):.3f}; ratio of medians {ours['generation_tps'] / raw['generation_tps']:.3f})"
          f" (target >= 0.97): {'ok' if ratio >= 0.97 else 'MISSED'}")
    print(f"mlx-run peak RSS = mlx-lm {extra:+.0f} MB (target <= +50 MB): {'ok' if extra <= 50 else 'MISSED'}")
    if not args.skip_in_process:
        rates = in_process(model, args.prompt, args.max_tokens, args.runs)
        print(f"\nin one process, same prompt tokens, alternating ({args.runs} runs, medians)")
        print(f"{'generator':<24} {'gen tok/s':>10}")
        for name, values in rates.items():
            print(f"{name:<24} {statistics.median(values):10.1f}")
        paired = [a / b for a, b in zip(rates["engine.generate"], rates["mlx_lm.stream_generate"])]
        print(f"engine.generate = {statistics.median(paired):.3f} x stream_generate, median of paired runs "
              f"(range {min(paired):.3f}-{max(paired):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
