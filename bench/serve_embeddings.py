#!/usr/bin/env python3
"""Embeddings benchmark: mlxk-serve's POST /v1/embeddings, inputs one by one vs batched.

Starts mlxk-serve on loopback with an embedding model (--model; by default a
MiniLM-sized BERT with random weights, built here with mlx-embeddings'
classes: hidden 384, 6 layers, 12 heads, so a forward pass costs what a real
all-MiniLM-L6 costs) and embeds the same --inputs sentences in three ways:

(``--size tiny``: hidden 64, 2 layers, where the per-request costs of HTTP,
JSON and Python show.)

* ``one by one``: one input per request, one request at a time;
* ``batch 32``: 32 inputs per request, one request at a time;
* ``32 clients``: one input per request, 32 requests at a time (the server
  batches inputs of concurrent requests).

After one unmeasured warm-up of each way, the measured rounds run the ways in
the order A B C C B A..., so background load falls on all alike.  Printed per
way: median inputs/s over the rounds, the server's CPU seconds per input, and
the ratio to ``one by one``.

usage: python bench/serve_embeddings.py [--model PATH | --size minilm|tiny] [--inputs 256] [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
WORDS = ("the cat dog sat on a mat hello world is embed vector red blue tree city river small large quick "
         "brown fox jumps over lazy").split()
SIZES = {  # random-weight BERTs: a real all-MiniLM-L6's shape, and a tiny one where HTTP and Python costs show
    "minilm": {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536},
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128},
}
BERT = {"model_type": "bert", "architectures": ["BertModel"], "max_position_embeddings": 512, "type_vocab_size": 2,
        "layer_norm_eps": 1e-12}


def build_bert(folder: Path, size: str = "minilm") -> None:
    """A BERT of ``size`` with random weights and a WordPiece tokenizer."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_embeddings.models import bert
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab = list(dict.fromkeys(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS, *letters, *("##" + c for c in letters)]))
    folder.mkdir(parents=True, exist_ok=True)
    config = dict(BERT, **SIZES[size], vocab_size=len(vocab))
    mx.random.seed(0)
    model = bert.Model(bert.ModelArgs.from_dict(config))
    mx.save_safetensors(str(folder / "model.safetensors"), dict(tree_flatten(model.parameters())),
                        metadata={"format": "mlx"})
    (folder / "config.json").write_text(json.dumps(config))
    ids = {t: i for i, t in enumerate(vocab)}
    tok = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                       special_tokens=[("[CLS]", ids["[CLS]"]),
                                                                       ("[SEP]", ids["[SEP]"])])
    tok.save(str(folder / "tokenizer.json"))


def sentences(n: int) -> list[str]:
    """Fixed sentences of 6 to 40 words (a few dozen tokens, as retrieval chunks are short)."""
    out = []
    for i in range(n):
        length = 6 + (i * 7) % 35
        out.append(" ".join(WORDS[(i * 3 + j * 5) % len(WORDS)] for j in range(length)))
    return out


class Server:
    def __init__(self, model: str, log_path: Path):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([str(BIN / "mlxk-serve"), "--model", model, "--port", "0", "--json"],
                                     stdout=subprocess.PIPE, stderr=self.log, start_new_session=True,
                                     env={**os.environ, "MLXK_WORKSPACE_HOME": str(Path(model).parent)})
        line = self.proc.stdout.readline()
        try:
            self.port = json.loads(line)["data"]["port"]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise RuntimeError(f"mlxk-serve did not start (log: {log_path})") from None

    def post(self, inputs) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request("POST", "/v1/embeddings", body=json.dumps({"input": inputs, "encoding_format": "base64"}),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {body[:300]!r}")
        finally:
            conn.close()

    def cpu_s(self) -> float | None:
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def one_by_one(server: Server, texts: list[str]) -> None:
    for text in texts:
        server.post(text)


def batched(server: Server, texts: list[str]) -> None:
    for i in range(0, len(texts), 32):
        server.post(texts[i:i + 32])


def concurrent_singles(server: Server, texts: list[str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(server.post, texts))


WAYS = {"one by one": one_by_one, "batch 32": batched, "32 clients": concurrent_singles}


def measure(model: str | None, size: str = "minilm", inputs: int = 256, rounds: int = 2,
            ways: tuple[str, ...] = tuple(WAYS)) -> list[dict]:
    """Rows ``{way, inputs_per_s, cpu_ms_per_input}`` of ``ways`` on a server of its own
    (``bench/serve_load.py --embeddings-model`` calls this too)."""
    with tempfile.TemporaryDirectory(prefix="mlxk-bench-embed-") as tmp:
        if model is None:
            model = str(Path(tmp) / f"{size}-random")
            build_bert(Path(model), size)
        model = os.path.abspath(model)
        texts = sentences(inputs)
        server = Server(model, Path(tmp) / "mlxk-serve.log")
        results: dict[str, list[tuple[float, float | None]]] = {name: [] for name in ways}
        try:
            for name in ways:  # unmeasured: kernels for new shapes are compiled on first use
                WAYS[name](server, texts)
            names = list(ways)
            for r in range(rounds):
                for name in names if r % 2 == 0 else names[::-1]:
                    cpu0, start = server.cpu_s(), time.perf_counter()
                    WAYS[name](server, texts)
                    wall, cpu1 = time.perf_counter() - start, server.cpu_s()
                    results[name].append((len(texts) / wall, (cpu1 - cpu0) / len(texts) if cpu0 is not None else None))
                    print(f"# {name}: {len(texts) / wall:.1f} inputs/s", file=sys.stderr, flush=True)
        finally:
            server.stop()

    rows = []
    for name, runs in results.items():
        rate = statistics.median(r for r, _ in runs)
        cpus = [c for _, c in runs if c is not None]
        rows.append({"way": name, "inputs_per_s": rate, "cpu_ms_per_input": statistics.median(cpus) * 1000 if cpus
                     else None})
    return rows


def print_rows(rows: list[dict]) -> None:
    base = rows[0]["inputs_per_s"]
    print(f"\n{'way':<12} {'inputs/s':>9} {'CPU ms/input':>13} {'vs ' + rows[0]['way']:>14}")
    for row in rows:
        cpu = f"{row['cpu_ms_per_input']:.1f}" if row["cpu_ms_per_input"] is not None else "-"
        print(f"{row['way']:<12} {row['inputs_per_s']:>9.1f} {cpu:>13} {row['inputs_per_s'] / base:>13.2f}x")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="an embedding model folder (default: a random BERT of --size)")
    parser.add_argument("--size", choices=sorted(SIZES), default="minilm", help="the random BERT's shape")
    parser.add_argument("--inputs", type=int, default=256, help="sentences embedded per way and round")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds (ways in A B C, then C B A order)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document too")
    args = parser.parse_args(argv)
    # A SIGTERM (timeout, Ctrl-C of a wrapper) still stops the server and removes the model folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rows = measure(args.model, args.size, args.inputs, args.rounds)
    print_rows(rows)
    if args.json:
        print(json.dumps({"inputs": args.inputs, "rounds": args.rounds, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
