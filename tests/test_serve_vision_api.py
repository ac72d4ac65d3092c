"""mlxk-serve's vision API beyond one data: image (tiny random Qwen2-VL, the real openai client):
images fetched from http(s) URLs with --allow-image-urls (a real local HTTP server), the
``chunk`` extension, and images placed in the turn they were sent in."""

from __future__ import annotations

import base64
import re

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]
MODEL = [None]
CHUNK = re.compile(r"(?:\n\n)?Chunk (\d+)/(\d+): (images? [\d–]+)\n\n")


def data_url(path, kind="png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(path.read_bytes()).decode()


def image_part(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def ask_images(urls, text="Describe the image."):
    return [{"role": "user", "content": [*map(image_part, urls), {"type": "text", "text": text}]}]


@pytest.fixture(scope="module")
def server(serve, tiny_vlm):
    return serve("--model", str(tiny_vlm), "--allow-image-urls", "--image-url-timeout", "3",
                 "--max-image", "100KB", "--max-images-total", "150KB")


@pytest.fixture(scope="module")
def client(server):
    openai = pytest.importorskip("openai")
    MODEL[0] = server.data["model"]
    return openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=120)


def ask(client, messages, **extra):
    return client.chat.completions.create(model=MODEL[0], messages=messages, **{"max_tokens": 8, **extra},
                                          temperature=0)


def streamed(client, messages, **extra) -> tuple[str, object]:
    pieces, usage = [], None
    for chunk in client.chat.completions.create(model=MODEL[0], messages=messages, max_tokens=8, temperature=0,
                                                stream=True, stream_options={"include_usage": True}, **extra):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage:
            usage = chunk.usage
    return "".join(pieces), usage


# -- --allow-image-urls --------------------------------------------------------

def test_an_image_url_answers_as_the_same_image_sent_as_data(client, image_http, vision_images):
    by_data = ask(client, ask_images([data_url(vision_images["red.png"])]))
    by_url = ask(client, ask_images([image_http.url("/red.png")]))
    assert by_url.choices[0].message.content == by_data.choices[0].message.content
    assert by_url.usage.prompt_tokens == by_data.usage.prompt_tokens
    assert "/red.png" in image_http.hits
    text, usage = streamed(client, ask_images([image_http.url("/redirect.png")]))  # one redirect is followed
    assert text == by_data.choices[0].message.content and usage.completion_tokens == 8
    # The URL is the image's original name in the EXIF table.
    exif = ask(client, ask_images([image_http.url("/blue.jpg")]), extra_body={"mlxk": {"exif": True}})
    assert "| 1 | image_" in exif.choices[0].message.content
    assert "| blue.jpg |" in exif.choices[0].message.content  # the name it came with


def test_anthropic_url_sources_are_fetched_too(server, client, image_http, vision_images):
    anthropic = pytest.importorskip("anthropic")
    messages = anthropic.Anthropic(base_url=server.url, api_key="none", max_retries=0, timeout=120).messages
    m = messages.create(model=MODEL[0], max_tokens=8, extra_body={"temperature": 0}, messages=[
        {"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": image_http.url("/red.png")}},
                                     {"type": "text", "text": "Describe the image."}]}])
    assert m.content[0].text == ask(client, ask_images([data_url(vision_images["red.png"])])).choices[0].message.content


@pytest.mark.parametrize("path, status, code, words", [
    ("/missing.png", 400, "invalid_image", "answered 404"),
    ("/page.html", 400, "invalid_image", "text/html, not an image"),
    ("/fake.png", 400, "invalid_image", "is not an image"),
    ("/big.bmp", 413, "payload_too_large", "over 100"),
    ("/big-stream", 413, "payload_too_large", "over 100"),
    ("/to-ftp.png", 400, "invalid_image", "not http(s)"),
    ("/loop.png", 400, "invalid_image", "too many redirects"),
    ("/slow.png", 400, "invalid_image", "no answer within 3 s"),
])
def test_bad_image_urls_are_clear_errors_naming_the_url(server, image_http, path, status, code, words):
    url = image_http.url(path)
    reply = server.http("POST", "/v1/chat/completions", {"messages": ask_images([url]), "max_tokens": 2})
    error = reply.json()["error"]
    assert (reply.status, error["code"]) == (status, code), reply
    assert url in error["message"] and words in error["message"], error
    if path != "/fake.png":  # (that one is refused by the decoder, on the engine thread)
        assert error["param"] == "messages[0].content[0].image_url.url"
    if status == 413:
        assert error["limit_bytes"] == 100_000


