"""mlxk-serve --ranks: one model split across local ranks (ring backend over 127.0.0.1), served by rank 0.

Real servers, real ranks, real MLX, the real ``openai`` client.  The
machine has few cores and three ranks share them, so answers are short.
"""

import concurrent.futures
import os
import signal
import time

import pytest
from fixtures.server import RawStream, wait_for

PROMPTS = ["What is the capital of France?", "Name a colour.", "Say hello.", "What is 2 + 2?"]
MAX_TOKENS = 6


def _client(server):
    import openai

    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=600)
    client.model = server.data["model"]  # the --model the server preloaded
    return client


def _ask(client, prompt: str) -> str:
    reply = client.chat.completions.create(model=client.model, messages=[{"role": "user", "content": prompt}],
                                           max_tokens=MAX_TOKENS, temperature=0)
    return reply.choices[0].message.content


def _stream(client, prompt: str) -> tuple[str, int]:
    parts = []
    for chunk in client.chat.completions.create(model=client.model, messages=[{"role": "user", "content": prompt}],
                                                max_tokens=MAX_TOKENS, temperature=0, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    return "".join(parts), len(parts)


def _rank_pids(pid: int) -> dict[int, int]:
    """{rank: pid} of the live rank processes under ``pid``."""
    ranks = {}
    for child in _descendants(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            if cmdline[1:3] != [b"-m", b"mlxk_bin.serve.rank"]:
                continue
            with open(f"/proc/{child}/environ", "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
        except OSError:
            continue
        ranks[int(env[b"MLX_RANK"])] = child
    return ranks


def _descendants(pid: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        todo += kids
    return found


def _alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(pid)
        except OSError:
            pass
    return alive


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.slow
def test_three_ranks_serve_the_single_process_answers(serve, smollm2_workspace):
    single = serve("--model", str(smollm2_workspace))
    try:
        client = _client(single)
        solo = {p: _ask(client, p) for p in PROMPTS}
        streamed = _stream(client, PROMPTS[0])
    finally:
        assert single.stop() == 0
    assert all(solo.values()), solo

    server = serve("--model", str(smollm2_workspace), "--ranks", "3")
    ranks = {}
    try:
        ranks = _rank_pids(server.pid)
        assert sorted(ranks) == [0, 1, 2], ranks
        health = server.health()
        assert health["status"] == "ok"
        assert health["distributed"] == {"ranks": 3, "backend": "ring", "mode": "tensor", "cast": None}
        client = _client(server)
        assert _ask(client, PROMPTS[0]) == solo[PROMPTS[0]]
        text, chunks = _stream(client, PROMPTS[0])
        assert (text, chunks > 1) == (streamed[0], True)
        with concurrent.futures.ThreadPoolExecutor(len(PROMPTS)) as pool:
            together = dict(zip(PROMPTS, pool.map(lambda p: _ask(client, p), PROMPTS)))
        assert together == solo
        server.wait_idle()
        # An idle server keeps no follower busy: they wait on a socket, not in a collective.
        before = {r: _cpu_ticks(p) for r, p in ranks.items()}
        time.sleep(5)
        spent = {r: _cpu_ticks(p) - before[r] for r, p in ranks.items()}
        assert spent[1] < 50 and spent[2] < 50, spent  # < 0.5 s of CPU in 5 s (a spinning rank: ~500)
    finally:
        code = server.stop(signal.SIGTERM, timeout=30)
    assert code == 0, server.log()[-2000:]
    assert wait_for(lambda: not _alive(ranks.values()), timeout=10), "a rank outlived the server"


@pytest.mark.slow
def test_a_killed_rank_gives_503_then_the_server_exits_non_zero(serve, smollm2_workspace):
    server = serve("--model", str(smollm2_workspace), "--ranks", "3")
    try:
        ranks = _rank_pids(server.pid)
        stream = RawStream.chat(server.port, "Count from one to a thousand.", 500)
        assert stream.read_until(b"data: ", timeout=300)  # accepted: its prompt is in every rank's batch
        os.kill(ranks[2], signal.SIGKILL)
        # The open stream ends at once with the reason and [DONE].
        received = stream.read_to_end(timeout=60)
        assert b'"code":"rank_failed"' in received and received.rstrip().endswith(b"0"), received[-500:]
        assert b"data: [DONE]" in received
        # Until it exits, the server says it cannot serve: 503 for a new request (or, once it has
        # gone, no connection at all).
        try:
            reply = server.http("POST", "/v1/chat/completions",
                                {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}, timeout=30)
            assert reply.status == 503, reply
        except ConnectionError:
            pass
        assert server.proc.wait(timeout=30) == 1
        result = server.proc.stdout.read().decode()
    finally:
        server.stop(signal.SIGKILL)
    # The launcher's verdict (--json: on stdout, after the start-up envelope): who died and how.
    assert '"rank_failed"' in result and "was killed (SIGKILL)" in result and "rank 2 on" in result, result
    log = server.log()
    assert "Traceback" not in log and "Fatal Python error" not in log, log[-2000:]
    assert wait_for(lambda: not _alive(ranks.values()), timeout=10), "a rank outlived the server"


def _extras(client, prompt: str) -> dict:
    """Answers that exercise the scheduler's other decisions: two choices, a seeded sample,
    a stop string (rank 0 alone sees it: the followers drop the request when told)."""
    messages = [{"role": "user", "content": prompt}]
    two = client.chat.completions.create(model=client.model, messages=messages, max_tokens=MAX_TOKENS, n=2,
                                         temperature=0)
    seeded = client.chat.completions.create(model=client.model, messages=messages, max_tokens=MAX_TOKENS,
                                            temperature=1.0, seed=7)
    first = _ask(client, prompt)
    stop = first.split()[1] if len(first.split()) > 1 else first[-2:]
    stopped = client.chat.completions.create(model=client.model, messages=messages, max_tokens=MAX_TOKENS,
                                             temperature=0, stop=[stop])
    return {"n": [c.message.content for c in two.choices], "seeded": seeded.choices[0].message.content,
            "stopped": (stopped.choices[0].message.content, stopped.choices[0].finish_reason)}


@pytest.mark.slow
def test_two_ranks_pipeline_serve_the_single_process_answers_and_stop_on_rank_0s_sigterm(serve, tiny_qwen2):
    model = str(tiny_qwen2())
    prompts = PROMPTS[:2]
    single = serve("--model", model)
    try:
        client = _client(single)
        solo = {p: _ask(client, p) for p in prompts}
        extras = _extras(client, prompts[0])
    finally:
        assert single.stop() == 0
    assert extras["stopped"][1] == "stop" and extras["n"] == [solo[prompts[0]]] * 2
    server = serve("--model", model, "--ranks", "2", "--shard", "pipeline")
    ranks = {}
    try:
        ranks = _rank_pids(server.pid)
        assert server.data["distributed"]["mode"] == "pipeline" and server.data["pid"] == ranks[0]
        client = _client(server)
        assert _stream(client, prompts[0])[0] == solo[prompts[0]]
        with concurrent.futures.ThreadPoolExecutor(len(prompts)) as pool:
            assert dict(zip(prompts, pool.map(lambda p: _ask(client, p), prompts))) == solo
        assert _extras(client, prompts[0]) == extras
        # A client that walks away mid-stream: its request leaves every rank's batch, and the
        # ranks stay in step (the next answer is still the single-process one).
        stream = RawStream.chat(server.port, prompts[1], 2000)
        assert stream.read_until(b"data: ", timeout=120)
        stream.close()
        assert _ask(client, prompts[0]) == solo[prompts[0]]
        assert server.wait_idle()["active"] == 0
        # SIGTERM on rank 0 itself (not the mlxk-serve that was started): every rank stops, exit 0.
        os.kill(ranks[0], signal.SIGTERM)
        assert server.proc.wait(timeout=60) == 0, server.log()[-2000:]
    finally:
        server.stop(signal.SIGKILL)
    assert wait_for(lambda: not _alive(ranks.values()), timeout=10), "a rank outlived the server"


@pytest.mark.parametrize("argv, why", [
    (["--ranks", "3"], "name it with --model"),
    (["--ranks", "3", "--model", "M", "--allow-llm-embeddings"], "--allow-llm-embeddings does not run distributed"),
    (["--ranks", "3", "--model", "M", "--max-models", "2"], "serves its one --model"),
    (["--shard", "tensor"], "go with --ranks N or --hosts HOSTFILE"),
])
def test_what_a_distributed_server_refuses_before_starting(inproc, smollm2_workspace, argv, why):
    from mlxk_bin.serve import main

    argv = [str(smollm2_workspace) if a == "M" else a for a in argv]
    result = inproc(main, [*argv, "--json"])
    assert result.code == 2, result
    error = result.json()["error"]
    assert error["type"] == "usage_error" and why in error["message"], error
