"""A bounded fuzz of mlxk-serve's request handling.

More than 500 malformed or hostile requests, built from a fixed seed: random
bytes, invalid UTF-8, JSON that is not an object, deep nesting, a valid
request with one field made wrong (type, sign, size), giant strings, bad
base64 images, remote image URLs, hostile model names and paths, wrong
methods and routes.  Every one must get a 4xx with the OpenAI error shape;
afterwards the server must be healthy and answer a valid request.
"""

from __future__ import annotations

import base64
import json
import random

import pytest

from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

SEED = 20240531
CASES = 600
CHAT, COMPLETIONS = "/v1/chat/completions", "/v1/completions"
GIANT = 300_000  # characters: more than any prompt that fits the 8192-token window

# Values that are wrong for every numeric field (type, sign or size).
NOT_NUMBERS = ["1", "", "NaN", [], [1], {}, {"a": 1}, True, False]
# field -> values that must be refused for that field.
BAD_FIELDS = {
    "max_tokens": NOT_NUMBERS + [0, -1, -(2**63), 1.5, 1e300, -1e300],
    "max_completion_tokens": NOT_NUMBERS + [0, -7, 2.0, -1e9],
    "temperature": NOT_NUMBERS + [-0.1, -1e300, 2.5, 1e300, 10**18],
    "top_p": NOT_NUMBERS + [0, -1, 1.0001, 1e300],
    "top_k": NOT_NUMBERS + [-2, -(2**40), 0.5, 2**40],
    "min_p": NOT_NUMBERS + [-0.5, 1.5, 1e300],
    "repetition_penalty": NOT_NUMBERS + [0, -1, 1e300],
    "seed": NOT_NUMBERS + [-1, -(2**63), 0.5, 1e300],
    "presence_penalty": NOT_NUMBERS + [-3, 3, 1e300],
    "frequency_penalty": NOT_NUMBERS + [-2.5, 9],
    "n": NOT_NUMBERS + [0, 9, -1, 10**9],  # 9: over the default --max-n
    "stream": ["true", 1, 0, [], {}, "yes"],
    "stream_options": ["x", 1, [], True, {"include_usage": "yes"}, {"include_usage": 1}],
    "stop": [1, 1.5, True, {}, [1], [None], ["ok", 2], ["x"] * 17, ["a" * 5000]],
    "model": [1, [], {}, True, "", " ", "\x00", "m" * 2000, "../../etc/passwd", "/etc", "./nope", "~",
              "no/such-model", "ORG/" + "n" * 200, "@deadbeef", "x@..", "a\\b"],
    "logprobs": ["yes", -1, 21, 1.5, [], {}],
    "top_logprobs": [-1, 21, "x", 2.5],
    "tools": ["x", 1, {}, [{"type": "function", "function": {"name": "f"}}]],
    "response_format": ["json", 1, [], {"type": "yaml"}, {"type": "json_schema"},
                        {"type": "json_schema", "json_schema": {"schema": {"type": "string", "format": "ipv9"}}}],
    "tool_choice": ["sometimes", 1, [], {"type": "function"}, "required"],
    "logit_bias": ["x", 1, [], {"1": 101}, {"x": 1}, {"999999999": 1}],
    "chat_template_kwargs": ["x", 1, [], True],
    "user": [1, [], {}, "u" * 5000],
}


