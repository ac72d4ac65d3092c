"""mlxk-serve as a hostile client and a hostile model folder meet it.

Each test is one attack (``fixtures/hostile_tally.py`` counts them: the
run's summary prints "N attacks tried, M held"):

* broken models in ``MLXK_WORKSPACE_HOME``, built here from the SmolLM2
  fixture (cut-off weights, headers and configs nested 2000 deep, configs
  missing fields or out of range, broken tokenizers, unknown dtypes):
  each request for one gets a clear OpenAI-shaped error, and the engine
  goes on serving everyone else;
* HTTP framing (raw sockets): malformed chunked bodies, Transfer-Encoding
  with Content-Length (request smuggling), unknown transfer codings, odd
  Content-Length values, heads and bodies that stop arriving: exactly one
  answer, then the connection closes; nothing is held past --read-timeout;
* long prompts: prompt processing goes in bounded steps, so a client that
  leaves, or a SIGTERM, frees the engine within a step, and other requests
  decode meanwhile;
* sizes that are not finite are usage errors (exit 2).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

from fixtures.server import RawStream, wait_for
from fixtures.tooling import base_env, run_cli

pytestmark = pytest.mark.slow

READ_TIMEOUT_S = 2  # the server's --read-timeout here
CHAT, COMPLETIONS = "/v1/chat/completions", "/v1/completions"
HEAD = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n")
GOOD_BODY = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}).encode()
LONG_PROMPT_WORDS = 6000  # tokens, give or take: minutes of prompt processing on a slow CPU, seconds on a GPU


# -- broken models --------------------------------------------------------------------

def _edit_config(folder: Path, change) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    _replace(folder / "config.json", json.dumps(config).encode())


def _replace(path: Path, data: bytes) -> None:
    path.unlink()  # a hard link to the fixture: never write through it
    path.write_bytes(data)


def _weights(folder: Path) -> bytes:
    return (folder / "model.safetensors").read_bytes()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _with_header(data: bytes, change) -> bytes:
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    change(header)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data[8 + size:]


def _first_tensor(header: dict) -> dict:
    return header[next(name for name in header if name != "__metadata__")]


BROKEN = {
    "truncated-weights": lambda d: _replace(d / "model.safetensors", _weights(d)[: len(_weights(d)) // 2]),
    "deep-header": lambda d: _replace(d / "model.safetensors",
                                      struct.pack("<Q", 4000) + _nested(2000).encode() + b"\0" * 64),
    "deep-config": lambda d: _replace(d / "config.json",
                                      ('{"model_type": "llama", "x": ' + _nested(2000) + "}").encode()),
    "config-missing-fields": lambda d: _edit_config(d, lambda c: [c.pop(k) for k in (
        "hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads")]),
    "config-wrong-shapes": lambda d: _edit_config(d, lambda c: c.update(num_attention_heads=8)),
    "config-huge-dimension": lambda d: _edit_config(d, lambda c: c.update(hidden_size=10**12)),
    "config-not-an-object": lambda d: _replace(d / "config.json", b"[1, 2, 3]"),
    "config-unknown-architecture": lambda d: _edit_config(d, lambda c: c.update(model_type="no-such-architecture")),
    "garbage-weights": lambda d: _replace(d / "model.safetensors", random.Random(7).randbytes(4096)),
    "empty-weights": lambda d: _replace(d / "model.safetensors", b""),
    "unknown-dtype": lambda d: _replace(d / "model.safetensors",
                                        _with_header(_weights(d), lambda h: _first_tensor(h).update(dtype="Q9"))),
    "broken-tokenizer": lambda d: _replace(d / "tokenizer.json", json.dumps(
        {"version": "1.0", "added_tokens": [], "model": {"type": "NoSuchModel"}}).encode()),
}


def _model_copy(source: Path, dest: Path) -> None:
    """The model's files as hard links (copies across file systems); no
    workspace sentinel, so each broken folder is a plain model folder."""
    dest.mkdir()
    for path in source.iterdir():
        if path.is_file() and not path.name.startswith("."):
            try:
                os.link(path, dest / path.name)
            except OSError:
                (dest / path.name).write_bytes(path.read_bytes())


@pytest.fixture(scope="module")
def broken_home(smollm2_workspace, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("hostile_home")
    _model_copy(smollm2_workspace, home / "good-model")
    for name, breaks in BROKEN.items():
        _model_copy(smollm2_workspace, home / name)
        breaks(home / name)
    return home


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, broken_home, tmp_path_factory):
    env = base_env(MLXK_WORKSPACE_HOME=broken_home, HF_HOME=tmp_path_factory.mktemp("empty_hf_home"))
    return serve("--model", smollm2_workspace, "--read-timeout", READ_TIMEOUT_S, env=env)


def assert_api_error(reply, status: int | None = None) -> dict:
    assert 400 <= reply.status < 600, reply
    if status is not None:
        assert reply.status == status, reply
    assert reply.headers["content-type"].startswith("application/json"), reply
    error = reply.json()["error"]
    assert {"message", "type", "param", "code"} <= set(error) and error["message"], error
    return error


def ask(server, model: str | None, *, stream: bool = False, max_tokens: int = 2, timeout: float = 300):
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": max_tokens, "temperature": 0}
    if model is not None:
        body["model"] = model
    if stream:
        body["stream"] = True
    return server.http("POST", CHAT, body, timeout=timeout)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_model_is_a_clear_error_and_the_engine_goes_on(server, name, stream):
    error = assert_api_error(ask(server, name, stream=stream), 422)
    assert error["code"] == "unhealthy", error
    assert name in error["message"], error
    assert server.health()["status"] == "ok"
    reply = ask(server, "good-model" if stream else None, stream=stream, max_tokens=1)
    assert reply.status == 200, reply
    assert server.health()["status"] == "ok"


@pytest.mark.parametrize("name", ["truncated-weights", "deep-header", "unknown-dtype"])
def test_a_model_the_health_rules_refuse_never_unloads_a_good_one(server, name):
    assert ask(server, None, max_tokens=1).status == 200
    default = server.data["model"]
    assert server.health()["loaded"] == [default]
    assert_api_error(ask(server, name), 422)
    assert server.health()["loaded"] == [default]


def test_a_broken_model_asked_for_during_a_stream_leaves_the_stream_alone(server):
    results = {}

    def good():
        results["good"] = ask(server, None, stream=True, max_tokens=12)

    thread = threading.Thread(target=good)
    thread.start()
    time.sleep(0.5)
    results["broken"] = ask(server, "config-missing-fields")
    thread.join(600)
    assert results["good"].status == 200, results
    body = results["good"].body
    assert body.endswith(b"data: [DONE]\n\n") and b'"error"' not in body, body[-300:]
    assert_api_error(results["broken"], 422)
    assert server.health()["status"] == "ok"


# -- HTTP framing -------------------------------------------------------------------------

class Exchange:
    """What came back on one raw connection: the bytes, whether the server
    closed it, and when."""

    def __init__(self, port: int, data: bytes, *, wait: float = 30.0, trickle: float | None = None):
        self.received = b""
        self.closed = False
        started = time.monotonic()
        sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
        try:
            if trickle is None:
                sock.sendall(data)
            else:  # one byte at a time: the answer may come before all of it was sent
                for i in range(len(data)):
                    try:
                        sock.sendall(data[i:i + 1])
                    except OSError:
                        break
                    if self._poll(sock, trickle):
                        break
            deadline = started + wait
            while not self.closed and time.monotonic() < deadline:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                except ConnectionError:
                    chunk = b""
                if not chunk:
                    self.closed = True
                self.received += chunk
        finally:
            sock.close()
        self.seconds = time.monotonic() - started

    def _poll(self, sock, seconds: float) -> bool:
        sock.settimeout(seconds)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionError:
            chunk = b""
        self.received += chunk
        self.closed = not chunk
        return True

    @property
    def responses(self) -> int:
        return self.received.count(b"HTTP/1.1 ")

    @property
    def status(self) -> int:
        return int(self.received.split(b" ", 2)[1])

    def error(self) -> dict:
        head, _, body = self.received.partition(b"\r\n\r\n")
        assert b"application/json" in head.lower(), self.received
        return json.loads(body)["error"]


def _chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


SMUGGLED = b"GET /v1/models HTTP/1.1\r\nHost: test\r\n\r\n"
# name -> (request, status): each must get exactly this one answer, then a closed connection.
FRAMING = {
    "chunk size 'zz'": (HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
    "chunk size of 18 hex digits": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"F" * 18 + b"\r\n", 400),
    "chunk without its CRLF": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", 400),
    "chunk size then a smuggled request": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n-1\r\n\r\n"
                                           + SMUGGLED, 400),
    "Transfer-Encoding and Content-Length": (HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
                                             + _chunked(GOOD_BODY), 400),
    "Content-Length and Transfer-Encoding, smuggling a request": (
        HEAD + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % (5 + len(SMUGGLED))
        + SMUGGLED, 400),
    "Transfer-Encoding: gzip": (HEAD + b"Transfer-Encoding: gzip\r\n\r\n" + _chunked(b"{}"), 501),
    "Transfer-Encoding: gzip, chunked": (HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + _chunked(b"{}"), 501),
    "Transfer-Encoding twice": (HEAD + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + _chunked(b"{}"), 501),
    "two Content-Length headers": (HEAD + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400),
    "Content-Length '+2'": (HEAD + b"Content-Length: +2\r\n\r\n{}", 400),
    "Content-Length '0x2'": (HEAD + b"Content-Length: 0x2\r\n\r\n{}", 400),
    "Content-Length '1_0'": (HEAD + b"Content-Length: 1_0\r\n\r\n{}", 400),
    "Content-Length '-1'": (HEAD + b"Content-Length: -1\r\n\r\n{}", 400),
    "Content-Length of 30 digits": (HEAD + b"Content-Length: " + b"9" * 30 + b"\r\n\r\n{}", 400),
}


@pytest.mark.parametrize("name", list(FRAMING))
def test_bad_framing_gets_one_answer_and_a_closed_connection(server, name):
    data, status = FRAMING[name]
    reply = Exchange(server.port, data, wait=20)
    assert reply.responses == 1, reply.received
    assert reply.status == status, reply.received
    assert reply.error()["code"], reply.received
    assert reply.closed, reply.received  # and not 20 s later: wait ended when it closed
    assert reply.seconds < 20


# name -> (request, trickle): requests that stop arriving; each is dropped after the read timeout.
STALLS = {
    "a body that stops arriving": (HEAD + b"Content-Length: 100\r\n\r\n{\"mess", None),
    "a chunked body that stops arriving": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n10\r\n{\"mess", None),
    "a head that stops arriving": (HEAD + b"X-Slow: ", None),
    "a request line that stops arriving": (b"POST /v1/chat/comp", None),
    "a head sent one byte a second": (HEAD + b"X-Slow: " + b"a" * 60 + b"\r\n\r\n", 1.0),
    "a connection that sends nothing": (b"", None),
}


@pytest.mark.parametrize("name", list(STALLS))
def test_a_request_that_stops_arriving_is_dropped_after_the_read_timeout(server, name):
    data, trickle = STALLS[name]
    reply = Exchange(server.port, data, wait=60, trickle=trickle)
    assert reply.closed, (reply.seconds, reply.received)
    assert reply.seconds < READ_TIMEOUT_S + 15, reply.seconds  # not held; the margin is for a busy machine
    assert reply.responses <= 1, reply.received
    if reply.responses:
        assert reply.status == 408 and reply.error()["code"] == "request_timeout", reply.received


# name -> (request, status): answered at once, while the rest of the body never comes.
ANSWERED_THEN_STALLED = {
    "a body over --max-body that stops arriving": (HEAD + b"Content-Length: 900000000\r\n\r\n{\"mess", 413),
    "a body for a route that reads none, stopping": (
        b"GET /health HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nabc", 200),
}


@pytest.mark.parametrize("name", list(ANSWERED_THEN_STALLED))
def test_the_unread_rest_of_a_stalled_body_is_not_waited_for(server, name):
    data, status = ANSWERED_THEN_STALLED[name]
    reply = Exchange(server.port, data, wait=60)
    assert reply.responses == 1 and reply.status == status, reply.received
    assert reply.closed and reply.seconds < READ_TIMEOUT_S + 15, (reply.seconds, reply.received)


def test_an_idle_kept_alive_connection_is_closed_after_the_read_timeout(server):
    reply = Exchange(server.port, b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n", wait=60)
    assert reply.responses == 1 and reply.status == 200
    assert reply.closed and reply.seconds < READ_TIMEOUT_S + 15


def test_good_requests_still_work_on_kept_alive_connections(server):
    body = HEAD + b"Content-Length: %d\r\n\r\n%s" % (len(GOOD_BODY), GOOD_BODY)
    chunked = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(GOOD_BODY[:10], GOOD_BODY[10:])
    reply = Exchange(server.port, body + chunked + b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n", wait=300)
    assert reply.responses == 3, reply.received
    assert reply.received.count(b"HTTP/1.1 200 OK") == 3, reply.received


def test_the_server_is_healthy_after_the_http_attacks(server):
    health = server.health()
    assert health["status"] == "ok" and health["active"] == 0 and health["prefilling"] == 0
    assert ask(server, None).status == 200


# -- long prompts -------------------------------------------------------------------------

def long_prompt(port: int) -> RawStream:
    """A streamed text completion of a very long prompt."""
    return RawStream(port, {"prompt": " ".join(["river"] * LONG_PROMPT_WORDS), "max_tokens": 50, "stream": True,
                            "temperature": 0}, path=COMPLETIONS)


def _short_completion(server, timeout: float):
    return server.http("POST", COMPLETIONS, {"prompt": "Hi", "max_tokens": 2, "temperature": 0}, timeout=timeout)


def test_a_long_prompt_does_not_hold_up_a_short_one(server):
    long = long_prompt(server.port)
    try:
        assert wait_for(lambda: server.health()["active"] == 1), server.health()
        # Prompt processing goes in bounded steps; a short request is
        # answered between them (on a slow CPU, long before the long
        # prompt is processed).
        reply = _short_completion(server, timeout=120)
        assert reply.status == 200, reply
    finally:
        long.close()
    assert server.wait_idle(timeout=60)["active"] == 0


def test_a_long_prompt_whose_client_leaves_frees_the_engine_within_a_step(server):
    long = long_prompt(server.port)
    try:
        assert wait_for(lambda: server.health()["prefilling"] == 1), server.health()
    finally:
        long.close()
    # The engine notices between two steps: the next request needs no more
    # than a short one's time, and nothing is left running.
    reply = _short_completion(server, timeout=120)
    assert reply.status == 200, reply
    health = server.wait_idle(timeout=30)
    assert health["active"] == 0 and health["prefilling"] == 0, health


def test_health_counts_a_prompt_being_processed(server):
    long = long_prompt(server.port)
    try:
        seen = wait_for(lambda: server.health()["prefilling"] == 1, every=0.05)
    finally:
        long.close()
    assert seen, server.health()
    assert server.wait_idle(timeout=30)["prefilling"] == 0


def test_sigterm_during_a_long_prompt_stops_the_engine_cleanly(serve, smollm2_workspace):
    server = serve("--model", smollm2_workspace, "--log-level", "info")
    long = long_prompt(server.port)
    try:
        assert wait_for(lambda: server.health()["active"] == 1), server.health()
        os.kill(server.pid, signal.SIGTERM)
        received = long.read_to_end(timeout=30)
        code = server.proc.wait(timeout=30)  # within seconds: the engine stops between two steps
    finally:
        long.close()
    assert code == 0
    assert b'"code":"shutting_down"' in received and b"data: [DONE]" in received, received[-500:]
    log = server.log()
    assert "did not stop" not in log, log[-2000:]  # the engine ended its step and unloaded
    assert "unloaded " in log, log[-2000:]


# -- the command line ---------------------------------------------------------------------

@pytest.mark.parametrize("args", [("--max-body", "infMB"), ("--max-image", "inf"), ("--prompt-cache", "1e400"),
                                  ("--max-body", "nan"), ("--read-timeout", "inf"), ("--read-timeout", "0"),
                                  ("--read-timeout", "-5")])
def test_sizes_and_times_that_are_not_finite_are_usage_errors(args, tmp_path):
    result = run_cli(["mlxk-serve", *args, "--port", "0"], env=base_env(HF_HOME=tmp_path), timeout=60)
    assert result.code == 2, result
    assert f"argument {args[0]}" in result.stderr and "Traceback" not in result.stderr, result


def test_a_bad_read_timeout_in_the_environment_is_a_usage_error(tmp_path):
    result = run_cli(["mlxk-serve", "--port", "0", "--json"],
                     env=base_env(HF_HOME=tmp_path, MLXK2_READ_TIMEOUT="nan"), timeout=60)
    assert result.code == 2, result
    assert result.json()["error"]["type"] == "usage_error"
