"""Configuration: flags beat environment beat defaults.

Environment names are mlx-knife's (README, "Configuration") so mlxk is a drop-in.  Every
tool resolves settings through ``setting()`` so the precedence is the same
everywhere and testable in one place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    from pathlib import Path

from mlxk_common.errors import MlxkError

# name -> (default, one-line meaning); the man pages' ENVIRONMENT sections read this.
ENV_VARS: dict[str, tuple[str | None, str]] = {
    "HF_HOME": ("~/.cache/huggingface", "Hugging Face home; the model cache is $HF_HOME/hub"),
    "HF_TOKEN": (None, "Hub access token (never printed)"),
    "HUGGINGFACE_HUB_TOKEN": (None, "Hub access token, older name (never printed)"),
    "HF_ENDPOINT": ("https://huggingface.co", "Hub endpoint for pull and push"),
    "HF_HUB_OFFLINE": ("0", "1: never contact the Hub (huggingface_hub's offline mode)"),
    "HF_HUB_DOWNLOAD_TIMEOUT": ("10", "seconds to wait for the Hub on each download request"),
    "HF_HUB_DISABLE_XET": ("0", "1: transfer files without the Xet storage protocol"),
    "MLXK_WORKSPACE_HOME": (None, "a folder of workspaces that list, health, run and serve also see"),
    "MLXK2_HOST": ("127.0.0.1", "address mlxk-serve binds"),
    "MLXK2_PORT": ("8000", "port mlxk-serve binds"),
    "MLXK2_PRELOAD_MODEL": (None, "model mlxk-serve loads at start-up"),
    "MLXK2_MAX_TOKENS": (None, "default/ceiling for generated tokens"),
    "MLXK2_PEER_TIMEOUT": ("60", "seconds for every rank of a distributed run (--ranks/--hosts) to start and meet"),
    "MLXK2_MAX_INPUT": ("50MB", "largest input mlx-run reads from stdin (a prompt, one --ndjson-in line)"),
    "MLXK2_MAX_AUDIO": ("25MB", "largest audio upload mlxk-serve's /v1/audio routes accept"),
    "MLXK2_AUDIO_SEGMENTS": ("0", "1: mlx-run --audio prints each segment with its times (--segments)"),
    "MLXK2_READ_TIMEOUT": ("30", "seconds mlxk-serve waits for more of a request before it drops it"),
    "MLXK2_LOG_JSON": ("0", "1: log lines on stderr are JSON objects"),
    "MLXK2_LOG_LEVEL": ("warning", "log level: debug, info, warning, error"),
    "MLXK2_VISION_CHUNK_SIZE": ("1", "images per vision request chunk"),
    "MLXK2_EXIF_METADATA": ("1", "0: do not add EXIF metadata to vision prompts"),
    "MLXK2_MAX_IMAGE": ("20MB", "largest image file mlx-run --image reads"),
    "MLXK2_MAX_IMAGES_TOTAL": ("50MB", "largest total of the images of one mlx-run request"),
    "MLXK2_ALLOW_IMAGE_URLS": ("0", "1 lets mlx-run and mlxk-serve fetch http(s) image URLs (--allow-image-urls)"),
    "MLXK2_IMAGE_URL_TIMEOUT": ("10", "seconds mlxk-serve waits to connect to an image URL and for each read"),
    "MLXK2_ENABLE_PIPES": ("1", "0: mlx-run does not read the prompt from stdin"),
    "MLXK2_ENABLE_ALPHA_FEATURES": ("0", "1: enable experimental features"),
    "MLXK2_API_KEY": (None, "bearer token mlxk-serve requires (never printed)"),
    "MLXK2_DEBUG": ("0", "1: show Python tracebacks for errors"),
    "MLXK2_CPU_DTYPE": ("auto", "CPU weights: auto, float32 or native (--cpu-dtype)"),
    "MLXK2_CPU_MEMORY": (None, "memory float32 weights may add on a CPU (default: half the available memory)"),
    "MLXK2_CPU_THREADS": ("1", "CPU threads: OpenBLAS's (else OPENBLAS_NUM_THREADS); Whisper's own at 2+"),
    "MLXK2_CPU_BLAS": ("1", "0: keep MLX's own reference BLAS on Linux (no OpenBLAS)"),
    "MLXK2_CPU_KERNELS": ("1", "0: none of the engine's own CPU kernels (x86-64 machine code; docs/cpu.md)"),
    "NO_COLOR": (None, "any value: no colour in human output"),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def setting(
    flag_value: object,
    env_name: str | None,
    environ: Mapping[str, str],
    default: object = None,
    cast: Callable[[str], object] = str,
) -> object:
    """Resolve one setting: an explicit flag value wins, then a non-empty
    environment variable (cast, with a usage error on a bad value), then the
    default."""
    if flag_value is not None:
        return flag_value
    if env_name:
        raw = environ.get(env_name)
        if raw is not None and raw != "":
            try:
                return cast(raw)
            except (TypeError, ValueError) as exc:
                raise MlxkError("usage_error", f"{env_name}={raw!r} is not valid: {exc}") from None
    return default


def env_flag(environ: Mapping[str, str], name: str, default: bool = False) -> bool:
    return setting(None, name, environ, default, parse_bool)


def hf_home(environ: Mapping[str, str]) -> Path:
    from pathlib import Path

    raw = environ.get("HF_HOME")
    if raw:
        return Path(os.path.expanduser(raw))
    xdg = environ.get("XDG_CACHE_HOME")
    base = Path(os.path.expanduser(xdg)) if xdg else Path(os.path.expanduser("~/.cache"))
    return base / "huggingface"


def hub_dir(environ: Mapping[str, str]) -> Path:
    """The model cache: $HF_HUB_CACHE if set, else $HF_HOME/hub."""
    from pathlib import Path

    raw = environ.get("HF_HUB_CACHE")
    if raw:
        return Path(os.path.expanduser(raw))
    return hf_home(environ) / "hub"


def workspace_home(environ: Mapping[str, str]) -> Path | None:
    from pathlib import Path

    raw = environ.get("MLXK_WORKSPACE_HOME")
    return Path(os.path.expanduser(raw)) if raw else None


def hf_token(environ: Mapping[str, str], flag_value: str | None = None) -> str | None:
    return flag_value or environ.get("HF_TOKEN") or environ.get("HUGGINGFACE_HUB_TOKEN") or None


def debug(environ: Mapping[str, str]) -> bool:
    try:
        return env_flag(environ, "MLXK2_DEBUG")
    except MlxkError:
        return False
