"""mlxk-serve as a process: start-up, concurrency, clients that vanish,
limits, signals and restarts, on the real SmolLM2 model."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

from fixtures.server import RawStream, wait_for
from fixtures.smollm2 import SMOLLM2_REPO_ID
from fixtures.tooling import base_env, run_cli

pytestmark = pytest.mark.slow

WORDS = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Golf", "Hotel", "India", "Kilo", "Lima", "Mike",
         "Oscar", "Papa", "Quebec", "Romeo", "Sierra"]


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace):
    return serve("--model", smollm2_workspace, "--max-batch", "16")


def test_a_bad_model_reference_fails_fast(tmp_path):
    result = run_cli(["mlxk-serve", "--model", "no-such-org/nothing-here", "--port", "0", "--json"],
                     env=base_env(HF_HOME=tmp_path), timeout=60)
    assert result.code == 1
    envelope = result.json()
    assert envelope["status"] == "error" and envelope["command"] == "serve"
    assert envelope["error"]["type"] == "model_not_found"


def test_a_client_that_disconnects_cancels_its_generation(server):
    stream = RawStream.chat(server.port, "Write a very long story about the sea.", max_tokens=2000)
    assert stream.read_until(b'"delta":{"content":"', timeout=120)  # generating now
    assert server.health()["active"] == 1
    stream.close()
    health = server.wait_idle(timeout=30)
    assert health["active"] == 0 and health["queue_depth"] == 0
    assert health["status"] == "ok"


def test_sixteen_concurrent_streams_each_get_their_own_answer(server):
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=600)
    answers, failures = {}, []

    def ask(word):
        try:
            stream = client.chat.completions.create(
                messages=[{"role": "user", "content": f"Write the word {word}."}], model=server.data["model"],
                max_tokens=6, temperature=0, stream=True, stream_options={"include_usage": True},
                extra_body={"repetition_penalty": 1.0})
            chunks = list(stream)
            answers[word] = ("".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
                             chunks[-1].usage, {c.id for c in chunks})
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(f"{word}: {exc!r}")

    threads = [threading.Thread(target=ask, args=(w,)) for w in WORDS]
    for t in threads:
        t.start()
    health = []
    while any(t.is_alive() for t in threads):
        health.append(server.http("GET", "/health", timeout=10))
        time.sleep(0.5)
    for t in threads:
        t.join()
    assert not failures, failures
    ids = set()
    for word, (text, usage, chunk_ids) in answers.items():
        others = [w for w in WORDS if w != word and w.lower() in text.lower()]
        assert word.lower() in text.lower() and not others, (word, text)
        assert 0 < usage.completion_tokens <= 6
        assert len(chunk_ids) == 1
        ids |= chunk_ids
    assert len(ids) == len(WORDS)
    # /health kept answering while the batch ran, and saw requests decoded together.
    assert health and all(h.status == 200 for h in health)
    assert max(h.json()["active"] for h in health) > 1


def test_a_full_queue_is_503(serve, smollm2_workspace):
    server = serve("--model", smollm2_workspace, "--max-batch", "1", "--max-queue", "1")
    first = RawStream.chat(server.port, "Tell me a long story.", max_tokens=2000)
    second = None
    try:
        assert wait_for(lambda: server.health()["active"] == 1)
        second = RawStream.chat(server.port, "Tell me another story.", max_tokens=2000)
        assert wait_for(lambda: server.health()["queue_depth"] == 1)
        reply = server.http("POST", "/v1/chat/completions",
                            {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2})
        assert reply.status == 503, reply
        assert reply.json()["error"]["code"] == "queue_full"
        assert reply.headers["retry-after"]
    finally:
        first.close()
        if second is not None:
            second.close()
    assert server.wait_idle(timeout=30)["active"] == 0


def test_sigterm_ends_open_streams_cleanly_and_exits_0(serve, smollm2_workspace):
    server = serve("--model", smollm2_workspace)
    streams = [RawStream.chat(server.port, f"Tell me a long story about {w}.", max_tokens=2000) for w in WORDS[:2]]
    for stream in streams:
        assert stream.read_until(b'"delta":{"content":"', timeout=180)
    started = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    ends = [stream.read_to_end(timeout=10) for stream in streams]
    code = server.proc.wait(timeout=10)
    elapsed = time.monotonic() - started
    for received in ends:
        assert received.startswith(b"HTTP/1.1 200")
        assert b'"code":"shutting_down"' in received
        assert received.endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
    assert code == 0
    assert elapsed < 5, elapsed
    with pytest.raises(ProcessLookupError):  # nothing left in the server's process group
        os.killpg(server.pid, 0)


def test_sigint_stops_an_idle_server_with_0(serve, smollm2_workspace):
    server = serve("--model", smollm2_workspace)
    assert server.stop(signal.SIGINT) == 0


def test_the_port_can_be_bound_again_right_after_a_stop(serve, smollm2_workspace):
    first = serve("--model", smollm2_workspace)
    port = first.port
    assert first.http("GET", "/v1/models").status == 200  # leaves a connection in TIME_WAIT
    assert first.stop() == 0
    second = serve("--model", smollm2_workspace, "--port", port)
    assert second.port == port
    assert second.health()["status"] == "ok"


def test_allow_restricts_the_models_requests_may_load(serve, smollm2_workspace, smollm2_hf_home):
    server = serve("--model", smollm2_workspace, "--allow", smollm2_workspace,
                   env=base_env(HF_HOME=smollm2_hf_home))
    reply = server.http("POST", "/v1/chat/completions", {"model": SMOLLM2_REPO_ID, "max_tokens": 2,
                                                         "messages": [{"role": "user", "content": "Hi"}]})
    assert reply.status == 403 and reply.json()["error"]["code"] == "model_not_allowed"
    ids = [m["id"] for m in server.http("GET", "/v1/models").json()["data"]]
    assert ids == [server.data["model"]]


def test_logs_are_json_lines_with_request_ids_and_no_home_paths(serve, smollm2_workspace, tmp_path):
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    workspace = home / "models" / "smol"
    workspace.symlink_to(smollm2_workspace)
    server = serve("--model", workspace, "--log-level", "info", "--log-json", env=base_env(HOME=home))
    assert server.http("GET", "/v1/models", headers={"X-Request-ID": "log-check-1"}).status == 200
    assert server.http("GET", "/v1/models", headers={"X-Request-ID": "hf_SecretToken1234"}).status == 200
    assert server.stop() == 0
    entries = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    access = [e for e in entries if e.get("request_id") == "log-check-1"]
    assert len(access) == 1
    assert access[0]["status"] == 200 and access[0]["path"] == "/v1/models" and access[0]["level"] == "info"
    loaded = [e for e in entries if e["msg"].startswith("loaded ")]
    assert loaded and "~/models/smol" in loaded[0]["msg"]
    assert str(home) not in server.log()
    assert "hf_SecretToken1234" not in server.log() and "hf_***" in server.log()


def test_max_models_keeps_the_most_recently_used_ones(serve, smollm2_workspace, smollm2_hf_home, tmp_path):
    home = tmp_path / "workspaces"
    home.mkdir()
    for name in ("a", "b"):  # two folders, two models as far as the server can tell
        (home / name).symlink_to(smollm2_workspace)
    server = serve("--max-models", "2", env=base_env(HF_HOME=smollm2_hf_home, MLXK_WORKSPACE_HOME=home))
    assert server.health()["loaded"] == []

    def use(model):
        reply = server.http("POST", "/v1/completions", {"model": model, "prompt": "Hi", "max_tokens": 1})
        assert reply.status == 200, reply
        return server.health()["loaded"]  # most recently used first

    assert use("a") == ["a"]
    assert use("b") == ["b", "a"]
    assert use("a") == ["a", "b"]
    assert use(SMOLLM2_REPO_ID) == [SMOLLM2_REPO_ID, "a"]  # b was the least recently used
    reply = server.http("POST", "/v1/completions", {"prompt": "Hi", "max_tokens": 1})
    assert reply.status == 400 and reply.json()["error"]["code"] == "missing_required_parameter"
