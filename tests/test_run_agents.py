"""mlx-run for agents on the real SmolLM2 (in process): --tools, --tool-choice,
--json-schema, --json-object, per-line tools and response_format in
--ndjson-in, and the honest sampling defaults of the engine."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest

from fixtures.schemas20 import SCHEMAS
from mlxk_bin.run import main

pytestmark = pytest.mark.slow

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30}},
                   "required": ["city"], "additionalProperties": False}}}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("agent_files")
    (folder / "tools.json").write_text(json.dumps([WEATHER]))
    (folder / "schema.json").write_text(json.dumps(SCHEMAS[1]))
    (folder / "bad.json").write_text("{nope")
    return folder


def test_tools_file_gives_tool_calls_in_json(inproc, tools_workspace, files):
    result = inproc(main, [str(tools_workspace), "What is the weather in Paris?", "--tools", str(files / "tools.json"),
                           "--tool-choice", "get_weather", "--max-tokens", "60", "--temperature", "0", "--json"])
    assert result.code == 0, result
    data = json.loads(result.stdout)["data"]
    assert data["finish_reason"] == "tool_calls" and data["response"] == ""
    [call] = data["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER["function"]["parameters"])


def test_tools_for_a_model_without_tool_template_fail_clearly(inproc, smollm2_workspace, files):
    result = inproc(main, [str(smollm2_workspace), "Hi", "--tools", str(files / "tools.json"), "--json"])
    assert result.code != 0
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "usage_error" and "no tool support" in error["message"]


def test_bad_files_and_flag_combinations_are_usage_errors(inproc, smollm2_workspace, files):
    for argv in (["--tools", files / "bad.json"], ["--json-schema", files / "missing.json"],
                 ["--tool-choice", "required"], ["--json-object", "--json-schema", files / "schema.json"]):
        result = inproc(main, [str(smollm2_workspace), "Hi", "--json", *map(str, argv)])
        assert result.code != 0 and json.loads(result.stdout)["error"]["type"] == "usage_error", (argv, result)


def test_json_schema_flag_enforces_the_schema(inproc, smollm2_workspace, files):
    result = inproc(main, [str(smollm2_workspace), "The weather, please.", "--json-schema", str(files / "schema.json"),
                           "--max-tokens", "80", "--temperature", "1", "--seed", "3", "--json"])
    assert result.code == 0, result
    data = json.loads(result.stdout)["data"]
    assert data["finish_reason"] == "stop"
    jsonschema.validate(json.loads(data["response"]), SCHEMAS[1])


def test_ndjson_lines_carry_their_own_tools_and_formats(inproc, tools_workspace):
    lines = [
        {"id": "call", "prompt": "Weather in Rome?", "tools": [WEATHER], "tool_choice": "required",
         "max_tokens": 60, "temperature": 0},
        {"id": "obj", "prompt": "A cat.", "response_format": {"type": "json_object"}, "max_tokens": 80, "seed": 1},
        {"id": "schema", "prompt": "A user.", "max_tokens": 120, "seed": 2, "response_format": {
            "type": "json_schema", "json_schema": {"name": "u", "schema": SCHEMAS[5]}}},
        {"id": "bad", "prompt": "x", "response_format": {"type": "json_schema"}},
    ]
    result = inproc(main, [str(tools_workspace), "--ndjson-in"], stdin="\n".join(map(json.dumps, lines)) + "\n")
    records = {r["id"]: r for r in result.ndjson()}
    assert result.code == 1 and records["bad"]["event"] == "error"
    assert records["call"]["finish_reason"] == "tool_calls"
    assert records["call"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert isinstance(json.loads(records["obj"]["response"]), dict)
    jsonschema.validate(json.loads(records["schema"]["response"]), SCHEMAS[5])
    assert "tool_calls" not in records["obj"]


# -- sampling defaults ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine(smollm2_workspace):
    from mlxk_common.engine import load_engine

    return load_engine(smollm2_workspace)


def answer(engine, prompt="What is 2+2?", max_tokens=16, **sampling):
    from mlxk_common.engine import SamplingParams

    request = engine.prepare(prompt=prompt, max_tokens=max_tokens, sampling=SamplingParams(**sampling))
    return [e for e in engine.generate(request) if e.kind == "finished"][0].content, request


def test_temperature_0_is_mlx_lm_greedy(engine):
    from mlx_lm.generate import generate

    ours, request = answer(engine, temperature=0)
    theirs = generate(engine.model, engine.tokenizer, request.prompt_tokens, max_tokens=16)
    assert ours == theirs.split("<|im_end|>")[0]


def test_defaults_come_from_generation_config(smollm2_workspace, tmp_path):
    from mlxk_common.engine import load_engine

    folder = tmp_path / "greedy-model"
    shutil.copytree(smollm2_workspace, folder, ignore=shutil.ignore_patterns(".*"))
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "do_sample": False}))
    greedy_model = load_engine(folder)
    assert greedy_model.sampling_defaults == {"temperature": 0.0}
    unasked, _ = answer(greedy_model, seed=5)  # no temperature: the model's greedy default
    greedy, _ = answer(greedy_model, temperature=0)
    assert unasked == greedy
    sampled = {answer(greedy_model, temperature=1.0, seed=s)[0] for s in range(3)}
    assert sampled != {greedy}  # a request's own value still wins


def test_penalties_and_logit_bias_change_the_answer(engine):
    plain, _ = answer(engine, prompt="Count: one one one one", temperature=0, max_tokens=12)
    penalised, _ = answer(engine, prompt="Count: one one one one", temperature=0, max_tokens=12,
                          frequency_penalty=2.0, presence_penalty=2.0)
    assert penalised != plain
    token = engine.tokenizer.encode(" banana", add_special_tokens=False)[0]
    biased, _ = answer(engine, temperature=0, max_tokens=2, logit_bias={str(token): 100})
    assert biased.lstrip().startswith(engine.tokenizer.decode([token]).strip())


def test_a_vanishing_top_p_is_the_likeliest_token(engine):
    # mlx-lm's top-p kept no token at all for such a mass (and a grammar then saw a token it refused).
    tiny, _ = answer(engine, temperature=1.0, top_p=5e-324, seed=1, max_tokens=8)
    greedy, _ = answer(engine, temperature=0, max_tokens=8)
    assert tiny == greedy