def test_a_pending_url_holds_up_no_other_request(server, client, image_http):
    """The fetch waits in its request's greenlet: another request is answered meanwhile."""
    import threading

    from fixtures.server import wait_for

    waiting = {}
    thread = threading.Thread(target=lambda: waiting.update(reply=server.http(
        "POST", "/v1/chat/completions", {"messages": ask_images([image_http.url("/gate.png?t=1")]),
                                         "max_tokens": 2})))
    thread.start()
    assert wait_for(lambda: "/gate.png?t=1" in image_http.hits, timeout=30)
    reply = ask(client, [{"role": "user", "content": "Hello"}], max_tokens=1)
    assert reply.usage.completion_tokens == 1
    assert thread.is_alive()  # its image is still on its way (the gate opens only now)
    image_http.gate.set()
    thread.join(60)
    assert waiting["reply"].status == 200 and waiting["reply"].json()["usage"]["completion_tokens"] == 2
    assert "Traceback" not in server.log()  # (the failed fetches before were errors, not crashes)


# -- the chunk extension -------------------------------------------------------

def split_chunks(text: str) -> list[tuple[str, str, str]]:
    """[(header 'n/N', span, text)] of an answer with chunk headers."""
    marks = list(CHUNK.finditer(text))
    assert marks and marks[0].start() == 0, text
    out = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.append((f"{mark.group(1)}/{mark.group(2)}", mark.group(3), text[mark.end():end]))
    return out


def test_chunk_1_answers_each_image_in_its_own_session(client, vision_images):
    names = ("red.png", "noise.bmp", "green.webp")
    urls = [data_url(vision_images[n], n.rsplit(".", 1)[1]) for n in names]
    alone = [ask(client, ask_images([u])) for u in urls]
    whole = ask(client, ask_images(urls), extra_body={"chunk": 1})
    parts = split_chunks(whole.choices[0].message.content)
    assert [(h, s) for h, s, _ in parts] == [("1/3", "image 1"), ("2/3", "image 2"), ("3/3", "image 3")]
    assert [t for _, _, t in parts] == [a.choices[0].message.content for a in alone]
    assert whole.usage.completion_tokens == sum(a.usage.completion_tokens for a in alone) == 24
    assert whole.usage.prompt_tokens == sum(a.usage.prompt_tokens for a in alone)
    text, usage = streamed(client, ask_images(urls), extra_body={"chunk": 1})
    assert text == whole.choices[0].message.content
    assert (usage.prompt_tokens, usage.completion_tokens) == (whole.usage.prompt_tokens, 24)


def test_chunk_2_and_chunk_tables(client, vision_images):
    urls = [data_url(vision_images["blue.jpg"], "jpeg"), data_url(vision_images["red.png"]),
            data_url(vision_images["noise.bmp"], "bmp")]
    pair = ask(client, ask_images(urls[:2]))
    whole = ask(client, ask_images(urls), extra_body={"chunk": 2})
    parts = split_chunks(whole.choices[0].message.content)
    assert [(h, s) for h, s, _ in parts] == [("1/2", "images 1–2"), ("2/2", "image 3")]
    assert parts[0][2] == pair.choices[0].message.content
    assert whole.usage.completion_tokens == 16
    # One session for all (no chunk field): no headers.
    assert not CHUNK.search(ask(client, ask_images(urls)).choices[0].message.content)
    # The EXIF table per chunk: blue.jpg's in the first, none in the second (red.png has no EXIF).
    tables = ask(client, ask_images(urls[:2]), extra_body={"chunk": 1, "mlxk": {"exif": True}})
    first, second = split_chunks(tables.choices[0].message.content)
    assert first[2].startswith("<details>") and "| 1 | image_" in first[2] and "Canon EOS R5" in first[2]
    assert "<details>" not in second[2]


@pytest.mark.parametrize("value, code", [(0, "invalid_value"), (1.5, "invalid_type"), ("2", "invalid_type"),
                                         (10**6, "invalid_value")])
def test_a_bad_chunk_is_400_naming_it(server, vision_images, value, code):
    reply = server.http("POST", "/v1/chat/completions",
                        {"messages": ask_images([data_url(vision_images["red.png"])]), "chunk": value})
    assert reply.status == 400 and reply.json()["error"]["param"] == "chunk", reply
    assert reply.json()["error"]["code"] == code


# -- images in the turn they came in ---------------------------------------------

