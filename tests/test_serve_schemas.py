"""mlxk-serve's request validation, CORS and id rules, without a server
(fast): what a body turns into, and which parameter an error names."""

from __future__ import annotations

import base64

import pytest

from mlxk_bin.serve.anthropic import parse_messages
from mlxk_bin.serve.errors import ApiError
from mlxk_bin.serve.guards import Cors, request_id
from mlxk_bin.serve.schemas import CHAT, COMPLETION, parse_common

IMAGE_LIMIT = 1024


def chat(**fields):
    return parse_common({"messages": [{"role": "user", "content": "Hi"}], **fields}, CHAT, IMAGE_LIMIT)


def refused(body, kind=CHAT) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse_common(body, kind, IMAGE_LIMIT)
    return info.value


def test_a_full_chat_request():
    req = chat(model=" org/name ", max_tokens=5, temperature=0.5, top_p=0.9, top_k=-1, min_p=0.1, seed=7,
               repetition_penalty=1.2, stop="END", stream=True, stream_options={"include_usage": True},
               presence_penalty=0.5, user="u", chat_template_kwargs={"enable_thinking": False})
    assert req.model == "org/name" and req.max_tokens == 5 and req.stop == ["END"]
    assert req.sampling == {"temperature": 0.5, "top_p": 0.9, "top_k": 0, "min_p": 0.1, "seed": 7,
                            "repetition_penalty": 1.2, "presence_penalty": 0.5}
    assert req.stream and req.include_usage and req.template_kwargs == {"enable_thinking": False}


def test_messages_are_normalized():
    req = parse_common({"messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": None, "name": "bot"},
    ]}, CHAT, IMAGE_LIMIT)
    assert req.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "ab"},
                            {"role": "assistant", "content": "", "name": "bot"}]
    assert req.prompt_chars() == len("Be brief.") + 2


def test_tools_and_their_history_are_kept():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    req = chat(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                         {"role": "tool", "tool_call_id": "call_1", "content": "42"}],
               tools=tools, tool_choice={"type": "function", "function": {"name": "f"}}, parallel_tool_calls=False,
               response_format={"type": "json_object"}, logit_bias={"7": -100}, frequency_penalty=0.2)
    assert req.tools == tools and req.tool_choice == "f" and req.parallel_tool_calls is False
    assert req.messages[1] == {"role": "assistant", "content": "", "tool_calls": [call]}
    assert req.messages[2] == {"role": "tool", "content": "42", "tool_call_id": "call_1"}
    assert req.response_format == {"type": "json_object"}
    assert req.sampling == {"logit_bias": {"7": -100}, "frequency_penalty": 0.2}


def test_max_completion_tokens_wins_over_max_tokens():
    assert chat(max_tokens=9, max_completion_tokens=3).max_tokens == 3


def test_stop_lists_drop_empty_strings_and_duplicates():
    assert chat(stop=["a", "", "a", "b"]).stop == ["a", "b"]


@pytest.mark.parametrize("prompt, expected", [("hi", "hi"), (["hi"], "hi"), ([1, 2, 3], [1, 2, 3]),
                                              ([[4, 5]], [4, 5])])
def test_completion_prompts(prompt, expected):
    assert parse_common({"prompt": prompt}, COMPLETION, IMAGE_LIMIT).prompt == expected


@pytest.mark.parametrize("body, status, param, code", [
    ("text", 400, None, "invalid_type"),
    ({}, 400, "messages", "missing_required_parameter"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": True}, 400, "temperature", "invalid_type"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 2.0}, 400, "max_tokens", "invalid_type"),
    ({"messages": [{"role": "user", "content": "x"}], "top_p": 0}, 400, "top_p", "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "stop": ["x"] * 17}, 400, "stop", "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 0}, 400, "n", "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 1.5}, 400, "n", "invalid_type"),
    ({"messages": [{"role": "user", "content": "x"}], "logprobs": 1}, 400, "logprobs", "invalid_type"),
    ({"messages": [{"role": "user", "content": "x"}], "logprobs": True, "top_logprobs": 21}, 400, "top_logprobs",
     "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3}, 400, "top_logprobs", "invalid_value"),
    ({"messages": [{"role": "user", "content": [{"type": "audio_url"}]}]}, 422, "messages[0].content[0].type",
     "capability_not_supported"),
    ({"messages": [{"role": "system"}]}, 400, "messages[0].content", "missing_required_parameter"),
    ({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema"}}, 400,
     "response_format.json_schema", "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "yaml"}}, 400,
     "response_format.type", "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}, 400,
     "tools[0].function.name", "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}, 400, "tool_choice",
     "invalid_value"),
    ({"messages": [{"role": "user", "content": "x"}], "logit_bias": {"x": 1}}, 400, "logit_bias", "invalid_value"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"function": {}}]}]}, 400,
     "messages[0].tool_calls[0].function.name", "invalid_value"),
])
def test_refusals_name_the_parameter(body, status, param, code):
    error = refused(body)
    assert (error.status, error.param, error.code) == (status, param, code)
    assert set(error.body()["error"]) >= {"message", "type", "param", "code"}


def image(url):
    return {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]}


def test_images_are_decoded_data_urls_within_the_limit():
    data = b"\x89PNG\r\n\x1a\n" + b"\1" * 100
    req = parse_common(image("data:image/png;base64," + base64.b64encode(data).decode()), CHAT, IMAGE_LIMIT)
    assert req.images == [data]
    assert refused(image("http://example.com/x.png")).code == "invalid_image_url"
    assert refused(image("data:image/png;base64,AAA")).code == "invalid_image_url"
    assert refused(image("data:image/svg+xml;base64,AAAA")).code == "unsupported_media"
    big = refused(image("data:image/png;base64," + base64.b64encode(b"\0" * (IMAGE_LIMIT + 10)).decode()))
    assert big.status == 413 and big.extra["limit_bytes"] == IMAGE_LIMIT


