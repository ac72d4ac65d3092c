"""The chat page with real vision and speech engines behind it, in a real
headless Chromium: a photo pasted for the tiny random Qwen2-VL comes back with
its EXIF table rendered as a folded details block, and a spoken WAV uploaded
for Whisper tiny.en lands in the message box as its transcript.

(tests/test_webui.py covers the page itself on SmolLM2, including the refusal
of an image by a text model; these tests drive the same page functions.)
"""

from __future__ import annotations

import base64

import pytest
from fixtures.tiny_vlm import EXIF_EXPECTED
from fixtures.tooling import base_env
from fixtures.whisper import SENTENCE, words
from test_webui import by_id, chat_bodies, choose_model, load, new_chat, send, set_options, wait_answer

pytestmark = pytest.mark.slow

VISION = "tiny-vlm"
WHISPER = "whisper-tiny.en"


@pytest.fixture(scope="module")
def media_home(tmp_path_factory, tiny_vlm, whisper_tiny_en):
    home = tmp_path_factory.mktemp("webui-media-models")
    (home / VISION).symlink_to(tiny_vlm)
    (home / WHISPER).symlink_to(whisper_tiny_en)
    return home


@pytest.fixture(scope="module")
def media_server(serve, media_home, tmp_path_factory):
    env = base_env(HF_HOME=tmp_path_factory.mktemp("webui-media-hf"), MLXK_WORKSPACE_HOME=media_home)
    return serve("--model", VISION, "--max-models", "2", env=env)


@pytest.fixture(autouse=True)
def quiet_page(browser):
    """No console error and no request to anything but 127.0.0.1, after every test."""
    browser.reset()
    yield
    assert browser.errors([]) == []
    assert browser.foreign_requests() == []


DETAILS = """const answer = [...document.querySelectorAll('#transcript .msg.assistant')].at(-1);
  const block = answer.querySelector(':scope > .md details');
  const rows = block ? [...block.querySelectorAll('tr')].map((r) => [...r.children].map((c) => c.textContent)) : [];
  return block && {open: block.open, summary: block.querySelector('summary').textContent,
                   head: rows[0] ?? [], rows: rows.slice(1)};"""


def test_a_pasted_photo_goes_to_the_vision_model_with_its_exif_table(browser, media_server, vision_images):
    load(browser, media_server)
    choose_model(browser, VISION)
    new_chat(browser)
    set_options(browser, temperature="0", max_tokens="8")
    chips = browser.js("return [...document.querySelectorAll('#caps .chip')].map((c) => c.textContent)")
    assert "vision" in chips
    # Images for the vision model, speech for the Whisper model beside it.
    assert browser.js("return [document.getElementById('attach').hidden, document.getElementById('audio').hidden]") \
        == [False, False]
    jpeg = base64.b64encode(vision_images["blue.jpg"].read_bytes()).decode()
    browser.js("""const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'blue.jpg', {type: 'image/jpeg'}));
      document.getElementById('input').dispatchEvent(
        new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));""", jpeg)
    browser.wait("return document.querySelectorAll('#attachments img').length === 1", what="the pasted photo")
    send(browser, "Where was this photo taken?")
    answer = wait_answer(browser)
    assert "done" in answer["classes"] and not answer["error"], answer
    body = chat_bodies(browser)[-1]
    assert body["model"] == VISION and body["mlxk"] == {"exif": True}
    assert body["messages"][-1]["content"] == [
        {"type": "text", "text": "Where was this photo taken?"},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{jpeg}"}}]
    # The answer opens with the table, folded; its cells are the photo's metadata.
    table = browser.js(DETAILS)
    assert table and table["open"] is False, answer
    assert table["summary"] == "📸 Image Metadata (1 image)"
    assert table["head"] == ["Image", "Filename", "Original", "Location", "Date", "Camera"]
    [row] = table["rows"]
    assert row[0] == "1" and row[1].startswith("image_") and row[1].endswith(".jpeg")
    assert row[3] == f"📍 {EXIF_EXPECTED['latitude']:.4f}°N, {EXIF_EXPECTED['longitude']:.4f}°E"
    assert row[4] == f"📅 {EXIF_EXPECTED['datetime'][:10]}"
    assert row[5] == "Canon EOS R5"
    # Unfolding it is a click on its summary, as a person would.
    browser.driver.find_element("css selector", "#transcript .msg.assistant:last-of-type .md details summary").click()
    assert browser.js(DETAILS)["open"] is True
    # The photo stays in the conversation, shown beside the question.
    assert browser.js("return document.querySelector('#transcript .msg.user img.thumb').src").startswith(
        "data:image/jpeg;base64,")


def test_an_uploaded_recording_is_transcribed_into_the_message_box(browser, media_server, speech):
    load(browser, media_server)
    choose_model(browser, VISION)  # the Whisper model is found beside it
    new_chat(browser)
    wav = base64.b64encode(speech["wav"].read_bytes()).decode()
    browser.js("""const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'meeting.wav', {type: 'audio/wav'}));
      const input = document.getElementById('audio-input');
      input.files = data.files;
      input.dispatchEvent(new Event('change'));""", wav)
    note = browser.wait("const n = document.getElementById('composer-note').textContent;"
                        "return (n.startsWith('Transcribed') || n.startsWith('Transcription failed')) && n",
                        timeout=600, what="the transcription")
    assert note == "Transcribed meeting.wav.", note
    assert words(by_id(browser, "input").get_attribute("value")) == words(SENTENCE)
    [upload] = browser.sent("/v1/audio/transcriptions")  # one multipart upload (the browser keeps its body)
    assert {k.lower(): v for k, v in upload["headers"].items()}["content-type"].startswith("multipart/form-data")
