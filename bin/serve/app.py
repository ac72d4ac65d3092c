"""The bottle application: routes, and the gateway every request passes.

The gateway (outermost WSGI layer) gives each request its id, answers CORS
preflights, checks the API key, adds the common headers and writes the
access log.  Routes raise ``ApiError`` (or ``MlxkError``) for anything a
client did wrong; everything else becomes a 500 that names the request id
and is logged with its traceback, never shown to the client.
"""

from __future__ import annotations

import time

import bottle

from mlxk_bin.serve import anthropic, ui
from mlxk_bin.serve.embeddings import embeddings
from mlxk_bin.serve.errors import ApiError, from_mlxk, internal, unavailable
from mlxk_bin.serve.generation import ClientGone, Generation
from mlxk_bin.serve.guards import Cors, check_auth, request_id
from mlxk_bin.serve.transcription import Transcription
from mlxk_bin.serve.metrics import CONTENT_TYPE, Metrics
from mlxk_bin.serve.responses import Responses
from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import dumps


class Settings:
    """The server's fixed settings (from flags and environment)."""

    def __init__(self, *, api_key=None, cors=(), max_body=50 * 10**6, max_image=20 * 10**6,
                 max_images_total=50 * 10**6, exif=False, version="0",
                 web_ui=True, allow_llm_embeddings=False, metrics=False, max_n=8, max_audio=25 * 10**6,
                 allow_image_urls=False, image_url_timeout=10.0):
        self.api_key = api_key
        self.allow_llm_embeddings = allow_llm_embeddings
        self.metrics = metrics
        self.max_n = max_n  # most choices (n) one request may ask for
        self.web_ui = web_ui
        self.cors = Cors(cors)
        self.max_body = max_body
        self.max_image = max_image
        self.max_images_total = max_images_total
        self.exif = exif
        self.allow_image_urls = allow_image_urls  # fetch http(s) image URLs (off: clients could aim the server anywhere)
        self.image_url_timeout = image_url_timeout
        self.max_audio = max_audio
        self.version = version
        self.started = time.time()


def error_body(error: ApiError) -> tuple[str, list, bytes]:
    """(status line, headers, body) of an error answered outside bottle."""
    body = dumps(error.body()).encode()
    reason = bottle.HTTP_CODES.get(error.status, "Unknown")
    return f"{error.status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                        *error.headers.items()], body


class State:
    """What the routes share: settings, the worker, the speech thread, the model registry."""

    def __init__(self, settings: Settings, worker, registry, log, speech=None):
        self.settings = settings
        self.worker = worker
        self.speech = speech
        self.registry = registry
        self.log = log
        self.stopping = False
        self.loading: list[str] = []  # models being preloaded: /health says "loading" until they are in
        self.metrics = Metrics()


def make_app(state: State):
    app = bottle.Bottle(catchall=True, autojson=False)
    log = state.log

    def api(route):
        """Routes return a body (bytes) or a streaming iterator; their errors become OpenAI-shaped JSON."""

        def wrapper(*args, **kwargs):
            try:
                return route(*args, **kwargs)
            except MlxkError as exc:
                return _respond(from_mlxk(exc))
            except ApiError as exc:
                return _respond(exc)
            except ClientGone:
                bottle.response.status = 499  # nginx's "client closed request", for the access log
                return b""

        return wrapper

    @app.get("/health")
    @api
    def health():
        worker = state.worker
        if state.stopping:
            status = "shutting_down"
        elif not worker.alive or (worker.sharded is not None and worker.sharded.failed is not None):
            status = "error"
        elif state.loading:
            status = "loading"
        else:
            status = "ok"
        default = state.registry.default
        loaded = [m.name for m in worker.loaded]
        doc = {
            "status": status,
            "model": default.name if default else (loaded[0] if loaded else None),
            "loaded": loaded,
            "loading": list(state.loading),
            "queue_depth": worker.waiting(),
            "active": worker.n_active,
            "prefilling": worker.n_prefilling,
            "uptime_s": round(time.time() - state.settings.started, 1),
            "version": state.settings.version,
        }
        if worker.sharded is not None:  # one model split across ranks (mlxk-serve --ranks/--hosts)
            doc["distributed"] = worker.sharded.describe
        bottle.response.status = 200 if status == "ok" else 503
        return _json(doc)

    @app.get("/v1/models")
    @api
    def models():
        import gevent

        loaded = {m.path for m in state.worker.loaded}
        # File-system scans and health checks run off the hub so other requests go on meanwhile.
        data = gevent.get_hub().threadpool.apply(state.registry.listing, (loaded,))
        return _json({"object": "list", "data": data})

    @app.get("/v1/models/<name:path>")
    @api
    def model(name):
        import gevent

        loaded = {m.path for m in state.worker.loaded}
        for entry in gevent.get_hub().threadpool.apply(state.registry.listing, (loaded,)):
            if entry["id"] == name:
                return _json(entry)
        raise ApiError(404, f"no model {name!r} on this server", param="model", code="model_not_found")

    @app.get("/metrics")
    @api
    def metrics():
        if not state.settings.metrics:
            raise ApiError(404, "no route '/metrics' (the server runs without --metrics)", code="not_found")
        bottle.response.content_type = CONTENT_TYPE
        return state.metrics.render(state.worker, state.settings.version)

    @app.get("/openapi.json")
    @api
    def openapi():
        bottle.response.content_type = "application/json"
        return openapi_document()

    @app.post("/v1/chat/completions")
    @api
    def chat():
        return _generate("chat")

    @app.post("/v1/completions")
    @api
    def completions():
        return _generate("completion")

    @app.post("/v1/audio/transcriptions")
    @api
    def transcriptions():
        return _transcribe("transcribe")

    @app.post("/v1/audio/translations")
    @api
    def translations():
        return _transcribe("translate")
    @app.post("/v1/embeddings")
    @api
    def embed():
        if state.stopping:
            raise unavailable("the server is shutting down", "shutting_down")
        return embeddings(state, bottle.request.environ)

    @app.post("/v1/messages")
    def messages():
        # Anthropic's API: its own error shape, so not through ``api``.
        try:
            if state.stopping:
                raise unavailable("the server is shutting down", "shutting_down")
            return anthropic.Messages(state, bottle.request.environ).run()
        except MlxkError as exc:
            error = from_mlxk(exc)
        except ApiError as exc:
            error = exc
        except ClientGone:
            bottle.response.status = 499
            return b""
        bottle.response.status = error.status
        for key, value in error.headers.items():
            bottle.response.set_header(key, value)
        return _json(anthropic.error_body(error))

    @app.post("/v1/responses")
    @api
    def responses():
        if state.stopping:
            raise unavailable("the server is shutting down", "shutting_down")
        return Responses(state, bottle.request.environ).run()

    if state.settings.web_ui:
        @app.get("/")
        def page():
            return _static(ui.PAGE)

        @app.get("/ui/<name>")
        def static(name):
            return _static(name)

    def _static(name):
        found = ui.asset(name)
        if found is None:
            raise bottle.HTTPError(404)
        status, body = ui.respond(found, bottle.request.environ, bottle.response.set_header)
        bottle.response.status = status
        return body

    def _generate(kind):
        if state.stopping:
            raise unavailable("the server is shutting down", "shutting_down")
        return Generation(state, bottle.request.environ, kind).run()

    def _transcribe(task):
        if state.stopping:
            raise unavailable("the server is shutting down", "shutting_down")
        return Transcription(state, bottle.request.environ, task).run()

    def error_handler(res: bottle.HTTPError):
        environ = bottle.request.environ
        rid = environ.get("mlxk.request_id", "-")
        if res.status_code == 404:
            error = ApiError(404, f"no route {environ.get('PATH_INFO', '')[:200]!r}", code="not_found")
        elif res.status_code == 405:
            allow = bottle.response.headers.get("Allow", "")
            error = ApiError(405, f"method {environ.get('REQUEST_METHOD')} is not allowed here"
                             + (f" (allowed: {allow})" if allow else ""), code="method_not_allowed")
        elif res.status_code >= 500:
            if res.exception is not None:
                log.error("request %s failed: %s: %s\n%s", rid, type(res.exception).__name__, res.exception,
                          res.traceback or "")
            error = internal(rid)
        else:
            error = ApiError(res.status_code, str(res.body or res.status_line)[:200], code="invalid_request")
        bottle.response.content_type = "application/json"
        bottle.response.status = error.status
        return dumps(error.body())

    app.default_error_handler = error_handler
    return Gateway(app, state)


