"""Model references: validation and resolution.

Order of the rules, first hit wins:

1. an explicit path (``.``, ``./x``, ``../x``, ``/x``, ``~/x``) is a workspace;
   a path that is not a folder is a prefix among its siblings (``./gemma-``,
   a ``fuzzy`` match);
2. ``ORG/NAME`` cached exactly;
3. ``NAME`` as a folder in ``MLXK_WORKSPACE_HOME``;
4. ``NAME`` -> ``mlx-community/NAME`` if that is cached;
5. a case-insensitive substring of ``ORG/NAME`` (cache) or of a workspace-home
   folder name.

``REF@REV`` selects a revision by hash prefix (or ref name such as ``main``);
a bare ``@REV`` searches every cached model.  More than one match is an
``ambiguous_match`` error carrying the sorted candidates, for names, folders
and hashes alike.

Validation keeps every reference inside the cache or the folder it names: a
name is never joined into a path unless it has the hub's ``ORG/NAME`` shape.
"""

from __future__ import annotations

import os
import re

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import Located
from mlxk_common.inventory.store import (
    Store,
    Workspace,
    is_explicit_path,
    is_model_folder,
    match_path_pattern,
)

NAME_MAX = 96
PATH_MAX = 4096
DEFAULT_ORG = "mlx-community"
# One hub name part: letters, digits, ".", "_", "-"; not starting with "." or "-".
_PART = r"[A-Za-z0-9_][A-Za-z0-9._-]*"
_REPO_ID_RE = rf"{_PART}/{_PART}"
_BARE_NAME_RE = _PART
_REVISION_RE = r"[A-Za-z0-9._/-]{1,100}"
_CONTROL_RE = r"[\x00-\x1f\x7f]"


# -- validation ----------------------------------------------------------------

def validate_reference(ref: str) -> str:
    """The reference stripped, or ``invalid_reference``."""
    if not isinstance(ref, str) or not ref.strip():
        raise MlxkError("invalid_reference", "empty model reference")
    text = ref.strip()
    if re.search(_CONTROL_RE, text):
        raise MlxkError("invalid_reference", f"control character in model reference {text!r}")
    if is_explicit_path(text):
        if len(text) > PATH_MAX:
            raise MlxkError("invalid_reference", "path reference is too long")
        return text
    name = text.rpartition("@")[0] if "@" in text else text
    if len(name) > NAME_MAX:
        raise MlxkError("invalid_reference", f"model name longer than {NAME_MAX} characters",
                        reference=text[:NAME_MAX] + "…")
    if "\\" in name or ".." in name.split("/") or name.count("/") > 1:
        raise MlxkError("invalid_reference", f"{text!r} is not a model name (ORG/NAME) nor a path",
                        hint="paths start with ./, ../ or /")
    return text


def is_repo_id(name: str) -> bool:
    """``ORG/NAME`` in the hub's shape (safe to turn into a cache folder name)."""
    return (len(name) <= NAME_MAX and re.fullmatch(_REPO_ID_RE, name) is not None
            and "--" not in name and ".." not in name and not name.endswith("."))


def validate_repo_id(name: str) -> str:
    """For tools that need an exact ``ORG/NAME`` (pull): the name, or ``invalid_reference``."""
    name = validate_reference(name)
    if not is_repo_id(name):
        raise MlxkError("invalid_reference", f"{name!r} is not a repository name of the form ORG/NAME",
                        hint="letters, digits, '.', '_' and '-'; at most 96 characters; no '--' or '..'")
    return name


def _is_bare_name(name: str) -> bool:
    return re.fullmatch(_BARE_NAME_RE, name) is not None and "--" not in name and ".." not in name


# -- resolution -------------------------------------------------------------------

def resolve(ref: str, store: Store) -> Located:
    """Resolve one reference (see the module doc), or raise ``model_not_found``,
    ``ambiguous_match``, ``hash_not_found`` or ``invalid_reference``."""
    text = validate_reference(ref)
    if is_explicit_path(text):
        workspace = resolve_path(text)
        # A prefix among siblings (./gemma-) found the folder: not the path itself.
        exact = workspace.path == os.path.abspath(os.path.expanduser(text))
        return Located(text, workspace, None, "path" if exact else "fuzzy")
    name, revision = text, None
    if "@" in text:
        name, _, revision = text.rpartition("@")
        if not re.fullmatch(_REVISION_RE, revision) or ".." in revision.split("/"):
            raise MlxkError("invalid_reference", f"{revision!r} is not a revision (a commit hash prefix or a ref name)")
    if not name:
        return _resolve_bare_revision(text, revision, store)
    entries, match = _match_name(name, store)
    if revision is None:
        if len(entries) > 1:
            raise _ambiguous(text, [e.name for e in entries], "models")
        if not entries:
            raise MlxkError("model_not_found", f"no model matches {text!r}", reference=text,
                            hint="mlxk-list shows the models there are")
        entry = entries[0]
        return Located(text, entry, entry.record() if entry.kind == "cache" else None, match)
    return _pick_revision(text, entries, revision, match)


