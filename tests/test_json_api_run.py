"""Real outputs of mlx-run in every mode (--json, --ndjson with text and
reasoning deltas, --ndjson-in batches, --model - (one prompt, every model on
stdin), errors, and runs
interrupted by SIGINT/SIGTERM), validated against docs/json-api.schema.json.

In-process runs share one loaded model (the real engine, loaded once); the
interrupt tests are subprocesses, so the signal arrives as it would for a user.
"""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from fixtures.schema import interrupt, validate, validate_stream
from fixtures.tooling import base_env, tool_process
from mlxk_bin.run import main
from mlxk_common.errors import ERROR_TYPES

pytestmark = pytest.mark.slow
# The output's shape is what is tested: few tokens, and no chat template (its
# system prompt would cost seconds of prompt processing on a CPU).
TINY = ["--max-tokens", "2", "--temperature", "0"]
RAW = [*TINY, "--no-chat-template"]
_ENGINES: dict = {}


@pytest.fixture
def shared_engine(monkeypatch):
    """mlx-run in-process, with each model folder loaded once per test run."""
    import mlxk_common.engine as engine_module

    load = engine_module.load_engine

    def cached(model_dir, kind=None, cpu=None):
        key = (str(getattr(model_dir, "path", model_dir)), kind, cpu and cpu.dtype)
        if key not in _ENGINES:
            _ENGINES[key] = load(model_dir, kind, cpu)
        return _ENGINES[key]

    monkeypatch.setattr(engine_module, "load_engine", cached)


def test_one_shot_json_and_ndjson(inproc, shared_engine, smollm2_workspace):
    model = str(smollm2_workspace)
    result = inproc(main, [model, "Hi", *RAW, "--json"])
    assert result.code == 0, result
    data = validate(result.json(), "run_envelope")["data"]
    validate(data, "run_result")
    assert data["usage"]["completion_tokens"] == 2 and data["finish_reason"] == "length"
    result = inproc(main, [model, "-", *RAW, "--ndjson", "--stop", "zzz"], stdin="Hi")
    lines = validate_stream(result.stdout, "run_line", final=True, min_lines=2)
    assert [line["event"] for line in lines][-1] == "result"
    assert "".join(line.get("text", "") for line in lines[:-1]) == lines[-1]["response"]


def test_logprobs_in_json_and_ndjson(inproc, shared_engine, smollm2_workspace):
    model = str(smollm2_workspace)
    result = inproc(main, [model, "Hi", *RAW, "--repetition-penalty", "1", "--logprobs", "3", "--json"])
    assert result.code == 0, result
    data = validate(result.json(), "run_envelope")["data"]
    entries = data["logprobs"]
    assert len(entries) == data["usage"]["completion_tokens"] == 2
    for entry in entries:
        assert bytes(entry["bytes"]).decode() == entry["token"]
        top = entry["top_logprobs"]
        assert len(top) == 3 and top[0]["token"] == entry["token"]  # greedy: the likeliest token
        assert [t["logprob"] for t in top] == sorted((t["logprob"] for t in top), reverse=True)
    result = inproc(main, [model, "Hi", *RAW, "--repetition-penalty", "1", "--logprobs", "0", "--ndjson"])
    lines = validate_stream(result.stdout, "run_line", final=True, min_lines=2)
    streamed = [e for line in lines[:-1] for e in line.get("logprobs", [])]
    assert streamed == lines[-1]["logprobs"] and all(e["top_logprobs"] == [] for e in streamed)
    assert [e["logprob"] for e in streamed] == [e["logprob"] for e in entries]
    refused = inproc(main, [model, "Hi", *RAW, "--logprobs", "2"])  # human output has no place for them
    assert refused.code == 2 and "--logprobs" in refused.stderr
    refused = inproc(main, [model, "Hi", *RAW, "--logprobs", "21", "--json"])
    assert refused.code == 2


def test_reasoning_deltas(inproc, shared_engine, thinking_workspace):
    argv = [str(thinking_workspace), "Hi", *TINY, "--chat-template-arg", "enable_thinking=true"]
    lines = validate_stream(inproc(main, [*argv, "--ndjson"]).stdout, "run_line", final=True)
    assert any("reasoning" in line for line in lines if line["event"] == "delta")
    assert lines[-1]["reasoning"] and lines[-1]["reasoning_content"] == lines[-1]["reasoning"]
    data = validate(inproc(main, [*argv, "--json", "--hide-reasoning"]).json(), "run_envelope")["data"]
    assert data["reasoning"] is None


BATCH = "\n".join([
    json.dumps({"id": "a", "prompt": "Hi", "max_tokens": 2, "temperature": 0}),
    "not json",
    json.dumps({"id": 7, "messages": [{"role": "user", "content": "Yo"}], "max_tokens": 1, "seed": 3}),
    json.dumps({"prompt": "Hi", "messages": []}),
    json.dumps({"prompt": "Hey", "max_tokens": 1, "stop": ["\n"], "system": "Be brief."}),
]) + "\n"


