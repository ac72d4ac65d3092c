"""mlxk-serve's refusals over raw HTTP: each one the right status with the
OpenAI error shape, and the server unharmed.  The server here runs with an
API key, one CORS origin, a 1 MB body limit and a 3-token ceiling."""

from __future__ import annotations

import base64
import socket

import pytest

from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, smollm2_hf_home):
    env = base_env(HF_HOME=smollm2_hf_home, MLXK_WORKSPACE_HOME=smollm2_workspace.parent)
    return serve("--model", smollm2_workspace, "--api-key", KEY, "--cors", ORIGIN, "--max-body", "1MB",
                 "--max-tokens", "3", env=env)


def chat(**fields):
    return {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, **fields}


def assert_error(reply, status: int, code: str | None = None, param: str | None = None) -> dict:
    assert reply.status == status, reply
    assert reply.headers["content-type"].startswith("application/json")
    doc = reply.json()
    assert list(doc) == ["error"], doc
    error = doc["error"]
    assert {"message", "type", "param", "code"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    if code is not None:
        assert error["code"] == code, error
    if param is not None:
        assert error["param"] == param, error
    return error


def test_missing_or_wrong_key_is_401(server):
    assert_error(server.http("GET", "/v1/models"), 401, "invalid_api_key")
    error = assert_error(server.http("POST", "/v1/chat/completions", chat(),
                                     {"Authorization": "Bearer wrong-key"}), 401)
    assert error["type"] == "authentication_error"
    assert server.http("GET", "/v1/models", headers=AUTH).status == 200


def test_health_needs_no_key(server):
    reply = server.http("GET", "/health")
    assert reply.status == 200 and reply.json()["status"] == "ok"


def test_bad_json_is_400(server):
    assert_error(server.http("POST", "/v1/chat/completions", b'{"messages": [', AUTH), 400, "invalid_json")
    assert_error(server.http("POST", "/v1/chat/completions", b"", AUTH), 400, "invalid_json")
    assert_error(server.http("POST", "/v1/chat/completions", b'{"a": "\xff\xfe"}', AUTH), 400, "invalid_json")


@pytest.mark.parametrize("body, param", [
    ([1, 2], None),
    ({"max_tokens": 2}, "messages"),
    ({"messages": "hello"}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    (chat(temperature="hot"), "temperature"),
    (chat(temperature=-1), "temperature"),
    (chat(top_p=1.5), "top_p"),
    (chat(max_tokens=0), "max_tokens"),
    (chat(max_tokens=-5), "max_tokens"),
    (chat(max_tokens=True), "max_tokens"),
    (chat(seed=-1), "seed"),
    (chat(seed=1.5), "seed"),
    (chat(stop=[1, 2]), "stop[0]"),
    (chat(stream="yes"), "stream"),
    (chat(n=0), "n"),
    (chat(n=9), "n"),  # over the default --max-n
    (chat(logprobs=True, top_logprobs=21), "top_logprobs"),
    (chat(top_logprobs=2), "top_logprobs"),
    (chat(model=""), "model"),
    (chat(model=["a"]), "model"),
])
def test_wrong_types_and_values_are_400(server, body, param):
    assert_error(server.http("POST", "/v1/chat/completions", body, AUTH), 400, param=param)


def test_completion_prompt_checks(server):
    assert_error(server.http("POST", "/v1/completions", {"max_tokens": 2}, AUTH), 400, param="prompt")
    assert_error(server.http("POST", "/v1/completions", {"prompt": ["a", "b"]}, AUTH), 400, param="prompt")
    assert_error(server.http("POST", "/v1/completions", {"prompt": [1, -3]}, AUTH), 400, param="prompt[1]")
    assert_error(server.http("POST", "/v1/completions", {"prompt": [10**9]}, AUTH), 400, param="prompt")


def test_body_over_the_limit_is_413_and_the_client_reads_it(server):
    big = b'{"messages": [{"role": "user", "content": "' + b"a" * (2 << 20) + b'"}]}'
    reply = server.http("POST", "/v1/chat/completions", big, AUTH)
    error = assert_error(reply, 413, "payload_too_large")
    assert error["limit_bytes"] == 10**6  # "1MB": sizes are decimal (mlxk_common/options.py)
    assert reply.headers.get("connection") == "close"
    assert server.http("GET", "/health").status == 200


def test_chunked_body_over_the_limit_is_413(server):
    chunk = b"x" * 65536
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
                     + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(20):  # 1.25 MB
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413")


def test_unknown_model_is_404(server):
    error = assert_error(server.http("POST", "/v1/chat/completions", chat(model="no-such/model-xyz"), AUTH),
                         404, "model_not_found")
    assert error["param"] == "model"


def test_request_paths_outside_the_workspace_home_are_refused(server, tmp_path):
    error = assert_error(server.http("POST", "/v1/chat/completions", chat(model="/etc"), AUTH), 404)
    assert "MLXK_WORKSPACE_HOME" in error["message"] or error["code"] == "model_not_found"
    assert_error(server.http("POST", "/v1/chat/completions", chat(model=str(tmp_path)), AUTH), 404)


def test_wrong_method_is_405_and_unknown_route_404(server):
    error = assert_error(server.http("GET", "/v1/chat/completions", headers=AUTH), 405, "method_not_allowed")
    assert "POST" in error["message"]
    assert_error(server.http("DELETE", "/v1/models", headers=AUTH), 405)
    assert_error(server.http("GET", "/v2/everything", headers=AUTH), 404, "not_found")


def test_context_window_exceeded_is_400_with_sizes(server):
    reply = server.http("POST", "/v1/chat/completions", chat(messages=[{"role": "user", "content": "hi " * 9000}]),
                        AUTH)
    error = assert_error(reply, 400, "context_length_exceeded")
    assert error["context_length"] == 8192
    assert error["prompt_tokens"] > 8192
    assert "8192" in error["message"] and str(error["prompt_tokens"]) in error["message"]
    # Far too long to be worth tokenizing: refused from its size alone.
    reply = server.http("POST", "/v1/completions", {"prompt": "word " * 60000}, AUTH)
    assert assert_error(reply, 400, "context_length_exceeded")["context_length"] == 8192


def test_images_only_as_data_urls_and_only_for_vision_models(server):
    def with_image(url):
        return chat(messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                            {"type": "image_url", "image_url": {"url": url}}]}])

    remote = server.http("POST", "/v1/chat/completions", with_image("https://example.com/cat.png"), AUTH)
    assert "data:" in assert_error(remote, 400, "invalid_image_url")["message"]
    bad = server.http("POST", "/v1/chat/completions", with_image("data:image/png;base64,@@@notbase64"), AUTH)
    assert_error(bad, 400, "invalid_image_url")
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
    text_model = server.http("POST", "/v1/chat/completions", with_image(png), AUTH)
    assert_error(text_model, 422, "capability_not_supported")


def test_unsupported_features_are_422(server):
    # SmolLM2's own chat template has no tool support: tools are refused, never silently dropped.
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    refused = assert_error(server.http("POST", "/v1/chat/completions", chat(tools=tools), AUTH), 400)
    assert refused["param"] == "tools" and "no tool support" in refused["message"]
    assert_error(server.http("POST", "/v1/completions", {"prompt": "x", "echo": True}, AUTH), 422)


def test_server_ceiling_caps_max_tokens(server):
    reply = server.http("POST", "/v1/completions", {"prompt": "One, two, three,", "max_tokens": 50,
                                                    "temperature": 0}, AUTH)
    assert reply.status == 200, reply
    assert reply.json()["usage"]["completion_tokens"] <= 3


def test_cors_only_for_the_configured_origin(server):
    allowed = server.http("GET", "/v1/models", headers={**AUTH, "Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    other = server.http("GET", "/v1/models", headers={**AUTH, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = server.http("OPTIONS", "/v1/chat/completions", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    refused = server.http("OPTIONS", "/v1/chat/completions", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status == 403 and "access-control-allow-origin" not in refused.headers
