#!/usr/bin/env python3
"""mlx-run --image against mlx-vlm on the same vision model and image; mlxk-serve against mlx-vlm's server.

The model is a random-weight Qwen2-VL built here with mlx-vlm's own classes
(tests/fixtures/tiny_vlm.py; ``--size small`` is the test fixture, ``--size
medium`` a 512-wide, 8-layer language model, so per-token work is not all
Python overhead), or ``--model DIR``.  Greedy, no repetition penalty, no
EXIF block, ``--max-tokens`` tokens (random weights may stop earlier at an
end-of-turn token; both sides stop at the same one).

mlxk on a CPU device takes the CPU path (docs/cpu.md: float32 weights,
OpenBLAS loaded before mlx); mlx-vlm runs on MLX's own (reference) BLAS.  So
every comparison has two mlxk rows: the CPU path as users get it, and the
like-for-like path (``MLXK2_CPU_BLAS=0 --cpu-dtype native``: the model as
stored on MLX's own BLAS, what mlx-vlm runs).

1. Same tokens: in one process, mlx-vlm's ``generate`` and mlxk's
   ``VisionEngine.generate`` on the same image and prompt give the same text.
2. Same process: the two decode loops (``VisionEngine.generate`` and
   ``mlx_vlm.stream_generate``) alternating on one loaded model, in a child
   process per path; each loop's own generation tokens/s (mlx-vlm's
   definition: tokens over the time from the first to the last token) and
   the CPU seconds per token over the same span (all threads; the load of
   other processes does not inflate it).
3. One-shot: interleaved rounds of ``mlx-run MODEL --image IMG --json`` (both
   paths) and ``python -m mlx_vlm generate ... --verbose`` (fresh processes);
   medians of generation and prompt tokens/s (each tool's own numbers), wall
   time and the process's CPU seconds per generated token (load included).
4. Servers: aggregate generation tokens/s (completion tokens of all requests
   over the wall time from the first send to the last answer) and the server
   processes' CPU seconds per token, at 1, 4 and 8 concurrent requests, each
   with its own 200x150 image (no server can reuse another request's image
   features), mlxk-serve (both paths) against ``python -m mlx_vlm.server``,
   rounds interleaved.

usage: python bench/vision_speed.py [--size medium] [--runs 5] [--max-tokens 128]
           [--concurrency 1 4 8] [--skip-server] [--skip-one-shot] [--model DIR]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from benchlib import compile_project
from fixtures.tiny_vlm import build_tiny_qwen2vl, make_images

PROMPT = "Describe the image."
SIZES = {
    "small": {},
    "medium": {"hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 2,
               "intermediate_size": 1408, "mrope_section": [8, 12, 12]},
}
BIN = Path(sys.executable).parent
# mlxk's two paths: as users get it on a CPU device, and what mlx-vlm runs (model as stored, MLX's own BLAS).
PATHS = {"CPU path": ({}, []), "like-for-like": ({"MLXK2_CPU_BLAS": "0"}, ["--cpu-dtype", "native"])}


def env(**extra) -> dict:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("MLXK", "HF_"))}
    out.update({"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"})
    out.update(extra)
    return out


def same_tokens(model: Path, image: Path, max_tokens: int) -> tuple[bool, int, str]:
    from mlx_vlm import generate as vlm_generate
    from mlx_vlm.prompt_utils import apply_chat_template

    from mlxk_common.engine import SamplingParams, load_engine
    from mlxk_common.engine.images import load_images

    engine = load_engine(str(model))
    request = engine.prepare(prompt=PROMPT, images=load_images([str(image)], exif=False), max_tokens=max_tokens,
                             sampling=SamplingParams(temperature=0, repetition_penalty=1.0))
    ours = list(engine.generate(request))[-1]
    text = apply_chat_template(engine.processor, engine.model.config, PROMPT, num_images=1)
    theirs = vlm_generate(engine.model, engine.processor, text, image=[str(image)], max_tokens=max_tokens,
                          temperature=0.0, verbose=False)
    same = theirs.text == ours.content and theirs.generation_tokens == ours.completion_tokens + (
        1 if ours.finish_reason == "stop" else 0)
    return same, ours.completion_tokens, ours.finish_reason


def in_process_child(model: Path, image: Path, max_tokens: int, runs: int, cpu_dtype: str) -> dict:
    """(In a child process whose BLAS the environment chose.)  Both loops alternating on one loaded model."""
    from mlxk_common.engine.cpu import blas

    blas.ensure()  # before mlx: OpenBLAS unless MLXK2_CPU_BLAS=0
    from mlx_vlm import stream_generate
    from mlx_vlm.prompt_utils import apply_chat_template

    from mlxk_common.engine import CpuSettings, SamplingParams, load_engine
    from mlxk_common.engine.images import load_images

    engine = load_engine(str(model), cpu=CpuSettings(cpu_dtype))
    text = apply_chat_template(engine.processor, engine.model.config, PROMPT, num_images=1)

    def ours():
        request = engine.prepare(prompt=PROMPT, images=load_images([str(image)], exif=False), max_tokens=max_tokens,
                                 sampling=SamplingParams(temperature=0, repetition_penalty=1.0))
        first = None
        for event in engine.generate(request):
            if first is None:
                first = time.process_time()
        tokens = event.completion_tokens + (event.finish_reason == "stop")
        return event.timing["generation_tps"], (time.process_time() - first) / max(1, tokens - 1), tokens

    def theirs():
        first = None
        for last in stream_generate(engine.model, engine.processor, text, image=[str(image)], max_tokens=max_tokens,
                                    temperature=0.0):
            if first is None:
                first = time.process_time()
        tokens = last.generation_tokens
        return last.generation_tps, (time.process_time() - first) / max(1, tokens - 1), tokens

    ours(), theirs()  # warm-up
    rows = {"mlxk": [], "mlx-vlm": []}
    for i in range(runs):
        pair = [("mlxk", ours), ("mlx-vlm", theirs)]
        for name, fn in pair if i % 2 == 0 else pair[::-1]:
            rows[name].append(fn())
    return {"path": engine.cpu_path, "rows": rows}


def in_process(model: Path, image: Path, max_tokens: int, runs: int) -> dict:
    out = {}
    for name, (extra, flags) in PATHS.items():
        cmd = [sys.executable, __file__, "--child", str(model), str(image), str(max_tokens), str(runs),
               flags[-1] if flags else "auto"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env(**extra), check=False)
        if proc.returncode != 0:
            raise SystemExit(f"in-process child failed: {proc.stderr[-800:]}")
        out[name] = json.loads(proc.stdout.splitlines()[-1])
    return out


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_mlxk(model, image, max_tokens, path="CPU path") -> dict:
    extra, flags = PATHS[path]
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run([str(BIN / "mlx-run"), str(model), "--image", str(image), PROMPT, "--no-exif",
                           "--temperature", "0", "--repetition-penalty", "1.0", "--max-tokens", str(max_tokens),
                           "--json", *flags], capture_output=True, text=True, env=env(**extra), check=False)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"mlx-run failed: {proc.stderr[-800:]}")
    data = json.loads(proc.stdout)["data"]
    tokens = data["usage"]["completion_tokens"]
    return {"gen_tps": data["timing"]["generation_tps"], "prompt_tps": data["timing"]["prompt_tps"], "wall": wall,
            "tokens": tokens, "cpu_per_token": cpu / max(1, tokens)}


def run_vlm(model, image, max_tokens) -> dict:
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run([sys.executable, "-m", "mlx_vlm", "generate", "--model", str(model), "--image", str(image),
                           "--prompt", PROMPT, "--max-tokens", str(max_tokens), "--temperature", "0", "--verbose"],
                          capture_output=True, text=True, env=env(), check=False)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    out = proc.stdout + proc.stderr
    gen = re.search(r"Generation: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    prompt = re.search(r"Prompt: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    if proc.returncode != 0 or not gen:
        raise SystemExit(f"mlx_vlm generate failed: {out[-800:]}")
    tokens = int(gen.group(1))
    return {"gen_tps": float(gen.group(2)), "prompt_tps": float(prompt.group(2)), "wall": wall,
            "tokens": tokens, "cpu_per_token": cpu / max(1, tokens)}


def one_shot(model, image, runs, max_tokens):
    tools = [("mlx-run, CPU path", lambda: run_mlxk(model, image, max_tokens, "CPU path")),
             ("mlx-run, like-for-like", lambda: run_mlxk(model, image, max_tokens, "like-for-like")),
             ("mlx_vlm generate", lambda: run_vlm(model, image, max_tokens))]
    rows = {name: [] for name, _ in tools}
    for i in range(runs):  # interleaved, rotating who goes first
        for name, fn in tools[i % 3:] + tools[:i % 3]:
            rows[name].append(fn())
    return rows


# -- servers ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, port, extra=None) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(**(extra or {})),
                            start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {cmd}") from None
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"server did not start: {cmd}")


def session_cpu(sid: int) -> float:
    """CPU seconds (user + system) of every live process of a server's session."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # fields after the name: state ppid pgrp session ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


