"""Which models the server may run, and how a request's ``model`` finds one.

Requests name models the way mlx-run does (full ``ORG/NAME``, short name,
substring, ``NAME@HASH``, a workspace folder name), resolved against the
cache and ``MLXK_WORKSPACE_HOME``.  A path sent over HTTP is served only when
it lies inside ``MLXK_WORKSPACE_HOME`` or is the folder the operator named on
the command line, so a client can never make the server read any other
folder.  One rule decides what lies inside the home, however a request names
a folder: its real path (symlinks resolved) is inside the home's real path,
or inside a model folder that a symlink directly in the home leads to (the
operator put that link there, and a bare name reaches it too).  ``--allow``
narrows the set further.  All of this is file-system
work only: no mlx here.
"""

from __future__ import annotations

import os
import time

from mlxk_bin.serve.errors import ApiError, from_mlxk
from mlxk_common.config import workspace_home
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import locate
from mlxk_common.inventory.located import Located
from mlxk_common.inventory.records import cache_record, runnable, workspace_record
from mlxk_common.inventory.store import Store, Workspace, is_explicit_path, scan_workspace_home

RESOLVE_TTL_S = 5.0  # how long a resolved reference is reused (names rarely change under a server)
LISTING_TTL_S = 5.0


def _real(path: str) -> str:
    return os.path.realpath(path)


class Registry:
    def __init__(self, environ):
        self.environ = environ
        home = workspace_home(environ)
        self.workspace_home = _real(str(home)) if home else None
        self.default: Located | None = None  # the preloaded model
        self.allowed: dict[str, Located] | None = None  # real path -> ref, with --allow
        self._operator_refs: dict[str, Located] = {}  # references given on the command line, as typed
        self._memo: dict[str, tuple[float, Located]] = {}
        self._listing: tuple[float, list] | None = None

    # -- set-up (command line: any reference mlx-run takes, errors are fatal) ----
    def resolve_operator(self, ref: str) -> Located:
        model = self._resolve(ref, trusted=True)
        self._operator_refs[ref] = model
        return model

    def set_default(self, model: Located) -> None:
        self.default = model

    def allow(self, refs: list[str]) -> None:
        self.allowed = {}
        for ref in refs:
            model = self.resolve_operator(ref)
            self.allowed[_real(model.path)] = model
        if self.default is not None:
            self.allowed[_real(self.default.path)] = self.default

    # -- requests -----------------------------------------------------------------
    def for_request(self, ref: str | None) -> Located:
        if ref is None:
            if self.default is None:
                raise ApiError(400, "'model' is required (this server has no default model)", param="model",
                               code="missing_required_parameter")
            return self.default
        if ref in self._operator_refs:
            return self._operator_refs[ref]
        if self.default is not None and ref == self.default.name:
            return self.default
        now = time.monotonic()
        memo = self._memo.get(ref)
        if memo is not None and memo[0] > now:
            return memo[1]
        try:
            model = self._resolve(ref, trusted=False)
        except MlxkError as exc:
            raise from_mlxk(exc, "model") from None
        if self.allowed is not None and _real(model.path) not in self.allowed:
            raise ApiError(403, f"model {model.name!r} is not available on this server", "permission_error",
                           "model", "model_not_allowed")
        if len(self._memo) > 1024:
            self._memo.clear()
        self._memo[ref] = (now + RESOLVE_TTL_S, model)
        return model

    def _resolve(self, ref: str, trusted: bool) -> Located:
        explicit = is_explicit_path(ref.strip())
        # Check a client's path before touching it, so the answer says
        # nothing about what exists outside MLXK_WORKSPACE_HOME.
        if explicit and not trusted and not self._inside_home(os.path.expanduser(ref.strip())):
            raise MlxkError("model_not_found", f"no model matches {ref!r} (request paths must lie inside "
                                               "MLXK_WORKSPACE_HOME)")
        located = locate(ref, self.environ)
        if explicit and not trusted and not self._inside_home(located.path):  # a symlink that leads out
            raise MlxkError("model_not_found", f"no model matches {ref!r} (request paths must lie inside "
                                               "MLXK_WORKSPACE_HOME)")
        if explicit:
            located.name = ref.strip()
        return located

    def _inside_home(self, path: str) -> bool:
        if not self.workspace_home:
            return False
        real = _real(path)
        roots = [self.workspace_home, *self._linked_into_home()]
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)

    def _linked_into_home(self) -> list[str]:
        """The real folders of the home's symlinked model folders (``home/x ->
        /elsewhere/x``): what a bare name ``x`` finds, so a path may name them too."""
        return [_real(w.path) for w in scan_workspace_home(self.workspace_home) if os.path.islink(w.path)]

    # -- /v1/models -------------------------------------------------------------------
    def listing(self, loaded_paths: set[str]) -> list[dict]:
        """Healthy, runnable models: the preloaded one first, then the cache,
        then workspaces; each with a ``loaded`` flag."""
        now = time.monotonic()
        if self._listing is None or self._listing[0] <= now:
            self._listing = (now + LISTING_TTL_S, self._scan())
        loaded = {_real(p) for p in loaded_paths}
        out = []
        for record in self._listing[1]:
            entry = dict(record)
            entry["loaded"] = _real(entry.pop("_path")) in loaded
            out.append(entry)
        return out

    def _scan(self) -> list[dict]:
        store = Store.from_environ(self.environ)
        records = []
        for repo in store.repos():
            records.append(cache_record(repo))
        for workspace in store.home_workspaces():
            records.append(workspace_record(workspace))
        # Models the operator named (--model, --allow) are offered wherever they lie: a folder
        # outside the cache and the workspace home too.
        named = ([self.default] if self.default is not None else []) + list((self.allowed or {}).values())
        for model in named:
            if not any(_real(r["path"]) == _real(model.path) for r in records):
                records.append(workspace_record(Workspace(model.path, model.name)))
        records = [r for r in records if runnable(r)]
        for record in records:  # a workspace is listed by the name it was given, not its path
            record["name"] = record.get("display_name") or record["name"]
        if self.default is not None:  # listed under the name the server answers with
            for record in records:
                if _real(record["path"]) == _real(self.default.path):
                    record["name"] = self.default.name
        if self.allowed is not None:
            records = [r for r in records if _real(r["path"]) in self.allowed]
        first = _real(self.default.path) if self.default is not None else None
        records.sort(key=lambda r: (_real(r["path"]) != first, r.get("workspace", False), r["name"]))
        return [_model_object(r) for r in records]

    def invalidate(self) -> None:
        self._listing = None
        self._memo.clear()


def _model_object(record: dict) -> dict:
    import calendar

    created = 0
    if record.get("last_modified"):
        created = calendar.timegm(time.strptime(record["last_modified"], "%Y-%m-%dT%H:%M:%SZ"))
    name = record["name"]
    owner = name.split("/", 1)[0] if record.get("cached") and "/" in name else "workspace"
    return {
        "id": name,
        "object": "model",
        "created": created,
        "owned_by": owner,
        "context_length": record.get("context_length"),
        "capabilities": record.get("capabilities") or [],
        "model_type": record.get("model_type"),
        "hash": record.get("hash"),
        "_path": record["path"],
    }