def openapi_document() -> bytes:
    """The OpenAPI 3.1 description of this API, as packaged (docs/openapi.json is the same file)."""
    from importlib.resources import files

    return (files("mlxk_bin.serve") / "openapi.json").read_bytes()


def _json(doc) -> bytes:
    bottle.response.content_type = "application/json"
    return dumps(doc).encode()


def _respond(error: ApiError) -> bytes:
    bottle.response.status = error.status
    for key, value in error.headers.items():
        bottle.response.set_header(key, value)
    return _json(error.body())


class Gateway:
    """Request id, CORS, auth and the access log around the bottle app."""

    def __init__(self, app, state: State):
        self.app = app
        self.state = state
        self.access = state.log.getChild("access")

    def __call__(self, environ, start_response):
        rid = request_id(environ)
        environ["mlxk.request_id"] = rid
        settings = self.state.settings
        origin = environ.get("HTTP_ORIGIN")
        extra = [("X-Request-ID", rid), *settings.cors.headers(origin)]
        started = time.perf_counter()
        seen = {}

        def respond(status, headers, exc_info=None):
            seen["status"] = status
            return start_response(status, [*headers, *extra], exc_info)

        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if method == "OPTIONS" and settings.cors.enabled and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            if settings.cors.allowed(origin):
                respond("204 No Content", settings.cors.preflight())
            else:
                respond("403 Forbidden", [("Content-Length", "0")])
            result = [b""]
        else:
            try:
                if path != "/health" and not (settings.web_ui and ui.is_public(path)):
                    check_auth(environ, settings.api_key)
                result = self.app(environ, respond)
            except ApiError as exc:
                status, headers, body = error_body(exc)
                respond(status, headers)
                result = [body]
        return _Logged(result, lambda: self._log(environ, method, path, seen.get("status", "000"), started))

    def _log(self, environ, method, path, status, started):
        code = int(status.split(" ", 1)[0]) if status[:3].isdigit() else 0
        self.state.metrics.request_done(path, code)
        if not self.access.isEnabledFor(20):
            return
        elapsed = time.perf_counter() - started
        fields = {"request_id": environ.get("mlxk.request_id"), "method": method, "path": path[:200],
                  "status": code, "duration_s": round(elapsed, 4),
                  "client": environ.get("REMOTE_ADDR")}
        # Health probes are frequent: log them at debug only.
        level = 10 if path == "/health" else 20
        self.access.log(level, "%s %s %d %.3fs rid=%s", method, path[:200], code, elapsed,
                        fields["request_id"], extra={"fields": fields})


class _Logged:
    """The response iterable, logging once the server is done with it
    (after the last byte of a stream, or when the client went away)."""

    def __init__(self, result, on_close):
        self.result = result
        self.on_close = on_close

    def __iter__(self):
        return iter(self.result)

    def close(self):
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()
