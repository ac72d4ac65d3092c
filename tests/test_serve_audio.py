"""mlxk-serve's /v1/audio routes through the official openai client, on the
real Whisper tiny.en, with SmolLM2 beside it for chat."""

from __future__ import annotations

import json
import re
import threading

import pytest
from fixtures.tooling import base_env
from fixtures.whisper import SENTENCE, words

pytestmark = pytest.mark.slow

EXPECTED = words(SENTENCE)


@pytest.fixture(scope="module")
def home(tmp_path_factory, smollm2_workspace, whisper_tiny_en, tiny_random_whisper, tiny_random_multilingual_whisper):
    folder = tmp_path_factory.mktemp("audio-home")
    for model in (smollm2_workspace, whisper_tiny_en, tiny_random_whisper, tiny_random_multilingual_whisper):
        (folder / model.name).symlink_to(model)
    return folder


@pytest.fixture(scope="module")
def server(serve, home, smollm2_workspace):
    env = base_env(MLXK_WORKSPACE_HOME=home, MLXK2_MAX_AUDIO="20MB")
    return serve("--model", home / smollm2_workspace.name, env=env)


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=900)


@pytest.fixture(scope="module")
def whisper(home, whisper_tiny_en):
    return str(home / whisper_tiny_en.name)


def test_every_response_format(client, whisper, speech):
    with open(speech["wav"], "rb") as fh:
        plain = client.audio.transcriptions.create(model=whisper, file=fh)
    assert words(plain.text) == EXPECTED
    with open(speech["m4a"], "rb") as fh:
        text = client.audio.transcriptions.create(model=whisper, file=fh, response_format="text")
    assert isinstance(text, str) and words(text) == EXPECTED
    with open(speech["mp3"], "rb") as fh:
        srt = client.audio.transcriptions.create(model=whisper, file=fh, response_format="srt")
    assert re.match(r"1\n00:00:00,000 --> 00:00:0\d,\d{3}\n\S", srt), srt
    with open(speech["flac"], "rb") as fh:
        vtt = client.audio.transcriptions.create(model=whisper, file=fh, response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> "), vtt
    with open(speech["wav"], "rb") as fh:
        verbose = client.audio.transcriptions.create(model=whisper, file=fh, response_format="verbose_json",
                                                     timestamp_granularities=["word", "segment"])
    assert verbose.language == "english" and verbose.duration == pytest.approx(6.96, abs=0.02)
    assert words(verbose.text) == EXPECTED
    assert [s.id for s in verbose.segments] == [0, 1] and verbose.segments[0].start == 0
    assert words(" ".join(w.word for w in verbose.words)) == EXPECTED
    starts = [w.start for w in verbose.words]
    assert starts == sorted(starts)


def test_streamed_transcript_and_prompt(client, whisper, speech):
    with open(speech["wav"], "rb") as fh:
        stream = client.audio.transcriptions.create(model=whisper, file=fh, stream=True,
                                                    prompt="Meeting notes: budget.")
        events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[-1] == "transcript.text.done" and set(kinds[:-1]) == {"transcript.text.delta"}
    assert words("".join(e.delta for e in events[:-1])) == words(events[-1].text) == EXPECTED


def test_translation_route_on_an_english_only_model(client, whisper, speech):
    import openai

    with open(speech["wav"], "rb") as fh, pytest.raises(openai.UnprocessableEntityError) as err:
        client.audio.translations.create(model=whisper, file=fh)
    assert "English-only" in err.value.body["message"]


def test_translation_and_language_on_a_multilingual_model(client, home, tiny_random_multilingual_whisper, speech):
    """Random weights, so the words are noise: the route, the task and the language are what is checked."""
    model = str(home / tiny_random_multilingual_whisper.name)
    with open(speech["wav"], "rb") as fh:
        translated = client.audio.translations.create(model=model, file=fh, response_format="verbose_json")
    assert translated.duration == pytest.approx(6.96, abs=0.02) and isinstance(translated.text, str)
    with open(speech["wav"], "rb") as fh:
        german = client.audio.transcriptions.create(model=model, file=fh, language="de",
                                                    response_format="verbose_json")
    assert german.language == "german"


def test_bad_requests(client, server, whisper, speech, home, smollm2_workspace, tmp_path):
    import openai

    broken = tmp_path / "broken.ogg"
    broken.write_bytes(b"OggS" + b"\x01" * 300)
    with open(broken, "rb") as fh, pytest.raises(openai.BadRequestError) as err:
        client.audio.transcriptions.create(model=whisper, file=fh)
    assert err.value.body["code"] == "invalid_audio" and err.value.body["param"] == "file"
    with open(speech["wav"], "rb") as fh, pytest.raises(openai.UnprocessableEntityError) as err:
        client.audio.transcriptions.create(model=str(home / smollm2_workspace.name), file=fh)
    assert err.value.body["code"] == "capability_not_supported"
    with pytest.raises(openai.APIStatusError) as err:
        client.audio.transcriptions.create(model=whisper, file=("big.wav", b"\0" * (21 * 10**6)))
    assert err.value.status_code == 413
    reply = server.http("POST", "/v1/audio/transcriptions", body=json.dumps({"model": whisper}),
                        headers={"Content-Type": "application/json"})
    assert reply.status == 400 and reply.json()["error"]["code"] == "invalid_content_type", reply
    with open(speech["wav"], "rb") as fh, pytest.raises(openai.BadRequestError) as err:
        client.audio.transcriptions.create(model=whisper, file=fh, response_format="yaml")
    assert err.value.body["param"] == "response_format"
    assert server.health()["status"] == "ok"


def test_chat_is_answered_while_a_long_file_transcribes(client, server, whisper, speech):
    done = {}

    def transcribe():
        with open(speech["long"], "rb") as fh:
            done["text"] = client.audio.transcriptions.create(model=whisper, file=fh, response_format="text")

    worker = threading.Thread(target=transcribe)
    worker.start()
    try:
        answer = client.chat.completions.create(model=server.data["model"], max_tokens=8, temperature=0,
                                                messages=[{"role": "user", "content": "Say hi."}])
        assert answer.choices[0].message.content
        still_running = worker.is_alive()
    finally:
        worker.join(900)
    assert still_running, "the chat answer came only after the whole transcription"
    assert words(done["text"]).count("budget") >= 17
