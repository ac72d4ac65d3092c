#!/usr/bin/env python3
"""Linux CPU speed: mlx-lm as it comes, mlxk's CPU path, llama.cpp (docs/cpu.md).

For each model, in interleaved rounds (one warm-up round first, then --runs
rounds; every run a fresh process, so background load hits all alike):

* ``mlx-lm`` as it comes: ``python -m mlx_lm generate`` (MLX's reference
  BLAS, the weights as stored);
* ``mlxk T``: ``mlx-run --json`` on its CPU path with T OpenBLAS threads
  (MLXK2_CPU_THREADS=T; the path it took is printed under the table):
  generated tokens through the packed-weight kernel where the CPU has it;
  with --prompt-ops-off also ``mlxk T, no prompt ops`` (MLXK2_CPU_PROMPT_OPS=0:
  the prompt pass with MLX's own SiLU, softmax and RoPE);
* ``mlxk 1t float32`` (with ``--float32-row``): the same with
  MLXK2_CPU_KERNELS=0, the float32 path (OpenBLAS sgemv) for generation too;
* ``llama.cpp T``: llama-cpp-python on the same GGUF with T threads (skipped
  with a note when llama-cpp-python is not installed or there is no GGUF).

Greedy, no repetition penalty, the same chat-templated prompt.  Columns:
prompt and generation tokens/s (medians), CPU seconds of the whole process
per generated token (load and prompt included), peak RSS, tokens generated.
Ratios are medians of the per-round ratios (each round's runs ran back to
back).  Then the bandwidth bound of the float32 path: bytes of weights read
per generated token / this machine's single-thread read bandwidth (numpy sum
over 1 GB), against the measured generation rate.

Models: ``smollm2`` (the test fixture's Q4_1 GGUF, converted by mlxk-convert:
4-bit, float16 scales), ``smollm2-bf16`` (the same with every float
parameter in bfloat16, as mlx-community publishes; llama.cpp runs the
fixture's GGUF there, not the same bytes) and ``random-0.5b`` (a random
0.49B-parameter llama written as a Q4_0 GGUF, then converted; built once
into --work).

usage: python bench/cpu_speed.py [--models smollm2,smollm2-bf16,random-0.5b] [--runs 3]
           [--max-tokens 48] [--threads 1,2] [--work DIR] [--skip-llama] [--prompt TEXT] [--raw]
           [--no-warmup] [--skip-mlx-lm] [--prompt-ops-off] [--float32-row]

llama.cpp for the comparison: llama-cpp-python is not a dependency of mlxk.
On PyPI it is a source package, and its build compiles llama.cpp for the
build machine's CPU (``-march=native``).  Where the CPU reports AMX
(Xeon Sapphire Rapids and later) but the virtual machine does not enable
its tile state, that build dies with an illegal instruction (SIGILL) on
its first computation.  Build it with AMX off instead (needs a C/C++
compiler and cmake; it takes tens of minutes on 2 busy cores):

    CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" CXXFLAGS="$CFLAGS" \
        pip install --no-binary llama-cpp-python llama-cpp-python

(``-DGGML_NATIVE=OFF`` in ``CMAKE_ARGS`` with the instruction sets named one
by one works too, but is easy to get slower.)  The bench first runs
llama.cpp once on SmolLM2; if that crashes, the llama.cpp rows are skipped
with this advice instead of failing the bench.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_speed import LLAMA_CHILD, rendered_prompt  # the shared llama.cpp child and prompt

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT = (
    "Write a long, detailed story about a robot who learns to paint in an old city by the sea, "
    "with its teacher, its first failures and the exhibition at the end."
)
RAW = False  # --raw: prompts without the chat template
RANDOM_SHAPE = {"HIDDEN": 1024, "HEADS": 16, "KV_HEADS": 4, "FFN": 4096, "LAYERS": 32, "CONTEXT": 2048}


def _run(cmd, env) -> tuple[str, float, float]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:3]))} failed ({code}): {err.decode()[-800:]}")
    return out.decode(), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def run_mlxk(model: Path, max_tokens: int, threads: int, env: dict, kernels: bool = True) -> dict:
    raw = ["--no-chat-template"] if RAW else []
    out, rss, cpu = _run(
        [
            str(BIN / "mlx-run"),
            str(model),
            PROMPT,
            "--json",
            "--temperature",
            "0",
            "--repetition-penalty",
            "1.0",
            "--max-tokens",
            str(max_tokens),
            *raw,
        ],
        {**env, "MLXK2_CPU_THREADS": str(threads), **({} if kernels else {"MLXK2_CPU_KERNELS": "0"})},
    )
    data = json.loads(out)["data"]
    t, n = data["timing"], data["usage"]["completion_tokens"]
    return {
        "prompt_tps": t["prompt_tps"],
        "generation_tps": t["generation_tps"],
        "cpu_s_tok": cpu / n,
        "rss_mb": rss,
        "tokens": n,
        "path": t.get("cpu"),
    }


def run_mlx_lm(model: Path, max_tokens: int, env: dict) -> dict:
    import re

    raw = ["--ignore-chat-template"] if RAW else []
    out, rss, cpu = _run(
        [
            sys.executable,
            "-m",
            "mlx_lm",
            "generate",
            "--model",
            str(model),
            "--prompt",
            PROMPT,
            "--max-tokens",
            str(max_tokens),
            "--temp",
            "0",
            *raw,
        ],
        env,
    )
    p = re.search(r"Prompt: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    g = re.search(r"Generation: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    if not (p and g):
        raise RuntimeError(f"unexpected mlx_lm output: {out[-400:]}")
    n = int(g.group(1))
    return {
        "prompt_tps": float(p.group(2)),
        "generation_tps": float(g.group(2)),
        "cpu_s_tok": cpu / n,
        "rss_mb": rss,
        "tokens": n,
    }


def run_llama(gguf: Path, prompt_file: Path, max_tokens: int, threads: int, env: dict) -> dict:
    out, rss, cpu = _run(
        [sys.executable, "-c", LLAMA_CHILD, str(gguf), str(prompt_file), str(max_tokens), str(threads)], env
    )
    data = json.loads(out.strip().splitlines()[-1])
    return {
        "prompt_tps": data["prompt_tps"],
        "generation_tps": data["generation_tps"],
        "cpu_s_tok": cpu / data["tokens"],
        "rss_mb": rss,
        "tokens": data["tokens"],
    }


def llama_probe(gguf: Path, env: dict) -> str | None:
    """None when llama-cpp-python runs here; else the note that skips its rows."""
    prompt_file = Path(tempfile.mkdtemp(prefix="cpu-speed-")) / "prompt.txt"
    prompt_file.write_text("Hello", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", LLAMA_CHILD, str(gguf), str(prompt_file), "1", "1"],
        env=env,
        capture_output=True,
        check=False,
    )
    if proc.returncode == 0:
        return None
    why = (
        "illegal instruction: built with AMX on a machine without it?"
        if proc.returncode == -4
        else (f"exit status {proc.returncode}")
    )
    return f"llama.cpp: skipped (llama-cpp-python crashed, {why}; see this script's docstring for a build that works)"


# -- the models ---------------------------------------------------------------------


def smollm2(work: Path, gguf: Path) -> Path:
    target = work / "smollm2"
    if not (target / "config.json").is_file():
        subprocess.run(
            [str(BIN / "mlxk-convert"), str(gguf), str(target), "--from-gguf"], check=True, stdout=subprocess.DEVNULL
        )
    return target


def smollm2_bf16(work: Path, gguf: Path) -> Path:
    """The converted SmolLM2 with scales, biases and norms in bfloat16."""
    import mlx.core as mx

    source, target = smollm2(work, gguf), work / "smollm2-bf16"
    if (target / "config.json").is_file():
        return target
    staging = Path(tempfile.mkdtemp(dir=work))
    for f in source.iterdir():
        if f.name != "model.safetensors" and f.is_file():
            shutil.copy2(f, staging / f.name)
    weights = mx.load(str(source / "model.safetensors"))
    floats = (mx.float16, mx.float32)
    mx.save_safetensors(
        str(staging / "model.safetensors"),
        {k: v.astype(mx.bfloat16) if v.dtype in floats else v for k, v in weights.items()},
        metadata={"format": "mlx"},
    )
    staging.rename(target)
    return target


def random_llama(work: Path) -> tuple[Path, Path]:
    """A random llama of 0.49B parameters: its Q4_0 GGUF and the MLX conversion."""
    gguf, target = work / "random-0.5b.Q4_0.gguf", work / "random-0.5b"
    if not gguf.is_file():
        sys.path.insert(0, str(REPO / "tests"))
        from fixtures import tiny_gguf

        for name, value in RANDOM_SHAPE.items():  # write_tiny_llama reads these at call time
            setattr(tiny_gguf, name, value)
        partial = gguf.with_suffix(".partial")
        tiny_gguf.write_tiny_llama(partial, "Q4_0", embed_type="Q8_0", seed=1)
        partial.rename(gguf)
    if not (target / "config.json").is_file():
        subprocess.run(
            [str(BIN / "mlxk-convert"), str(gguf), str(target), "--from-gguf"], check=True, stdout=subprocess.DEVNULL
        )
    return target, gguf


# -- the bound ----------------------------------------------------------------------

BANDWIDTH_CHILD = r"""
import time, numpy as np
a = np.ones(2**28, np.float32)
best = float("inf")
for _ in range(5):
    t = time.process_time()
    a.sum()
    best = min(best, time.process_time() - t)
