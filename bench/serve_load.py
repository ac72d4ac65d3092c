#!/usr/bin/env python3
"""Load benchmark: mlxk-serve against mlx_lm.server, same model, same load.

Starts both servers on loopback (mlxk-serve on --port, mlx_lm.server on
--port + 1) and drives them in turn, never both at once, with N concurrent
streaming clients for each N in --clients (fixed prompts, fixed max_tokens,
greedy).  Per level each server first gets two unmeasured warm-up runs, then
the measured runs alternate A B B A, so background load on the machine falls
on both alike.  Printed per server and level: aggregate generated tokens/s,
time to first token p50/p95, request latency p50/p95, errors, and the server
process's CPU time per generated token (which background load disturbs far
less than wall time).  Then the n row (mlxk-serve only): one request with
n=N choices against N concurrent requests of the same prompt, alternating
A B B A, on a prompt of a few hundred tokens, so processing it once for all
choices shows.  Then the prompt-cache check: one 5-turn chat with a
shared history, TTFT of each turn on mlxk-serve with and without its prompt
cache.  With --embeddings-model, last, the embeddings row: POST
/v1/embeddings on a server of its own (bench/serve_embeddings.py), inputs/s
and CPU ms per input at batch 1 (one input per request) and batch 32,
alternating A B B A (``random`` builds a MiniLM-sized BERT with random
weights).

Both servers get temperature 0, top_p 1 and no repetition penalty (mlxk:
repetition_penalty 1.0, which its engine treats as off; mlx_lm.server: the
field left out, off by default there).  Generated tokens come from each
stream's final usage chunk, the end-of-turn token counted for both.

usage: python bench/serve_load.py --model PATH_OR_REF [--clients 1,4,16]
           [--max-tokens 24] [--requests 1] [--warmup 2] [--rounds 2] [--port 18400]
           [--level-timeout 600] [--n-choices 4] [--skip-mlx-lm] [--skip-multiturn]
           [--embeddings-model PATH|random] [--embeddings-inputs 128] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PROMPTS = [
    "Name a color.",
    "Say hello.",
    "Name a fruit.",
    "Count to three.",
    "Name an animal.",
    "Say a number.",
    "Name a city.",
    "Name a tree.",
]
TURNS = [
    "My name is Ada and I like chess. Please remember that.",
    "What game do I like?",
    "Suggest a chess opening for me.",
    "Why is that opening good?",
    "Summarize our conversation in one sentence.",
]
BIN = Path(sys.executable).parent
# The n row's prompt: long enough (a few hundred tokens) that processing it once or N times shows.
LONG_PROMPT = ("Here are some notes about rivers. " + " ".join(
    f"River number {i} flows through a valley with old trees, stone bridges and small villages." for i in range(20))
    + " Name one river from the notes.")


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# -- one streaming request over raw HTTP ----------------------------------------

def stream_chat(port, body, timeout, server="mlx_lm.server"):
    """(ttft_s, latency_s, generated tokens, text) of one streaming request.

    Generated tokens are the tokens the model produced, the end-of-turn token
    included: mlx_lm.server's usage counts it, mlxk-serve's does not (it
    counts the answer's tokens), so one is added for an mlxk-serve answer that
    ended with it (finish_reason "stop"; the benchmark sends no stop strings)."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
        ttft = None
        tokens = None
        finishes = {}
        text = []
        for raw in resp:
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise RuntimeError(f"stream error: {chunk['error']}")
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices") or ():
                if choice.get("finish_reason"):
                    finishes[choice.get("index", 0)] = choice["finish_reason"]
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    if ttft is None:
                        ttft = time.perf_counter() - start
                    text.append(piece)
        if tokens is None:
            raise RuntimeError("no usage in the stream")
        if server == "mlxk-serve":
            tokens += sum(1 for f in finishes.values() if f == "stop")  # one end-of-turn token per choice
        return ttft if ttft is not None else time.perf_counter() - start, time.perf_counter() - start, tokens, \
            "".join(text)
    finally:
        conn.close()


def request_body(server, prompt_or_messages, max_tokens, model):
    messages = prompt_or_messages if isinstance(prompt_or_messages, list) else [
        {"role": "user", "content": prompt_or_messages}]
    body = {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0,
            "stream": True, "stream_options": {"include_usage": True}}
    if server == "mlxk-serve":
        body["repetition_penalty"] = 1.0
    return body


# -- servers -----------------------------------------------------------------------

class Running:
    def __init__(self, name, cmd, port, env, log_path):
        self.name = name
        self.port = port
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env,
                                     start_new_session=True)

    def wait_ready(self, model, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} (log: {self.log.name})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    # A real request proves the model is loaded and warms it up.
                    stream_chat(self.port, request_body(self.name, "Hi", 4, model), timeout, self.name)
                    return
            except (OSError, RuntimeError, http.client.HTTPException):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} was not ready within {timeout} s")

    def cpu_s(self):
        """CPU time the server process has used (Linux; None elsewhere)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def start_mlxk(model, port, extra=(), log_dir="."):
    cmd = [str(BIN / "mlxk-serve"), "--model", model, "--port", str(port), "--max-batch", "32", *extra]
    return Running("mlxk-serve", cmd, port, dict(os.environ), Path(log_dir) / "mlxk-serve.log")


def start_mlx_lm(model, port, log_dir="."):
    exe = BIN / "mlx_lm.server"
    cmd = [str(exe) if exe.exists() else shutil.which("mlx_lm.server") or "mlx_lm.server", "--model", model,
           "--port", str(port), "--host", "127.0.0.1", "--log-level", "WARNING"]
    return Running("mlx_lm.server", cmd, port, dict(os.environ), Path(log_dir) / "mlx_lm.server.log")


# -- load --------------------------------------------------------------------------

def run_level(server, port, model, clients, requests, max_tokens, timeout, cpu=lambda: None):
    """One run: ``clients`` threads, each sending ``requests`` streaming requests in turn."""
    results, errors = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def client(i):
        for r in range(requests):
            if time.monotonic() > deadline:
                with lock:
                    errors.append("level time limit reached")
                return
            prompt = PROMPTS[(i + r) % len(PROMPTS)]
            try:
                out = stream_chat(port, request_body(server, prompt, max_tokens, model),
                                  max(1.0, deadline - time.monotonic()), server)
                with lock:
                    results.append(out)
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

    cpu_before = cpu()
    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5)
    wall = time.perf_counter() - start
    cpu_after = cpu()
    cpu_used = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return {"wall_s": wall, "cpu_s": cpu_used, "results": results, "errors": errors}


def summarize(server, clients, runs) -> dict:
    results = [r for run in runs for r in run["results"]]
    errors = [e for run in runs for e in run["errors"]]
    wall = sum(run["wall_s"] for run in runs)
    tokens = sum(r[2] for r in results)
    ttfts = [r[0] for r in results]
    lats = [r[1] for r in results]
    cpu = [run["cpu_s"] for run in runs]
    cpu_ms = 1000 * sum(cpu) / tokens if tokens and None not in cpu else None
    return {"server": server, "clients": clients, "runs": len(runs), "requests": len(results), "tokens": tokens,
            "wall_s": round(wall, 2), "tok_s": tokens / wall if wall > 0 else 0.0, "cpu_ms_per_token": cpu_ms,
            "ttft_p50": percentile(ttfts, 0.5), "ttft_p95": percentile(ttfts, 0.95),
            "lat_p50": percentile(lats, 0.5), "lat_p95": percentile(lats, 0.95), "errors": len(errors),
            "error_samples": errors[:3]}


def n_choices_row(server, model, n, max_tokens, rounds, timeout):
    """One request with n choices against n concurrent requests of the same
    prompt, alternating A B B A: tokens/s, TTFT and CPU per token of each."""
    def one(count, clients):
        results, errors = [], []
        lock = threading.Lock()

        def client():
            body = request_body("mlxk-serve", LONG_PROMPT, max_tokens, model)
            if count > 1:
                body["n"] = count
            try:
                out = stream_chat(server.port, body, timeout, "mlxk-serve")
                with lock:
                    results.append(out)
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

        cpu_before = server.cpu_s()
        start = time.perf_counter()
        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 5)
        wall = time.perf_counter() - start
        cpu_after = server.cpu_s()
        cpu_used = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
        return {"wall_s": wall, "cpu_s": cpu_used, "results": results, "errors": errors}

    shapes = {f"n={n} (1 request)": (n, 1), f"{n} requests": (1, n)}
    # Unmeasured warm-up of both shapes: kernels for new shapes compile once per process.
    for count, clients in shapes.values():
        one(count, clients)
    runs = {label: [] for label in shapes}
    labels = list(shapes)
    for r in range(rounds):
        for label in (labels if r % 2 == 0 else labels[::-1]):
            runs[label].append(one(*shapes[label]))
    return [summarize(label, n, runs[label]) for label in labels]


def multi_turn(server, port, model, max_tokens, timeout):
    """TTFT of each turn of one conversation that resends its history."""
    messages, ttfts = [], []
    for turn in TURNS:
        messages.append({"role": "user", "content": turn})
        ttft, _, _, text = stream_chat(port, request_body(server, list(messages), max_tokens, model), timeout,
                                       server)
        ttfts.append(ttft)
        messages.append({"role": "assistant", "content": text})
    return ttfts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model folder or cached model reference")
    parser.add_argument("--clients", default="1,4,16", help="concurrency levels, comma-separated")
    parser.add_argument("--requests", type=int, default=1, help="requests per client in each run (at least)")
    parser.add_argument("--min-requests", type=int, default=4,
                        help="requests per run at least, spread over the clients (default 4)")
    parser.add_argument("--max-tokens", type=int, default=24, help="max_tokens of every request")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs per server before each level")
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs per server and level, in the order A B B A A B ... (default 2)")
    parser.add_argument("--port", type=int, default=18400, help="mlxk-serve's port; mlx_lm.server uses PORT+1")
    parser.add_argument("--level-timeout", type=float, default=600, help="seconds one level may take")
    parser.add_argument("--n-choices", type=int, default=4,
                        help="the n row: one request with n=N against N requests (0: skip; default 4)")
    parser.add_argument("--skip-mlx-lm", action="store_true", help="benchmark mlxk-serve only")
    parser.add_argument("--skip-multiturn", action="store_true", help="skip the prompt-cache check")
    parser.add_argument("--turn-tokens", type=int, default=24, help="max_tokens per turn in the multi-turn check")
    parser.add_argument("--log-dir", default=".", help="where the servers' stderr logs go")
    parser.add_argument("--embeddings-model", metavar="PATH",
                        help="also the embeddings row: an embedding model folder, or 'random' (a MiniLM-sized BERT)")
    parser.add_argument("--embeddings-inputs", type=int, default=128,
                        help="sentences embedded per way and round in the embeddings row (default 128)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document too")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.clients.split(",") if x.strip()]
    model = os.path.abspath(args.model) if os.path.isdir(args.model) else args.model

    # Both servers run side by side (an idle one costs nothing) and take turns
    # on each level in the order A B B A, so a change in the machine's
    # background load during the benchmark falls on both alike.
    starters = {"mlxk-serve": lambda: start_mlxk(model, args.port, log_dir=args.log_dir)}
    if not args.skip_mlx_lm:
        starters["mlx_lm.server"] = lambda: start_mlx_lm(model, args.port + 1, args.log_dir)
    running = {}
    rows = []
    try:
        for name, start in starters.items():
            running[name] = start()
            running[name].wait_ready(model)
        names = list(running)
        schedule = [name for r in range(args.rounds) for name in (names if r % 2 == 0 else names[::-1])]
        for clients in levels:
            runs = {name: [] for name in names}
            per_client = max(args.requests, -(-args.min_requests // clients))
            for name in names * args.warmup:
                # Unmeasured: MLX's CPU backend compiles kernels for new shapes
                # and caches them on disk for every process, so the server that
                # met a shape first would pay for both.  Two runs: the first
                # meets new prompts, the second the same prompts found in the
                # prompt cache (other shapes again).
                run_level(name, running[name].port, model, clients, per_client, args.max_tokens,
                          args.level_timeout)
            for name in schedule:
                run = run_level(name, running[name].port, model, clients, per_client, args.max_tokens,
                                args.level_timeout, running[name].cpu_s)
                runs[name].append(run)
                tokens = sum(r[2] for r in run["results"])
                print(f"# {name} clients={clients}: {tokens / run['wall_s']:.2f} tok/s, "
                      f"errors={len(run['errors'])}", file=sys.stderr, flush=True)
            rows += [summarize(name, clients, runs[name]) for name in names]
        if args.n_choices > 1:
            n_rows = n_choices_row(running["mlxk-serve"], model, args.n_choices, args.max_tokens, args.rounds,
                                   args.level_timeout)
            rows += n_rows
    finally:
        for server in running.values():
            server.stop()

    print(f"\n{'server':<18} {'clients':>7} {'reqs':>5} {'tokens':>7} {'tok/s':>8} {'TTFT p50':>9} "
          f"{'TTFT p95':>9} {'lat p50':>8} {'lat p95':>8} {'errors':>6} {'CPU ms/tok':>10}")
    for r in rows:
        cpu = f"{r['cpu_ms_per_token']:.0f}" if r["cpu_ms_per_token"] is not None else "-"
        print(f"{r['server']:<18} {r['clients']:>7} {r['requests']:>5} {r['tokens']:>7} {r['tok_s']:>8.2f} "
              f"{r['ttft_p50']:>8.2f}s {r['ttft_p95']:>8.2f}s {r['lat_p50']:>7.2f}s {r['lat_p95']:>7.2f}s "
              f"{r['errors']:>6} {cpu:>10}")
    ratios = {}
    if args.n_choices > 1:
        one_request, separate = (r for r in rows if r["server"].startswith(("n=", f"{args.n_choices} requests")))
        print(f"\n{one_request['server']} vs {separate['server']} (same prompt, {args.n_choices} answers): "
              f"tokens/s ratio {one_request['tok_s'] / separate['tok_s']:.2f}, "
              f"TTFT p50 {one_request['ttft_p50']:.2f}s vs {separate['ttft_p50']:.2f}s")
    if not args.skip_mlx_lm:
        print()
        for clients in levels:
            ours = next(r for r in rows if r["server"] == "mlxk-serve" and r["clients"] == clients)
            theirs = next(r for r in rows if r["server"] == "mlx_lm.server" and r["clients"] == clients)
            ratio = ours["tok_s"] / theirs["tok_s"] if theirs["tok_s"] else float("nan")
            ratios[clients] = ratio
            print(f"clients={clients}: mlxk-serve / mlx_lm.server tokens/s = {ratio:.2f}")

    turns = {}
    if not args.skip_multiturn:
        for label, extra in (("prompt cache", ()), ("no prompt cache", ("--prompt-cache", "0"))):
            server = start_mlxk(model, args.port, extra, args.log_dir)
            try:
                server.wait_ready(model)
                turns[label] = multi_turn("mlxk-serve", server.port, model, args.turn_tokens, args.level_timeout)
            finally:
                server.stop()
        print("\nmulti-turn TTFT (s) per turn:")
        for label, values in turns.items():
            print(f"  {label:<16} " + "  ".join(f"{v:.2f}" for v in values))
        with_cache, without = turns["prompt cache"][-1], turns["no prompt cache"][-1]
        print(f"turn 5: {with_cache:.2f}s with the prompt cache, {without:.2f}s without: "
              f"ratio {with_cache / without:.2f} (target <= 0.5)")
    embeddings = []
    if args.embeddings_model:
        # After the chat servers stopped: its own server, so neither load disturbs the other.
        import serve_embeddings

        path = None if args.embeddings_model == "random" else args.embeddings_model
        embeddings = serve_embeddings.measure(path, "minilm", args.embeddings_inputs, args.rounds,
                                              ways=("one by one", "batch 32"))
        print("\nembeddings (POST /v1/embeddings):", end="")
        serve_embeddings.print_rows(embeddings)
    if args.json:
        print(json.dumps({"levels": rows, "ratios": ratios, "multi_turn": turns, "embeddings": embeddings}))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
