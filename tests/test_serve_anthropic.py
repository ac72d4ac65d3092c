"""Anthropic's Messages API (POST /v1/messages) through the official anthropic
client, on SmolLM2, behind an API key (the client sends it as X-Api-Key)."""

from __future__ import annotations

import json

import pytest

from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

KEY = "sk-test-anthropic"
GREEDY = {"extra_body": {"temperature": 0, "repetition_penalty": 1.0}}  # newer SDKs have no temperature argument
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace):
    return serve("--model", smollm2_workspace, env=base_env(MLXK2_API_KEY=KEY))


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
    with pytest.raises(anthropic.UnprocessableEntityError):
        client.messages.create(model=name, max_tokens=4, messages=ask("Weather?"),
                               tools=[{"name": "w", "input_schema": {"type": "object"}}])
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
