"""What a model folder is, read from its files alone (no mlx, no weights).

Decides the engine kind (text, vision, audio) from ``config.json`` and finds
the context window, so mlx-run and the server can refuse a request before
any weights are read.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.runtime import context_length, is_audio, is_stt, is_vision

TEXT, VISION, AUDIO = "text", "vision", "audio"

_NO_WINDOW = 10**7  # tokenizers use ~1e30 for "no limit"


class ModelInfo:
    """``path, config, model_type, kind, context_length`` of one model folder."""

    def __init__(self, path: Path, config: dict, generation_config: dict, tokenizer_config: dict):
        self.path = path
        self.config = config
        self.generation_config = generation_config
        self.tokenizer_config = tokenizer_config
        self.model_type = str(config.get("model_type") or "")
        self.kind = _kind(path, config)
        self.context_length = _context_length(config, tokenizer_config)

    def __repr__(self):
        return f"ModelInfo({str(self.path)!r}, {self.model_type!r}, {self.kind!r}, {self.context_length})"


def read_model_info(path) -> ModelInfo:
    path = Path(path)
    config_file = path / "config.json"
    if not path.is_dir():
        raise MlxkError("model_not_found", f"no model folder at {path}", path=str(path))
    if not config_file.is_file():
        raise MlxkError("unhealthy", f"{path} has no config.json", path=str(path), reason="config.json missing")
    config = _read_json(config_file, required=True)
    if not isinstance(config, dict):
        raise MlxkError("unhealthy", f"{config_file} is not a JSON object", path=str(path))
    generation = _read_json(path / "generation_config.json") or {}
    tokenizer = _read_json(path / "tokenizer_config.json") or {}
    return ModelInfo(path, config, generation if isinstance(generation, dict) else {},
                     tokenizer if isinstance(tokenizer, dict) else {})


def _read_json(file: Path, required: bool = False):
    try:
        with open(file, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        if required:
            raise MlxkError("unhealthy", f"{file} is missing", path=str(file.parent)) from None
        return None
    except (OSError, ValueError) as exc:
        if required:
            raise MlxkError("unhealthy", f"{file} cannot be read: {exc}", path=str(file.parent)) from None
        return None


def _kind(path: Path, config: dict) -> str:
    # The health module's rules, so mlx-run and mlxk-health agree on what a model is.

    if is_stt(config):
        return AUDIO
    if is_vision(path, config) or is_audio(path, config):  # mlx-vlm models (audio chat included)
        return VISION
    return TEXT


def _context_length(config: dict, tokenizer_config: dict) -> int | None:
    window = context_length(config)
    if window is not None:
        return window
    value = tokenizer_config.get("model_max_length")
    if isinstance(value, (int, float)) and 0 < value < _NO_WINDOW:
        return int(value)
    return None


def eos_ids_from_config(info: ModelInfo) -> set[int]:
    """End-of-sequence ids that config.json and generation_config.json name."""
    ids: set[int] = set()
    for source in (info.config, info.generation_config):
        value = source.get("eos_token_id")
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(v for v in value if isinstance(v, int) and not isinstance(v, bool))
    return ids
