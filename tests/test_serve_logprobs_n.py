"""logprobs/top_logprobs and n > 1 through the official openai client, on SmolLM2.

The log-probabilities are checked against an independent computation: mlx-lm's
own model forward pass over the same tokens, in this process.
"""

from __future__ import annotations

import math

import pytest

from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

GREEDY = {"temperature": 0, "extra_body": {"repetition_penalty": 1.0}}
MAX_N = 4


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace):
    return serve("--model", smollm2_workspace, "--max-n", str(MAX_N), env=base_env())


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def name(server):
    return server.data["model"]


@pytest.fixture(scope="module")
def reference(smollm2_workspace):
    """mlx-lm's model and tokenizer, loaded here: the independent side."""
    from mlx_lm import load

    return load(str(smollm2_workspace))


def ask(text):
    return [{"role": "user", "content": text}]


def check_entry(entry, top: int):
    """One token's logprobs object: bytes spell the token, alternatives sorted,
    probabilities sum to at most 1."""
    assert bytes(entry.bytes).decode("utf-8") == entry.token
    assert entry.logprob <= 0
    alternatives = entry.top_logprobs
    assert len(alternatives) == top
    values = [a.logprob for a in alternatives]
    assert values == sorted(values, reverse=True)
    assert sum(math.exp(v) for v in values) <= 1 + 1e-5
    for a in alternatives:
        assert bytes(a.bytes).decode("utf-8", "backslashreplace") == a.token


def test_chat_logprobs_match_an_independent_forward_pass(client, name, reference):
    import mlx.core as mx

    model, tokenizer = reference
    messages = ask("Name three fruits.")
    r = client.chat.completions.create(model=name, messages=messages, max_tokens=8, logprobs=True,
                                       top_logprobs=5, **GREEDY)
    choice = r.choices[0]
    entries = choice.logprobs.content
    assert len(entries) == r.usage.completion_tokens
    assert "".join(e.token for e in entries) == choice.message.content
    for e in entries:
        check_entry(e, 5)
        # Greedy: the sampled token is the likeliest one.
        assert e.top_logprobs[0].token == e.token and e.top_logprobs[0].logprob == e.logprob

    # Independent: the chat template through the tokenizer, then mlx-lm's forward pass, greedy.
    tokens = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    assert len(tokens) == r.usage.prompt_tokens
    for e in entries:
        logits = model(mx.array(tokens)[None])[0, -1]
        logprobs = logits - mx.logsumexp(logits)
        token = int(mx.argmax(logprobs).item())
        assert tokenizer.decode([token]) == e.token
        assert abs(logprobs[token].item() - e.logprob) < 2e-3
        tokens.append(token)


def test_streamed_logprobs_are_the_same_tokens(client, name):
    kwargs = dict(model=name, messages=ask("Say hello."), max_tokens=6, logprobs=True, top_logprobs=2, **GREEDY)
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    streamed = [e for c in chunks for ch in c.choices if ch.logprobs for e in ch.logprobs.content]
    assert [(e.token, e.logprob) for e in streamed] == \
        [(e.token, e.logprob) for e in whole.choices[0].logprobs.content]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    for e in streamed:
        check_entry(e, 2)


def test_logprobs_without_alternatives_and_off(client, name):
    r = client.chat.completions.create(model=name, messages=ask("Hi"), max_tokens=3, logprobs=True, **GREEDY)
    assert all(e.top_logprobs == [] for e in r.choices[0].logprobs.content)
    off = client.chat.completions.create(model=name, messages=ask("Hi"), max_tokens=3, **GREEDY)
    assert off.choices[0].logprobs is None


def test_completion_logprobs_legacy_shape(client, name):
    r = client.completions.create(model=name, prompt="One, two, three,", max_tokens=5, logprobs=3, **GREEDY)
    choice = r.choices[0]
    lp = choice.logprobs
    # mlx-lm's detokenizer drops the space a first token begins with; the token keeps it.
    assert "".join(lp.tokens).removeprefix(" ") == choice.text.removeprefix(" ")
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == 5
    assert lp.text_offset == [sum(len(t) for t in lp.tokens[:i]) for i in range(5)]
    for token, value, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert 0 < len(top) <= 3
        assert max(top.values()) == value and top[token] == value


@pytest.mark.parametrize("body, param", [
    ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({"top_logprobs": 2}, "top_logprobs"),
    ({"logprobs": "yes"}, "logprobs"),
    ({"n": 0}, "n"),
    ({"n": MAX_N + 1}, "n"),
])
def test_bad_logprobs_and_n_are_400(server, body, param):
    reply = server.http("POST", "/v1/chat/completions", {"messages": ask("Hi"), "max_tokens": 2, **body},
                        {"Content-Type": "application/json"})
    assert reply.status == 400, reply
    assert reply.json()["error"]["param"] == param


def test_n_choices_share_one_prompt_processing_and_are_reproducible(client, name):
    kwargs = dict(model=name, messages=ask("Write the first line of a poem about rivers."), max_tokens=8,
                  temperature=1.0, seed=11)
    r = client.chat.completions.create(n=3, **kwargs)
    assert [c.index for c in r.choices] == [0, 1, 2]
    texts = [c.message.content for c in r.choices]
    assert len(set(texts)) > 1, texts  # each choice has its own seed stream
    # Prefill once: the prompt (all but its last token) was processed once, then served from the cache.
    assert r.usage.prompt_tokens_details.cached_tokens == r.usage.prompt_tokens - 1
    assert 3 <= r.usage.completion_tokens <= 3 * 8  # the three answers together
    again = client.chat.completions.create(n=3, **kwargs)
    assert [c.message.content for c in again.choices] == texts
    one = client.chat.completions.create(n=1, **kwargs)
    assert one.choices[0].message.content == texts[0]  # choice 0 keeps the request's seed


def test_n_streaming_interleaves_chunks_by_index(client, name):
    kwargs = dict(model=name, messages=ask("Tell me a fact about cats."), max_tokens=6, temperature=1.0,
                  seed=3, n=2)
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True},
                                                 logprobs=True, **kwargs))
    texts, finishes, roles, order = {0: "", 1: ""}, {}, set(), []
    for chunk in chunks[:-1]:
        (choice,) = chunk.choices
        order.append(choice.index)
        if choice.delta.role:
            roles.add(choice.index)
        texts[choice.index] += choice.delta.content or ""
        if choice.finish_reason:
            finishes[choice.index] = choice.finish_reason
    assert roles == {0, 1} and set(finishes) == {0, 1}
    assert texts == {c.index: c.message.content for c in whole.choices}
    # Interleaved: choice 1's text arrives before choice 0 is done.
    last0 = max(i for i, x in enumerate(order) if x == 0)
    assert any(x == 1 for x in order[:last0])
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
