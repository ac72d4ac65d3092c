"""mlxk-serve through the official openai client, on the real SmolLM2 model.

One server for the module (preloaded workspace, the same model also in an
HF cache).  Prompts are short and max_tokens small: the model decodes at a
few tokens per second on a 2-core CPU.
"""

from __future__ import annotations

import pytest

from fixtures.smollm2 import SMOLLM2_REPO_ID
from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

GREEDY = {"temperature": 0, "extra_body": {"repetition_penalty": 1.0}}


@pytest.fixture(scope="module")
def server(serve, smollm2_workspace, smollm2_hf_home):
    env = base_env(HF_HOME=smollm2_hf_home, MLXK_WORKSPACE_HOME=smollm2_workspace.parent)
    return serve("--model", smollm2_workspace, env=env)


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def name(server):
    return server.data["model"]


def ask(text):
    return [{"role": "user", "content": text}]


def test_startup_envelope_names_the_bound_port_and_model(server, smollm2_workspace):
    env = server.envelope
    assert env["status"] == "success" and env["command"] == "serve" and env["error"] is None
    assert env["data"]["host"] == "127.0.0.1"
    assert env["data"]["port"] > 0
    assert env["data"]["model"] == str(smollm2_workspace)


def test_health_reports_status_model_and_queue(server, name):
    doc = server.health()
    assert doc["status"] == "ok"
    assert doc["model"] == name
    assert name in doc["loaded"]
    assert doc["queue_depth"] == 0


def test_models_list_preloaded_first_with_loaded_flag(client, name):
    models = client.models.list().data
    ids = [m.id for m in models]
    assert ids[0] == name
    assert SMOLLM2_REPO_ID in ids
    flags = {m.id: m.model_extra["loaded"] for m in models}
    assert flags[name] is True
    assert flags[SMOLLM2_REPO_ID] is False


def test_chat_completion(client, name):
    r = client.chat.completions.create(model=name, messages=ask("What is the capital of France?"),
                                       max_tokens=6, **GREEDY)
    choice = r.choices[0]
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert r.model == name
    assert r.system_fingerprint.startswith("fp_")
    assert choice.message.role == "assistant"
    assert choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    assert 0 < r.usage.completion_tokens <= 6
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.prompt_tokens_details.cached_tokens >= 0


def test_streaming_chat_matches_the_whole_answer(client, name):
    kwargs = dict(model=name, messages=ask("Name a color."), max_tokens=5, **GREEDY)
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {chunks[0].id}
    usage_chunk = chunks[-1]
    assert usage_chunk.choices == [] and usage_chunk.usage.completion_tokens == whole.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    finals = [c for c in chunks[:-1] if c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0] is chunks[-2]
    assert finals[0].choices[0].finish_reason == whole.choices[0].finish_reason
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert text == whole.choices[0].message.content


def test_repeated_prompt_is_served_from_the_prompt_cache(client, name):
    kwargs = dict(model=name, messages=ask("Say yes."), max_tokens=3, **GREEDY)
    first = client.chat.completions.create(**kwargs)
    second = client.chat.completions.create(**kwargs)
    assert second.choices[0].message.content == first.choices[0].message.content
    # Everything but the last prompt token comes from the cache.
    assert second.usage.prompt_tokens_details.cached_tokens == second.usage.prompt_tokens - 1


def test_multi_turn_reuses_the_history(client, name):
    history = ask("My name is Ada.")
    one = client.chat.completions.create(model=name, messages=history, max_tokens=4, **GREEDY)
    history += [{"role": "assistant", "content": one.choices[0].message.content}, *ask("What is my name?")]
    two = client.chat.completions.create(model=name, messages=history, max_tokens=3, **GREEDY)
    # The whole first turn (prompt and answer) was already in the KV cache.
    assert two.usage.prompt_tokens_details.cached_tokens >= one.usage.prompt_tokens


def test_text_completion_streaming_and_not(client, name):
    kwargs = dict(model=name, prompt="The capital of France is", max_tokens=4, **GREEDY)
    whole = client.completions.create(**kwargs)
    assert whole.object == "text_completion" and whole.id.startswith("cmpl-")
    assert whole.choices[0].text and whole.usage.completion_tokens <= 4
    chunks = list(client.completions.create(stream=True, **kwargs))
    assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