def hostile_messages(rng: random.Random):
    """A messages value that must be refused."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(64))).decode()
    choices = [
        None, "hello", 1, {}, [], [1], [None], [[]], ["user"],
        [{"content": "hi"}],
        [{"role": 1, "content": "hi"}],
        [{"role": "overlord", "content": "hi"}],
        [{"role": "user"}],
        [{"role": "user", "content": 5}],
        [{"role": "user", "content": {"text": "hi"}}],
        [{"role": "user", "content": [1]}],
        [{"role": "user", "content": [{"type": "text"}]}],
        [{"role": "user", "content": [{"type": "text", "text": 7}]}],
        [{"role": "user", "content": [{"type": "video", "url": "x"}]}],
        [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": "data:image/png;base64,!!!!"}]}],
        [{"role": "user", "content": [{"type": "image_url",
                                       "image_url": {"url": "data:image/png;base64," + png[: -1 - rng.randrange(3)]
                                                     + "*"}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:text/html;base64," + png}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + png}}]}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": 42}}]}],
        [{"role": "user", "content": "x" * GIANT}],
        [{"role": "system", "content": "s" * (GIANT // 2)}, {"role": "user", "content": "u" * (GIANT // 2)}],
        [{"role": "user", "content": "hi", "name": 5}],
    ]
    return rng.choice(choices)


def hostile_prompt(rng: random.Random):
    return rng.choice([None, 1, 1.5, True, {}, [], [[]], ["a", "b"], [1, "a"], [-1], [2**40], [1.5], [True],
                       [[1, 2], [3]], {"text": "x"}, "p" * GIANT, [None]])


def random_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.randrange(-(2**63), 2**63)
    if kind == 1:
        return rng.choice([None, True, False, 0.5, -1e300])
    if kind == 2:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(20)))
    if kind == 3:
        return rng.choice(["messages", "prompt", "model", ""])
    if kind == 4:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["messages", "prompt", "model", "x", "stop", "max_tokens"]): random_json(rng, depth + 1)
            for _ in range(rng.randrange(4))}


def base_body(path: str) -> dict:
    if path == CHAT:
        return {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    return {"prompt": "Hi", "max_tokens": 2}


def make_case(rng: random.Random) -> tuple[str, str, bytes]:
    """(method, path, body) of one hostile request."""
    path = rng.choice([CHAT, COMPLETIONS])
    kind = rng.randrange(12)
    if kind == 0:  # random bytes, often not UTF-8
        return "POST", path, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    if kind == 1:  # JSON with invalid UTF-8 inside a string
        body = json.dumps(base_body(path)).encode()
        return "POST", path, body.replace(b'"Hi"', b'"H\xff\xfei"')
    if kind == 2:  # top-level JSON that is not an object
        value = random_json(rng)
        while isinstance(value, dict):
            value = random_json(rng)
        return "POST", path, json.dumps(value).encode()
    if kind == 3:  # an object of random fields (never a usable request)
        body = random_json(rng, depth=4)
        body = body if isinstance(body, dict) else {}
        body.pop("messages", None)
        body.pop("prompt", None)
        body["x-" + str(rng.randrange(1000))] = random_json(rng)
        return "POST", path, json.dumps(body).encode()
    if kind == 4:  # deep nesting
        depth = rng.choice([600, 2000, 20000])
        inner = "[" * depth + "]" * depth
        text = rng.choice([inner, '{"messages": ' + inner + "}", '{"a":' * depth + "1" + "}" * depth])
        return "POST", path, text.encode()
    if kind == 5:  # truncated or broken JSON
        text = json.dumps(base_body(path))
        cut = rng.randrange(1, len(text) - 1)
        return "POST", path, rng.choice([text[:cut], text + "}", text.replace(":", "", 1), "{'a': 1}",
                                         '{"messages": NaN}', '{"max_tokens": Infinity}', text[:cut] + "\x00"]
                                        ).encode()
    if kind == 6:  # messages / prompt made hostile
        body = base_body(path)
        if path == CHAT:
            body["messages"] = hostile_messages(rng)
        else:
            body["prompt"] = hostile_prompt(rng)
        return "POST", path, json.dumps(body).encode()
    if kind == 7:  # wrong methods and routes
        method = rng.choice(["GET", "PUT", "DELETE", "PATCH"])
        route = rng.choice([CHAT, COMPLETIONS, "/v1/embeddings", "/v1/../etc/passwd", "/admin", "/v1/models/x/y",
                            "/" + "a" * 2000, "/v1/chat/completions/extra", "/%00", "/v1/%2e%2e/"])
        if method == "GET" and route.startswith("/v1/models"):
            route = "/v1/nope"
        return method, route, b""
    if kind == 8:  # a body over the limit
        size = rng.choice([(2 << 20) + 1, 3 << 20])
        return "POST", path, b'{"prompt": "' + b"z" * size + b'"}'
    # kinds 9-11: a valid request with exactly one field made wrong (plus harmless extras)
    body = base_body(path)
    fields = [f for f in BAD_FIELDS if path == CHAT or f not in ("tools", "response_format", "chat_template_kwargs")]
    field = rng.choice(fields)
    body[field] = rng.choice(BAD_FIELDS[field])
    if rng.random() < 0.5:
        body["unknown_" + str(rng.randrange(100))] = random_json(rng)
    return "POST", path, json.dumps(body).encode()


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz_home")
    env = base_env(HF_HOME=home / "hf", MLXK_WORKSPACE_HOME=home / "workspaces")
    return serve("--model", smollm2_workspace, "--max-body", "2MB", "--max-image", "64K", env=env)


def test_hostile_requests_all_get_a_4xx_with_the_openai_shape(server):
    rng = random.Random(SEED)
    failures, statuses = [], {}
    for i in range(CASES):
        method, path, body = make_case(rng)
        reply = server.http(method, path, body or None, {"Content-Type": "application/json"}, timeout=120)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
        problem = None
        if not 400 <= reply.status < 500:
            problem = f"status {reply.status}"
        else:
            try:
                error = reply.json()["error"]
                if not ({"message", "type", "param", "code"} <= set(error) and isinstance(error["message"], str)):
                    problem = f"error shape {error}"
            except (ValueError, KeyError, TypeError) as exc:
                problem = f"not an OpenAI error body ({exc}): {reply.body[:200]!r}"
        if problem:
            failures.append(f"case {i}: {method} {path} {body[:160]!r}: {problem}")
    assert not failures, "\n".join(failures[:20])
    assert sum(statuses.values()) == CASES >= 500
    assert len(statuses) >= 5, statuses  # 400, 404, 405, 413, 422 at least

    # Still healthy, nothing left running, and a valid request is answered.
    health = server.wait_idle(timeout=30)
    assert health["status"] == "ok" and health["active"] == 0 and health["queue_depth"] == 0
    reply = server.http("POST", CHAT, base_body(CHAT))
    assert reply.status == 200, reply
    assert reply.json()["choices"][0]["message"]["content"] is not None
    assert "Traceback" not in server.log()
