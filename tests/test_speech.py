"""Speech to text: mlxk-convert --from-ct2 and mlx-run --audio, on the real
Whisper tiny.en (imported from faster-whisper's CTranslate2 form) and on a
random tiny Whisper for the pipeline's shape."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys

import pytest
from fixtures.tooling import base_env, executable, run_cli
from fixtures.whisper import SENTENCE, words

EXPECTED = words(SENTENCE)


# -- the import -------------------------------------------------------------------------

def test_from_ct2_writes_a_strict_mlx_whisper(whisper_tiny_en, whisper_ct2):
    config = json.loads((whisper_tiny_en / "config.json").read_text())
    assert config["model_type"] == "whisper"
    assert {k: config[k] for k in ("n_mels", "n_audio_layer", "n_text_layer", "n_vocab", "n_text_ctx")} == {
        "n_mels": 80, "n_audio_layer": 4, "n_text_layer": 4, "n_vocab": 51864, "n_text_ctx": 448}
    tokenizer = json.loads((whisper_tiny_en / "tokenizer.json").read_text())
    ids = {t["content"]: t["id"] for t in tokenizer["added_tokens"]}
    vocabulary = (whisper_ct2 / "vocabulary.txt").read_text().splitlines()
    assert ids["<|0.00|>"] == 50363 and ids["<|30.00|>"] == 51863
    assert vocabulary[ids["<|0.00|>"]] == "<|0.00|>" and vocabulary[ids["<|30.00|>"]] == "<|30.00|>"
    generation = json.loads((whisper_tiny_en / "generation_config.json").read_text())
    assert generation["alignment_heads"] == json.loads((whisper_ct2 / "config.json").read_text())["alignment_heads"]
    show = run_cli(["mlxk-show", str(whisper_tiny_en), "--json"])
    assert show.code == 0, show
    assert "speech-to-text" in json.dumps(show.json())


def _ct2_file(path, variables):
    """A CTranslate2 model.bin (version 6) of ``variables``: (name, shape, dtype code, bytes)."""
    def text(s):
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = struct.pack("<I", 6) + text("WhisperSpec") + struct.pack("<II", 3, len(variables))
    for name, shape, code, data in variables:
        out += text(name) + struct.pack("<B", len(shape)) + struct.pack(f"<{len(shape)}I", *shape)
        out += struct.pack("<BI", code, len(data)) + data
    path.write_bytes(out + struct.pack("<I", 0))


def test_from_ct2_refuses_int8_and_garbage(whisper_ct2, tmp_path):
    src = tmp_path / "int8"
    src.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (src / name).write_bytes((whisper_ct2 / name).read_bytes())
    _ct2_file(src / "model.bin", [
        ("encoder/conv1/weight", (4, 80, 3), 4, b"\0" * 4 * 80 * 3 * 2),
        ("encoder/num_heads", (), 2, struct.pack("<h", 1)), ("decoder/num_heads", (), 2, struct.pack("<h", 1)),
        ("decoder/embeddings/weight", (51864, 4), 1, b"\0" * 51864 * 4),
        ("decoder/embeddings/weight_scale", (51864,), 0, b"\0" * 51864 * 4),
        ("decoder/position_encodings/encodings", (448, 4), 4, b"\0" * 448 * 4 * 2)])
    result = run_cli(["mlxk-convert", src, tmp_path / "out", "--from-ct2", "--json"])
    assert result.code == 1 and result.json()["error"]["type"] == "unsupported_format", result
    assert "int8" in result.json()["error"]["message"]
    (src / "model.bin").write_bytes(b"\x06\0\0\0garbage")
    result = run_cli(["mlxk-convert", src, tmp_path / "out", "--from-ct2", "--json"])
    assert result.code == 1 and result.json()["error"]["type"] == "unsupported_format", result
    assert not (tmp_path / "out").exists()


# -- the pipeline, on a random tiny Whisper ------------------------------------------------

def test_ndjson_segments_then_result(tiny_random_whisper, speech):
    result = run_cli(["mlx-run", tiny_random_whisper, "--audio", speech["wav"], "--ndjson"])
    assert result.code == 0, result
    events = result.ndjson()
    assert events[-1]["event"] == "result"
    final = events[-1]
    assert final["file"] == str(speech["wav"]) and final["language"] == "en" and final["task"] == "transcribe"
    assert final["duration_s"] == pytest.approx(6.96, abs=0.02)
    assert set(final["timing"]) == {"load_s", "audio_s", "rtf"}
    segments = [e for e in events[:-1] if e["event"] == "segment"]
    assert [s["id"] for s in segments] == [s["id"] for s in final["segments"]]
    assert all(e["event"] == "segment" for e in events[:-1])


def test_stdin_and_several_files(tiny_random_whisper, speech):
    proc = subprocess.run([executable("mlx-run"), str(tiny_random_whisper), "--audio", "-", str(speech["flac"]),
                           "--json"], input=speech["wav"].read_bytes(), capture_output=True, env=base_env(),
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["data"]
    assert data["count"] == 2 and data["errors"] == 0
    assert [r["file"] for r in data["results"]] == ["-", str(speech["flac"])]


def test_corrupt_and_missing_files_are_invalid_audio(tiny_random_whisper, speech, tmp_path):
    bad = tmp_path / "broken.m4a"
    bad.write_bytes(b"\0\0\0\x18ftypM4A " + b"\x13" * 500)
    result = run_cli(["mlx-run", tiny_random_whisper, "--audio", bad, "--json"])
    assert result.code == 1, result
    error = result.json()["error"]
    assert error["type"] == "invalid_audio" and error["file"] == str(bad)
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(speech["wav"].read_bytes()[:30])
    result = run_cli(["mlx-run", tiny_random_whisper, "--audio", truncated])
    assert result.code == 1 and "not a readable audio file" in result.stderr, result
    assert "Traceback" not in result.stderr and str(truncated) in result.stderr
    result = run_cli(["mlx-run", tiny_random_whisper, "--audio", tmp_path / "nope.wav", speech["wav"], "--ndjson"])
    events = result.ndjson()
    assert result.code == 1 and events[0]["event"] == "error" and events[0]["error"]["type"] == "invalid_audio"
    assert events[-1]["event"] == "result"


def test_audio_usage_errors(tiny_random_whisper, smollm2_workspace, speech):
    result = run_cli(["mlx-run", tiny_random_whisper, "hello", "--audio", speech["wav"]])
    assert result.code == 2, result
    result = run_cli(["mlx-run", tiny_random_whisper, "--audio", speech["wav"], "--language", "de"])
    assert result.code == 1 and "English-only" in result.stderr, result
    result = run_cli(["mlx-run", smollm2_workspace, "--audio", speech["wav"], "--json"])
    assert result.code == 1 and result.json()["error"]["type"] == "capability_not_supported", result
    result = run_cli(["mlx-run", tiny_random_whisper, "hello"])
    assert result.code == 1 and "speech-to-text" in result.stderr, result
    result = run_cli(["mlx-run", smollm2_workspace, "hi", "--segments"])
    assert result.code == 2, result


# -- the real tiny.en ----------------------------------------------------------------------

@pytest.mark.slow
def test_exact_transcript_from_every_format(whisper_tiny_en, speech):
    files = [speech[k] for k in ("wav", "mp3", "flac", "m4a")]
    result = run_cli(["mlx-run", whisper_tiny_en, "--audio", *files, "--json"])
    assert result.code == 0, result
    data = result.json()["data"]
    for record in data["results"]:
        assert words(record["text"]) == EXPECTED, record["file"]
        assert record["language"] == "en"


@pytest.mark.slow
def test_segments_words_and_subtitles(whisper_tiny_en, speech, tmp_path):
    result = run_cli(["mlx-run", whisper_tiny_en, "--audio", speech["wav"], "--json", "--word-timestamps"])
    assert result.code == 0, result
    data = result.json()["data"]
    segments = data["segments"]
    assert len(segments) == 2 and words(" ".join(s["text"] for s in segments)) == EXPECTED
    times = [t for s in segments for t in (s["start"], s["end"])]
    assert times == sorted(times) and times[-1] <= data["duration_s"]
    spoken = [w for s in segments for w in s["words"]]
    assert words(" ".join(w["word"] for w in spoken)) == EXPECTED
    starts = [w["start"] for w in spoken]
    assert starts == sorted(starts) and all(w["start"] <= w["end"] for w in spoken)
    assert all(s["start"] <= w["start"] and w["end"] <= s["end"] + 0.01 for s in segments for w in s["words"])

    # SRT and WebVTT from one more run each: numbered cues, well-formed clocks
    srt = run_cli(["mlx-run", whisper_tiny_en, "--audio", speech["wav"], "--format", "srt"])
    assert srt.code == 0, srt
    cues = srt.stdout.strip().split("\n\n")
    assert len(cues) == 2
    for number, cue in enumerate(cues, 1):
        index, clock, text = cue.split("\n")
        assert index == str(number) and text.strip()
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", clock)
    vtt = run_cli(["mlx-run", whisper_tiny_en, "--audio", speech["m4a"], "--format", "vtt"])
    assert vtt.code == 0 and vtt.stdout.startswith("WEBVTT\n\n"), vtt
    clocks = re.findall(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})$", vtt.stdout, re.MULTILINE)
    assert len(clocks) == 2 and words(re.sub(r"^.*-->.*$|WEBVTT", "", vtt.stdout, flags=re.MULTILINE)) == EXPECTED


@pytest.mark.slow
def test_three_minutes_transcribed_whole(whisper_tiny_en, speech):
    result = run_cli(["mlx-run", whisper_tiny_en, "--audio", speech["long"], "--ndjson"])
    assert result.code == 0, result
    events = result.ndjson()
    final = events[-1]
    assert final["event"] == "result" and final["duration_s"] == pytest.approx(180, abs=0.1)
    heard = words(final["text"])
    repeats = len(heard) // len(EXPECTED)
    assert repeats >= 17, final["text"]  # the sentence is said 18 times; one may blur at a window edge
    assert heard.count("budget") >= 17
    ends = [s["end"] for s in final["segments"]]
    assert ends == sorted(ends) and ends[-1] > 170
    assert sum(e["event"] == "segment" for e in events) == len(final["segments"])


# -- the fast CPU path against mlx-audio's own, same weights ------------------------------

_AGAINST_MLX_AUDIO = r"""
import json, sys
from mlxk_common.engine.speech import cpu_blas
cpu_blas()  # before mlx.core, as the tools do
import mlx.core as mx
import numpy as np
from mlx_audio.stt.models.whisper.audio import N_FRAMES, log_mel_spectrogram, pad_or_trim
from mlx_audio.stt.models.whisper.decoding import DecodingOptions, decode as mlx_audio_decode
from mlxk_common.engine import load_engine
from mlxk_common.engine.audio import decode
from mlxk_common.engine.whisper_greedy import _DecoderState
engine = load_engine(sys.argv[1])
model = engine.model
samples = decode(open(sys.argv[2], "rb").read(), sys.argv[2])
mel = pad_or_trim(log_mel_spectrogram(mx.array(samples), n_mels=80, padding=0), N_FRAMES, axis=-2)
ours = model.decode.__self__
features, reference = np.array(ours.encode(mel[None])), np.array(model.encoder(mel[None]))
tokens = [ours.rules(DecodingOptions(language="en")).sot, 50363, 15496, 11]
logits = [np.array(model.decoder(mx.array([tokens]), mx.array(reference))[0][0, -1])]
for state in (_DecoderState, ours.decoder_state):
    logits.append(state(model.decoder, mx.array(reference)).step(tokens)[-1])
