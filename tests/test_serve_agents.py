"""mlxk-serve for agents, through the official openai client on real models over HTTP:
tool calling (chat completions and the Responses API), structured output
enforced by a grammar, and the refusals around them.

Two models in one workspace home: SmolLM2 with a Hermes/Qwen-style tool
template (fixtures/tools.py: mlx-lm's json_tools parser reads its calls) and
the plain SmolLM2, whose template has no tools.  The 135M model writes a call
on its own rarely; ``tool_choice`` "required" or a named function makes the
grammar force one, so those tests are exact.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import jsonschema
import pytest

from fixtures.schemas20 import SCHEMAS
from fixtures.tooling import base_env
from fixtures.tools import make_tools_model

pytestmark = pytest.mark.slow

TOOLS = "SmolLM2-tools"
PLAIN = "SmolLM2-plain"
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30},
                                                    "unit": {"enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"], "additionalProperties": False}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "The local time of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30}},
                   "required": ["city"], "additionalProperties": False}}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, tmp_path_factory):
    home = tmp_path_factory.mktemp("agents_home")
    make_tools_model(smollm2_workspace, home / TOOLS)
    os.symlink(smollm2_workspace, home / PLAIN)
    env = base_env(MLXK_WORKSPACE_HOME=home)
    return serve("--model", TOOLS, "--max-models", "2", env=env)


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=600)


def check_call(call, tool=WEATHER):
    fn = tool["function"]
    assert call.type == "function" and call.id
    assert call.function.name == fn["name"]
    jsonschema.validate(json.loads(call.function.arguments), fn["parameters"])


def test_required_tool_call_is_returned_as_tool_calls(client):
    reply = client.chat.completions.create(model=TOOLS, messages=ASK, tools=[WEATHER, TIME], tool_choice="required",
                                           parallel_tool_calls=False, max_tokens=60, temperature=1, seed=1)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    check_call(call, WEATHER if call.function.name == "get_weather" else TIME)


def test_named_tool_call_streams_as_openai_deltas(client):
    stream = client.chat.completions.create(model=TOOLS, messages=ASK, tools=[WEATHER, TIME],
                                            tool_choice={"type": "function", "function": {"name": "get_time"}},
                                            max_tokens=60, temperature=0, stream=True)
    chunks = list(stream)
    deltas = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].index == 0 and deltas[0].id and deltas[0].type == "function"
    assert deltas[0].function.name == "get_time" and deltas[0].function.arguments == ""
    assert all(d.index == 0 for d in deltas) and all(d.id is None for d in deltas[1:])
    arguments = "".join(d.function.arguments or "" for d in deltas)
    jsonschema.validate(json.loads(arguments), TIME["function"]["parameters"])
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert not "".join(c.choices[0].delta.content or "" for c in chunks).strip()


def test_tool_history_round_trip(client):
    first = client.chat.completions.create(model=TOOLS, messages=ASK, tools=[WEATHER], tool_choice="required",
                                           max_tokens=60, temperature=0)
    call = first.choices[0].message.tool_calls[0]
    history = ASK + [first.choices[0].message.model_dump(exclude_none=True),
                     {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees celsius"}]
    reply = client.chat.completions.create(model=TOOLS, messages=history, tools=[WEATHER], tool_choice="none",
                                           max_tokens=12, temperature=0)
    choice = reply.choices[0]
    assert choice.message.tool_calls is None and choice.finish_reason in ("stop", "length")
    assert choice.message.content and "<tool_call>" not in choice.message.content
    # The tool's answer is in the prompt: a longer one makes the prompt longer by as much.
    longer = history[:-1] + [{**history[-1], "content": history[-1]["content"] + " and windy" * 10}]
    more = client.chat.completions.create(model=TOOLS, messages=longer, tools=[WEATHER], tool_choice="none",
                                          max_tokens=1, temperature=0)
    assert more.usage.prompt_tokens >= reply.usage.prompt_tokens + 10


def test_tool_choice_auto_answers_text_or_calls(client):
    reply = client.chat.completions.create(model=TOOLS, messages=[{"role": "user", "content": "Hello!"}],
                                           tools=[WEATHER], max_tokens=8, temperature=0)
    choice = reply.choices[0]
    if choice.message.tool_calls:
        assert choice.finish_reason == "tool_calls"
        check_call(choice.message.tool_calls[0])
    else:
        assert choice.message.content and "<tool_call>" not in choice.message.content


def test_tools_for_a_template_without_tools_are_a_400(client):
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=PLAIN, messages=ASK, tools=[WEATHER], max_tokens=4)
    assert caught.value.body["param"] == "tools" and "no tool support" in caught.value.body["message"]
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=TOOLS, messages=ASK, tools=[WEATHER], max_tokens=4,
                                       tool_choice={"type": "function", "function": {"name": "nope"}})
    assert caught.value.body["param"] == "tool_choice"


def test_json_object_always_parses(client):
    reply = client.chat.completions.create(model=PLAIN, messages=[{"role": "user", "content": "Describe a cat."}],
                                           response_format={"type": "json_object"}, max_tokens=80, temperature=1,
                                           seed=2)
    assert reply.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


def test_twenty_schemas_validate_at_temperature_1_batched(client):
    """All twenty at once: they decode together in the continuous batch, each with its own grammar."""

    def ask(i_schema):
        i, schema = i_schema
        fmt = {"type": "json_schema", "json_schema": {"name": f"s{i}", "strict": True, "schema": schema}}
        reply = client.chat.completions.create(model=PLAIN, messages=[{"role": "user", "content": "Fill it in."}],
                                               response_format=fmt, max_tokens=200, temperature=1, seed=i)
        return reply.choices[0]

    with ThreadPoolExecutor(len(SCHEMAS)) as pool:
        choices = list(pool.map(ask, enumerate(SCHEMAS)))
    for schema, choice in zip(SCHEMAS, choices):
        assert choice.finish_reason == "stop", choice
        jsonschema.validate(json.loads(choice.message.content), schema)


def test_streamed_schema_answer_validates(client):
    schema = SCHEMAS[5]
    stream = client.chat.completions.create(
        model=PLAIN, messages=[{"role": "user", "content": "A user."}], max_tokens=120, temperature=1, seed=7,
        response_format={"type": "json_schema", "json_schema": {"name": "u", "strict": True, "schema": schema}},
        stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    jsonschema.validate(json.loads(text), schema)


def test_tool_calls_with_n_choices_and_logprobs(client):
    # Each of the n choices has its own grammar and its own tool calls; logprobs come along.
    reply = client.chat.completions.create(model=TOOLS, messages=ASK, tools=[WEATHER], tool_choice="required",
                                           parallel_tool_calls=False, n=2, logprobs=True, top_logprobs=2,
                                           max_tokens=60, temperature=1, seed=3)
    assert [c.index for c in reply.choices] == [0, 1]
    for choice in reply.choices:
        assert choice.finish_reason == "tool_calls" and len(choice.message.tool_calls) == 1
        check_call(choice.message.tool_calls[0])
        entries = choice.logprobs.content
        assert entries and all(len(e.top_logprobs) == 2 and e.logprob <= 0 for e in entries)
    stream = client.chat.completions.create(model=TOOLS, messages=ASK, tools=[WEATHER], tool_choice="required",
                                            parallel_tool_calls=False, n=2, max_tokens=60, temperature=1, seed=3,
                                            stream=True)
    arguments, finish = {0: "", 1: ""}, {}
    for chunk in stream:
        for c in chunk.choices:
            for d in c.delta.tool_calls or ():
                assert d.index == 0  # one call per choice: the call index counts within the choice
                arguments[c.index] += d.function.arguments or ""
            if c.finish_reason:
                finish[c.index] = c.finish_reason
    assert finish == {0: "tool_calls", 1: "tool_calls"}
    for index, choice in enumerate(reply.choices):  # the same seeds: the same calls, streamed or not
        assert arguments[index] == choice.message.tool_calls[0].function.arguments


def test_schema_with_n_choices_and_logprobs(client):
    schema = SCHEMAS[5]
    reply = client.chat.completions.create(
        model=PLAIN, messages=[{"role": "user", "content": "A user."}], max_tokens=120, temperature=1, seed=11,
        response_format={"type": "json_schema", "json_schema": {"name": "u", "strict": True, "schema": schema}},
        n=3, logprobs=True)
    assert len(reply.choices) == 3
    for choice in reply.choices:
        assert choice.finish_reason == "stop"
        jsonschema.validate(json.loads(choice.message.content), schema)
        assert "".join(e.token for e in choice.logprobs.content) == choice.message.content


def test_schema_features_that_cannot_be_enforced_are_named(client):
    import openai

    schema = {"type": "object", "properties": {"a": {"type": "string", "format": "ipv9"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=PLAIN, messages=ASK, max_tokens=4, response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert "ipv9" in caught.value.body["message"] and caught.value.body["param"] == "response_format"


# -- the Responses API ---------------------------------------------------------------

FLAT_WEATHER = {"type": "function", **WEATHER["function"]}


def test_responses_plain_and_streamed(client):
    reply = client.responses.create(model=PLAIN, input="What is 2+2?", instructions="Answer briefly.",
                                    max_output_tokens=6, temperature=0)
    assert reply.object == "response" and reply.status in ("completed", "incomplete")
    assert reply.output_text and reply.usage.output_tokens <= 6
    events = list(client.responses.create(model=PLAIN, input="What is 2+2?", instructions="Answer briefly.",
                                          max_output_tokens=6, temperature=0, stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed" and "response.output_text.delta" in kinds
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == reply.output_text == events[-1].response.output_text


def test_responses_tool_call_and_its_output(client):
    reply = client.responses.create(model=TOOLS, input="What is the weather in Paris?", tools=[FLAT_WEATHER],
                                    tool_choice="required", max_output_tokens=60, temperature=0)
    call = reply.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id
    jsonschema.validate(json.loads(call.arguments), WEATHER["function"]["parameters"])
    follow = client.responses.create(model=TOOLS, tools=[FLAT_WEATHER], max_output_tokens=10, temperature=0,
                                     tool_choice="none", input=[
                                         {"role": "user", "content": "What is the weather in Paris?"},
                                         {"type": "function_call", "call_id": call.call_id, "name": call.name,
                                          "arguments": call.arguments},
                                         {"type": "function_call_output", "call_id": call.call_id,
                                          "output": "sunny, 21 degrees celsius"}])
    assert follow.output[0].type == "message" and follow.output_text


def test_responses_streamed_tool_call(client):
    events = list(client.responses.create(model=TOOLS, input="What is the weather in Paris?", tools=[FLAT_WEATHER],
                                          tool_choice="required", parallel_tool_calls=False, max_output_tokens=60,
                                          temperature=0, stream=True))
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(done) == 1
    jsonschema.validate(json.loads(done[0].arguments), WEATHER["function"]["parameters"])
    assert events[-1].response.output[0].type == "function_call"


def test_responses_json_schema(client):
    schema = SCHEMAS[0]
    reply = client.responses.create(model=PLAIN, input="A person.", max_output_tokens=60, temperature=1,
                                    text={"format": {"type": "json_schema", "name": "p", "strict": True,
                                                     "schema": schema}})
    jsonschema.validate(json.loads(reply.output_text), schema)


def test_responses_previous_response_id_is_refused(client):
    import openai

    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=PLAIN, input="hi", previous_response_id="resp_123")
    assert caught.value.body["param"] == "previous_response_id"
