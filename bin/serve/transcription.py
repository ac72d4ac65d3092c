"""POST /v1/audio/transcriptions and /v1/audio/translations, as OpenAI defines them.

A multipart form (``file``, ``model``, ``language``, ``prompt``,
``temperature``, ``response_format``, ``timestamp_granularities[]``,
``stream``) becomes a ``SpeechJob`` for the speech thread: one OS thread of
its own, apart from the text engine's, so a long file never holds up chat;
speech requests wait their turn there in arrival order.  The thread decodes
the upload, loads the model (the last one stays resident) and transcribes;
its events (``Started``, ``Segment``, ``Transcribed``, ``Failed``) reach the
request's greenlet through a ``Bridge``.  Failures up to ``Started`` (bad
audio, wrong model) are HTTP errors; a stream that has begun ends with an
error event.
"""

from __future__ import annotations

import io
import math

import bottle

from mlxk_bin.serve import sse
from mlxk_bin.serve.bridge import Bridge, Ticket, start_os_thread
from mlxk_bin.serve.errors import ApiError, bad_request, from_mlxk, internal, unavailable
from mlxk_bin.serve.events import Event, Failed
from mlxk_bin.serve.generation import KEEPALIVE_S, ClientGone
from mlxk_bin.serve.guards import read_body, too_large, watch_disconnect
from mlxk_common.engine import AUDIO, load_engine
from mlxk_common.engine.audio import decode
from mlxk_common.engine.subtitles import srt, vtt
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import check_runnable
from mlxk_common.jsonio import dumps

FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
FORM_SLACK = 64 * 1024  # room for the form's other fields and boundaries around the file


# -- events of the speech thread ------------------------------------------------------

class Started(Event):
    __slots__ = ("duration",)
    kind = "started"

    def __init__(self, duration: float):
        self.duration = duration


class Segment(Event):
    __slots__ = ("segment",)
    kind = "segment"

    def __init__(self, segment: dict):
        self.segment = segment


class Transcribed(Event):
    __slots__ = ("result",)
    kind = "done"

    def __init__(self, result: dict):
        self.result = result


class _Cancelled(Exception):
    pass


class SpeechJob:
    __slots__ = ("cancelled", "data", "filename", "model", "options", "rid", "ticket")

    def __init__(self, rid: str, model, data: bytes, filename: str, options: dict):
        self.rid, self.model, self.data, self.filename, self.options = rid, model, data, filename, options
        self.ticket = Ticket()
        self.cancelled = False


class SpeechWorker:
    """The speech thread and its queue (hub side: ``submit``, ``cancel``)."""

    def __init__(self, log, max_queue: int = 64):
        self.log = log
        self.max_queue = max_queue
        self.bridge: Bridge | None = None
        self.waiting = 0
        self._resident = None  # (model path, engine): the thread's own
        self._started = False
        self.stopping = False

    def submit(self, job: SpeechJob) -> None:
        if not self._started:
            self.bridge = Bridge()
            start_os_thread(self._run)
            self._started = True
        if self.waiting >= self.max_queue:
            raise unavailable(f"the server is busy: {self.max_queue} transcriptions are already waiting",
                              "queue_full")
        self.waiting += 1
        self.bridge.inbox.put(job)

    def cancel(self, job: SpeechJob) -> None:
        job.cancelled = True  # the thread checks between 30-second windows

    def stop(self) -> None:
        self.stopping = True
        if self._started:
            self.bridge.inbox.put(None)

    # -- the speech thread ------------------------------------------------------------
    def _run(self) -> None:
        while True:
            job = self.bridge.inbox.get()
            if job is None:
                return
            try:
                if self.stopping:
                    self._post(job, Failed(MlxkError("interrupted", "the server is shutting down")))
                elif not job.cancelled:
                    self._transcribe(job)
            except _Cancelled:
                pass
            except MlxkError as error:
                self._post(job, Failed(error))
            except Exception as exc:  # a bug, never the request's fault: logged, and this thread goes on
                self.log.exception("transcription %s failed: %s", job.rid, type(exc).__name__)
                self._post(job, Failed(str(exc)))
            finally:
                self.bridge.call_soon(self._done_one)
                self.bridge.notify()
                job.data = None

    def _done_one(self) -> None:
        self.waiting -= 1

    def _post(self, job: SpeechJob, event) -> None:
        self.bridge.post(job.ticket, event)
        self.bridge.notify()

    def _engine(self, model):
        if self._resident is not None and self._resident[0] == model.path:
            return self._resident[1]
        check_runnable(model, (AUDIO,))
        self._resident = None  # the old model goes before the new one loads
        engine = load_engine(model, AUDIO)
        self._resident = (model.path, engine)
        return engine

    def _transcribe(self, job: SpeechJob) -> None:
        samples = decode(job.data, job.filename)
        engine = self._engine(job.model)
        engine.check(language=job.options.get("language"), task=job.options.get("task", "transcribe"))
        self._post(job, Started(len(samples) / 16000))

        def on_segment(segment):
            self._post(job, Segment(segment))

        def on_progress(done, total):
            if job.cancelled or self.stopping:
                raise _Cancelled()

        result = engine.transcribe(samples, on_segment=on_segment, on_progress=on_progress, **job.options)
        self._post(job, Transcribed(result))


