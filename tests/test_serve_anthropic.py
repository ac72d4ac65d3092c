"""Anthropic's Messages API (POST /v1/messages) through the official anthropic
client, on SmolLM2, behind an API key (the client sends it as X-Api-Key).

Two models in one workspace home: the plain SmolLM2 (the default; its
template has no tools) and SmolLM2 with a tool template (fixtures/tools.py),
on which a named ``tool_choice`` makes the grammar force a call."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from fixtures.tooling import base_env
from fixtures.tools import make_tools_model

pytestmark = pytest.mark.slow

KEY = "sk-test-anthropic"
GREEDY = {"extra_body": {"temperature": 0, "repetition_penalty": 1.0}}  # newer SDKs have no temperature argument
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


TOOLS = "SmolLM2-tools"
PLAIN = "SmolLM2-plain"
WEATHER = {"name": "get_weather", "description": "The weather of a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30},
                                                             "unit": {"enum": ["celsius", "fahrenheit"]}},
                            "required": ["city", "unit"], "additionalProperties": False}}
TIME = {"name": "get_time", "description": "The local time of a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30}},
                         "required": ["city"], "additionalProperties": False}}


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, tmp_path_factory):
    home = tmp_path_factory.mktemp("anthropic_home")
    make_tools_model(smollm2_workspace, home / TOOLS)
    os.symlink(smollm2_workspace, home / PLAIN)
    return serve("--model", PLAIN, "--max-models", "2", env=base_env(MLXK2_API_KEY=KEY, MLXK_WORKSPACE_HOME=home))


@pytest.fixture(scope="module")
def client(server):
    import anthropic

    return anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def name(server):
    return server.data["model"]


def ask(text):
    return [{"role": "user", "content": text}]


def sse_events(body: bytes) -> list[tuple[str, dict]]:
    out = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_messages_create_matches_the_chat_completion(client, server, name):
    m = client.messages.create(model=name, max_tokens=6, system="You are terse.",
                               messages=ask("Name a color."), **GREEDY)
    assert m.type == "message" and m.role == "assistant" and m.id.startswith("msg_")
    assert m.model == name
    (block,) = m.content
    assert block.type == "text" and block.text
    assert m.stop_reason in ("end_turn", "max_tokens") and m.stop_sequence is None
    assert 0 < m.usage.output_tokens <= 6
    # The same conversation through the OpenAI route gives the same text and token counts.
    reply = server.http("POST", "/v1/chat/completions", {
        "model": name, "max_tokens": 6, "temperature": 0, "repetition_penalty": 1.0,
        "messages": [{"role": "system", "content": "You are terse."}, *ask("Name a color.")]},
        {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}).json()
    assert reply["choices"][0]["message"]["content"] == block.text
    assert reply["usage"]["completion_tokens"] == m.usage.output_tokens
    assert reply["usage"]["prompt_tokens"] == m.usage.input_tokens + m.usage.cache_read_input_tokens


def test_system_and_content_as_blocks(client, name):
    plain = client.messages.create(model=name, max_tokens=4, system="Be brief.", messages=ask("Hi there"), **GREEDY)
    blocks = client.messages.create(model=name, max_tokens=4, system=[{"type": "text", "text": "Be brief."}],
                                    messages=[{"role": "user", "content": [{"type": "text", "text": "Hi "},
                                                                           {"type": "text", "text": "there"}]}],
                                    **GREEDY)
    assert blocks.content[0].text == plain.content[0].text


def test_stream_events_in_anthropic_order_and_the_same_text(client, server, name):
    kwargs = dict(model=name, max_tokens=6, messages=ask("Say hello."), **GREEDY)
    whole = client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as stream:
        deltas = [ev.delta.text for ev in stream if ev.type == "content_block_delta"]
        final = stream.get_final_message()
    assert "".join(deltas) == whole.content[0].text == final.content[0].text
    assert final.stop_reason == whole.stop_reason and final.usage.output_tokens == whole.usage.output_tokens
    # The raw event sequence, as Anthropic sends it.
    reply = server.http("POST", "/v1/messages", {"stream": True, "max_tokens": 6, "messages": ask("Say hello."),
                                                 "temperature": 0},
                        {"X-Api-Key": KEY, "Content-Type": "application/json"})
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/event-stream")
    names = [n for n, _ in sse_events(reply.body)]
    assert names[:3] == ["message_start", "content_block_start", "ping"] or \
        names[:3] == ["message_start", "ping", "content_block_start"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) <= {"content_block_delta"}


def test_stop_sequence_is_reported(client, name):
    kwargs = dict(model=name, max_tokens=12, messages=ask("Count from one to ten in words."), **GREEDY)
    full = client.messages.create(**kwargs).content[0].text
    assert len(full) > 8, full
    stop = full[4:8]
    m = client.messages.create(stop_sequences=[stop], **kwargs)
    assert m.stop_reason == "stop_sequence" and m.stop_sequence == stop
    assert m.content[0].text == full[: full.index(stop)]


def test_errors_in_anthropic_shape(client, name):
    import anthropic

    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=name, max_tokens=4, messages=[{"role": "system", "content": "x"}])
    assert info.value.body["type"] == "error"
    assert info.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.UnprocessableEntityError):  # server tools run on Anthropic's side
        client.messages.create(model=name, max_tokens=4, messages=ask("Weather?"),
                               tools=[{"type": "web_search_20250305", "name": "web_search"}])
    with pytest.raises(anthropic.UnprocessableEntityError) as info:  # a text model cannot read images
        client.messages.create(model=name, max_tokens=4, messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
            {"type": "text", "text": "What is this?"}]}])
    assert "image" in info.value.body["error"]["message"]
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="no-such-model", max_tokens=4, messages=ask("Hi"))


def test_max_tokens_is_required_and_the_key_is_checked(server):
    reply = server.http("POST", "/v1/messages", {"messages": ask("Hi")},
                        {"X-Api-Key": KEY, "Content-Type": "application/json"})
    assert reply.status == 400 and reply.json()["error"]["message"] == "'max_tokens' is required"
    reply = server.http("POST", "/v1/messages", {"messages": ask("Hi"), "max_tokens": 2},
                        {"X-Api-Key": "wrong", "Content-Type": "application/json"})
    assert reply.status == 401


# -- tools ------------------------------------------------------------------

def check_tool_use(block, tool):
    assert block.type == "tool_use" and block.id and block.name == tool["name"]
    assert isinstance(block.input, dict)
    jsonschema.validate(block.input, tool["input_schema"])


def test_named_tool_choice_returns_a_tool_use_block(client):
    m = client.messages.create(model=TOOLS, max_tokens=60, messages=ask("What is the weather in Paris?"),
                               tools=[WEATHER, TIME], tool_choice={"type": "tool", "name": "get_weather"}, **GREEDY)
    assert m.stop_reason == "tool_use" and m.stop_sequence is None
    uses = [b for b in m.content if b.type == "tool_use"]
    assert len(uses) == 1 and m.content[-1] is uses[0]
    check_tool_use(uses[0], WEATHER)
    assert all(b.type == "text" and "<tool_call>" not in b.text for b in m.content[:-1])


def test_tool_use_answer_matches_the_openapi_document(server):
    from jsonschema import Draft202012Validator

    headers = {"X-Api-Key": KEY, "Content-Type": "application/json"}
    doc = server.http("GET", "/openapi.json", None, headers).json()
    body = {"model": TOOLS, "max_tokens": 60, "messages": ask("Weather in Rome?"), "tools": [WEATHER],
            "tool_choice": {"type": "tool", "name": "get_weather"}, "temperature": 0}
    Draft202012Validator({"$ref": "#/components/schemas/MessagesRequest", "components": doc["components"]}) \
        .validate(body)
    reply = server.http("POST", "/v1/messages", body, headers)
    assert reply.status == 200
    message = reply.json()
    Draft202012Validator({"$ref": "#/components/schemas/Message", "components": doc["components"]}).validate(message)
    assert message["stop_reason"] == "tool_use" and message["content"][-1]["type"] == "tool_use"


def test_any_tool_choice_streams_input_json_deltas(client, server):
    kwargs = dict(model=TOOLS, max_tokens=60, messages=ask("What time is it in Oslo?"), tools=[TIME, WEATHER],
                  tool_choice={"type": "tool", "name": "get_time"}, **GREEDY)
    whole = client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    (use,) = [b for b in final.content if b.type == "tool_use"]
    check_tool_use(use, TIME)
    assert use.input == whole.content[-1].input  # greedy: the same call, streamed or not
    starts = [e for e in events if e.type == "content_block_start" and e.content_block.type == "tool_use"]
    assert len(starts) == 1 and starts[0].content_block.input == {} and starts[0].content_block.name == "get_time"
    partial = "".join(e.delta.partial_json for e in events
                      if e.type == "content_block_delta" and e.delta.type == "input_json_delta")
    assert json.loads(partial) == use.input
    # "any" forces a call to one of the tools (one: parallel calls off); the raw stream ends as Anthropic's does.
    reply = server.http("POST", "/v1/messages", {**{k: v for k, v in kwargs.items() if k != "extra_body"},
                                                 "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
                                                 "stream": True, "temperature": 0},
                        {"X-Api-Key": KEY, "Content-Type": "application/json"})
    events = sse_events(reply.body)
    assert [n for n, _ in events][-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    (start,) = [d for n, d in events if n == "content_block_start" and d["content_block"]["type"] == "tool_use"]
    assert start["content_block"]["name"] in ("get_time", "get_weather")


def test_tool_result_history_round_trip(client):
    question = ask("What is the weather in Paris?")
    first = client.messages.create(model=TOOLS, max_tokens=60, messages=question, tools=[WEATHER],
                                   tool_choice={"type": "any", "disable_parallel_tool_use": True}, **GREEDY)
    use = first.content[-1]
    assert use.type == "tool_use"

    def history(result):
        return question + [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                           {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                                         "content": result}]}]

    reply = client.messages.create(model=TOOLS, max_tokens=12, messages=history("sunny, 21 degrees celsius"),
                                   tools=[WEATHER], tool_choice={"type": "none"}, **GREEDY)
    assert reply.stop_reason in ("end_turn", "max_tokens")
    assert [b.type for b in reply.content] == ["text"] and "<tool_call>" not in reply.content[0].text
    # The call and its result are in the prompt: a longer result (as text blocks) makes it longer by as much.
    longer = client.messages.create(model=TOOLS, max_tokens=1, tools=[WEATHER], tool_choice={"type": "none"},
                                    messages=history([{"type": "text", "text": "sunny, 21 degrees celsius"
                                                       + " and windy" * 10}]), **GREEDY)
    prompt = reply.usage.input_tokens + reply.usage.cache_read_input_tokens
    assert longer.usage.input_tokens + longer.usage.cache_read_input_tokens >= prompt + 10


def test_tools_for_a_template_without_tools_are_a_400(client):
    import anthropic

    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=PLAIN, max_tokens=4, messages=ask("Weather?"), tools=[WEATHER])
    assert info.value.body["type"] == "error" and "no tool support" in info.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError) as info:  # a tool that is not among the tools
        client.messages.create(model=TOOLS, max_tokens=4, messages=ask("Weather?"), tools=[WEATHER],
                               tool_choice={"type": "tool", "name": "nope"})
    assert "nope" in info.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError):  # a custom tool needs its input_schema
        client.messages.create(model=TOOLS, max_tokens=4, messages=ask("Weather?"), tools=[{"name": "w"}])