def post(port, body) -> dict:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    reply = conn.getresponse()
    data = reply.read()
    conn.close()
    if reply.status != 200:
        raise SystemExit(f"HTTP {reply.status}: {data[:300]!r}")
    return json.loads(data)


def aggregate(server, model_name, urls, concurrency, max_tokens) -> tuple[float, float]:
    """(aggregate generation tokens/s, server CPU seconds per token) of ``concurrency`` requests at once."""
    port, proc = server

    def body(url):
        return {"model": model_name, "max_tokens": max_tokens, "temperature": 0, "stream": False,
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                                          {"type": "text", "text": PROMPT}]}]}

    cpu = session_cpu(proc.pid)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        replies = list(pool.map(lambda i: post(port, body(urls[i % len(urls)])), range(concurrency)))
    wall = time.perf_counter() - start
    tokens = sum(r["usage"]["completion_tokens"] for r in replies)
    return tokens / wall, (session_cpu(proc.pid) - cpu) / max(1, tokens)


def distinct_images(folder: Path, count: int) -> list[str]:
    """``count`` different 200x150 PNGs (same size: the same number of image tokens) as data URLs."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    urls = []
    for i in range(count):
        path = folder / f"distinct-{i}.png"
        pixels = bytes((x * (i + 3) + y * (2 * i + 1)) % 256 for y in range(150) for x in range(200) for _ in range(3))
        Image.frombytes("RGB", (200, 150), pixels).save(path)
        urls.append("data:image/png;base64," + base64.b64encode(path.read_bytes()).decode())
    return urls


def servers(model, folder, runs, max_tokens, levels):
    urls = distinct_images(folder, max(levels))
    specs = {}
    for name, (extra, flags) in PATHS.items():
        port = free_port()
        specs[f"mlxk-serve, {name}"] = ([str(BIN / "mlxk-serve"), "--model", str(model), "--port", str(port),
                                         "--max-batch", "8", *flags], port, extra)
    port = free_port()
    specs["mlx_vlm.server"] = ([sys.executable, "-m", "mlx_vlm.server", "--model", str(model), "--port", str(port),
                                "--host", "127.0.0.1", "--max-num-seqs", "8"], port, None)
    running = {}
    results = {}
    try:
        for name, (cmd, port, extra) in specs.items():
            running[name] = (port, start(cmd, port, extra))
        for server in running.values():  # warm-up (loads, first compile)
            aggregate(server, str(model), urls, 1, 8)
        names = list(running)
        for level in levels:
            rows = {name: [] for name in names}
            for i in range(runs):
                for name in names[i % len(names):] + names[:i % len(names)]:
                    rows[name].append(aggregate(running[name], str(model), urls, level, max_tokens))
            results[level] = {name: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
                              for name, v in rows.items()}
    finally:
        for _port, proc in running.values():
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
    return results


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        model, image, max_tokens, runs, cpu_dtype = sys.argv[2:7]
        print(json.dumps(in_process_child(Path(model), Path(image), int(max_tokens), int(runs), cpu_dtype)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--size", choices=sorted(SIZES), default="medium")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--skip-one-shot", action="store_true")
    args = parser.parse_args()
    compile_project(env())
    work = Path(tempfile.mkdtemp(prefix="vision-bench-"))
    model = args.model or build_tiny_qwen2vl(work / f"qwen2-vl-{args.size}", **SIZES[args.size])
    image = make_images(work / "images")["red.png"]
    print(f"model {model} ({args.size if not args.model else 'given'}), image 200x150 PNG, "
          f"max tokens {args.max_tokens}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")

    same, tokens, reason = same_tokens(model, image, args.max_tokens)
    print(f"\nsame greedy text as mlx_vlm.generate: {'yes' if same else 'NO'} ({tokens} tokens, {reason})")

    paths = in_process(model, image, args.max_tokens, args.runs + 1)
    print(f"\nsame process, the two decode loops alternating on one loaded model ({args.runs + 1} rounds, medians; "
          f"load average {os.getloadavg()[0]:.2f})\n")
    print("| path | VisionEngine.generate tok/s | mlx_vlm.stream_generate tok/s | ratio | "
          "CPU ms/token mlxk | CPU ms/token mlx-vlm | CPU ratio (mlx-vlm/mlxk) |")
    print("|---|---|---|---|---|---|---|")
    for name, result in paths.items():
        rows = result["rows"]
        ours = [statistics.median(r[k] for r in rows["mlxk"]) for k in (0, 1)]
        theirs = [statistics.median(r[k] for r in rows["mlx-vlm"]) for k in (0, 1)]
        cpu = result["path"] or {}
        label = f"{name} ({cpu.get('path', '?')}, {cpu.get('blas', '?')} BLAS)"
        print(f"| {label} | {ours[0]:.1f} | {theirs[0]:.1f} | {ours[0] / theirs[0]:.3f} | {ours[1] * 1e3:.2f} | "
              f"{theirs[1] * 1e3:.2f} | {theirs[1] / ours[1]:.3f} |")

    if not args.skip_one_shot:
        rows = one_shot(model, image, args.runs, args.max_tokens)
        print(f"\none-shot, fresh processes, {args.runs} interleaved rounds (medians; load average "
              f"{os.getloadavg()[0]:.2f})\n")
        print("| tool | generation tok/s | ratio to mlx-vlm | prompt tok/s | wall s | CPU s/token (whole process) "
              "| tokens |")
        print("|---|---|---|---|---|---|---|")
        med = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for name, runs in rows.items()}
        base = med["mlx_vlm generate"]["gen_tps"]
        for name, m in med.items():
            print(f"| {name} | {m['gen_tps']:.1f} | {m['gen_tps'] / base:.3f} | {m['prompt_tps']:.1f} | "
                  f"{m['wall']:.2f} | {m['cpu_per_token']:.3f} | {m['tokens']:.0f} |")

    if not args.skip_server:
        runs = max(3, args.runs // 2)
        results = servers(model, work / "distinct", runs, args.max_tokens, args.concurrency)
        print(f"\nservers: aggregate generation tokens/s and server CPU ms per token ({runs} interleaved rounds, "
              f"medians; one distinct image per request; load average {os.getloadavg()[0]:.2f})\n")
        names = list(next(iter(results.values())))
        print("| concurrent image requests | " + " | ".join(names) + " | ratios to mlx_vlm.server |")
        print("|---|" + "---|" * len(names) + "---|")
        for level, row in results.items():
            base = row["mlx_vlm.server"][0]
            cells = " | ".join(f"{tps:.1f} tok/s, {cpu * 1e3:.1f} CPU ms/tok" for tps, cpu in row.values())
            ratios = ", ".join(f"{row[n][0] / base:.2f}" for n in names if n != "mlx_vlm.server")
            print(f"| {level} | {cells} | {ratios} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