def two_turns(url: str) -> list[dict]:
    return [{"role": "user", "content": [image_part(url), {"type": "text", "text": "Describe the image."}]},
            {"role": "assistant", "content": "A photo."},
            {"role": "user", "content": "Where was this taken?"}]


def test_an_image_stays_in_its_turn(client, tiny_vlm, vision_images):
    from mlx_vlm import stream_generate
    from mlx_vlm.prompt_utils import apply_chat_template

    from mlxk_bin.serve.prepare import prepare
    from mlxk_bin.serve.schemas import CHAT, parse_common
    from mlxk_common.engine import SamplingParams, load_engine
    from mlxk_common.engine.images import decode

    url = data_url(vision_images["red.png"])
    engine = load_engine(tiny_vlm)

    class Job:  # what prepare reads of the engine thread's job
        rid = "test"
        sampling = SamplingParams(temperature=0.0)
        request = parse_common({"messages": two_turns(url)}, CHAT, 10**6)

    [request] = prepare(engine, Job, None)
    first, second = request.prompt_text.split("<|im_start|>user\n")[1:]
    assert "<|image_pad|>" in first.split("<|im_end|>")[0] and "<|image_pad|>" not in second
    # The prompt mlx-vlm builds for these messages itself (its server's way), and its greedy answer.
    own = apply_chat_template(engine.processor, engine.config, two_turns(url), num_images=1)
    assert own == request.prompt_text
    image = decode("red.png", vision_images["red.png"].read_bytes(), exif=False).image
    results = list(stream_generate(engine.model, engine.processor, own, image=[image], max_tokens=8,
                                   temperature=0.0))
    tokens = [t for t in results[-1].token_ids if t not in engine.eos_ids]
    reply = ask(client, two_turns(url))
    assert reply.usage.prompt_tokens == len(request.prompt_tokens) == results[-1].prompt_tokens
    assert reply.usage.completion_tokens == len(tokens)
    assert reply.choices[0].message.content == "".join(r.text for r in results)


def test_images_only_in_user_messages(server, vision_images):
    url = data_url(vision_images["red.png"])
    reply = server.http("POST", "/v1/chat/completions", {"max_tokens": 2, "messages": [
        {"role": "system", "content": [image_part(url)]}, {"role": "user", "content": "Hi"}]})
    assert reply.status == 400 and reply.json()["error"]["param"] == "messages[0].content", reply


def test_images_keep_their_slots_with_a_tool_result_image(tiny_vlm, vision_images):
    """Anthropic: a tool_result's image goes into its tool turn, which comes before the user turn
    that carried it; the pixels follow the slots' order, not the order the blocks were read in."""
    from mlxk_bin.serve.anthropic import parse_messages
    from mlxk_bin.serve.prepare import prepare
    from mlxk_common.engine import SamplingParams, load_engine

    def block(name, kind):
        return {"type": "image", "source": {"type": "base64", "media_type": f"image/{kind}",
                                            "data": base64.b64encode(vision_images[name].read_bytes()).decode()}}

    engine = load_engine(tiny_vlm)
    body = {"max_tokens": 4, "messages": [
        {"role": "user", "content": [block("noise.bmp", "bmp"), {"type": "text", "text": "Describe the image."}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "look", "input": {}}]},
        {"role": "user", "content": [block("green.webp", "webp"),
                                     {"type": "tool_result", "tool_use_id": "t1", "content": [block("red.png", "png")]},
                                     {"type": "text", "text": "And these?"}]}]}

    class Job:
        rid = "test"
        sampling = SamplingParams(temperature=0.0)
        request = parse_messages(body, 10**6)

    assert [m["role"] for m in Job.request.messages] == ["user", "assistant", "tool", "user"]
    [request] = prepare(engine, Job, None)
    turns = request.prompt_text.split("<|im_start|>")
    assert [t.count("<|vision_start|>") for t in turns if t.startswith(("user", "tool"))] == [1, 1, 1]

    def grid(name, kind):
        one = {"max_tokens": 4, "messages": [{"role": "user", "content": [block(name, kind)]}]}

        class Alone(Job):
            request = parse_messages(one, 10**6)

        return prepare(engine, Alone, None)[0].inputs["image_grid_thw"].tolist()[0]

    # Slots in prompt order: noise (turn 1), red (the tool turn), green (the last user turn).
    assert grid("red.png", "png") != grid("green.webp", "webp")
    assert request.inputs["image_grid_thw"].tolist() == [grid("noise.bmp", "bmp"), grid("red.png", "png"),
                                                         grid("green.webp", "webp")]
