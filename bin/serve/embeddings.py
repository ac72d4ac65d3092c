"""``POST /v1/embeddings``: the request, its checks, and the answer (request greenlet).

``input`` is a string, a list of strings, a list of token ids (one input) or
a list of such lists; ``encoding_format`` is ``float`` (JSON numbers) or
``base64`` (little-endian float32, what the openai package asks for by
default); ``dimensions`` cuts the vectors of a model trained for it
(``matryoshka``) and normalises them again.  The whole list goes to the
engine thread as one job, where it is embedded in padded batches, together
with other requests' inputs for the same model.

Embedding models are what this route is for.  A chat or base model is
refused (400, ``model_not_embedding``) unless the server runs with
``--allow-llm-embeddings``; its vectors are then the mean of its last
hidden state, normalised (``mlxk_common/engine/embed.py``).
"""

from __future__ import annotations

import base64

import bottle

from mlxk_bin.serve.errors import ApiError, bad_request, from_mlxk, internal, unavailable
from mlxk_bin.serve.events import GONE
from mlxk_bin.serve.generation import ClientGone
from mlxk_bin.serve.guards import parse_json, read_body, watch_disconnect
from mlxk_bin.serve.schemas import MAX_MODEL_CHARS, MAX_TOKEN_ID, _string, _type_name, _wrong_type
from mlxk_bin.serve.worker import Job
from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import dumps

MAX_INPUTS = 2048  # OpenAI's limit on inputs per request
FORMATS = ("float", "base64")
WAIT_S = 15.0


class EmbedRequest:
    """One validated embeddings request (plain data for the engine thread)."""

    __slots__ = ("model", "texts", "tokens", "encoding_format", "dimensions", "allow_llm")

    def __init__(self):
        self.model: str | None = None
        self.texts: list[str] | None = None
        self.tokens: list[list[int]] | None = None
        self.encoding_format = "float"
        self.dimensions: int | None = None
        self.allow_llm = False

    def __len__(self):
        return len(self.texts if self.texts is not None else self.tokens)


def _token_list(value, param: str) -> list[int]:
    if not value:
        raise bad_request(f"'{param}' must not be empty", param)
    for i, token in enumerate(value):
        if not isinstance(token, int) or isinstance(token, bool) or not 0 <= token <= MAX_TOKEN_ID:
            raise bad_request(f"'{param}[{i}]' must be a token id (an integer from 0)", f"{param}[{i}]")
    return value


def parse_embeddings(body) -> EmbedRequest:
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, not {_type_name(body)}", None, "invalid_type")
    req = EmbedRequest()
    model = body.get("model")
    if model is not None:
        model = _string(model, "model", MAX_MODEL_CHARS).strip()
        if not model or "\x00" in model:
            raise bad_request("'model' must name a model", "model")
        req.model = model
    value = body.get("input")
    if value is None:
        raise bad_request("'input' is required", "input", "missing_required_parameter")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _wrong_type("input", "a string, an array of strings or an array of token ids", value)
    if not value:
        raise bad_request("'input' must not be an empty array", "input")
    if len(value) > MAX_INPUTS:
        raise bad_request(f"'input' has {len(value)} items; at most {MAX_INPUTS} are allowed", "input")
    if all(isinstance(v, str) for v in value):
        for i, text in enumerate(value):
            if not text:
                raise bad_request(f"'input[{i}]' must not be an empty string", f"input[{i}]")
        req.texts = value
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        req.tokens = [_token_list(value, "input")]
    elif all(isinstance(v, list) for v in value):
        req.tokens = [_token_list(v, f"input[{i}]") for i, v in enumerate(value)]
    else:
        raise bad_request("'input' must be a string, an array of strings, an array of token ids or an array "
                          "of arrays of token ids (not a mix)", "input", "invalid_type")
    fmt = body.get("encoding_format")
    if fmt is not None:
        if fmt not in FORMATS:
            raise bad_request(f"'encoding_format' must be 'float' or 'base64', not {fmt!r}"[:300], "encoding_format")
        req.encoding_format = fmt
    dims = body.get("dimensions")
    if dims is not None:
        if not isinstance(dims, int) or isinstance(dims, bool):
            raise _wrong_type("dimensions", "an integer", dims)
        if dims < 1:
            raise bad_request(f"'dimensions' must be at least 1, not {dims}", "dimensions")
        req.dimensions = dims
    user = body.get("user")
    if user is not None:
        _string(user, "user")  # accepted and not used, as OpenAI-compatible servers do
    return req


def embeddings(state, environ) -> bytes:
    """The whole request: validate, queue on the engine thread, wait, answer."""
    settings = state.settings
    req = parse_embeddings(parse_json(read_body(environ, settings.max_body)))
    req.allow_llm = settings.allow_llm_embeddings
    model = state.registry.for_request(req.model)
    if model.runtime.model_type != "embedding" and not req.allow_llm:
        raise ApiError(400, f"{model.name} is a {model.runtime.model_type} model, not an embedding model "
                            "(the server's --allow-llm-embeddings gives such models' mean-pooled hidden states)",
                       param="model", code="model_not_embedding")
    job = Job(environ["mlxk.request_id"], model, req, kind="embed")
    state.worker.submit(job)
    import gevent

    def gone():
        state.worker.cancel(job)
        job.ticket.events.append(GONE)
        job.ticket._set()

    watcher = gevent.spawn(watch_disconnect, environ, gone)
    try:
        while not job.ticket.wait(WAIT_S):
            pass
        event = job.ticket.events.popleft()
    finally:
        watcher.kill(block=False)
        state.worker.close(job)
    if event.kind == "error":
        error = event.error
        if isinstance(error, MlxkError):
            if error.type == "interrupted":
                raise unavailable(error.message, "shutting_down")
            raise from_mlxk(error, "input")
        raise internal(job.rid)
    if event.kind != "embedded":
        raise ClientGone()
    state.metrics.embedded(len(req), event.prompt_tokens)
    return _answer(model.name, event.vectors, event.prompt_tokens, req.encoding_format)


def _answer(name: str, vectors, prompt_tokens: int, fmt: str) -> bytes:
    import numpy as np

    if fmt == "base64":
        little = vectors.astype("<f4", copy=False)
        data = [{"object": "embedding", "index": i, "embedding": base64.b64encode(np.ascontiguousarray(row).tobytes())
                 .decode("ascii")} for i, row in enumerate(little)]
    else:
        data = [{"object": "embedding", "index": i, "embedding": row} for i, row in enumerate(vectors.tolist())]
    doc = {"object": "list", "data": data, "model": name,
           "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}}
    bottle.response.content_type = "application/json"
    return dumps(doc).encode()
