"""From a model reference to a checked model, before any weights load.

Resolution is ``names.resolve`` (paths, ``ORG/NAME``, workspace home,
``mlx-community/`` expansion, substrings, ``@hash``).  ``check_runnable``
then applies the health rules: broken files or a model this machine cannot
run are ``unhealthy``; a model of another kind than asked is
``capability_not_supported``.  mlx-run and mlxk-serve both come this way.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import AUDIO, TEXT, VISION, Located
from mlxk_common.inventory.names import is_repo_id, resolve
from mlxk_common.inventory.runtime import backend_installed
from mlxk_common.inventory.store import Store


def locate(ref: str, environ) -> Located:
    """Resolve ``ref`` to a model with a folder to read (no checks yet).  An
    ``ORG/NAME`` that is not cached says how to get it."""
    try:
        found = resolve(ref, Store.from_environ(environ))
    except MlxkError as exc:
        if exc.type == "model_not_found" and pullable(ref):
            exc.details["hint"] = f"download it with: mlxk pull {ref.strip()}"
        raise
    if found.path is None:
        raise MlxkError("unhealthy", f"{found.name} has no snapshot in the cache (interrupted download?)",
                        reference=ref, reason="no snapshot")
    return found


def pullable(ref: str) -> bool:
    """``ORG/NAME`` or ``ORG/NAME@REV``: a name the Hub could have."""
    return is_repo_id(ref.strip().partition("@")[0])


def check_runnable(located: Located, kinds: tuple[str, ...] = (TEXT, VISION)):
    """Raise unless the folder is healthy and a model of one of ``kinds``
    (``text``, ``vision``, ``audio``) that this machine can run.  Returns the
    runtime facts (``runtime.RuntimeResult``)."""
    integrity = located.integrity
    if not integrity.ok:
        raise MlxkError("unhealthy", f"{located.name} is unhealthy: {integrity.reasons[0]}",
                        model=located.name, reasons=integrity.reasons,
                        findings=[f.to_dict() for f in integrity.findings],
                        hint=f"mlxk-health {located.name} shows the details")
    runtime = located.runtime
    what = _what(runtime)
    if what not in kinds:
        raise MlxkError("capability_not_supported", f"{located.name} is {_KIND_TEXT[what]}",
                        model=located.name, capabilities=runtime.capabilities)
    if not runtime.runtime_compatible and what == VISION and not backend_installed("mlx_vlm"):
        raise MlxkError("capability_not_supported", f"{located.name} is a vision model and mlx-vlm is not "
                        "installed", model=located.name, capabilities=runtime.capabilities,
                        hint="pip install 'mlxk[vision]'")
    if not runtime.runtime_compatible:
        raise MlxkError("unhealthy", f"{located.name} cannot run here: {runtime.reason}", model=located.name,
                        reason=runtime.reason, runtime_compatible=False)
    return runtime


def _what(runtime) -> str:
    if runtime.model_type == "embedding":
        return "embedding"
    if runtime.model_type == "audio":
        return AUDIO
    if "vision" in runtime.capabilities:
        return VISION
    return TEXT


_KIND_TEXT = {
    TEXT: "a text model",
    "embedding": "an embedding model; it does not generate text",
    AUDIO: "a speech-to-text model; audio input is not available yet",
    VISION: "a vision model",
}