def test_request_ids_are_kept_only_when_sane():
    assert request_id({"HTTP_X_REQUEST_ID": "abc-123"}) == "abc-123"
    made = request_id({"HTTP_X_REQUEST_ID": "a b"})
    assert made != "a b" and len(made) == 32
    assert request_id({"HTTP_X_REQUEST_ID": "x" * 129}) != "x" * 129


def test_cors_allows_only_the_named_origins():
    cors = Cors(["https://a.example/"])
    assert cors.allowed("https://a.example") and not cors.allowed("https://b.example") and not cors.allowed(None)
    assert dict(cors.headers("https://a.example"))["Access-Control-Allow-Origin"] == "https://a.example"
    assert cors.headers("https://b.example") == []
    assert not Cors([]).enabled
    assert dict(Cors(["*"]).headers("https://any.example"))["Access-Control-Allow-Origin"] == "*"


def test_logprobs_and_n():
    assert chat().logprobs is None and chat().n == 1
    assert chat(logprobs=True).logprobs == 0
    assert chat(logprobs=True, top_logprobs=20).logprobs == 20
    assert chat(logprobs=False, top_logprobs=0).logprobs is None
    assert chat(n=4).n == 4
    completion = parse_common({"prompt": "x", "logprobs": 5}, COMPLETION, IMAGE_LIMIT)
    assert completion.logprobs == 5
    assert parse_common({"prompt": "x", "logprobs": 0}, COMPLETION, IMAGE_LIMIT).logprobs == 0
    assert parse_common({"prompt": "x"}, COMPLETION, IMAGE_LIMIT).logprobs is None
    assert refused({"prompt": "x", "logprobs": 21}, COMPLETION).param == "logprobs"


def messages(**fields):
    return parse_messages({"max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}], **fields}, IMAGE_LIMIT)


def test_anthropic_messages_become_a_chat_request():
    req = messages(system=[{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}],
                   stop_sequences=["END"], temperature=0.5, top_k=3, stream=True, thinking={"type": "disabled"},
                   metadata={"user_id": "u"})
    assert req.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert req.max_tokens == 5 and req.stop == ["END"] and req.stream
    assert req.sampling == {"temperature": 0.5, "top_k": 3}
    assert req.template_kwargs == {"enable_thinking": False}
    data = b"\x89PNG\r\n\x1a\n" + b"\1" * 10
    req = parse_messages({"max_tokens": 1, "messages": [
        {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                  "data": base64.b64encode(data).decode()}},
                                     {"type": "text", "text": "What is it?"}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "A"}]},
    ]}, IMAGE_LIMIT)
    assert req.images == [data]
    assert [m["content"] for m in req.messages] == ["What is it?", "A"]


@pytest.mark.parametrize("body, status, param", [
    ({"messages": [{"role": "user", "content": "x"}]}, 400, "max_tokens"),
    ({"max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}, 400, "max_tokens"),
    ({"max_tokens": 1, "messages": [{"role": "system", "content": "x"}]}, 400, "messages[0].role"),
    ({"max_tokens": 1, "messages": []}, 400, "messages"),
    ({"max_tokens": 1, "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}, 400, "temperature"),
    ({"max_tokens": 1, "system": [{"type": "image"}], "messages": [{"role": "user", "content": "x"}]}, 400,
     "system[0].type"),
    ({"max_tokens": 1, "tools": [{"name": "f"}], "messages": [{"role": "user", "content": "x"}]}, 400,
     "tools[0].input_schema"),
    ({"max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "tool_result", "content": "1"}]}]}, 400,
     "messages[0].content[0].tool_use_id"),
    ({"max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]}, 400,
     "messages[0].content[0].source.type"),
])
def test_anthropic_refusals_name_the_parameter(body, status, param):
    with pytest.raises(ApiError) as info:
        parse_messages(body, IMAGE_LIMIT)
    assert (info.value.status, info.value.param) == (status, param)


def test_anthropic_images_count_against_the_total():
    data = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\1" * 600).decode()
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    body = {"max_tokens": 1, "messages": [{"role": "user", "content": [block, block]}]}
    assert len(parse_messages(body, IMAGE_LIMIT, 2 * IMAGE_LIMIT).images) == 2
    with pytest.raises(ApiError) as info:
        parse_messages(body, IMAGE_LIMIT, IMAGE_LIMIT)
    assert info.value.status == 413 and info.value.code == "payload_too_large"


def test_image_parts_keep_their_turn_and_urls_wait_for_the_fetch():
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\1" * 10).decode()
    body = {"chunk": 2, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "A "}, {"type": "image_url", "image_url": {"url": png}},
                                     {"type": "text", "text": "B"}]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]}
    req = parse_common(body, CHAT, IMAGE_LIMIT, allow_urls=True)
    assert req.chunk == 2 and req.images[1] == b"" and req.image_urls == {
        1: ("https://example.com/a.png", "messages[2].content[0].image_url.url")}
    assert req.messages[0] == {"role": "user", "content": "A B", "parts": [
        {"type": "text", "text": "A "}, {"type": "image", "image": 1}, {"type": "text", "text": "B"}]}
    assert req.messages[2]["parts"] == [{"type": "image", "image": 2}] and "parts" not in req.messages[1]
    with pytest.raises(ApiError) as info:  # without --allow-image-urls
        parse_common(body, CHAT, IMAGE_LIMIT)
    assert info.value.code == "invalid_image_url" and "--allow-image-urls" in info.value.message
    for bad in ("ftp://example.com/a.png", "file:///etc/passwd"):
        assert refused(image(bad)).code == "invalid_image_url"
