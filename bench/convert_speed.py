#!/usr/bin/env python3
"""Quantization speed: ``mlxk-convert --quantize 4`` against mlx-lm's own
``python -m mlx_lm convert -q`` on the same float16 input.

Both quantize to 4 bits in groups of 64 (mlx-lm's default).  Each run is a
fresh process; the two tools alternate, so a busy machine slows both alike.
Prints the median and best wall time and the peak resident memory of each
(the child's own ru_maxrss), and mlxk-convert's ratio to mlx-lm.  Budget:
within 1.1x in time and memory.  mlxk-convert does more work (health check,
sentinel with sha256 of every file); ``--skip-health`` is measured too.

Without --input, the input is made from the SmolLM2-135M fixture: the GGUF
(fetched like the tests fetch it) imported and dequantized to float16 with
mlxk-convert, kept under .cache/bench/.  ``--large`` adds a second input of
the same family at about 0.8 B parameters (1.6 GB of float16, random
weights, SmolLM2's tokenizer), where the conversion itself outweighs start-up.

usage: python bench/convert_speed.py [--input FOLDER] [--large] [--runs N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def make_input(cache: Path) -> Path:
    f16 = cache / "SmolLM2-135M-Instruct-f16"
    if (f16 / "config.json").exists():
        return f16
    spec = importlib.util.spec_from_file_location("fetch_smollm2", REPO / "scripts" / "fetch_smollm2.py")
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    gguf = fetch.fetch(REPO / ".cache" / "fixtures")
    q4 = cache / "SmolLM2-135M-Instruct-Q4_1"
    if not (q4 / "config.json").exists():
        subprocess.run([str(BIN / "mlxk-convert"), str(gguf), str(q4), "--from-gguf"], check=True)
    subprocess.run([str(BIN / "mlxk-convert"), str(q4), str(f16), "--dequantize", "--dtype", "float16"], check=True)
    return f16


LARGE_NAME = "llama-0.8B-random-f16"
LARGE = {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 16, "num_attention_heads": 32,
         "num_key_value_heads": 8}


def make_large(cache: Path, small: Path) -> Path:
    """SmolLM2's configuration scaled up, with random float16 weights."""
    import json

    large = cache / LARGE_NAME
    if (large / "config.json").exists():
        return large
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import llama

    config = {**json.loads((small / "config.json").read_text()), **LARGE, "torch_dtype": "float16"}
    model = llama.Model(llama.ModelArgs.from_dict(config))
    mx.random.seed(0)
    weights = {k: (mx.random.normal(v.shape) * 0.02).astype(mx.float16) for k, v in tree_flatten(model.parameters())}
    tmp = cache / ".llama-0.8B-random-f16.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    mx.save_safetensors(str(tmp / "model.safetensors"), weights, metadata={"format": "mlx"})
    (tmp / "config.json").write_text(json.dumps(config, indent=2))
    for path in small.iterdir():
        if path.name.startswith(("tokenizer", "special_tokens", "generation_config")):
            shutil.copyfile(path, tmp / path.name)
    os.replace(tmp, large)
    return large


def measure(cmd: list[str], out: Path, env: dict) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one run of ``cmd`` writing ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    shutil.rmtree(out, ignore_errors=True)
    return wall, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, help="a float model folder (default: SmolLM2-135M in float16)")
    parser.add_argument("--large", action="store_true", help="also measure a 0.8 B parameter random llama")
    parser.add_argument("--runs", type=int, default=5, help="runs per tool (default 5)")
    parser.add_argument("--make-large", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_large:
        make_large(*args.make_large)
        return 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cache = REPO / ".cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    small = args.input or make_input(cache)
    sources = [small]
    if args.large:
        # In a child process: a child's peak RSS counts its parent's at fork
        # time (Linux keeps it across exec), so this process must stay small.
        subprocess.run([sys.executable, __file__, "--make-large", str(cache), str(small)], check=True)
        sources.append(cache / LARGE_NAME)
    for source in sources:
        bench(source, args.runs, env)
        print()
    print("budget: mlxk-convert within 1.10x of mlx_lm convert in median time and peak RSS")
    return 0


def bench(source: Path, runs: int, env: dict) -> None:
    with tempfile.TemporaryDirectory(prefix="convert-bench-", dir=REPO / ".cache") as tmp:
        out = Path(tmp) / "out"
        tools = {
            "mlx_lm convert -q": [sys.executable, "-m", "mlx_lm", "convert", "--hf-path", str(source),
                                  "--mlx-path", str(out), "-q"],
            "mlxk-convert --quantize 4": [str(BIN / "mlxk-convert"), str(source), str(out), "--quantize", "4"],
            "  ... --skip-health": [str(BIN / "mlxk-convert"), str(source), str(out), "--quantize", "4",
                                    "--skip-health"],
        }
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in tools}
        for name, cmd in tools.items():  # warm-up: page cache, bytecode
            measure(cmd, out, env)
        for i in range(runs):
            order = list(tools) if i % 2 == 0 else list(reversed(tools))
            for name in order:
                results[name].append(measure(tools[name], out, env))
    base_time = statistics.median(w for w, _ in results["mlx_lm convert -q"])
    base_rss = max(r for _, r in results["mlx_lm convert -q"])
    width = max(map(len, tools))
    print(f"input: {source} ({sum(p.stat().st_size for p in source.glob('*.safetensors')) / 1e6:.0f} MB "
          f"of safetensors); {runs} runs per tool, alternating")
    print(f"{'tool':<{width}}  {'median s':>8}  {'best s':>7}  {'peak RSS MB':>11}  {'x time':>6}  {'x RSS':>6}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 7}  {'-' * 11}  {'-' * 6}  {'-' * 6}")
    for name, samples in results.items():
        median = statistics.median(w for w, _ in samples)
        best = min(w for w, _ in samples)
        rss = max(r for _, r in samples)
        print(f"{name:<{width}}  {median:8.2f}  {best:7.2f}  {rss / 1e6:11.0f}  {median / base_time:6.2f}  "
              f"{rss / base_rss:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