# -- the request -------------------------------------------------------------------------

class Transcription:
    """One /v1/audio request, in its greenlet."""

    def __init__(self, state, environ, task: str):
        self.state, self.environ, self.task = state, environ, task
        self.rid = environ["mlxk.request_id"]
        self.job: SpeechJob | None = None
        self.watcher = None

    def run(self):
        settings = self.state.settings
        form = parse_form(self.environ, settings.max_audio, self.task)
        model = self.state.registry.for_request(form["model"])
        if model.kind != AUDIO:
            raise ApiError(422, f"{model.name} is a {model.kind} model; it cannot transcribe audio", param="model",
                           code="capability_not_supported")
        options = {"task": self.task, "language": form["language"], "prompt": form["prompt"],
                   "temperature": form["temperature"], "word_timestamps": "word" in form["granularities"]}
        self.job = job = SpeechJob(self.rid, model, form["data"], form["filename"], options)
        self.state.speech.submit(job)
        import gevent

        self.watcher = gevent.spawn(watch_disconnect, self.environ, self._client_gone)
        try:
            first = self._next()
            if first.kind == "error":
                raise self._api_error(first.error)
            if first.kind != "started":
                raise ClientGone()
        except BaseException:
            self._end()
            raise
        if form["stream"]:
            for name, value in sse.HEADERS:
                bottle.response.set_header(name, value)
            return self._stream()
        try:
            return self._whole(form["response_format"], form["granularities"], model.name)
        finally:
            self._end()

    def _next(self):
        ticket = self.job.ticket
        while not ticket.wait(KEEPALIVE_S):
            pass
        return ticket.events.popleft()

    def _client_gone(self):
        if self.job is not None:
            self.state.speech.cancel(self.job)
            self.job.ticket.events.append(Failed(None))
            self.job.ticket._set()

    def _end(self):
        if self.watcher is not None:
            self.watcher.kill(block=False)
            self.watcher = None
        if self.job is not None:
            self.state.speech.cancel(self.job)

    def _api_error(self, error) -> ApiError:
        if error is None:
            raise ClientGone()
        if isinstance(error, MlxkError):
            return from_mlxk(error, "file" if error.type == "invalid_audio" else None)
        return internal(self.rid)

    def _whole(self, fmt: str, granularities: set, model_name: str):
        while True:
            event = self._next()
            if event.kind == "error":
                raise self._api_error(event.error)
            if event.kind == "done":
                break
        result = event.result
        if fmt == "text":
            return _text(result["text"] + "\n")
        if fmt == "srt":
            return _text(srt(result["segments"]))
        if fmt == "vtt":
            return _text(vtt(result["segments"]), "text/vtt")
        body = {"text": result["text"], "usage": _usage(result)}
        if fmt == "verbose_json":
            body = verbose(result, self.task, granularities)
        bottle.response.content_type = "application/json"
        return dumps(body).encode()

    def _stream(self):
        """``transcript.text.delta`` per segment, then ``transcript.text.done`` (OpenAI's SSE events)."""
        job = self.job
        sent = False
        try:
            while True:
                ticket = job.ticket
                if not ticket.wait(KEEPALIVE_S):
                    yield sse.comment()
                    continue
                event = ticket.events.popleft()
                if event.kind == "segment":
                    text = event.segment["text"]
                    if text:
                        yield sse.event({"type": "transcript.text.delta", "delta": (" " if sent else "") + text})
                        sent = True
                elif event.kind == "done":
                    result = event.result
                    yield sse.event({"type": "transcript.text.done", "text": result["text"],
                                     "usage": _usage(result)})
                    yield sse.DONE
                    return
                elif event.kind == "error":
                    if event.error is None:
                        return
                    yield sse.event(self._api_error(event.error).body())
                    yield sse.DONE
                    return
        finally:
            self._end()


