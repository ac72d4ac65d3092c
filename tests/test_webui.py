"""The web chat page in a real headless Chromium against a real mlxk-serve
running SmolLM2 (copies of it in a workspace folder, so the page can switch
models and one copy can vanish; one copy's chat template opens a thinking
block, so its answers come as reasoning).

After every test: no console error (beyond the HTTP errors a test provokes
on purpose) and no request to anything but 127.0.0.1.  The tests run in
file order and share the browser; each makes the conversations it needs.
The answers are greedy (temperature 0), so their words are known.
Screenshots (desktop and phone, light and dark) go to the browser fixture's
folder; docs/ keeps a copy of four of them.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import struct
import time
import wave
import zlib

import pytest
from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

MAIN = "SmolLM2-135M-Instruct-Q4"
OTHER = "SmolLM2-copy"
DOOMED = "SmolLM2-doomed"
THINKING = "SmolLM2-thinking"
KEY = "webui-key-7f3a"
HTTP_ERROR = "Failed to load resource: the server responded with a status of {}"


@pytest.fixture(scope="module")
def models_home(smollm2_workspace, tmp_path_factory):
    home = tmp_path_factory.mktemp("webui-models")
    for name in (MAIN, OTHER, DOOMED, THINKING):  # hard links: four models for the disk space of one
        shutil.copytree(smollm2_workspace, home / name, copy_function=_link)
    # Like reasoning models' templates: the answer starts inside a thinking block.
    config_file = home / THINKING / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config["chat_template"] = config["chat_template"].replace(
        "'<|im_start|>assistant\n'", "'<|im_start|>assistant\n<think>\n'") + "{# reasoning ends at </think> #}"
    assert "<think>" in config["chat_template"]
    config_file.unlink()  # a hard link: write a file of its own
    config_file.write_text(json.dumps(config))
    return home


def _link(src, dst):
    try:
        import os

        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@pytest.fixture(scope="module")
def env(models_home, tmp_path_factory):
    return base_env(HF_HOME=tmp_path_factory.mktemp("webui-hf"), MLXK_WORKSPACE_HOME=models_home)


@pytest.fixture(scope="module")
def server(serve, env):
    return serve("--model", MAIN, "--max-models", "2", env=env)


@pytest.fixture(autouse=True)
def expected_errors(browser):
    """Each test may add patterns of console errors it provokes; anything else fails it."""
    browser.reset()
    allowed: list[re.Pattern] = []
    yield allowed
    assert browser.errors(allowed) == []
    assert browser.foreign_requests() == []


# -- driving the page -------------------------------------------------------------------------

def load(browser, server):
    browser.open(server.url + "/")
    browser.wait("return document.querySelector('#model').value", what="the model list")


def by_id(browser, element_id):
    from selenium.webdriver.common.by import By

    return browser.driver.find_element(By.ID, element_id)


def set_options(browser, temperature="0", max_tokens="32"):
    """Through the settings panel, as a person would."""
    by_id(browser, "toggle-settings").click()
    for field, value in (("temperature", temperature), ("max-tokens", max_tokens)):
        box = by_id(browser, field)
        box.clear()
        box.send_keys(value)
    by_id(browser, "toggle-settings").click()


def choose_model(browser, name):
    from selenium.webdriver.support.ui import Select

    Select(by_id(browser, "model")).select_by_value(name)


def new_chat(browser):
    by_id(browser, "new-chat").click()


def fresh_chat(browser, server, max_tokens: int, model: str | None = None):
    """The page loaded anew, a new conversation, greedy answers of at most ``max_tokens``."""
    load(browser, server)
    new_chat(browser)
    set_options(browser, temperature="0", max_tokens=str(max_tokens))
    if model:
        choose_model(browser, model)


def send(browser, text):
    from selenium.webdriver.common.keys import Keys

    box = by_id(browser, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


ANSWERS = """return [...document.querySelectorAll('#transcript .msg.assistant')].map((a) => ({
  classes: a.className, text: a.querySelector(':scope > .md')?.textContent ?? '',
  reasoning: a.querySelector('details.reasoning') && {open: a.querySelector('details.reasoning').open,
    summary: a.querySelector('details.reasoning > summary').textContent,
    text: a.querySelector('details.reasoning .md').textContent},
  meta: [...a.querySelectorAll('.meta span')].map((s) => s.textContent),
  error: a.querySelector('.failure')?.textContent ?? '',
  actions: [...a.querySelectorAll('.actions button')].map((b) => b.textContent)}));"""


def answers(browser) -> list[dict]:
    return browser.js(ANSWERS)


def wait_answer(browser, timeout=300) -> dict:
    """The last answer, once the page is no longer generating."""
    browser.wait("return !document.body.classList.contains('running') "
                 "&& document.querySelector('#transcript .msg.assistant:last-of-type:not(.streaming)')",
                 timeout=timeout, what="the answer to end")
    return answers(browser)[-1]


def sidebar(browser) -> list[str]:
    return browser.js("return [...document.querySelectorAll('#conversations li .title')].map((b) => b.textContent)")


def open_chat(browser, title):
    from selenium.webdriver.common.by import By

    for item in browser.driver.find_elements(By.CSS_SELECTOR, "#conversations li .title"):
        if item.text == title:
            item.click()
            return
    raise AssertionError(f"no conversation {title!r} in {sidebar(browser)}")


def stored(browser) -> list[dict]:
    return browser.js("return JSON.parse(localStorage.getItem('mlxk.chats.v1') || '{}').conversations || []")


def chat_bodies(browser) -> list[dict]:
    return [json.loads(r["postData"]) for r in browser.sent("/v1/chat/completions") if r.get("postData")]


# -- the tests -----------------------------------------------------------------------------------

def test_page_loads_and_lists_the_models_with_capabilities(browser, server):
    load(browser, server)
    options = browser.js("return [...document.querySelectorAll('#model option')].map((o) => o.value)")
    assert options[0] == MAIN and set(options) == {MAIN, OTHER, DOOMED, THINKING}
    chips = browser.js("return [...document.querySelectorAll('#caps .chip')].map((c) => c.textContent)")
    assert "chat" in chips and "text-generation" in chips and "8192 context" in chips
    # Text models: no image or audio controls.
    assert browser.js("return [document.getElementById('attach').hidden, document.getElementById('audio').hidden]") \
        == [True, True]
    assert browser.js("return document.activeElement.id") == "input"
    # Shift+Enter starts a new line; Enter on an empty box sends nothing.
    from selenium.webdriver.common.keys import Keys

    box = by_id(browser, "input")
    box.send_keys(Keys.ENTER)
    box.send_keys("line one", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "line two")
    assert box.get_attribute("value") == "line one\nline two"
    assert browser.js("return document.querySelectorAll('#transcript .msg').length") == 0
    box.clear()
    browser.collect()
    loaded = [r["url"] for r in browser.requests]
    assert server.url + "/ui/app.js" in loaded and server.url + "/v1/models" in loaded  # the log sees them


def test_streamed_answer(browser, server):
    fresh_chat(browser, server, 24)
    # Record every text the answer shows while it streams.
    browser.js("""window.seen = new Set();
      new MutationObserver(() => {
        const md = document.querySelector('#transcript .msg.assistant.streaming .md');
        if (md && md.textContent) window.seen.add(md.textContent);
      }).observe(document.getElementById('transcript'), {subtree: true, childList: true, characterData: true});""")
    send(browser, "What is the capital of France?")
    answer = wait_answer(browser)
    assert "Paris" in answer["text"], answer
    assert "done" in answer["classes"]
    partial = [t for t in browser.js("return [...window.seen]") if t != answer["text"]]
    assert partial and all(answer["text"].startswith(t.rstrip()) for t in partial), partial  # it grew piece by piece
    assert answer["meta"][0] == MAIN
    assert any(re.fullmatch(r"\d+ tokens", m) for m in answer["meta"]), answer
    assert any(re.fullmatch(r"\d+\.\d tokens/s", m) for m in answer["meta"]), answer
    assert any(m.startswith("prompt ") for m in answer["meta"]), answer
    body = chat_bodies(browser)[-1]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0 and body["max_tokens"] == 24 and body["model"] == MAIN
    assert body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert sidebar(browser)[0] == "What is the capital of France?"


def test_regenerate_edit_and_resend_and_code_blocks(browser, server):
    fresh_chat(browser, server, 80)
    send(browser, "What is the capital of France?")
    first = wait_answer(browser)
    assert "Paris" in first["text"] and "Regenerate" in first["actions"]
    browser.driver.find_element("css selector", "#transcript .msg.assistant .actions button:last-child").click()
    again = wait_answer(browser)
    assert again["text"] == first["text"] and len(answers(browser)) == 1  # greedy: the same answer, replaced
    # Edit the question: what came after it goes, the new question is answered.
    browser.driver.find_element("css selector", "#transcript .msg.user .actions button").click()
    editor = browser.driver.find_element("css selector", "#transcript .msg.user.editing textarea")
    editor.clear()
    editor.send_keys("What is the capital of Germany?")
    browser.driver.find_element("css selector", "#transcript .msg.user.editing .primary").click()
    edited = wait_answer(browser)
    assert "Berlin" in edited["text"] and len(answers(browser)) == 1, edited
    assert browser.js("return document.querySelector('#transcript .msg.user .text').textContent") \
        == "What is the capital of Germany?"
    # A follow-up carries the history, and Markdown code comes out as a code block with a copy button.
    send(browser, "Write a Python function that reverses a string.")
    code = wait_answer(browser)
    body = chat_bodies(browser)[-1]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == stored(browser)[0]["messages"][1]["content"]
    assert "Berlin" in body["messages"][1]["content"]
    block = browser.js("""const b = [...document.querySelectorAll('#transcript .msg.assistant')].at(-1).querySelector('.code');
      return b && {lang: b.querySelector('.lang').textContent, code: b.querySelector('pre code').textContent,
                   copy: b.querySelector('button.copy').textContent};""")
    assert block and block["lang"] == "python" and "def " in block["code"] and block["copy"] == "Copy", code
    browser.cdp("Browser.grantPermissions", {"origin": server.url,
                                             "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    browser.driver.find_element("css selector", "#transcript .msg.assistant:last-of-type button.copy").click()
    assert browser.js_async("return await navigator.clipboard.readText();") == block["code"]
    assert sidebar(browser)[0] == "What is the capital of Germany?"


def test_stop_mid_answer(browser, server):
    from selenium.webdriver.common.keys import Keys

    fresh_chat(browser, server, 400)
    send(browser, "Write a long story about a dragon.")
    browser.wait("const md = document.querySelector('#transcript .msg.assistant.streaming .md');"
                 "return md && md.textContent.length > 40", timeout=240, what="the story to begin")
    assert browser.js("return !document.getElementById('stop').hidden && document.getElementById('send').hidden")
    browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)  # Esc stops
    answer = wait_answer(browser, timeout=30)
    assert "stopped" in answer["classes"] and "stopped" in answer["meta"], answer
    assert len(answer["text"]) > 40 and any(m.startswith("≈") for m in answer["meta"]), answer
    # The server cancelled the generation (the disconnect), long before 400 tokens.
    deadline = time.monotonic() + 20
    while server.health()["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.health()["active"] == 0
    assert stored(browser)[0]["messages"][-1]["status"] == "stopped"


def test_reload_finds_conversations_rename_delete_export(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    load(browser, server)
    titles = sidebar(browser)
    assert {"What is the capital of France?", "What is the capital of Germany?",
            "Write a long story about a dragon."} <= set(titles)
    current = browser.js("return document.querySelector('#transcript .msg.user .text')?.textContent")
    browser.driver.refresh()
    browser.wait("return document.querySelector('#model').value", what="the model list")
    assert sidebar(browser) == titles
    assert browser.js("return document.querySelector('#transcript .msg.user .text')?.textContent") == current
    open_chat(browser, "What is the capital of France?")
    assert "Paris" in answers(browser)[-1]["text"]
    # Rename: the pencil, a new name, Enter.
    item = browser.driver.find_element(By.CSS_SELECTOR, "#conversations li.current")
    item.find_element(By.CSS_SELECTOR, "button[title=Rename]").click()
    field = browser.driver.find_element(By.CSS_SELECTOR, "#conversations input.rename")
    field.send_keys("Capitals", Keys.ENTER)  # the old name is selected: typing replaces it
    assert "Capitals" in sidebar(browser)
    # Delete asks once more before it deletes.
    open_chat(browser, "Write a long story about a dragon.")
    delete = browser.driver.find_element(By.CSS_SELECTOR, "#conversations li.current button[title=Delete]")
    delete.click()
    assert "Write a long story about a dragon." in sidebar(browser)
    delete.click()
    assert "Write a long story about a dragon." not in sidebar(browser)
    assert browser.js("return document.querySelectorAll('#transcript .msg').length") == 0
    browser.driver.refresh()
    browser.wait("return document.querySelector('#model').value", what="the model list")
    after = sidebar(browser)
    assert "Capitals" in after and "Write a long story about a dragon." not in after
    assert len(after) == len(titles) - 1
    # Export: every conversation in one JSON file.
    for old in browser.downloads.glob("*"):
        old.unlink()
    by_id(browser, "export").click()
    deadline = time.monotonic() + 20
    while not list(browser.downloads.glob("mlxk-chats-*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    exported = json.loads(next(browser.downloads.glob("mlxk-chats-*.json")).read_text())
    assert sorted(c["id"] for c in exported["conversations"]) == sorted(c["id"] for c in stored(browser))
    capitals = next(c for c in exported["conversations"] if c["title"] == "Capitals")
    assert [m["role"] for m in capitals["messages"]] == ["user", "assistant"]
    assert "Paris" in capitals["messages"][1]["content"] and capitals["messages"][1]["usage"]["completion_tokens"]


def test_switch_model_with_a_system_prompt(browser, server):
    from selenium.webdriver.common.keys import Keys

    fresh_chat(browser, server, 8)
    by_id(browser, "toggle-settings").click()
    by_id(browser, "system").send_keys("You are a pirate.")
    by_id(browser, "toggle-settings").click()
    choose_model(browser, OTHER)
    send(browser, "Hello! Who are you?")
    answer = wait_answer(browser)
    assert "done" in answer["classes"] and answer["text"], answer
    assert answer["meta"][0] == OTHER
    body = chat_bodies(browser)[-1]
    assert body["model"] == OTHER
    assert body["messages"] == [{"role": "system", "content": "You are a pirate."},
                                {"role": "user", "content": "Hello! Who are you?"}]
    assert stored(browser)[0]["system"] == "You are a pirate."
    open_chat(browser, "Capitals")
    assert browser.js("return document.getElementById('system').value") == ""  # each conversation its own
    new_chat(browser)  # new chats start with the last prompt typed: clear it for the next tests
    assert browser.js("return document.getElementById('system').value") == "You are a pirate."
    by_id(browser, "toggle-settings").click()
    by_id(browser, "system").send_keys(Keys.CONTROL, "a")
    by_id(browser, "system").send_keys(Keys.BACKSPACE)
    by_id(browser, "toggle-settings").click()
    assert browser.js("return JSON.parse(localStorage.getItem('mlxk.settings.v1')).system") == ""
    assert OTHER in server.health()["loaded"]
    load(browser, server)
    assert browser.js("return document.querySelector('#model').value") == OTHER  # remembered
    assert browser.js("return document.querySelector('#model option:checked').textContent") == f"{OTHER} (loaded)"
    choose_model(browser, MAIN)


def test_reasoning_is_shown_folded(browser, server):
    fresh_chat(browser, server, 12, THINKING)
    send(browser, "Why is the sky blue?")
    browser.wait("return document.querySelector('#transcript .msg.assistant.streaming details.reasoning')",
                 timeout=240, what="the reasoning to stream")
    answer = wait_answer(browser)
    assert "done" in answer["classes"], answer
    reasoning = answer["reasoning"]
    assert reasoning and reasoning["open"] is False and reasoning["summary"] == "Reasoning", answer
    assert reasoning["text"].strip() and "<think>" not in reasoning["text"], answer
    assert any(re.fullmatch(r"12 tokens", m) for m in answer["meta"]), answer
    choose_model(browser, MAIN)


def test_unknown_model_error_is_shown_in_place(browser, server, models_home, expected_errors):
    expected_errors.append(re.compile(re.escape(HTTP_ERROR.format(404))))
    fresh_chat(browser, server, 8)
    shutil.rmtree(models_home / DOOMED)  # gone after the page listed it
    choose_model(browser, DOOMED)
    send(browser, "Tell me a joke.")
    answer = wait_answer(browser)
    assert "error" in answer["classes"], answer
    assert answer["error"].startswith("Error 404") and "model_not_found" in answer["error"], answer
    assert "Regenerate" in answer["actions"]
    assert browser.js("return document.querySelector('#transcript .msg.user .text').textContent") == "Tell me a joke."
    # Still usable: another model, and the failed answer is tried again.
    choose_model(browser, MAIN)
    browser.driver.find_element("css selector", "#transcript .msg.assistant .actions button:last-child").click()
    retried = wait_answer(browser)
    assert "done" in retried["classes"] and retried["text"] and len(answers(browser)) == 1, retried


def test_markdown_is_rendered_and_nothing_in_it_runs(browser, server, expected_errors):
    # The Trusted Types probe below logs its refusal as a console error.
    expected_errors.append(re.compile("TrustedHTML"))
    load(browser, server)
    exif = ("<details>\n<summary>📸 Image Metadata (2 images)</summary>\n\n<!-- mlxk:filenames -->\n"
            "| Image | Filename | Original | Location | Date | Camera |\n"
            "|-------|----------|----------|----------|------|--------|\n"
            "| 1 | image_7673eb86.jpeg | paris.jpg | 📍 48.8584°N, 2.2945°E | 📅 2024-06-01 | Canon EOS R5 |\n"
            "| 2 | image_ea4dc7c1.jpeg | none.jpg | - | - | - |\n\n</details>\n\nA tower.")
    result = browser.js_async("""
      const {renderMarkdown, safeHref} = await import('./ui/markdown.js');
      const render = (text) => { const div = document.createElement('div'); div.append(renderMarkdown(text)); return div; };
      const hostile = render([
        '<script>window.ran = 1</script>', '<img src=x onerror="window.ran = 2">', '<iframe src="https://example.org">',
        '[click](javascript:window.ran=3) [two]( JAVASCRIPT:alert(1) ) [three](java\\tscript:alert(1)) [rel](/v1/models)',
        '![pic](https://example.org/x.png)', '<table><tr><td onclick="window.ran = 4">cell</td></tr></table>',
        '<details open><summary onclick="x">s</summary>', '<a href="https://example.org">raw</a>',
        '&lt;b&gt;not bold&lt;/b&gt; &#60;i&#62;', '</details>',
      ].join('\\n\\n'));
      const tags = new Set([...hostile.querySelectorAll('*')].map((e) => e.localName));
      const attributes = [...hostile.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name));
      const md = render([
        '# Title', '', 'Some **bold**, *italic*, ~~gone~~, `x < y` and snake_case_name.', '',
        '- one', '  - nested', '- two', '', '3. three', '4. four', '', '> quoted', '', '---', '',
        '| a | b |', '|---|--:|', '| 1 | 2 |', '', '```python', 'print("<b>")', '```', '',
        'See <https://example.org/a> and https://example.org/b_c. Or [docs](https://example.org/d "t").',
      ].join('\\n'));
      const exif = render(arguments[0]);
      const deep = render('>'.repeat(5000) + ' x\\n' + '- '.repeat(3000) + 'y\\n' + 'a ' + '*a '.repeat(3000));
      let sink;
      try { document.createElement('div').innerHTML = '<b>x</b>'; sink = 'allowed'; } catch (e) { sink = e.name; }
      return {
        ran: window.ran ?? null, tags: [...tags].sort(), attributes: [...new Set(attributes)].sort(),
        hostileText: hostile.textContent,
        links: [...md.querySelectorAll('a')].map((a) => [a.getAttribute('href'), a.textContent, a.rel, a.target]),
        hrefs: [...hostile.querySelectorAll('a')].map((a) => a.getAttribute('href')),
        heading: md.querySelector('h1')?.textContent, strong: md.querySelector('strong')?.textContent,
        em: [...md.querySelectorAll('em')].map((e) => e.textContent), del: md.querySelector('del')?.textContent,
        inlineCode: md.querySelector('p code')?.textContent,
        nested: md.querySelector('ul > li > ul > li')?.textContent, olStart: md.querySelector('ol')?.getAttribute('start'),
        quote: md.querySelector('blockquote')?.textContent, rule: Boolean(md.querySelector('hr')),
        table: [...md.querySelectorAll('table tr')].map((r) => [...r.children].map((c) => c.localName + ':' + c.textContent)),
        right: md.querySelector('td.align-right')?.textContent,
        code: md.querySelector('.code pre code')?.textContent, lang: md.querySelector('.code .lang')?.textContent,
        copy: md.querySelector('.code button.copy')?.textContent,
        exifSummary: exif.querySelector('details > summary')?.textContent, exifOpen: exif.querySelector('details')?.open,
        exifRows: [...exif.querySelectorAll('details table tr')].map((r) => [...r.children].map((c) => c.textContent)),
        exifAfter: exif.querySelector(':scope > p')?.textContent, exifText: exif.textContent,
        deep: deep.textContent.length > 0, sink,
        safe: ['https://a.b/c', 'mailto:x@y.z', 'javascript:alert(1)', 'data:text/html,x', '//evil.example', 'vbscript:x']
          .map((u) => safeHref(u)),
      };
    """, exif)
    assert result["ran"] is None
    assert set(result["tags"]) <= {"a", "br", "div", "p", "span", "table", "tr"}, result["tags"]
    assert set(result["attributes"]) <= {"class", "href", "rel", "target", "title"}, result["attributes"]
    assert "<script>window.ran = 1</script>" in result["hostileText"]
    assert '<img src=x onerror="window.ran = 2">' in result["hostileText"]
    assert '<td onclick="window.ran = 4">cell' in result["hostileText"]
    assert "<b>not bold</b> <i>" in result["hostileText"]
    assert "[image: pic]" in result["hostileText"]
    assert result["hrefs"] == ["https://example.org/x.png"]  # the image, as a link; no javascript:, no relative URL
    assert result["links"] == [["https://example.org/a", "https://example.org/a", "noopener noreferrer", "_blank"],
                               ["https://example.org/b_c", "https://example.org/b_c", "noopener noreferrer", "_blank"],
                               ["https://example.org/d", "docs", "noopener noreferrer", "_blank"]]
    assert result["heading"] == "Title" and result["strong"] == "bold" and result["em"] == ["italic"]
    assert result["del"] == "gone" and result["inlineCode"] == "x < y"
    assert result["nested"] == "nested" and result["olStart"] == "3"
    assert result["quote"] == "quoted" and result["rule"]
    assert result["table"] == [["th:a", "th:b"], ["td:1", "td:2"]] and result["right"] == "2"
    assert result["code"] == 'print("<b>")' and result["lang"] == "python" and result["copy"] == "Copy"
    assert result["exifSummary"] == "📸 Image Metadata (2 images)" and result["exifOpen"] is False
    assert result["exifRows"][0] == ["Image", "Filename", "Original", "Location", "Date", "Camera"]
    assert result["exifRows"][1][3] == "📍 48.8584°N, 2.2945°E" and len(result["exifRows"]) == 3
    assert result["exifAfter"] == "A tower." and "mlxk:filenames" not in result["exifText"]
    assert result["deep"]
    assert result["sink"] == "TypeError"  # the server's CSP enforces Trusted Types: HTML strings cannot become markup
    assert result["safe"] == ["https://a.b/c", "mailto:x@y.z", None, None, None, None]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + bytes([200, 60, 40]) * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))


def tiny_wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 1600)
    return out.getvalue()


# No model here reads images or transcribes audio, so the page is shown the
# server's real listing with two capabilities added (the one stand-in in
# these tests); the requests it then sends go to the real server, which
# validates the image part and refuses what SmolLM2 cannot do.
PRETEND_CAPABILITIES = """(() => {
  const real = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await real(input, init);
    if (!String(input).endsWith('v1/models') || !response.ok) return response;
    const doc = await response.json();
    const first = doc.data[0];
    doc.data = [{...first, capabilities: [...first.capabilities, 'vision']},
                {...first, id: 'whisper-tiny', capabilities: ['speech-to-text']}];
    return new Response(JSON.stringify(doc), {status: 200, headers: {'Content-Type': 'application/json'}});
  };
})();"""


def test_image_and_audio_controls(browser, server, expected_errors):
    expected_errors.append(re.compile(re.escape(HTTP_ERROR.format(422))))
    expected_errors.append(re.compile(re.escape(HTTP_ERROR.format(404))))
    script = browser.cdp("Page.addScriptToEvaluateOnNewDocument", {"source": PRETEND_CAPABILITIES})["identifier"]
    try:
        load(browser, server)
    finally:
        browser.cdp("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script})
    choose_model(browser, MAIN)
    new_chat(browser)
    set_options(browser, temperature="0", max_tokens="8")
    assert browser.js("return [document.getElementById('attach').hidden, document.getElementById('audio').hidden]") \
        == [False, False]
    # Paste an image into the message box.
    png = base64.b64encode(tiny_png()).decode()
    browser.js("""const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'red.png', {type: 'image/png'}));
      document.getElementById('input').dispatchEvent(
        new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));""", png)
    browser.wait("return document.querySelectorAll('#attachments img').length === 1", what="the pasted image")
    send(browser, "What colour is this picture?")
    answer = wait_answer(browser)
    body = chat_bodies(browser)[-1]
    assert body["messages"][-1]["content"] == [
        {"type": "text", "text": "What colour is this picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}]
    # The server checked the image and refused it for a text model, shown in place.
    assert answer["error"].startswith("Error 422") and "capability_not_supported" in answer["error"], answer
    assert browser.js("return document.querySelector('#transcript .msg.user img.thumb').src").startswith(
        "data:image/png;base64,")
    assert browser.js("return document.querySelectorAll('#attachments img').length") == 0
    # An audio file goes to the transcription endpoint as a multipart form.
    wav = base64.b64encode(tiny_wav()).decode()
    browser.js("""const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'hello.wav', {type: 'audio/wav'}));
      const input = document.getElementById('audio-input');
      input.files = data.files;
      input.dispatchEvent(new Event('change'));""", wav)
    note = browser.wait("const n = document.getElementById('composer-note');"
                        "return n.textContent.startsWith('Transcription failed') && n.textContent",
                        what="the transcription's answer")
    assert "not_found" in note or "no route" in note or "model" in note, note
    sent = browser.sent("/v1/audio/transcriptions")
    assert len(sent) == 1
    headers = {k.lower(): v for k, v in sent[0]["headers"].items()}
    assert headers["content-type"].startswith("multipart/form-data; boundary=")


def test_api_key_is_asked_once_and_sent(browser, serve, env, expected_errors):
    from selenium.webdriver.common.keys import Keys

    expected_errors.append(re.compile(re.escape(HTTP_ERROR.format(401))))
    keyed = serve("--api-key", KEY, env=env)
    browser.open(keyed.url + "/")  # the page itself loads without the key
    browser.wait("return document.getElementById('key-dialog').open", what="the key dialog")
    assert browser.js("return document.getElementById('key-message').textContent") == "This server needs its API key."
    by_id(browser, "key-input").send_keys("wrong", Keys.ENTER)
    browser.wait("return document.getElementById('key-message').textContent.includes('refused')",
                 what="the refusal")
    assert browser.js("return document.getElementById('key-dialog').open")
    by_id(browser, "key-input").send_keys(KEY, Keys.ENTER)
    browser.wait("return document.querySelector('#model').value", what="the model list")
    assert not browser.js("return document.getElementById('key-dialog').open")
    assert browser.js("return sessionStorage.getItem('mlxk.apiKey')") == KEY
    assert browser.js("return localStorage.getItem('mlxk.apiKey')") is None
    # Reloaded, the tab still has the key: no question; every API request carries it.
    browser.driver.refresh()
    browser.wait("return document.querySelector('#model').value", what="the model list")
    assert not browser.js("return document.getElementById('key-dialog').open")
    set_options(browser, temperature="0", max_tokens="3")
    choose_model(browser, MAIN)
    send(browser, "Hi!")
    answer = wait_answer(browser)
    assert "done" in answer["classes"], answer
    chat = browser.sent("/v1/chat/completions")[-1]
    assert {k.lower(): v for k, v in chat["headers"].items()}["authorization"] == f"Bearer {KEY}"
    browser.collect()
    assert all(r["url"].startswith(keyed.url) for r in browser.requests)


SHOTS = {"desktop": (1280, 800), "phone": (390, 844)}


def test_screenshots_desktop_and_phone_light_and_dark(browser, server):
    load(browser, server)
    open_chat(browser, "What is the capital of Germany?")
    assert len(answers(browser)) == 2
    try:
        for device, (width, height) in SHOTS.items():
            for scheme in ("light", "dark"):
                browser.view(width, height, dark=scheme == "dark")
                browser.js("document.getElementById('transcript').scrollTop = 1e9")
                time.sleep(0.3)  # a frame for the new layout
                background = browser.js("return getComputedStyle(document.body).backgroundColor")
                assert (background == "rgb(23, 25, 28)") == (scheme == "dark"), background
                sidebar_shown = browser.js("return getComputedStyle(document.getElementById('sidebar')).transform")
                assert (sidebar_shown != "none") == (device == "phone")  # a drawer, closed, on phones
                overflow = browser.js("return document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (device, overflow)  # nothing wider than the screen
                path = browser.screenshot(f"webui-{device}-{scheme}")
                assert path.stat().st_size > 5000
    finally:
        browser.reset_view()
