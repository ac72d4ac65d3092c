"""Logging to stderr, human or JSON lines, with secrets and home paths redacted.

Redaction applies to every log record and to every error message a tool
prints (human, JSON and NDJSON alike), so neither a Hub token (``hf_…``), nor
the credentials of a URL (``HF_ENDPOINT=https://user:password@host``), nor the
user's home folder ends up in a pasted log.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Mapping

from mlxk_common.jsonio import dumps

LEVELS = ("debug", "info", "warning", "error")

_TOKEN_RE = r"\bhf_[A-Za-z0-9]{6,}"
_BEARER_RE = r"(?i)(bearer\s+)[^\s\"']+"
# The user-info part of any URL (``scheme://user:password@host``); greedy up to
# the last "@" before the path, so an unescaped "@" in a password is covered.
_URL_USERINFO_RE = r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#\"'<>]+@"
SECRET_ENV = ("HF_TOKEN", "HUGGINGFACE_HUB_TOKEN", "MLXK2_API_KEY")
URL_ENV = ("HF_ENDPOINT",)


def redact(text: str, environ: Mapping[str, str] | None = None, home: bool = True) -> str:
    """Replace Hub tokens, bearer credentials, URL credentials, known secret
    env values and (with ``home``) the home folder in ``text``."""
    if not text:
        return text
    environ = os.environ if environ is None else environ
    text = re.sub(_TOKEN_RE, "hf_***", text)
    text = re.sub(_BEARER_RE, r"\1***", text)
    text = re.sub(_URL_USERINFO_RE, r"\1***@", text)
    for secret in _secrets(environ):
        text = text.replace(secret, "***")
    if not home:
        return text
    folder = environ.get("HOME") or os.path.expanduser("~")
    if folder and folder not in ("/", "~") and len(folder) > 1:
        text = re.sub(re.escape(folder.rstrip("/")) + r"(?=/|\b|$)", "~", text)
    return text


def _secrets(environ: Mapping[str, str]) -> list[str]:
    """Values to blank wherever they appear: tokens, and the user name and
    password of an endpoint URL (as written and percent-decoded), which a
    library may quote outside the URL."""
    found = [environ.get(name) for name in SECRET_ENV]
    for name in URL_ENV:
        url = environ.get(name) or ""
        netloc = url.partition("://")[2].split("/", 1)[0]
        userinfo = netloc.rpartition("@")[0]
        for part in userinfo.split(":", 1) if userinfo else ():
            found.append(part)
            if "%" in part:
                from urllib.parse import unquote

                found.append(unquote(part))
    return sorted({s for s in found if s and len(s) >= 4}, key=len, reverse=True)


def redact_fields(value, environ: Mapping[str, str] | None = None):
    """The secrets (not the home folder: paths in JSON stay usable) redacted
    from every string inside a JSON-like value, keys left as they are."""
    if isinstance(value, str):
        return redact(value, environ, home=False)
    if isinstance(value, dict):
        return {key: redact_fields(item, environ) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_fields(item, environ) for item in value]
    return value


def resolve_level(flag_value: str | None, environ: Mapping[str, str]) -> str:
    level = (flag_value or environ.get("MLXK2_LOG_LEVEL") or "warning").lower()
    return level if level in LEVELS else "warning"


def setup_logging(
    level: str = "warning",
    json_lines: bool = False,
    stream=None,
    environ: Mapping[str, str] | None = None,
):
    """Configure the root 'mlxk' logger.  Imported lazily: logging costs a few
    milliseconds, and most tool runs never log."""
    import logging

    stream = sys.stderr if stream is None else stream
    logger = logging.getLogger("mlxk")
    formatter_class = _json_formatter() if json_lines else _text_formatter()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_class(environ))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    return logger


def get_logger(name: str = "mlxk"):
    import logging

    return logging.getLogger(name if name.startswith("mlxk") else f"mlxk.{name}")


def _text_formatter():
    import logging

    class TextFormatter(logging.Formatter):
        def __init__(self, environ=None):
            super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
            self.environ = environ

        def format(self, record):
            return redact(super().format(record), self.environ)

    return TextFormatter


def _json_formatter():
    import logging

    class JsonFormatter(logging.Formatter):
        def __init__(self, environ=None):
            super().__init__()
            self.environ = environ

        def format(self, record):
            entry = {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(),
                "logger": record.name,
                "msg": redact(record.getMessage(), self.environ),
            }
            # Structured extras: logger.info("...", extra={"fields": {...}})
            for key, value in getattr(record, "fields", {}).items():
                entry[key] = redact(value, self.environ) if isinstance(value, str) else value
            if record.exc_info:
                entry["exc"] = redact(self.formatException(record.exc_info), self.environ)
            return dumps(entry)

    return JsonFormatter