def resolve_path(text: str) -> Workspace:
    """An explicit path: a model folder, or a unique prefix among siblings."""
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        if is_model_folder(path):
            return Workspace(path, text.rstrip("/") or "/")
        raise MlxkError("model_not_found", f"{text} is not a model folder (no config.json)", reference=text)
    if os.path.exists(path):
        raise MlxkError("model_not_found", f"{text} is not a folder", reference=text)
    found = match_path_pattern(text)
    if len(found) > 1:
        raise _ambiguous(text, [w.name for w in found], "model folders")
    if not found:
        raise MlxkError("model_not_found", f"no model folder matches {text}", reference=text)
    return found[0]


def _match_name(name: str, store: Store) -> tuple[list, str]:
    if "/" in name and is_repo_id(name):
        repo = store.repo(name)
        if repo is not None:
            return [repo], "exact"
    if "/" not in name:
        for workspace in store.home_workspaces():
            if workspace.name == name:
                return [workspace], "workspace"
        if _is_bare_name(name):
            repo = store.repo(f"{DEFAULT_ORG}/{name}")
            if repo is not None:
                return [repo], "expanded"
    needle = name.lower()
    found = [r for r in store.repos() if needle in r.repo_id.lower()]
    found += [w for w in store.home_workspaces() if needle in w.name.lower()]
    found.sort(key=lambda e: e.name)
    return found, "fuzzy"


def _pick_revision(text: str, entries: list, revision: str, match: str) -> Located:
    """``NAME@REV``: among the matching models, the revisions that fit."""
    if any(e.kind == "workspace" for e in entries) and len(entries) == 1:
        raise MlxkError("invalid_reference", f"{entries[0].name} is a workspace folder; it has no revisions",
                        reference=text)
    repos = [e for e in entries if e.kind == "cache"]
    if not repos:
        raise MlxkError("model_not_found", f"no model matches {text.rpartition('@')[0]!r}", reference=text)
    hits = [(repo, rev) for repo in repos for rev in repo.find_revisions(revision)]
    if len(hits) == 1:
        repo, rev = hits[0]
        return Located(text, repo, rev, match if len(repos) == 1 else "fuzzy")
    if hits:
        raise _ambiguous(text, [f"{repo.name}@{rev.hash}" for repo, rev in hits], "revisions")
    if len(repos) > 1:
        raise _ambiguous(text, [r.name for r in repos], "models")
    available = [r.hash[:7] for r in repos[0].revisions]
    raise MlxkError("hash_not_found", f"{repos[0].name} has no revision {revision!r}"
                    + (f" (it has {', '.join(available)})" if available else " (it has no snapshots)"),
                    reference=text, available_hashes=available)


def _resolve_bare_revision(text: str, revision: str, store: Store) -> Located:
    """``@REV`` alone: the one cached revision whose hash starts with REV."""
    prefix = revision.lower()
    hits = [(repo, rev) for repo in store.repos() for rev in repo.revisions if rev.hash.startswith(prefix)]
    if len(hits) > 1:
        raise _ambiguous(text, [f"{repo.name}@{rev.hash}" for repo, rev in hits], "revisions")
    if not hits:
        raise MlxkError("hash_not_found", f"no cached revision starts with {revision!r}", reference=text)
    repo, rev = hits[0]
    return Located(text, repo, rev, "hash")


def _ambiguous(text: str, candidates: list[str], what: str) -> MlxkError:
    candidates = sorted(candidates)
    shown = ", ".join(candidates[:10]) + (f" and {len(candidates) - 10} more" if len(candidates) > 10 else "")
    return MlxkError("ambiguous_match", f"{text!r} matches {len(candidates)} {what}: {shown}",
                     reference=text, candidates=candidates, matches=candidates,
                     hint="give the full ORG/NAME (or NAME@HASH)")
