"""mlxk-clone: copy a cached model into a workspace folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mlxk_bin.clone.copy import check_target, clone_snapshot, snapshot_files
from mlxk_common.cli import Context, Tool
from mlxk_common.config import hub_dir, workspace_home
from mlxk_common.errors import MlxkError
from mlxk_common.hub.cache_write import PARTIAL_SUFFIX, RepoCache
from mlxk_common.hub.client import parse_repo_ref
from mlxk_common.hub.pull import confirmer, health_fields, pull, request_from_args, settings_from_args
from mlxk_common.hub.transfer_progress import TransferProgress
from mlxk_common.inventory.names import resolve
from mlxk_common.inventory.store import Store
from mlxk_common.options import add_transfer_arguments
from mlxk_common.output import HUMAN
from mlxk_common.progress import human_bytes
from mlxk_common.refs import read_stdin_references


def configure(parser):
    parser.add_argument("model", metavar="REF",
                        help="a cached model (ORG/NAME, NAME, a substring, REF@HASH); an ORG/NAME[@REV] that is "
                             "not cached is pulled first; - reads the reference from stdin")
    parser.add_argument("target", metavar="TARGET", nargs="?",
                        help="the new workspace folder: must not exist or be empty (default with "
                             "MLXK_WORKSPACE_HOME: a folder there named after the model; a bare name also "
                             "lands there)")
    parser.add_argument("--no-health-check", action="store_true",
                        help="skip the integrity check of the new workspace")
    add_transfer_arguments(parser)


def run(ctx: Context):
    environ = ctx.env.environ
    if ctx.args.model == "-":
        ctx.args.model = reference_from_stdin(ctx)
    target = check_target(target_path(ctx.args.model, ctx.args.target, environ), environ)
    source = find_source(ctx, hub_dir(environ))
    progress = TransferProgress(ctx.out, ctx.env, f"cloning {source['model']}", source["size_bytes"])
    try:
        copied = clone_snapshot(source["snapshot"], target, environ, repo_id=source["model"],
                                commit=source["hash"], progress=progress)
    finally:
        progress.close()
    result = {"model": source["model"], "clone_status": "success", "message": f"Cloned to {target}",
              "target_dir": str(target), "hash": source["hash"], "pulled": source["pulled"], **copied,
              "health_check": not ctx.args.no_health_check}
    if not ctx.args.no_health_check:
        health = health_fields(target, None, source["model"])
        result.update(health=health["health"], health_reason=health["reason"],
                      runtime_compatible=health["runtime_compatible"])
    report(ctx, result)
    return 0


def reference_from_stdin(ctx: Context) -> str:
    """``-``: the one reference stdin holds (a name, or a JSON object with a name field)."""
    items = list(read_stdin_references(ctx.env.stdin))
    if len(items) != 1:
        raise MlxkError("usage_error", f"mlxk-clone - reads exactly one model reference from stdin, got {len(items)}")
    if items[0].error is not None:
        raise items[0].error
    return items[0].ref


def target_path(model: str, target: str | None, environ) -> Path:
    """TARGET as given; a bare name (or nothing) goes into MLXK_WORKSPACE_HOME when it is set."""
    home = workspace_home(environ)
    if target is None:
        if home is None:
            raise MlxkError("usage_error", "give a TARGET folder (or set MLXK_WORKSPACE_HOME)")
        target = model.split("@", 1)[0].rsplit("/", 1)[-1]
        if not target or target in (".", ".."):
            raise MlxkError("usage_error", f"cannot name a folder after {model!r}; give a TARGET")
        return home / target
    if home is not None and "/" not in target and target not in (".", ".."):
        return home / target
    return Path(target)


def find_source(ctx: Context, hub: Path) -> dict:
    """The cached revision to copy, pulled (or its pull resumed) when needed."""
    ref = ctx.args.model
    try:
        resolved = resolve(ref, Store(str(hub)))
    except MlxkError as exc:
        if exc.type not in ("model_not_found", "hash_not_found") or not _pullable(ref):
            raise
        resolved = None
    if resolved is not None and not resolved.is_cache:
        raise MlxkError("invalid_reference", f"{ref} is a workspace folder; mlxk-clone copies from the cache "
                        "(copy folders with cp)", reference=ref)
    if resolved is None or (resolved.exact and _incomplete(resolved)):
        return _pull_first(ctx, ref)
    revision = resolved.revision
    if revision is None:
        raise MlxkError("not_cached", f"{resolved.name} has no complete revision in the cache; pull it first",
                        reference=ref)
    size = sum(os.path.getsize(p) for _, p in _files(revision.path))
    return {"model": resolved.name, "hash": revision.hash, "snapshot": Path(revision.path), "size_bytes": size,
            "pulled": False}


def _files(snapshot):
    return snapshot_files(Path(snapshot))


def _pullable(ref: str) -> bool:
    try:
        parse_repo_ref(ref)
        return True
    except MlxkError:
        return False


def _incomplete(resolved) -> bool:
    """A pull of this revision was cut short: partial blobs, or links to missing blobs."""
    repo_dir = Path(resolved.entry.path)
    if resolved.revision is None or any((repo_dir / "blobs").glob(f"*{PARTIAL_SUFFIX}")):
        return True
    snapshot = Path(resolved.revision.path)
    return any(p.is_symlink() and not p.exists() for p in snapshot.rglob("*"))


def _pull_first(ctx: Context, ref: str) -> dict:
    settings = settings_from_args(ctx.args, ctx.env.environ, ctx.out)
    result = pull(settings, request_from_args(ctx.args, ref), ctx.out, ctx.env,
                  confirm=confirmer(ctx.mode, ctx.env))

    snapshot = RepoCache(settings.cache, result["model"]).snapshot(result["hash"])
    return {"model": result["model"], "hash": result["hash"], "snapshot": snapshot,
            "size_bytes": result["size_bytes"], "pulled": True}


def report(ctx: Context, result: dict) -> None:
    ctx.out.result(result, f"cloned {result['model']}@{result['hash'][:8]} -> {result['target_dir']} "
                           f"({result['files']} files, {human_bytes(result['size_bytes'])}, {result['method']})")
    if ctx.mode == HUMAN and result.get("health", "healthy") != "healthy":
        ctx.out.warn(f"the new workspace is {result['health']}: {result['health_reason']}")


TOOL = Tool(
    name="mlxk-clone",
    command="clone",
    summary="copy a cached model into a workspace folder",
    description=(
        "Copies one cached revision into a plain folder (a workspace): real files, no symlinks, as "
        "copy-on-write clones where the file system supports them (Linux FICLONE or copy_file_range, "
        "macOS clonefile), plain copies otherwise.  A model that is not cached yet is pulled first, "
        "resumably, exactly as mlxk-pull would.  The workspace gets a .mlxk_workspace.json sentinel "
        "(source repo, revision, file index).  The copy is made in a temporary folder and renamed into "
        "place, so the target appears complete or not at all.  The cache itself is never written."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-clone mlx-community/SmolLM2-135M-Instruct ./smol", "copy a cached model into ./smol"),
        ("MLXK_WORKSPACE_HOME=~/models mlxk-clone org/model", "into ~/models/model, pulling it first if needed"),
        ("mlxk-clone org/model ./ws --ndjson | jq -c 'select(.event==\"result\") | {target_dir, method, health}'",
         "machine-readable result: where it went and how it was copied"),
    ),
    env_vars=("HF_HOME", "MLXK_WORKSPACE_HOME", "HF_ENDPOINT", "HF_TOKEN"),
    see_also=("mlxk-pull", "mlxk-push", "mlxk-convert", "mlxk-list"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