@pytest.mark.parametrize("stream", [False, True])
def test_stop_string_ends_the_answer_and_is_never_shown(client, name, stream):
    kwargs = dict(model=name, prompt="One, two, three, four, five,", max_tokens=10, **GREEDY)
    full = client.completions.create(**kwargs).choices[0].text
    assert len(full) > 6, full
    # A stop string that straddles tokens: the end of one word and the start of the next.
    stop = full[3:7]
    expected = full[: full.index(stop)]
    if stream:
        chunks = list(client.completions.create(stop=[stop], stream=True, **kwargs))
        text = "".join(c.choices[0].text for c in chunks)
        reason = chunks[-1].choices[0].finish_reason
    else:
        r = client.completions.create(stop=stop, **kwargs)
        text, reason = r.choices[0].text, r.choices[0].finish_reason
    assert text == expected
    assert stop not in text
    assert reason == "stop"


def test_seed_makes_sampling_reproducible(client, name):
    kwargs = dict(model=name, messages=ask("Tell me a word."), max_tokens=6, temperature=1.0, seed=1234)
    a = client.chat.completions.create(**kwargs).choices[0].message.content
    b = client.chat.completions.create(**kwargs).choices[0].message.content
    assert a == b


def test_max_completion_tokens_caps_the_answer(client, name):
    r = client.chat.completions.create(model=name, messages=ask("Count from one to twenty."),
                                       max_completion_tokens=2, **GREEDY)
    assert r.usage.completion_tokens == 2
    assert r.choices[0].finish_reason == "length"


def test_request_id_is_echoed_or_made(server):
    given = server.http("GET", "/v1/models", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = server.http("GET", "/nope")
    assert len(made.headers["x-request-id"]) == 32
    hostile = server.http("GET", "/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"


def test_models_by_cache_name_short_name_and_workspace_path(client, server, smollm2_workspace):
    # Switching models: with --max-models 1 the other one is unloaded.
    r = client.chat.completions.create(model=SMOLLM2_REPO_ID, messages=ask("Hi"), max_tokens=2, **GREEDY)
    assert r.model == SMOLLM2_REPO_ID
    assert server.health()["loaded"] == [SMOLLM2_REPO_ID]
    # The short name is also the workspace folder's name in MLXK_WORKSPACE_HOME, which comes first.
    r = client.chat.completions.create(model=smollm2_workspace.name, messages=ask("Hi"), max_tokens=2, **GREEDY)
    assert r.model == smollm2_workspace.name
    loaded = server.health()["loaded"]
    assert len(loaded) == 1 and loaded != [SMOLLM2_REPO_ID]
    r = client.chat.completions.create(model=str(smollm2_workspace), messages=ask("Hi"), max_tokens=2, **GREEDY)
    assert r.model == str(smollm2_workspace)
    assert server.health()["loaded"] == loaded  # the same folder: no reload


@pytest.fixture(scope="module")
def thinking_workspace(smollm2_workspace, tmp_path_factory):
    """The model with a chat template that opens a thinking block for the
    answer (as reasoning models' templates do) and names its end marker."""
    import json

    folder = tmp_path_factory.mktemp("thinking") / "SmolLM2-thinking"
    folder.mkdir()
    for item in smollm2_workspace.iterdir():
        if item.name != "tokenizer_config.json":
            (folder / item.name).symlink_to(item)
    config = json.loads((smollm2_workspace / "tokenizer_config.json").read_text())
    config["chat_template"] = config["chat_template"].replace(
        "'<|im_start|>assistant\n'", "'<|im_start|>assistant\n<think>\n'") + "{# reasoning ends at </think> #}"
    assert "<think>" in config["chat_template"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_reasoning_is_separated_into_reasoning_content(serve, thinking_workspace):
    from openai import OpenAI

    server = serve("--model", thinking_workspace)
    client = OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=300)
    kwargs = dict(model=server.data["model"], messages=ask("Hi"), max_tokens=4, **GREEDY)
    whole = client.chat.completions.create(**kwargs)
    reasoning = whole.choices[0].message.model_extra.get("reasoning_content")
    assert reasoning and "<think>" not in reasoning
    assert whole.choices[0].message.content == ""
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    streamed = "".join(c.choices[0].delta.model_extra.get("reasoning_content") or "" for c in chunks)
    assert streamed == reasoning
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == ""
