"""From a model reference to a checked model folder, before any weights load.

Resolution is the store's (``names.resolve``: paths, ``ORG/NAME``, workspace
home, ``mlx-community/`` expansion, substrings, ``@hash``).  The folder then
passes the health rules: broken files or a model this machine cannot run are
``unhealthy``; a model of another kind (embeddings, speech, vision for now)
is ``capability_not_supported``.
"""

from __future__ import annotations

from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.health import check_integrity
from mlxk_common.inventory.names import resolve
from mlxk_common.inventory.runtime import check_runtime
from mlxk_common.inventory.store import Store


class Located:
    __slots__ = ("name", "path", "repo_dir")

    def __init__(self, name: str, path: Path, repo_dir: Path | None = None):
        self.name = name
        self.path = path
        self.repo_dir = repo_dir

    def __repr__(self):
        return f"Located({self.name!r}, {str(self.path)!r})"


def locate(ref: str, environ) -> Located:
    """Resolve ``ref`` to a model folder (no checks yet)."""
    found = resolve(ref, Store.from_environ(environ))
    entry = found.entry
    if entry.kind == "cache":
        if found.revision is None:
            raise MlxkError("unhealthy", f"{entry.name} has no snapshot in the cache", reference=ref,
                            reason="no snapshot")
        return Located(entry.name, Path(found.revision.path), Path(entry.path))
    return Located(entry.name, Path(entry.path))


def check_runnable(located: Located, kind: str = "text"):
    """Raise unless the folder is healthy and a ``kind`` model mlx can run here.
    Returns the runtime facts (``mlxk_common.inventory.runtime.RuntimeResult``)."""
    integrity = check_integrity(located.path, repo_dir=located.repo_dir)
    if not integrity.ok:
        raise MlxkError("unhealthy", f"{located.name} is unhealthy: {integrity.reasons[0]}",
                        model=located.name, reasons=integrity.reasons,
                        hint=f"mlxk-health {located.name} shows the details")
    runtime = check_runtime(located.path, repo_id=located.name if located.repo_dir else None)
    if runtime.model_type in ("embedding", "audio") or (kind == "text" and "vision" in runtime.capabilities):
        what = "vision" if "vision" in runtime.capabilities else runtime.model_type
        raise MlxkError("capability_not_supported", f"{located.name} is {_KIND_TEXT[what]}",
                        model=located.name, capabilities=runtime.capabilities)
    if not runtime.runtime_compatible:
        raise MlxkError("unhealthy", f"{located.name} cannot run here: {runtime.reason}", model=located.name,
                        reason=runtime.reason, runtime_compatible=False)
    return runtime


_KIND_TEXT = {
    "embedding": "an embedding model; it does not generate text",
    "audio": "a speech-to-text model; audio input is not available yet",
    "vision": "a vision model; image input is not available yet",
}
