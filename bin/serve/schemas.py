"""Request validation: a parsed JSON body becomes a ``GenRequest`` or a 4xx.

Every check names the offending parameter (``param``) the way OpenAI does
(``messages[2].content``), so a client sees exactly what it got wrong.  Any
value that gets past these checks is safe to hand to the engine: numbers are
in range, strings are strings, images are decoded ``data:`` URLs within size
(or, with ``--allow-image-urls``, ``http(s)`` URLs the request's greenlet
fetches before queueing: ``image_urls.fetch_images``).  A message with images
keeps the order of its text and image parts (``parts``), so each image goes
into the turn it was sent in.  Unknown fields are ignored, as OpenAI-compatible
servers do.
"""

from __future__ import annotations

import binascii
import re

from mlxk_bin.serve.errors import ApiError, bad_request
from mlxk_bin.serve.tools import check_message_tools, read_tools

CHAT, COMPLETION = "chat", "completion"

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_STOPS = 16
MAX_STOP_CHARS = 1024
MAX_MODEL_CHARS = 1024
MAX_TOKEN_ID = 2**31 - 1
MAX_TOP_LOGPROBS = 20
MAX_N = 128  # the schema's ceiling; the server's --max-n is the real one
MAX_CHUNK = 10_000  # the "chunk" extension: images per session
MAX_URL_CHARS = 8192
IMAGE_TYPES = ("png", "jpeg", "jpg", "gif", "webp", "bmp", "tiff")
_DATA_URL = r"(?i)^data:image/([a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*);base64,"


class GenRequest:
    """One validated generation request (chat or completion)."""

    __slots__ = ("kind", "model", "messages", "prompt", "images", "max_tokens", "sampling", "stop",
                 "stream", "include_usage", "template_kwargs", "logprobs", "n", "exif", "tools", "tool_choice",
                 "parallel_tool_calls", "response_format", "image_urls", "chunk")

    def __init__(self, kind: str):
        self.kind = kind
        self.model: str | None = None
        # [{"role", "content": str}]; a message with images also has "parts": [{"type": "text", "text"} |
        # {"type": "image", "image": N}] in the order they came (N: 1-based index into ``images``)
        self.messages: list[dict] | None = None
        self.prompt: str | list[int] | None = None
        self.images: list[bytes] = []  # b"" while a remote URL is still to be fetched
        self.image_urls: dict[int, tuple[str, str]] = {}  # 0-based index -> (http(s) URL, param) to fetch
        self.chunk: int | None = None  # the "chunk" extension: images per session (None: all in one)
        self.max_tokens: int | None = None
        self.sampling: dict = {}  # only the keys the client set
        self.stop: list[str] = []
        self.stream = False
        self.include_usage = False
        self.template_kwargs: dict = {}
        self.tools: list | None = None  # OpenAI function tools (tools.read_tools)
        self.tool_choice = "auto"  # "auto" | "none" | "required" | a function name
        self.parallel_tool_calls = True
        self.response_format: dict | None = None  # None: text; else structured.check_response_format's shape
        self.logprobs: int | None = None  # None: off; N: each token's log-probability and N alternatives
        self.n = 1  # choices to generate from the one prompt
        self.exif: bool | None = None  # "mlxk": {"exif": bool}; None: the server's --exif

    def prompt_chars(self) -> int:
        """Characters of prompt text, for a cheap size check before tokenizing."""
        if self.messages is not None:
            return sum(len(m["content"]) for m in self.messages)
        if isinstance(self.prompt, str):
            return len(self.prompt)
        return len(self.prompt or ())


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_name(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "integer", float: "number"}.get(type(value), type(value).__name__)


def _wrong_type(param: str, expected: str, value) -> ApiError:
    return bad_request(f"'{param}' must be {expected}, not {_type_name(value)}", param, "invalid_type")


def _number(body: dict, name: str, low: float, high: float, *, low_open: bool = False, integer: bool = False):
    value = body.get(name)
    if value is None:
        return None
    if integer and not _is_int(value):
        raise _wrong_type(name, "an integer", value)
    if not _is_number(value):
        raise _wrong_type(name, "a number", value)
    if value != value or value < low or value > high or (low_open and value == low):
        left = "(" if low_open else "["
        raise bad_request(f"'{name}' must be in {left}{low:g}, {high:g}], not {value!r}", name)
    return value


