"""The OpenAPI 3.1 document of mlxk-serve: one file in docs/ and in the
package, served at GET /openapi.json, true to what a running server answers
(real responses validated against it), and a property-based run of
schemathesis against a real server: bounded examples per operation, every
response documented, never a 5xx.

The server runs a tiny random llama (imported from a GGUF with mlxk-convert)
with --max-tokens 2, so the thousands of generated requests stay cheap on a
CPU; the contract under test does not depend on the model's quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.tiny_gguf import write_tiny_llama
from fixtures.tooling import base_env, run_cli

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "openapi.json"
PACKAGED = REPO / "bin" / "serve" / "openapi.json"
EXAMPLES_PER_OPERATION = 100

pytestmark = pytest.mark.slow


def openapi() -> dict:
    return json.loads(DOC.read_text(encoding="utf-8"))


def test_docs_copy_is_the_packaged_document():
    assert DOC.read_bytes() == PACKAGED.read_bytes(), "copy docs/openapi.json to bin/serve/openapi.json"
    from importlib.resources import files

    assert (files("mlxk_bin.serve") / "openapi.json").read_bytes() == DOC.read_bytes()


def test_document_is_valid_openapi_31():
    import schemathesis
    from jsonschema import Draft202012Validator

    doc = openapi()
    assert doc["openapi"].startswith("3.1.")
    from mlxk_common import JSON_API_SPEC_VERSION

    assert doc["info"]["version"] == JSON_API_SPEC_VERSION
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    # Loading every operation makes schemathesis check the document against the OpenAPI 3.1 meta-schema.
    schema = schemathesis.openapi.from_dict(doc)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "GET /", "GET /health", "GET /v1/models", "GET /v1/models/{model}", "POST /v1/chat/completions",
        "POST /v1/completions", "POST /v1/responses", "POST /v1/messages", "POST /v1/embeddings", "GET /metrics",
        "GET /openapi.json"}


@pytest.fixture(scope="module")
def tiny_server(serve, tmp_path_factory):
    root = tmp_path_factory.mktemp("openapi-server")
    write_tiny_llama(root / "tiny.gguf", "Q4_0")
    home = root / "workspaces"
    result = run_cli(["mlxk-convert", root / "tiny.gguf", home / "tiny", "--from-gguf"])
    assert result.code == 0, result
    env = base_env(HF_HOME=root / "hf", MLXK_WORKSPACE_HOME=home)
    return serve("--model", "tiny", "--max-tokens", "2", "--metrics", "--allow-llm-embeddings", env=env)


def component_validator(name: str):
    from jsonschema import Draft202012Validator

    doc = openapi()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def check(doc, name: str):
    errors = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in component_validator(name).iter_errors(doc)]
    assert not errors, (name, errors, doc)
    return doc


def sse_data(body: bytes) -> list:
    lines = [line[6:] for line in body.decode().split("\n\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_served_document_and_real_responses(tiny_server):
    reply = tiny_server.http("GET", "/openapi.json")
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    assert reply.json() == openapi()
    page = tiny_server.http("GET", "/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    check(tiny_server.health(), "Health")
    listing = check(tiny_server.http("GET", "/v1/models").json(), "ModelList")
    model = listing["data"][0]["id"]
    check(tiny_server.http("GET", f"/v1/models/{model}").json(), "Model")
    chat = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    check(tiny_server.http("POST", "/v1/chat/completions", chat).json(), "ChatCompletion")
    reply = tiny_server.http("POST", "/v1/chat/completions",
                             {**chat, "stream": True, "stream_options": {"include_usage": True}})
    chunks = sse_data(reply.body)
    for chunk in chunks:
        check(chunk, "ChatCompletionChunk")
    assert chunks[-1]["usage"]["completion_tokens"] <= 2
    response = check(tiny_server.http("POST", "/v1/responses", {"model": model, "input": "hi",
                                                                "max_output_tokens": 2}).json(), "Response")
    assert response["output"][0]["type"] == "message"
    stream = tiny_server.http("POST", "/v1/responses", {"model": model, "input": "hi", "stream": True}).body.decode()
    events = [json.loads(block.split("data: ", 1)[1]) for block in stream.split("\n\n") if "data: " in block]
    for event in events:
        check(event, "ResponseStreamEvent")
    assert events[-1]["type"] == "response.completed"
    check(events[-1]["response"], "Response")
    completion = {"model": model, "prompt": "hi", "max_tokens": 2}
    check(tiny_server.http("POST", "/v1/completions", completion).json(), "TextCompletion")
    for chunk in sse_data(tiny_server.http("POST", "/v1/completions", {**completion, "stream": True}).body):
        check(chunk, "TextCompletionChunk")
    embeddings = {"model": model, "input": ["hi", "there"]}
    vectors = check(tiny_server.http("POST", "/v1/embeddings", embeddings).json(), "EmbeddingList")
    assert len(vectors["data"]) == 2
    check(tiny_server.http("POST", "/v1/embeddings", {**embeddings, "encoding_format": "base64"}).json(),
          "EmbeddingList")
    metrics = tiny_server.http("GET", "/metrics")
    assert metrics.status == 200 and metrics.headers["content-type"].startswith("text/plain")
    scored = {**chat, "logprobs": True, "top_logprobs": 2, "n": 2}
    answer = check(tiny_server.http("POST", "/v1/chat/completions", scored).json(), "ChatCompletion")
    assert [c["index"] for c in answer["choices"]] == [0, 1] and answer["choices"][0]["logprobs"]["content"]
    for chunk in sse_data(tiny_server.http("POST", "/v1/chat/completions", {**scored, "stream": True}).body):
        check(chunk, "ChatCompletionChunk")
    check(tiny_server.http("POST", "/v1/completions", {**completion, "logprobs": 1}).json(), "TextCompletion")
    message = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    check(tiny_server.http("POST", "/v1/messages", message).json(), "Message")
    events = [block.split("\n") for block in
              tiny_server.http("POST", "/v1/messages", {**message, "stream": True}).body.decode().split("\n\n")
              if block]
    for name, data in events:
        doc = check(json.loads(data.removeprefix("data: ")), "MessageStreamEvent")
        assert name == "event: " + doc["type"]
    check(tiny_server.http("POST", "/v1/messages", {"messages": []}).json(), "AnthropicError")
    for method, path, body, status in [
        ("POST", "/v1/embeddings", {"model": model, "input": ""}, 400),
        ("GET", "/v1/models/nothing-like-this", None, 404),
        ("POST", "/v1/chat/completions", b"{not json", 400),
        ("POST", "/v1/chat/completions", {**chat, "temperature": 9}, 400),
        ("POST", "/v1/chat/completions", {**chat, "tools": [{"type": "function"}]}, 400),
        ("POST", "/v1/completions", {**completion, "prompt": "x" * 9000}, 400),
        ("DELETE", "/v1/models", None, 405),
        ("GET", "/nowhere", None, 404),
    ]:
        reply = tiny_server.http(method, path, body)
        assert reply.status == status, (path, reply)
        check(reply.json(), "Error")


@pytest.fixture(scope="module")
def api_schema(tiny_server):
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(openapi())
    schema.config.update(base_url=tiny_server.url, request_timeout=120)
    return schema


# Negative cases need something to break: the request bodies (the GETs take
# no input that a request could get wrong, beyond the path).
CASES = [(method.upper(), path, mode) for path, item in openapi()["paths"].items() for method, spec in item.items()
         for mode in (("positive", "negative") if "requestBody" in spec else ("positive",))]


@pytest.mark.parametrize("method, path, mode", CASES)
def test_schemathesis_no_server_errors(api_schema, tiny_server, method, path, mode):
    """Up to EXAMPLES_PER_OPERATION requests generated from the document (valid
    ones, and ones that break it on purpose): each answer is documented (status,
    content type, body schema) and none is a 5xx."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                     status_code_conformance)

    operation = api_schema[path][method]
    statuses = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                                  content_type_conformance, response_schema_conformance])
        statuses.append(response.status_code)

    run()
    from collections import Counter

    print(f"schemathesis {method} {path} {mode}: {len(statuses)} requests, statuses {dict(Counter(statuses))}")
    assert statuses and max(statuses) < 500
    assert tiny_server.proc.poll() is None, tiny_server.log()[-3000:]
