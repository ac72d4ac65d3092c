"""mlx-run MODEL --audio FILE...: speech to text with a Whisper model.

Each file is read and decoded before its turn (a corrupt first file fails
before the model loads), transcribed in Whisper's 30-second windows, and
reported in the output mode: the text (or subtitles, with --format) on
stdout; --json one envelope; --ndjson a ``segment`` event per segment as its
window is decoded, then the file's ``result``.  Several files: one result
each, an unreadable one is an ``invalid_audio`` item error and the rest go on.
"""

from __future__ import annotations

from mlxk_common.cli import Context
from mlxk_common.config import parse_bool
from mlxk_common.engine import AUDIO
from mlxk_common.engine.audio import decode
from mlxk_common.engine.subtitles import srt, timed_lines, vtt
from mlxk_common.errors import MlxkError
from mlxk_common.output import HUMAN, JSON, NDJSON
from mlxk_common.progress import ProgressBar, human_bytes

FORMATS = ("text", "srt", "vtt", "json")


def add_arguments(parser) -> None:
    audio = parser.add_argument_group("speech to text (a Whisper model)")
    audio.add_argument("--audio", action="extend", nargs="+", metavar="FILE",
                       help="transcribe these audio files (WAV, MP3, FLAC, M4A/AAC, OGG/Opus, WebM; '-' reads "
                            "one from stdin) instead of generating text; --prompt is Whisper's initial prompt, "
                            "--temperature its sampling temperature (default 0: greedy)")
    audio.add_argument("--language", metavar="CODE",
                       help="the spoken language (en, de, ...; default: detected by a multilingual model)")
    audio.add_argument("--task", choices=("transcribe", "translate"), default=None,
                       help="transcribe (default), or translate the speech into English")
    audio.add_argument("--segments", action="store_true", default=None,
                       help="print each segment with its start and end time (env MLXK2_AUDIO_SEGMENTS=1)")
    audio.add_argument("--word-timestamps", action="store_true",
                       help="time every word too (the segments' words in JSON)")
    audio.add_argument("--format", dest="audio_format", choices=FORMATS, default=None,
                       help="what stdout gets: text (default), srt or vtt subtitles, or json (the transcript "
                            "object without an envelope)")


class AudioSettings:
    """The speech options of the command line, checked before anything loads."""

    def __init__(self, ctx: Context, max_input: int):
        args = ctx.args
        clashes = [flag for flag, on in (("PROMPT", bool(args.text)), ("--chat", args.chat),
                                         ("--ndjson-in", args.ndjson_in), ("--model -", args.model == "-"),
                                         ("--system", args.system is not None), ("--stop", bool(args.stop)))
                   if on]
        if clashes:
            raise MlxkError("usage_error", f"--audio transcribes files: {', '.join(clashes)} do not apply")
        self.files = list(args.audio)
        if self.files.count("-") > 1:
            raise MlxkError("usage_error", "stdin ('-') can be read once")
        self.language = args.language
        self.task = args.task or "transcribe"
        self.prompt = args.prompt
        self.temperature = 0.0 if args.temperature is None else args.temperature
        if not 0.0 <= self.temperature <= 1.0:
            raise MlxkError("usage_error", "--temperature for speech must be between 0 and 1")
        self.segments = ctx.setting(args.segments, "MLXK2_AUDIO_SEGMENTS", False, parse_bool)
        self.words = args.word_timestamps
        self.format = args.audio_format or "text"
        if self.format != "text" and ctx.mode != HUMAN:
            raise MlxkError("usage_error", "--format writes stdout itself: no --json/--ndjson")
        if self.format in ("srt", "vtt") and len(self.files) > 1:
            raise MlxkError("usage_error", f"--format {self.format} writes one file's subtitles: give one FILE")
        self.max_input = max_input

    def options(self) -> dict:
        return {"language": self.language, "task": self.task, "prompt": self.prompt,
                "temperature": self.temperature, "word_timestamps": self.words}