def _bool(body: dict, name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong_type(name, "a boolean", value)
    return value


def _string(value, param: str, max_chars: int | None = None) -> str:
    if not isinstance(value, str):
        raise _wrong_type(param, "a string", value)
    if max_chars is not None and len(value) > max_chars:
        raise bad_request(f"'{param}' is longer than {max_chars} characters", param)
    return value


def _unsupported(message: str, param: str) -> ApiError:
    return ApiError(422, message, param=param, code="capability_not_supported")


class ImageSink:
    """Where the images of a request go while its messages are read."""

    def __init__(self, req: GenRequest, max_bytes: int, allow_urls: bool = False):
        self.req = req
        self.max_bytes = max_bytes
        self.allow_urls = allow_urls

    def add(self, url, param: str, parts: list | None = None) -> None:
        """One image: a ``data:`` URL (decoded now) or, when allowed, an http(s) URL (fetched later)."""
        if not isinstance(url, str):
            raise _wrong_type(param, "a string", url)
        images = self.req.images
        if url[:8].lower().startswith(("http://", "https://")):
            if not self.allow_urls:
                raise bad_request("only data: image URLs are accepted; this server does not fetch remote URLs (it runs "
                                  "without --allow-image-urls)", param, "invalid_image_url")
            if len(url) > MAX_URL_CHARS or any(c.isspace() or ord(c) < 32 for c in url):
                raise bad_request(f"the image URL is malformed or longer than {MAX_URL_CHARS} characters", param,
                                  "invalid_image_url")
            self.req.image_urls[len(images)] = (url, param)
            images.append(b"")
        else:
            images.append(_image(url, param, self.max_bytes))
        if parts is not None:
            parts.append({"type": "image", "image": len(images)})


def check_images_total(req: GenRequest, limit: int | None) -> None:
    total = sum(len(image) for image in req.images)
    if limit is not None and total > limit:
        raise ApiError(413, f"the request's images add up to {total} bytes, over {limit}",
                       param="messages", code="payload_too_large", limit_bytes=limit)


def parse_common(body, kind: str, max_image_bytes: int, max_images_total: int | None = None,
                 allow_urls: bool = False) -> GenRequest:
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, not {_type_name(body)}", None, "invalid_type")
    req = GenRequest(kind)
    model = body.get("model")
    if model is not None:
        model = _string(model, "model", MAX_MODEL_CHARS).strip()
        if not model or "\x00" in model:
            raise bad_request("'model' must name a model", "model")
        req.model = model

    if kind == CHAT:
        sink = ImageSink(req, max_image_bytes, allow_urls)
        req.messages = _messages(body.get("messages"), sink)
        check_images_total(req, max_images_total)
        req.chunk = _number(body, "chunk", 1, MAX_CHUNK, integer=True)
    else:
        req.prompt = _prompt(body.get("prompt"))

    _max_tokens(body, req)
    _sampling(body, req)
    req.stop = _stop(body.get("stop"))
    req.n = _n(body)
    req.logprobs = _logprobs(body, kind)
    req.stream = _bool(body, "stream")
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise _wrong_type("stream_options", "an object", options)
        req.include_usage = _bool({"stream_options.include_usage": options.get("include_usage")},
                                  "stream_options.include_usage")
    _unsupported_features(body, kind)
    read_tools(body, req)
    if req.tools and kind != CHAT:
        raise bad_request("tools need a chat request (/v1/chat/completions)", "tools")
    kwargs = body.get("chat_template_kwargs")
    if kwargs is not None:
        if not isinstance(kwargs, dict):
            raise _wrong_type("chat_template_kwargs", "an object", kwargs)
        req.template_kwargs = kwargs
    if body.get("user") is not None:
        _string(body["user"], "user", 4096)
    _extension(body.get("mlxk"), req)
    return req


def _extension(value, req: GenRequest) -> None:
    """mlxk's own request options: ``"mlxk": {"exif": true}`` (the EXIF table in the answer)."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise _wrong_type("mlxk", "an object", value)
    req.exif = _bool({"mlxk.exif": value.get("exif")}, "mlxk.exif") if value.get("exif") is not None else None


def _max_tokens(body: dict, req: GenRequest) -> None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not _is_int(value):
            raise _wrong_type(name, "an integer", value)
        if value < 1:
            raise bad_request(f"'{name}' must be at least 1, not {value}", name)
        # Both given: the newer name wins, as in OpenAI's API.
        if req.max_tokens is None:
            req.max_tokens = value


def _sampling(body: dict, req: GenRequest) -> None:
    s = req.sampling
    checks = (
        ("temperature", 0, 2, False, False),
        ("top_p", 0, 1, True, False),
        ("min_p", 0, 1, False, False),
        ("repetition_penalty", 0, 100, True, False),
        ("top_k", -1, 2**31 - 1, False, True),
        ("seed", 0, 2**63 - 1, False, True),
    )
    for name, low, high, low_open, integer in checks:
        value = _number(body, name, low, high, low_open=low_open, integer=integer)
        if value is not None:
            s[name] = value
    if s.get("top_k") == -1:  # vLLM's spelling of "off"
        s["top_k"] = 0
    # OpenAI's penalties over the answer's own tokens (0 is "off").
    for name in ("presence_penalty", "frequency_penalty"):
        value = _number(body, name, -2, 2)
        if value:
            s[name] = value
    bias = body.get("logit_bias")
    if bias is not None:
        if not isinstance(bias, dict):
            raise _wrong_type("logit_bias", "an object", bias)
        if len(bias) > 1024:
            raise bad_request("'logit_bias' may hold at most 1024 tokens", "logit_bias")
        for key, value in bias.items():
            if not key.isdigit() or not _is_number(value) or not -100 <= value <= 100:
                raise bad_request(f"'logit_bias' maps token ids to numbers in [-100, 100]; {key[:20]!r} is not",
                                  "logit_bias")
        if bias:
            s["logit_bias"] = bias


def _stop(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _wrong_type("stop", "a string or an array of strings", value)
    if len(value) > MAX_STOPS:
        raise bad_request(f"'stop' may hold at most {MAX_STOPS} strings", "stop")
    stops = []
    for i, item in enumerate(value):
        text = _string(item, f"stop[{i}]", MAX_STOP_CHARS)
        if text and text not in stops:
            stops.append(text)
    return stops


def _n(body: dict) -> int:
    value = _number(body, "n", 1, MAX_N, integer=True)
    return 1 if value is None else value


def _logprobs(body: dict, kind: str) -> int | None:
    """Chat: ``logprobs`` (boolean) and ``top_logprobs`` (0-20); text
    completions: ``logprobs`` (0-20, the alternatives per token)."""
    if kind == COMPLETION:
        # No top_logprobs in the legacy API (logprobs is the count); a wrong one is still refused.
        _number(body, "top_logprobs", 0, MAX_TOP_LOGPROBS, integer=True)
        value = body.get("logprobs")
        if value is None or value is False:
            return None
        return _number(body, "logprobs", 0, MAX_TOP_LOGPROBS, integer=True)
    wanted = _bool(body, "logprobs")
    top = _number(body, "top_logprobs", 0, MAX_TOP_LOGPROBS, integer=True)
    if top and not wanted:
        raise bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs")
    return (top or 0) if wanted else None


def _unsupported_features(body: dict, kind: str) -> None:
    if kind == COMPLETION:
        if body.get("echo") not in (None, False):
            raise _unsupported("echo is not supported by this server", "echo")
        if body.get("suffix") not in (None, ""):
            raise _unsupported("suffix (fill-in-the-middle) is not supported", "suffix")
        if body.get("best_of") not in (None, 1):
            raise bad_request("only best_of=1 is supported", "best_of", "unsupported_value")


# -- chat messages ----------------------------------------------------------

def _messages(value, sink: ImageSink) -> list[dict]:
    if value is None:
        raise bad_request("'messages' is required", "messages", "missing_required_parameter")
    if not isinstance(value, list):
        raise _wrong_type("messages", "an array", value)
    if not value:
        raise bad_request("'messages' must hold at least one message", "messages")
    out = []
    for i, message in enumerate(value):
        param = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _wrong_type(param, "an object", message)
        role = message.get("role")
        if not isinstance(role, str):
            raise _wrong_type(f"{param}.role", "a string", role) if role is not None else bad_request(
                f"'{param}.role' is required", f"{param}.role", "missing_required_parameter")
        if role not in ROLES:
            raise bad_request(f"'{param}.role' must be one of {', '.join(ROLES)}, not {role[:40]!r}",
                              f"{param}.role")
        parts = []
        content = _content(message.get("content"), f"{param}.content", sink, parts)
        if content is None and role == "tool":
            content = ""
        if content is None and role != "assistant":
            raise bad_request(f"'{param}.content' is required", f"{param}.content", "missing_required_parameter")
        entry = {"role": "system" if role == "developer" else role, "content": content or ""}
        if any(part["type"] == "image" for part in parts):
            if role != "user":  # as OpenAI: a chat template places images in user turns only
                raise bad_request(f"'{param}.content' may hold image_url parts only in a user message, not "
                                  f"in a {role} message", f"{param}.content")
            entry["parts"] = parts
        name = message.get("name")
        if name is not None:
            entry["name"] = _string(name, f"{param}.name", 256)
        if role in ("assistant", "tool"):
            check_message_tools(message, entry, param)
        out.append(entry)
    return out


def _content(value, param: str, sink: ImageSink, parts: list) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise _wrong_type(param, "a string or an array of content parts", value)
    texts = []
    for j, part in enumerate(value):
        where = f"{param}[{j}]"
        if not isinstance(part, dict):
            raise _wrong_type(where, "an object", part)
        kind = part.get("type")
        if kind == "text":
            texts.append(_string(part.get("text"), f"{where}.text"))
            parts.append({"type": "text", "text": texts[-1]})
        elif kind == "image_url":
            value = part.get("image_url")
            sink.add(value.get("url") if isinstance(value, dict) else value, f"{where}.image_url.url", parts)
        elif kind in ("input_audio", "file", "audio_url"):
            raise _unsupported(f"content parts of type {kind!r} are not supported", f"{where}.type")
        else:
            shown = kind[:40] if isinstance(kind, str) else _type_name(kind)
            raise bad_request(f"'{where}.type' must be 'text' or 'image_url', not {shown!r}", f"{where}.type")
    return "".join(texts)


def _image(url: str, param: str, max_bytes: int) -> bytes:
    """A ``data:image/...;base64,`` URL's bytes (``param`` names it in errors)."""
    match = re.match(_DATA_URL, url[:256])
    if not match:
        if url[:5].lower() == "data:":
            raise bad_request("image data: URLs must look like data:image/png;base64,...", param,
                              "invalid_image_url")
        raise bad_request("image URLs must be data: URLs (or http(s) URLs on a server run with "
                          "--allow-image-urls)", param, "invalid_image_url")
    if match.group(1).lower() not in IMAGE_TYPES:
        raise ApiError(400, f"image type image/{match.group(1)[:20]} is not supported", param=param,
                       code="unsupported_media")
    payload = url[match.end():]
    # 4 base64 characters carry 3 bytes: refuse oversized images before decoding them.
    if len(payload) // 4 * 3 > max_bytes + 3:
        raise ApiError(413, f"image is larger than {max_bytes} bytes", param=param,
                       code="payload_too_large", limit_bytes=max_bytes)
    try:
        data = binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        raise bad_request("image data is not valid base64", param, "invalid_image_url") from None
    if not data:
        raise bad_request("image data is empty", param, "invalid_image_url")
    if len(data) > max_bytes:
        raise ApiError(413, f"image is larger than {max_bytes} bytes", param=param,
                       code="payload_too_large", limit_bytes=max_bytes)
    return data


# -- completion prompts -----------------------------------------------------

def _prompt(value) -> str | list[int]:
    if value is None:
        raise bad_request("'prompt' is required", "prompt", "missing_required_parameter")
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise _wrong_type("prompt", "a string, an array of strings or an array of token ids", value)
    if len(value) == 1 and isinstance(value[0], (str, list)):
        value = value[0]
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise _wrong_type("prompt[0]", "a string or an array of token ids", value)
    elif value and all(isinstance(v, (str, list)) for v in value):
        raise bad_request("only one prompt per request is supported", "prompt", "unsupported_value")
    if not value:
        raise bad_request("'prompt' must not be empty", "prompt")
    for i, token in enumerate(value):
        if not _is_int(token):
            raise _wrong_type(f"prompt[{i}]", "a token id (integer)", token)
        if not 0 <= token <= MAX_TOKEN_ID:
            raise bad_request(f"'prompt[{i}]' is not a valid token id: {token}", f"prompt[{i}]")
    return value