def _text(body: str, content_type: str = "text/plain") -> bytes:
    bottle.response.content_type = f"{content_type}; charset=utf-8"
    return body.encode()


def _usage(result: dict) -> dict:
    return {"type": "duration", "seconds": math.ceil(result["duration_s"])}


def verbose(result: dict, task: str, granularities: set) -> dict:
    """OpenAI's verbose_json: the language by name, segments with Whisper's
    decoding statistics, words when asked for."""
    from mlx_audio.stt.models.whisper.tokenizer import LANGUAGES  # loaded already: the model ran

    segments = []
    for s in result["segments"]:
        segments.append({"id": s["id"], "seek": s.get("seek", 0), "start": s["start"], "end": s["end"],
                         "text": s["text"], "tokens": s.get("tokens", []), "temperature": s.get("temperature", 0.0),
                         "avg_logprob": s.get("avg_logprob", 0.0),
                         "compression_ratio": s.get("compression_ratio", 0.0),
                         "no_speech_prob": s.get("no_speech_prob", 0.0)})
    body = {"task": task, "language": LANGUAGES.get(result["language"], result["language"]),
            "duration": result["duration_s"], "text": result["text"], "usage": _usage(result)}
    if "segment" in granularities or not granularities or "word" not in granularities:
        body["segments"] = segments
    if "word" in granularities:
        body["words"] = [{"word": w["word"], "start": w["start"], "end": w["end"]}
                         for s in result["segments"] for w in s.get("words", [])]
    return body


# -- the form ---------------------------------------------------------------------------

def parse_form(environ, max_audio: int, task: str) -> dict:
    """The multipart form, checked: what the job needs, or a 400/413."""
    ctype = environ.get("CONTENT_TYPE", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise bad_request("send the audio as multipart/form-data (fields file, model, ...)", None,
                          "invalid_content_type")
    body = read_body(environ, max_audio + FORM_SLACK)
    request = bottle.BaseRequest({"REQUEST_METHOD": "POST", "CONTENT_TYPE": ctype,
                                  "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)})
    try:
        forms, files = request.forms, request.files
    except (bottle.HTTPError, ValueError) as exc:
        raise bad_request(f"the multipart form is malformed ({str(getattr(exc, 'body', exc))[:200]})", None,
                          "invalid_body") from None
    upload = files.get("file")
    if upload is None:
        raise bad_request("no file: send the audio in the form field 'file'", "file", "missing_field")
    data = upload.file.read(max_audio + 1)
    if len(data) > max_audio:
        raise too_large(environ, max_audio, None)
    fmt = forms.get("response_format") or "json"
    if fmt not in FORMATS:
        raise bad_request(f"response_format must be one of {', '.join(FORMATS)}", "response_format")
    granularities = set(forms.getall("timestamp_granularities[]") + forms.getall("timestamp_granularities"))
    if granularities - {"word", "segment"}:
        raise bad_request("timestamp_granularities must be word or segment", "timestamp_granularities[]")
    if granularities and fmt != "verbose_json":
        raise bad_request("timestamp_granularities need response_format verbose_json", "timestamp_granularities[]")
    try:
        temperature = float(forms.get("temperature") or 0)
    except ValueError:
        raise bad_request("temperature must be a number", "temperature") from None
    if not 0 <= temperature <= 1:
        raise bad_request("temperature must be between 0 and 1", "temperature")
    stream = (forms.get("stream") or "false").lower()
    if stream not in ("true", "false"):
        raise bad_request("stream must be true or false", "stream")
    if stream == "true" and fmt not in ("json", "text"):
        raise bad_request("stream=true gives text events: response_format json or text", "stream")
    language = forms.getunicode("language") or None
    if task == "translate" and language:
        raise bad_request("translations take no language: the speech is translated into English", "language")
    return {"data": data, "filename": _decoded(upload.raw_filename or "upload"),
            "model": forms.getunicode("model") or None, "language": language,
            "prompt": forms.getunicode("prompt") or None,
            "temperature": temperature, "response_format": fmt, "granularities": granularities,
            "stream": stream == "true"}


def _decoded(text: str) -> str:
    """bottle hands form strings over as latin-1; clients send UTF-8."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
