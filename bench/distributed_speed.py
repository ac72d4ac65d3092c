#!/usr/bin/env python3
"""mlx-run on 1 rank against 2 ranks (tensor and pipeline) on this machine, and what the ring costs.

A random-weight qwen2-typed model of a bigger shape than the test fixtures
(qwen2 both shards and pipelines in mlx-lm) is built once in a temporary
folder with the SmolLM2 fixture's tokenizer.  Rounds are interleaved (one
run of each setting per round, so background load hits them alike); the
table has medians over --runs of generation tokens/s, time to first token,
and the peak RSS of every rank (from ``--verbose``'s per-rank lines; the
single process's from wait4).

A second table times MLX's ring all-reduce itself on 127.0.0.1 between two
processes: one hidden-state vector (what tensor parallel sums twice per
layer per token) and one pipeline hand-over (a send/recv of the same
vector), median microseconds per operation.  From it: the communication per
generated token of this model, and what two real hosts would add per token
over 10 GbE (a stated latency and bandwidth model, not a measurement).

On one machine, ranks share the cores and the memory bandwidth: the point
is correctness and per-rank memory, not speed.

usage: python bench/distributed_speed.py [--runs 3] [--max-tokens 32] [--layers 8] [--hidden 1024]
           [--tokenizer DIR] [--skip-runs] [--skip-ring]
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROMPT = "Write a long story about a robot who learns to paint."
RANK_LINE = re.compile(r"rank (\d+) \(.*?\): its part loaded in ([\d.]+) s; peak memory \(RSS\) ([\d.]+) (\w+)")
UNITS = {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3, "TB": 1e6}

RING_CHILD = r"""
import json, os, sys, time
import mlx.core as mx
hidden, rounds = int(sys.argv[1]), int(sys.argv[2])
g = mx.distributed.init(strict=True, backend="ring")
x = mx.ones((1, 1, hidden), dtype=mx.float16)
mx.eval(mx.distributed.all_sum(x, group=g))
def timed(op):
    out = []
    for _ in range(rounds):
        t = time.perf_counter(); mx.eval(op()); out.append(time.perf_counter() - t)
    out.sort()
    return out[len(out) // 2] * 1e6
def handover():
    if g.rank() == 0:
        return mx.distributed.send(x, 1, group=g)
    return mx.distributed.recv_like(x, 0, group=g)
res = {"all_sum_us": timed(lambda: mx.distributed.all_sum(x, group=g)), "send_recv_us": timed(handover)}
if g.rank() == 0:
    print(json.dumps(res))
"""


def build_model(dest: Path, tokenizer: Path, layers: int, hidden: int) -> Path:
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import qwen2

    heads = hidden // 64
    config = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": hidden,
              "num_hidden_layers": layers, "intermediate_size": hidden * 11 // 4 // 64 * 64,
              "num_attention_heads": heads, "num_key_value_heads": max(2, heads // 4), "rms_norm_eps": 1e-6,
              "vocab_size": 49152, "max_position_embeddings": 4096, "rope_theta": 10000.0,
              "tie_word_embeddings": True, "torch_dtype": "float16"}
    mx.random.seed(0)
    model = qwen2.Model(qwen2.ModelArgs.from_dict(config))
    weights = {k: v.astype(mx.float16) for k, v in tree_flatten(model.parameters())}
    dest.mkdir(parents=True)
    mx.save_safetensors(str(dest / "model.safetensors"), weights, metadata={"format": "mlx"})
    (dest / "config.json").write_text(json.dumps(config))
    import shutil

    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tokenizer / name).exists():
            shutil.copy(tokenizer / name, dest / name)
    params = sum(v.size for v in weights.values())
    print(f"model: qwen2, {layers} layers, hidden {hidden}, {heads} heads, {params / 1e6:.0f}M parameters "
          f"({params * 2 / 1e6:.0f} MB float16)")
    return dest


def one_run(model: Path, max_tokens: int, extra: list[str], env: dict) -> dict:
    cmd = [str(BIN / "mlx-run"), str(model), PROMPT, "--json", "--verbose", "--temperature", "0",
           "--repetition-penalty", "1.0", "--max-tokens", str(max_tokens), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = proc.stdout.read(), proc.stderr.read()  # small outputs: no deadlock
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-3:])} failed ({proc.returncode}): {err.decode()[-800:]}")
    data = json.loads(out)["data"]
    ranks = {int(m.group(1)): float(m.group(3)) * UNITS.get(m.group(4), 1.0)
             for m in RANK_LINE.finditer(err.decode())}
    if not ranks:  # one process: its own peak
        ranks = {0: usage.ru_maxrss / 1024}  # Linux reports KB
    t = data["timing"]
    return {"generation_tps": t["generation_tps"] or 0.0, "ttft_s": t["ttft_s"] or 0.0,
            "response": data["response"], "rss_mb": [ranks[i] for i in sorted(ranks)]}


def ring_costs(hidden: int, rounds: int, env: dict) -> dict:
    from mlxk_common.engine.launcher import free_ports

    port = free_ports(2)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump([[f"127.0.0.1:{port}"], [f"127.0.0.1:{port + 1}"]], f)
    procs = [subprocess.Popen([sys.executable, "-c", RING_CHILD, str(hidden), str(rounds)], stdout=subprocess.PIPE,
                              env={**env, "MLX_HOSTFILE": f.name, "MLX_RANK": str(r)}) for r in (0, 1)]
    out = [p.communicate(timeout=600)[0] for p in procs]
    os.unlink(f.name)
    return json.loads(out[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--tokenizer", type=Path, default=None,
                        help="a model folder whose tokenizer to use (default: convert the SmolLM2 fixture)")
    parser.add_argument("--skip-runs", action="store_true")
    parser.add_argument("--skip-ring", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLXK")}
    env["HF_HUB_OFFLINE"] = "1"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="mlxk-dist-bench-") as tmp:
        tmp = Path(tmp)
        tokenizer = args.tokenizer
        if tokenizer is None:
            gguf = Path(os.environ.get("MLXK_TEST_DATA") or REPO / ".cache" / "fixtures") / \
                "SmolLM2-135M-Instruct.Q4_1.gguf"
            tokenizer = tmp / "smol"
            subprocess.run([str(BIN / "mlxk-convert"), str(gguf), str(tokenizer), "--from-gguf"], check=True,
                           env=env, capture_output=True)
        model = build_model(tmp / "model", tokenizer, args.layers, args.hidden)
        if not args.skip_runs:
            settings = {"1 process": [], "2 ranks tensor": ["--ranks", "2", "--shard", "tensor"],
                        "2 ranks pipeline": ["--ranks", "2", "--shard", "pipeline"]}
            results = {name: [] for name in settings}
            for r in range(args.runs):
                for name, extra in settings.items():
                    results[name].append(one_run(model, args.max_tokens, extra, env))
                print(f"round {r + 1}/{args.runs} done (load average {os.getloadavg()[0]:.1f})", flush=True)
            base = statistics.median(x["generation_tps"] for x in results["1 process"])
            print("\n| setting | generation tok/s (median) | vs 1 process | TTFT s | peak RSS per rank, MB | "
                  "same text as 1 process |")
            print("|---|---|---|---|---|---|")
            reference = results["1 process"][0]["response"]
            for name, runs in results.items():
                tps = statistics.median(x["generation_tps"] for x in runs)
                ttft = statistics.median(x["ttft_s"] for x in runs)
                ranks = len(runs[0]["rss_mb"])
                rss = [statistics.median(x["rss_mb"][i] for x in runs) for i in range(ranks)]
                same = all(x["response"] == reference for x in runs)
                print(f"| {name} | {tps:.2f} | {tps / base:.2f}x | {ttft:.2f} | "
                      f"{' / '.join(f'{v:.0f}' for v in rss)} | {'yes' if same else 'NO'} |")
        if not args.skip_ring:
            costs = ring_costs(args.hidden, 200, env)
            per_token = 2 * args.layers * costs["all_sum_us"]
            vector_kb = args.hidden * 2 / 1024
            print(f"\nring backend on 127.0.0.1, 2 ranks, one float16 vector of {args.hidden} ({vector_kb:.0f} KB):")
            print("| operation | median µs |")
            print("|---|---|")
            print(f"| all_sum (tensor parallel: 2 per layer per token) | {costs['all_sum_us']:.0f} |")
            print(f"| send/recv (pipeline: 1 per rank boundary per token) | {costs['send_recv_us']:.0f} |")
            print(f"tensor parallel communication per token for {args.layers} layers: {per_token / 1000:.2f} ms "
                  "on loopback")
            # 10 GbE model: ~50 µs per TCP message round (latency) + bytes at 1.25 GB/s; a 2-rank ring
            # all-reduce is two steps of half the vector each.
            lan_us = 2 * (50 + (args.hidden * 2 / 2) / 1.25e3)
            print(f"two hosts on 10 GbE (assumed 50 µs per message, 1.25 GB/s): ~{lan_us:.0f} µs per all_sum, "
                  f"~{2 * args.layers * lan_us / 1000:.1f} ms per token for {args.layers} layers "
                  f"(~{2 * 64 * lan_us / 1000:.0f} ms for a 64-layer model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
