"""The built-in commands: the dispatcher lists them without importing them.

Each entry's summary must equal its tool's ``Tool.summary`` (a test checks),
so ``mlxk help`` stays instant and truthful.
"""

from __future__ import annotations

# subcommand -> (executable, module in mlxk_bin, one-line summary)
BUILTINS: dict[str, tuple[str, str, str]] = {
    "list": ("mlxk-list", "list", "list models in the cache and workspaces"),
    "show": ("mlxk-show", "show", "show one model in detail"),
    "health": ("mlxk-health", "health", "check model integrity and runtime compatibility"),
    "rm": ("mlxk-rm", "rm", "delete a model or one revision from the cache"),
    "pull": ("mlxk-pull", "pull", "download a model into the cache, resumably"),
    "run": ("mlx-run", "run", "generate text: one-shot, chat, pipes, NDJSON batches"),
    "serve": ("mlxk-serve", "serve", "serve models over an OpenAI-compatible HTTP API"),
    "clone": ("mlxk-clone", "clone", "copy a cached model into a workspace folder"),
    "convert": ("mlxk-convert", "convert", "convert a model folder: GGUF and Whisper imports, quantize, repair"),
    "push": ("mlxk-push", "push", "upload a workspace to a Hub repository"),
}

ALIASES = {"server": "serve"}


def canonical(sub: str) -> str | None:
    sub = ALIASES.get(sub, sub)
    return sub if sub in BUILTINS else None