one_by_one = ours.decoder_state(model.decoder, mx.array(reference))  # the one-row products of a token step
for token in tokens:
    row = one_by_one.step([token])[-1]
logits.append(row)
options = DecodingOptions(language="en", temperature=0.0, fp16=False)
theirs, mine = mlx_audio_decode(model, mel, options), model.decode(mel, options)
print(json.dumps({
    "features": float(np.abs(features - reference).max() / np.abs(reference).max()),
    "logits": [float(np.abs(x - logits[0]).max() / np.abs(logits[0]).max()) for x in logits[1:]],
    "tokens": [theirs.tokens, mine.tokens], "text": mine.text,
    "avg_logprob": [theirs.avg_logprob, mine.avg_logprob], "no_speech": [theirs.no_speech_prob, mine.no_speech_prob],
    "half": one_by_one.half is not None}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("threads,kernels", [(1, "1"), (2, "1"), (1, "0")])
def test_fast_cpu_path_matches_mlx_audio(whisper_tiny_en, speech, threads, kernels):
    """The engine's own encoder (GELU and softmax in NumPy), decoder steps and
    greedy window loop (engine.whisper_cpu, engine.whisper_greedy) against
    mlx-audio's encoder, decoder and DecodingTask on one window of the real
    tiny.en: equal to float32 rounding, the same tokens.  With two threads the
    encoder's layers and the logits projection are split over threads of our own
    (engine.cpu.pool).  The token steps' one-row products read the float16
    weights through the engine's own kernel (engine.cpu.native) where it runs,
    OpenBLAS's float32 sgemv with MLXK2_CPU_KERNELS=0."""
    from mlxk_common.engine.cpu import native

    env = base_env(MLXK2_CPU_THREADS=threads, MLXK2_CPU_KERNELS=kernels)
    proc = subprocess.run([sys.executable, "-c", _AGAINST_MLX_AUDIO, str(whisper_tiny_en), str(speech["wav"])],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["half"] == (kernels == "1" and native.unavailable("half_matvec", {}) is None), out
    assert out["features"] < 1e-3, out  # relative to the largest feature, after 4 layers
    assert all(err < 1e-5 for err in out["logits"]), out
    assert out["tokens"][0] == out["tokens"][1] and words(out["text"]) == EXPECTED
    assert out["avg_logprob"][1] == pytest.approx(out["avg_logprob"][0], abs=1e-3)  # float64 log-sums here
    assert out["no_speech"][1] == pytest.approx(out["no_speech"][0], abs=1e-5)


def test_multilingual_model_detects_the_language_and_translates(tiny_random_multilingual_whisper, speech):
    """A multilingual model (random weights, Whisper's ids): without --language the
    language is detected and reported as one of Whisper's codes; --language and
    --task translate are taken and reported as given."""
    from mlx_audio.stt.models.whisper.tokenizer import LANGUAGES

    model = tiny_random_multilingual_whisper
    result = run_cli(["mlx-run", model, "--audio", speech["wav"], "--json"])
    assert result.code == 0, result
    detected = result.json()["data"]
    assert detected["language"] in LANGUAGES and detected["task"] == "transcribe", detected
    result = run_cli(["mlx-run", model, "--audio", speech["wav"], "--language", "de", "--task", "translate",
                      "--ndjson"])
    assert result.code == 0, result
    final = result.ndjson()[-1]
    assert final["event"] == "result" and final["language"] == "de" and final["task"] == "translate", final
    result = run_cli(["mlx-run", model, "--audio", speech["wav"], "--language", "xx"])
    assert result.code == 2 and "unknown language" in result.stderr, result


_DETECT = r"""
import json, sys
from mlxk_common.engine.speech import cpu_blas
cpu_blas()
import mlx.core as mx
from mlx_audio.stt.models.whisper.audio import N_FRAMES, log_mel_spectrogram, pad_or_trim
from mlx_audio.stt.models.whisper.decoding import detect_language
from mlxk_common.engine import load_engine
from mlxk_common.engine.audio import decode
engine = load_engine(sys.argv[1])
model, ours = engine.model, engine.model.decode.__self__
encoded = []
encode = ours.encode
ours.encode = lambda mel: encoded.append(1) or encode(mel)
samples = decode(open(sys.argv[2], "rb").read(), sys.argv[2])
mel = pad_or_trim(log_mel_spectrogram(mx.array(samples), n_mels=80, padding=0), N_FRAMES, axis=-2)
_, mine = model.detect_language(mel)
_, theirs = detect_language(model, model.encoder(mel[None])[0])
result = engine.transcribe(samples)
print(json.dumps({"mine": mine, "theirs": theirs, "encoded": len(encoded), "language": result["language"]}))
"""


def test_language_detection_on_the_engines_encoder(tiny_random_multilingual_whisper, speech):
    """Detection runs on the engine's encoder (the same probabilities as on
    mlx-audio's own, which was several times slower on a CPU)."""
    proc = subprocess.run([sys.executable, "-c", _DETECT, str(tiny_random_multilingual_whisper), str(speech["wav"])],
                          capture_output=True, text=True, env=base_env(), timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["mine"].keys() == out["theirs"].keys() and len(out["mine"]) == 99
    assert all(abs(out["mine"][c] - out["theirs"][c]) < 1e-4 for c in out["mine"]), out
    best = max(out["mine"], key=out["mine"].get)
    assert best == max(out["theirs"], key=out["theirs"].get) == out["language"]
    # the call above, then the transcription's detection and its window (mlx-audio detects on
    # the first 30 s of the padded spectrogram, the window is zero-filled after the speech: not the same mel)
    assert out["encoded"] == 3


def test_window_rules_are_mlx_audios(tiny_random_whisper, tiny_random_multilingual_whisper):
    """The suppress list and no-speech id the engine's loop builds once (from the added
    tokens, not the whole vocabulary) are mlx-audio's, for each language and task."""
    from pathlib import Path

    from mlx_audio.stt import load
    from mlx_audio.stt.models.whisper.decoding import get_suppress_tokens

    from mlxk_common.engine.whisper_greedy import _no_speech_id, _suppress_tokens

    for folder, settings in ((tiny_random_whisper, [("en", "transcribe")]),
                             (tiny_random_multilingual_whisper, [("en", "transcribe"), ("de", "translate")])):
        model = load(Path(folder))
        for language, task in settings:
            tok = model.get_tokenizer(language=language, task=task)
            assert _no_speech_id(tok) == tok.no_speech is not None
            for spec in ("-1", "1,2,-1", "5"):
                assert _suppress_tokens(tok, spec, _no_speech_id(tok)) == get_suppress_tokens(tok, spec), spec