print(a.nbytes / best)
"""


def read_bandwidth() -> float:
    """Bytes per CPU second one thread reads: the best of 5 numpy sums over 1 GB of float32.  In a child
    process: a child's peak RSS starts from its parent's RSS at the fork, so the bench itself stays small;
    CPU time, not wall time, because a loaded machine stretches wall time."""
    out = subprocess.run([sys.executable, "-c", BANDWIDTH_CHILD], capture_output=True, text=True, check=True)
    return float(out.stdout)


def float32_bytes_per_token(model: Path) -> int:
    """Bytes of weights one generated token reads on the float32 path: every
    parameter as float32, less the embedding table (one row is read) unless
    it is also the output layer."""
    import mlx.core as mx

    cfg = json.loads((model / "config.json").read_text())
    quant = cfg.get("quantization") or {}
    total, embed = 0, 0
    for f in model.glob("*.safetensors"):
        for name, a in mx.load(str(f)).items():
            if name.endswith((".scales", ".biases")):  # quantization's, gone once dequantized
                continue
            module = name.rsplit(".", 1)[0]
            bits = (quant.get(module) if isinstance(quant.get(module), dict) else quant).get("bits")
            n = a.size * 32 // bits if a.dtype == mx.uint32 and bits else a.size
            total += n
            if module.endswith("embed_tokens"):
                embed = n
    if not cfg.get("tie_word_embeddings", False):
        total -= embed
    return total * 4


def packed_bytes_per_token(model: Path) -> int:
    """Bytes of weights one generated token reads through the packed-weight kernel:
    the packed quantized weights with float32 scales and biases, other matrices
    as float32; the embedding table only when it is also the output layer."""
    import mlx.core as mx

    cfg = json.loads((model / "config.json").read_text())
    total, embed = 0, 0
    for f in model.glob("*.safetensors"):
        for name, a in mx.load(str(f)).items():
            n = a.nbytes if a.dtype == mx.uint32 else a.size * 4
            total += n
            if name.rsplit(".", 1)[0].endswith("embed_tokens"):
                embed += n
    if not cfg.get("tie_word_embeddings", False):
        total -= embed
    return total


# -- the run ------------------------------------------------------------------------


def bench_model(name: str, model: Path, gguf: Path | None, args, env, note: str | None) -> dict:
    contenders = {} if args.skip_mlx_lm else {"mlx-lm as it comes": lambda: run_mlx_lm(model, args.max_tokens, env)}
    for t in args.threads:
        contenders[f"mlxk {t}t"] = lambda t=t: run_mlxk(model, args.max_tokens, t, env)
        if args.prompt_ops_off:  # the same path with MLX's own SiLU, softmax and RoPE
            off = {**env, "MLXK2_CPU_PROMPT_OPS": "0"}
            contenders[f"mlxk {t}t, no prompt ops"] = lambda t=t, off=off: run_mlxk(model, args.max_tokens, t, off)
    if args.float32_row:
        t = args.threads[0]
        contenders[f"mlxk {t}t float32"] = lambda t=t: run_mlxk(model, args.max_tokens, t, env, kernels=False)
    if note is None and gguf is not None:
        prompt_file = Path(tempfile.mkdtemp(prefix="cpu-speed-")) / "prompt.txt"
        prompt_file.write_text(PROMPT if RAW else rendered_prompt(model, PROMPT), encoding="utf-8")
        for t in args.threads:
            contenders[f"llama.cpp {t}t"] = lambda t=t: run_llama(gguf, prompt_file, args.max_tokens, t, env)
    results: dict[str, list[dict]] = {n: [] for n in contenders}
    for run in contenders.values() if args.warmup else ():  # warm-up: page cache, the prepared OpenBLAS copy
        run()
    for i in range(args.runs):
        order = list(contenders.items())
        for label, run in order if i % 2 == 0 else order[::-1]:
            results[label].append(run())
        print(f"{name}: round {i + 1}/{args.runs} done", file=sys.stderr)
    return results


def report(name: str, model: Path, results: dict, args, bandwidth: float, llama_note: str | None) -> None:
    print(
        f"\n## {name}  ({model.name}; {args.runs} rounds, medians; max tokens {args.max_tokens}; "
        f"{'raw prompt' if RAW else 'chat template'}: {PROMPT[:40]!r}...)"
    )
    header = f"{'route':<22} {'prompt tok/s':>12} {'gen tok/s':>10} {'CPU s/tok':>10} {'peak RSS MB':>12} {'tokens':>7}"
    print(header)
    print("-" * len(header))
    med = {}
    for label, rows in results.items():
        med[label] = {
            k: statistics.median(r[k] for r in rows)
            for k in ("prompt_tps", "generation_tps", "cpu_s_tok", "rss_mb", "tokens")
        }
        m = med[label]
        print(
            f"{label:<22} {m['prompt_tps']:12.1f} {m['generation_tps']:10.2f} {m['cpu_s_tok']:10.3f} "
            f"{m['rss_mb']:12.0f} {m['tokens']:7.0f}"
        )
    if llama_note:
        print(llama_note)

    def ratio(a: str, b: str, key: str) -> str:
        if a not in results or b not in results:
            return "-"
        r = [x[key] / y[key] for x, y in zip(results[a], results[b])]
        return f"{statistics.median(r):.2f}x (range {min(r):.2f}-{max(r):.2f})"

    for t in args.threads:
        ours = f"mlxk {t}t"
        print(
            f"{ours}: generation {ratio(ours, 'mlx-lm as it comes', 'generation_tps')} mlx-lm, "
            f"prompt {ratio(ours, 'mlx-lm as it comes', 'prompt_tps')} mlx-lm; vs llama.cpp {t}t: "
            f"prompt {ratio(ours, f'llama.cpp {t}t', 'prompt_tps')}, "
            f"generation {ratio(ours, f'llama.cpp {t}t', 'generation_tps')}"
        )
        if args.prompt_ops_off:
            off = f"mlxk {t}t, no prompt ops"
            print(
                f"{ours}: prompt {ratio(ours, off, 'prompt_tps')} the same without prompt ops; without them "
                f"vs llama.cpp {t}t: prompt {ratio(off, f'llama.cpp {t}t', 'prompt_tps')}"
            )
    print(f"mlxk prompt ops: {(results[f'mlxk {args.threads[0]}t'][0].get('path') or {}).get('prompt_ops')}")
    f32 = f"mlxk {args.threads[0]}t float32"
    if f32 in results:
        t = args.threads[0]
        print(
            f"mlxk {t}t (kernel) vs mlxk {t}t float32: generation {ratio(f'mlxk {t}t', f32, 'generation_tps')}, "
            f"prompt {ratio(f'mlxk {t}t', f32, 'prompt_tps')}"
        )
    for label in [f"mlxk {args.threads[0]}t", f32]:
        if label not in results:
            continue
        path = results[label][0].get("path") or {}
        print(
            f"{label} CPU path: {path.get('path')} (BLAS {path.get('blas')}, shim {path.get('shim')}): "
            f"{path.get('reason')}; generation {path.get('generation')}: {path.get('generation_reason')}; "
            f"prompts {path.get('prompt')}: {path.get('prompt_reason')}"
        )
        gen_path = path.get("generation") or path.get("path")
        if gen_path == "float32":
            per_token, what = float32_bytes_per_token(model), "float32 path"
        elif str(gen_path).startswith("qgemv"):
            per_token, what = packed_bytes_per_token(model), "packed-weight kernel"
        else:
            continue
        bound = bandwidth / per_token
        gen = med[label]["generation_tps"]
        print(
            f"bound ({what}): {per_token / 1e6:.0f} MB read per token / {bandwidth / 1e9:.1f} GB/s = "
            f"{bound:.1f} tokens/s; {label} reaches {gen / bound:.2f}x of it"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="smollm2,smollm2-bf16,random-0.5b")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--threads", default="1,2", help="BLAS / llama.cpp threads to compare (default 1,2)")
    parser.add_argument("--work", default=None, help="folder for the built models (default: a temporary one)")
    parser.add_argument("--gguf", help="SmolLM2's GGUF (default: the test fixture's)")
    parser.add_argument("--skip-llama", action="store_true")
    parser.add_argument("--skip-mlx-lm", action="store_true", help="leave out mlx-lm as it comes (slow on big models)")
    parser.add_argument(
        "--prompt-ops-off", action="store_true", help="also run mlxk with MLXK2_CPU_PROMPT_OPS=0 (MLX's own ops)"
    )
    parser.add_argument("--prompt", help="the prompt (default: a story request of ~40 words)")
    parser.add_argument("--raw", action="store_true", help="no chat template, for all three (shorter prompts)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false", help="leave out the warm-up round")
    parser.add_argument(
        "--float32-row", action="store_true", help="add mlxk with MLXK2_CPU_KERNELS=0 (the float32 generation path)"
    )
    args = parser.parse_args()
    global PROMPT, RAW
    PROMPT, RAW = args.prompt or PROMPT, args.raw
    args.threads = [int(t) for t in args.threads.split(",")]
    work = Path(args.work or tempfile.mkdtemp(prefix="cpu-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    gguf = (
        Path(args.gguf)
        if args.gguf
        else Path(os.environ.get("MLXK_TEST_DATA") or REPO / ".cache" / "fixtures") / GGUF_NAME
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    note = None
    if args.skip_llama:
        note = "llama.cpp: skipped (--skip-llama)"
    else:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            note = "llama.cpp: skipped (llama-cpp-python is not installed: see this script's docstring)"
        else:
            note = llama_probe(gguf, env)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    bandwidth = read_bandwidth()
    for name in args.models.split(","):
        if name == "smollm2":
            model, model_gguf, llama_note = smollm2(work, gguf), gguf, note
        elif name == "smollm2-bf16":
            model, model_gguf = smollm2_bf16(work, gguf), gguf
            llama_note = note or "llama.cpp runs the Q4_1 GGUF here (the bf16-scaled model has no GGUF of its own)"
        elif name == "random-0.5b":
            (model, model_gguf), llama_note = random_llama(work), note
        else:
            sys.exit(f"unknown model {name!r}")
        results = bench_model(name, model, model_gguf, args, env, note)
        report(name, model, results, args, bandwidth, llama_note)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
