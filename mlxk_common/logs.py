"""Logging to stderr, human or JSON lines, with secrets and home paths redacted.

Redaction applies to every log record and to every error message a tool
prints, so neither a Hub token (``hf_…``) nor the user's home folder ends up
in a pasted log.
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


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace Hub tokens, bearer credentials, known secret env values and the
    home folder in ``text``."""
    if not text:
        return text
    environ = os.environ if environ is None else environ
    text = re.sub(_TOKEN_RE, "hf_***", text)
    text = re.sub(_BEARER_RE, r"\1***", text)
    for name in ("HF_TOKEN", "HUGGINGFACE_HUB_TOKEN", "MLXK2_API_KEY"):
        secret = environ.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    home = environ.get("HOME") or os.path.expanduser("~")
    if home and home not in ("/", "~") and len(home) > 1:
        text = re.sub(re.escape(home.rstrip("/")) + r"(?=/|\b|$)", "~", text)
    return text


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
