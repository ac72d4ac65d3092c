#!/usr/bin/env python3
"""mlx-run --image against mlx-vlm on the same vision model and image; mlxk-serve against mlx-vlm's server.

The model is a random-weight Qwen2-VL built here with mlx-vlm's own classes
(tests/fixtures/tiny_vlm.py; ``--size small`` is the test fixture, ``--size
medium`` a 512-wide, 8-layer language model, so per-token work is not all
Python overhead), or ``--model DIR``.  Greedy, no repetition penalty, no
EXIF block, ``--max-tokens`` tokens (random weights may stop earlier at an
end-of-turn token; both sides stop at the same one).

1. Same tokens: in one process, mlx-vlm's ``generate`` and mlxk's
   ``VisionEngine.generate`` on the same image and prompt give the same text.
2. One-shot: interleaved rounds of ``mlx-run MODEL --image IMG --json`` and
   ``python -m mlx_vlm generate ... --verbose`` (fresh processes); medians of
   generation and prompt tokens/s (each tool's own numbers, mlx-vlm's
   definitions) and of the wall time; ratio mlx-run / mlx-vlm (target >= 0.97).
3. Servers: aggregate generation tokens/s (completion tokens of all requests
   over the wall time from the first send to the last answer) at 1, 4 and 8
   concurrent image requests, mlxk-serve against ``python -m mlx_vlm.server``,
   rounds interleaved.

usage: python bench/vision_speed.py [--size medium] [--runs 5] [--max-tokens 128]
           [--concurrency 1 4 8] [--skip-server] [--model DIR]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
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


def env() -> dict:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("MLXK", "HF_"))}
    out.update({"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"})
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


def in_process(model: Path, image: Path, max_tokens: int, runs: int) -> tuple[list, list]:
    """Generation tokens/s of VisionEngine.generate and mlx_vlm.stream_generate, alternating on one loaded model."""
    from mlx_vlm import stream_generate
    from mlx_vlm.prompt_utils import apply_chat_template

    from mlxk_common.engine import SamplingParams, load_engine
    from mlxk_common.engine.images import load_images

    engine = load_engine(str(model))
    text = apply_chat_template(engine.processor, engine.model.config, PROMPT, num_images=1)
    ours, theirs = [], []
    for _ in range(runs):
        request = engine.prepare(prompt=PROMPT, images=load_images([str(image)], exif=False), max_tokens=max_tokens,
                                 sampling=SamplingParams(temperature=0, repetition_penalty=1.0))
        ours.append(list(engine.generate(request))[-1].timing["generation_tps"])
        last = None
        for last in stream_generate(engine.model, engine.processor, text, image=[str(image)], max_tokens=max_tokens,
                                    temperature=0.0):
            pass
        theirs.append(last.generation_tps)
    return ours, theirs


def run_mlxk(model, image, max_tokens) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "mlx-run"), str(model), "--image", str(image), PROMPT, "--no-exif",
                           "--temperature", "0", "--repetition-penalty", "1.0", "--max-tokens", str(max_tokens),
                           "--json"], capture_output=True, text=True, env=env(), check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"mlx-run failed: {proc.stderr[-800:]}")
    data = json.loads(proc.stdout)["data"]
    return {"gen_tps": data["timing"]["generation_tps"], "prompt_tps": data["timing"]["prompt_tps"], "wall": wall,
            "tokens": data["usage"]["completion_tokens"]}


def run_vlm(model, image, max_tokens) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mlx_vlm", "generate", "--model", str(model), "--image", str(image),
                           "--prompt", PROMPT, "--max-tokens", str(max_tokens), "--temperature", "0", "--verbose"],
                          capture_output=True, text=True, env=env(), check=False)
    wall = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    gen = re.search(r"Generation: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    prompt = re.search(r"Prompt: (\d+) tokens, ([\d.]+) tokens-per-sec", out)
    if proc.returncode != 0 or not gen:
        raise SystemExit(f"mlx_vlm generate failed: {out[-800:]}")
    return {"gen_tps": float(gen.group(2)), "prompt_tps": float(prompt.group(2)), "wall": wall,
            "tokens": int(gen.group(1))}


def one_shot(model, image, runs, max_tokens):
    rows = {"mlx-run": [], "mlx_vlm generate": []}
    for i in range(runs):  # interleaved, alternating who goes first
        order = [("mlx-run", run_mlxk), ("mlx_vlm generate", run_vlm)]
        for name, fn in order if i % 2 == 0 else order[::-1]:
            rows[name].append(fn(model, image, max_tokens))
    return rows


# -- servers ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, port) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(),
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


def aggregate(port, model_name, url, concurrency, max_tokens) -> float:
    body = {"model": model_name, "max_tokens": max_tokens, "temperature": 0, "stream": False,
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                                      {"type": "text", "text": PROMPT}]}]}
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        replies = list(pool.map(lambda _: post(port, body), range(concurrency)))
    wall = time.perf_counter() - start
    return sum(r["usage"]["completion_tokens"] for r in replies) / wall


def servers(model, image, runs, max_tokens, levels):
    url = "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode()
    p1, p2 = free_port(), free_port()
    ours = start([str(BIN / "mlxk-serve"), "--model", str(model), "--port", str(p1), "--max-batch", "8"], p1)
    theirs = start([sys.executable, "-m", "mlx_vlm.server", "--model", str(model), "--port", str(p2),
                    "--host", "127.0.0.1", "--max-num-seqs", "8"], p2)
    results = {}
    try:
        for port, name in ((p1, str(model)), (p2, str(model))):  # warm-up (loads, first compile)
            aggregate(port, name, url, 1, 8)
        for level in levels:
            ours_tps, theirs_tps = [], []
            for i in range(runs):
                pair = [(ours_tps, p1), (theirs_tps, p2)]
                for sink, port in pair if i % 2 == 0 else pair[::-1]:
                    sink.append(aggregate(port, str(model), url, level, max_tokens))
            results[level] = (statistics.median(ours_tps), statistics.median(theirs_tps))
    finally:
        for proc in (ours, theirs):
            os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--size", choices=sorted(SIZES), default="medium")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    compile_project(env())
    work = Path(tempfile.mkdtemp(prefix="vision-bench-"))
    model = args.model or build_tiny_qwen2vl(work / f"qwen2-vl-{args.size}", **SIZES[args.size])
    image = make_images(work / "images")["red.png"]
    load = os.getloadavg()
    print(f"model {model} ({args.size if not args.model else 'given'}), image 200x150 PNG, "
          f"max tokens {args.max_tokens}, load average {load[0]:.2f} at start, {os.cpu_count()} CPUs")

    same, tokens, reason = same_tokens(model, image, args.max_tokens)
    print(f"\nsame greedy text as mlx_vlm.generate: {'yes' if same else 'NO'} ({tokens} tokens, {reason})")

    ours, theirs = in_process(model, image, args.max_tokens, args.runs + 1)
    print(f"\nin one process, alternating ({args.runs + 1} rounds): VisionEngine.generate "
          f"{statistics.median(ours):.1f} tok/s, mlx_vlm.stream_generate {statistics.median(theirs):.1f} tok/s, "
          f"ratio {statistics.median(ours) / statistics.median(theirs):.3f}")

    rows = one_shot(model, image, args.runs, args.max_tokens)
    print(f"\none-shot, {args.runs} interleaved rounds (medians)\n")
    print("| tool | generation tok/s | prompt tok/s | wall s | tokens |")
    print("|---|---|---|---|---|")
    med = {}
    for name, runs in rows.items():
        med[name] = {k: statistics.median(r[k] for r in runs) for k in ("gen_tps", "prompt_tps", "wall", "tokens")}
        m = med[name]
        print(f"| {name} | {m['gen_tps']:.1f} | {m['prompt_tps']:.1f} | {m['wall']:.2f} | {m['tokens']:.0f} |")
    ratio = med["mlx-run"]["gen_tps"] / med["mlx_vlm generate"]["gen_tps"]
    print(f"\nmlx-run / mlx-vlm generation tokens/s: {ratio:.3f} (target >= 0.97)")

    if not args.skip_server:
        results = servers(model, image, max(3, args.runs // 2), args.max_tokens, args.concurrency)
        print("\nservers: aggregate generation tokens/s (medians)\n")
        print("| concurrent image requests | mlxk-serve | mlx_vlm.server | ratio |")
        print("|---|---|---|---|")
        for level, (ours, theirs) in results.items():
            print(f"| {level} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
