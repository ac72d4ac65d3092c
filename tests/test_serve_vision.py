"""mlxk-serve with a vision model (tiny random Qwen2-VL): images as OpenAI content parts,
through the real openai client, streaming and not, batched, limits and EXIF."""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fixtures.tiny_vlm import EXIF_EXPECTED

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]


def data_url(path, kind="png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(path.read_bytes()).decode()


def image_message(url: str, text="Describe the image."):
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                         {"type": "text", "text": text}]}]


@pytest.fixture(scope="module")
def vision_server(serve, tiny_vlm):
    return serve("--model", str(tiny_vlm), "--max-image", "100KB", "--max-images-total", "150KB")


@pytest.fixture(scope="module")
def client(vision_server):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=vision_server.base_url, api_key="none", max_retries=0, timeout=120)
    MODEL[0] = vision_server.data["model"]
    return client


MODEL = [None]


def ask(client, messages, **extra):
    return client.chat.completions.create(model=MODEL[0], messages=messages, max_tokens=8, temperature=0, **extra)


def test_models_mark_vision(vision_server):
    models = vision_server.http("GET", "/v1/models").json()["data"]
    assert "vision" in models[0]["capabilities"]


def test_image_request_with_and_without_streaming(client, vision_images):
    url = data_url(vision_images["red.png"])
    whole = ask(client, image_message(url))
    assert whole.choices[0].finish_reason == "length" and whole.usage.completion_tokens == 8
    assert whole.usage.prompt_tokens > 40  # the image's tokens are part of the prompt
    again = ask(client, image_message(url))
    assert again.choices[0].message.content == whole.choices[0].message.content  # greedy, deterministic
    other = ask(client, image_message(data_url(vision_images["noise.bmp"], "bmp")))
    assert other.choices[0].message.content != whole.choices[0].message.content  # image-dependent
    stream = client.chat.completions.create(model=MODEL[0], messages=image_message(url), max_tokens=8, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage:
            usage = chunk.usage
    assert "".join(pieces) == whole.choices[0].message.content
    assert usage.completion_tokens == 8 and usage.prompt_tokens == whole.usage.prompt_tokens


def test_text_only_request_to_the_vision_model(client):
    reply = ask(client, [{"role": "user", "content": "Hello"}])
    assert reply.usage.completion_tokens == 8


def test_exif_table_only_when_asked(client, vision_images):
    url = data_url(vision_images["blue.jpg"], "jpeg")
    sha = hashlib.sha256(vision_images["blue.jpg"].read_bytes()).hexdigest()[:8]
    plain = ask(client, image_message(url))
    assert "<details>" not in plain.choices[0].message.content
    asked = ask(client, image_message(url), extra_body={"mlxk": {"exif": True}})
    text = asked.choices[0].message.content
    assert text.startswith("<details>")
    assert (f"| 1 | image_{sha}.jpeg | image 1 | 📍 {EXIF_EXPECTED['latitude']}°N, {EXIF_EXPECTED['longitude']}°E "
            f"| 📅 {EXIF_EXPECTED['datetime'][:10]} | Canon EOS R5 |") in text
    assert asked.usage.prompt_tokens > plain.usage.prompt_tokens  # the model saw the metadata
    assert asked.usage.completion_tokens == 8  # the table is not generated


def test_eight_concurrent_image_requests_are_batched(vision_server, client, vision_images):
    names = ["red.png", "blue.jpg", "noise.bmp", "green.webp"] * 2
    urls = [data_url(vision_images[n]) for n in names]
    alone = {n: ask(client, image_message(u)).choices[0].message.content for n, u in zip(names[:4], urls[:4])}
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda u: ask(client, image_message(u)), urls))
    for name, reply in zip(names, replies):
        assert reply.choices[0].message.content == alone[name]  # batched = alone, token for token
    assert "batched" not in vision_server.log()  # (the log has no tracebacks)
    assert "Traceback" not in vision_server.log()


def test_limits_and_bad_images(vision_server, vision_images):
    big = vision_images["red.png"].parent / "big.bmp"
    if not big.exists():
        from PIL import Image

        Image.frombytes("RGB", (200, 200), bytes(range(256)) * 468 + bytes(192)).save(big)  # 120 KB
    reply = vision_server.http("POST", "/v1/chat/completions", {"messages": image_message(data_url(big, "bmp"))})
    assert reply.status == 413 and reply.json()["error"]["code"] == "payload_too_large"
    two = image_message(data_url(vision_images["noise.bmp"], "bmp"))
    small = data_url(vision_images["tile.tiff"], "tiff")
    many = [{"role": "user", "content": [*two[0]["content"]] + [{"type": "image_url", "image_url": {"url": small}}] * 12}]
    reply = vision_server.http("POST", "/v1/chat/completions", {"messages": many, "max_tokens": 2})
    assert reply.status == 413 and reply.json()["error"]["limit_bytes"] == 150_000
    remote = vision_server.http("POST", "/v1/chat/completions", {"messages": image_message("https://x.org/a.png")})
    assert remote.status == 400 and remote.json()["error"]["code"] == "invalid_image_url"
    not_image = "data:image/png;base64," + base64.b64encode(b"not a png at all").decode()
    reply = vision_server.http("POST", "/v1/chat/completions", {"messages": image_message(not_image), "max_tokens": 2})
    assert reply.status == 400 and reply.json()["error"]["code"] == "invalid_image"
    # The engine goes on.
    ok = vision_server.http("POST", "/v1/chat/completions",
                            {"messages": image_message(data_url(vision_images["red.png"])), "max_tokens": 2})
    assert ok.status == 200, ok
    assert json.loads(ok.body)["usage"]["completion_tokens"] == 2


def test_image_urls_are_refused_without_allow_image_urls(vision_server, image_http):
    url = image_http.url("/red.png?off=1")
    reply = vision_server.http("POST", "/v1/chat/completions", {"messages": image_message(url), "max_tokens": 2})
    error = reply.json()["error"]
    assert reply.status == 400 and error["code"] == "invalid_image_url" and "--allow-image-urls" in error["message"]
    reply = vision_server.http("POST", "/v1/messages", {"max_tokens": 2, "messages": [
        {"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": url}}]}]})
    assert reply.status == 400, reply
    assert not any("off=1" in hit for hit in image_http.hits)  # the server never asked for it


def anthropic_image(path, media_type="image/png"):
    return {"type": "image", "source": {"type": "base64", "media_type": media_type,
                                        "data": base64.b64encode(path.read_bytes()).decode()}}


def test_anthropic_image_blocks_read_like_openai_parts(vision_server, client, vision_images):
    anthropic = pytest.importorskip("anthropic")
    messages = anthropic.Anthropic(base_url=vision_server.url, api_key="none", max_retries=0, timeout=120).messages
    m = messages.create(model=MODEL[0], max_tokens=8, extra_body={"temperature": 0}, messages=[
        {"role": "user", "content": [anthropic_image(vision_images["red.png"]),
                                     {"type": "text", "text": "Describe the image."}]}])
    whole = ask(client, image_message(data_url(vision_images["red.png"])))
    assert m.content[0].text == whole.choices[0].message.content
    assert m.usage.input_tokens + m.usage.cache_read_input_tokens == whole.usage.prompt_tokens
    many = [anthropic_image(vision_images["noise.bmp"], "image/bmp")] + \
        [anthropic_image(vision_images["tile.tiff"], "image/tiff")] * 12
    reply = vision_server.http("POST", "/v1/messages", {"max_tokens": 2, "messages": [
        {"role": "user", "content": many}]})
    assert reply.status == 413 and reply.json()["error"]["type"] == "request_too_large"