def test_ndjson_in_lines(inproc, shared_engine, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), "--ndjson-in", "--batch-size", "2", "--no-chat-template",
                           "--ndjson"], stdin=BATCH)
    assert result.code == 1  # two bad lines
    lines = validate_stream(result.stdout, "run_batch_line", min_lines=5)
    assert [line["event"] for line in lines] == ["result", "error", "result", "error", "result"]
    assert [line["index"] for line in lines] == [0, 1, 2, 3, 4]
    assert lines[0]["id"] == "a" and lines[2]["id"] == 7 and "id" not in lines[4]
    # Every request line of the example is a valid request or is meant to fail.
    requests = [json.loads(text) for text in BATCH.splitlines() if text.startswith("{")]
    assert [not violations_of(r) for r in requests] == [True, True, False, True]


def violations_of(request):
    from fixtures.schema import violations

    return violations(request, "run_request")


def test_ndjson_in_json_envelope(inproc, shared_engine, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), "--ndjson-in", "--no-chat-template", "--json"], stdin=BATCH)
    data = validate(result.json(), "run_envelope")["data"]
    validate(data, "run_batch_data")
    assert data["count"] == 5 and data["errors"] == 2 and len(data["results"]) == 5


def test_one_prompt_to_every_model_on_stdin(inproc, shared_engine, smollm2_workspace):
    stdin = f'{{"name": "{smollm2_workspace}", "health": "healthy"}}\nno-such-model\n'
    result = inproc(main, ["--model", "-", "Hi", *RAW, "--ndjson"], stdin=stdin)
    lines = validate_stream(result.stdout, "run_line", final=True, min_lines=3)
    assert result.code == 1 and [line["event"] for line in lines][-2:] == ["result", "error"]
    assert [line["index"] for line in lines[-2:]] == [0, 1]
    data = validate(inproc(main, ["--model", "-", "Hi", *RAW, "--json"], stdin=stdin).json(), "run_envelope")["data"]
    assert validate(data, "run_batch_data")["count"] == 2 and data["errors"] == 1


@pytest.mark.parametrize("argv, stdin, error_type", [
    (["no-such-model", "Hi"], "", "model_not_found"),
    (["{model}", "-"], "word " * 9000, "context_length_exceeded"),
    (["{model}"], "", "usage_error"),
    (["{model}", "Hi", "--max-tokens", "0"], "", "usage_error"),
    (["{model}", "Hi", "--bogus"], "", "usage_error"),
    (["{vision}", "Hi"], "", "capability_not_supported"),
    (["{broken}", "Hi"], "", "unhealthy"),
])
def test_errors(inproc, shared_engine, smollm2_workspace, odd_model, argv, stdin, error_type):
    names = {"model": str(smollm2_workspace), "vision": str(odd_model("vision_with_processor")),
             "broken": str(odd_model("no_weights"))}
    argv = [a.format(**names) for a in argv]
    environ = base_env(HF_HOME="/nonexistent")
    result = inproc(main, [*argv, "--json"], stdin=stdin, environ=environ)
    doc = validate(result.json(), "run_envelope")
    assert doc["error"]["type"] == error_type and result.code == ERROR_TYPES[error_type][0], doc
    result = inproc(main, [*argv, "--ndjson"], stdin=stdin, environ=environ)
    (event,) = validate_stream(result.stdout, "run_line", final=True)
    assert event["error"]["type"] == error_type


def spawn(argv, stdin=None):
    proc = tool_process(["mlx-run", *argv], stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env())
    if stdin:  # written, and left open: more requests could still come
        proc.stdin.write(stdin)
        proc.stdin.flush()
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_generation(smollm2_workspace, sig):
    proc = spawn([str(smollm2_workspace), "Once upon a time, there was", "--max-tokens", "400", "--temperature", "0",
                  "--no-chat-template", "--ndjson"])
    code, out, err = interrupt(proc, sig, line=lambda obj: obj["event"] == "delta")
    lines = validate_stream(out, "run_line", final=True, min_lines=2)
    assert code == 130 and lines[-1]["event"] == "error" and lines[-1]["error"]["type"] == "interrupted", err


def test_interrupted_batch_and_json(smollm2_workspace):
    # A batch: the first line is done, the second is still generating (stdin stays open).
    first = json.dumps({"prompt": "Hi", "max_tokens": 1}) + "\n" + json.dumps({"prompt": "Story?"}) + "\n"
    proc = spawn([str(smollm2_workspace), "--ndjson-in", "--batch-size", "1", "--no-chat-template", "--ndjson"],
                 stdin=first)
    code, out, _ = interrupt(proc, signal.SIGINT, line=lambda obj: obj["event"] == "result")
    lines = validate_stream(out, "run_batch_line", final=True, min_lines=2)
    assert code == 130 and lines[-1]["error"]["type"] == "interrupted"
    # --json: an error envelope, whatever was generated before (or while loading).
    proc = spawn([str(smollm2_workspace), "Once upon a time, there was", "--max-tokens", "400", "--json",
                  "--no-chat-template", "--log-level", "debug"])
    code, out, _ = interrupt(proc, signal.SIGTERM, until=lambda: "loading" in proc.stderr.readline())
    doc = validate(json.loads(out), "run_envelope")
    assert code == 130 and doc["error"]["type"] == "interrupted"