def read_audio(ctx: Context, name: str, max_input: int):
    """The decoded samples of a file, or of stdin for '-'."""
    if name == "-":
        raw = getattr(ctx.env.stdin, "buffer", None)
        if raw is None:
            raise MlxkError("usage_error", "stdin is not a byte stream: give the audio as FILE")
        data = raw.read(max_input + 1)
        if len(data) > max_input:
            raise MlxkError("input_too_large", f"the audio on stdin is over {human_bytes(max_input)} (--max-input)",
                            limit_bytes=max_input, hint="raise the limit with --max-input SIZE (or MLXK2_MAX_INPUT)")
        return decode(data, "stdin")
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise MlxkError("invalid_audio", f"{name}: no such file", file=name) from None
    except IsADirectoryError:
        raise MlxkError("invalid_audio", f"{name}: a directory, not an audio file", file=name) from None
    except PermissionError:
        raise MlxkError("permission_denied", f"{name}: permission denied", file=name) from None
    return decode(data, name)


def transcribe_files(ctx: Context, settings: AudioSettings, load) -> int:
    """Transcribe every file; ``load()`` gives (engine, model name) once, when first needed."""
    out = ctx.out
    state: dict = {}
    results, errors = [], []
    for name in settings.files:
        try:
            samples = read_audio(ctx, name, settings.max_input)
            if "engine" not in state:
                state["engine"], state["name"] = load()
                if state["engine"].kind != AUDIO:
                    raise MlxkError("capability_not_supported", f"{state['name']} is not a speech-to-text model: "
                                    "--audio needs a Whisper model", kind=state["engine"].kind)
                state["engine"].check(language=settings.language, task=settings.task)
            record = _one(ctx, settings, state["engine"], state["name"], name, samples)
        except MlxkError as error:
            if len(settings.files) == 1 or error.type in ("interrupted", "output_error", "usage_error",
                                                          "capability_not_supported", "unhealthy"):
                raise
            errors.append(out.item_error(error) if ctx.mode != JSON else {**error.to_dict(), "file": name})
            continue
        results.append(record)
    if ctx.mode == JSON:
        if len(settings.files) == 1:
            out.envelope(results[0])
        else:
            out.envelope({"model": state.get("name"), "count": len(settings.files), "errors": len(errors),
                          "results": [{"event": "result", **r} for r in results]
                          + [{"event": "error", "error": e} for e in errors]})
    return 1 if errors else 0


def _one(ctx: Context, settings: AudioSettings, engine, model: str, name: str, samples) -> dict:
    out = ctx.out
    bar = None
    on_segment = on_progress = None
    if ctx.mode == NDJSON:
        def on_segment(segment):
            out.event("segment", file=name, **segment)
    elif ctx.mode == HUMAN and ctx.env.stderr_isatty:
        bar = ProgressBar(ctx.env, len(samples) / 16000, name if name != "-" else "stdin", unit="s")

        def on_progress(done, total):
            bar.set(min(done, total) / 100, total / 100)  # mel frames are 10 ms
    try:
        result = engine.transcribe(samples, on_segment=on_segment, on_progress=on_progress, **settings.options())
    finally:
        if bar is not None:
            bar.close()
    record = {"model": model, "file": name, "task": settings.task, **result}
    if ctx.mode == NDJSON:
        out.event("result", **record)
    elif ctx.mode == HUMAN:
        _human(ctx, settings, record)
    return record


def _human(ctx: Context, settings: AudioSettings, record: dict) -> None:
    out = ctx.out
    fmt = settings.format
    if fmt == "srt":
        out.write(srt(record["segments"]))
    elif fmt == "vtt":
        out.write(vtt(record["segments"]))
    elif fmt == "json":
        import json

        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        if len(settings.files) > 1:
            out.line(f"== {record['file']} ==")
        out.write(timed_lines(record["segments"]) if settings.segments else record["text"] + "\n")
    out.flush()
