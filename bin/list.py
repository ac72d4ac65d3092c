"""mlxk-list: the models in the cache and the workspaces, one record each."""

from __future__ import annotations

import json
import os
import sys

from mlxk_common import table as t
from mlxk_common.cli import Context, Tool
from mlxk_common.inventory.names import validate_reference
from mlxk_common.inventory.records import build_records, runnable
from mlxk_common.inventory.splits import split_report
from mlxk_common.inventory.store import Store, is_explicit_path, is_model_folder, match_path_pattern
from mlxk_common.output import JSON, NDJSON


def configure(parser):
    parser.add_argument("pattern", nargs="?", metavar="PATTERN",
                        help="case-insensitive substring of ORG/NAME (or of a workspace-home folder name); "
                             "a path (., ./gemma-, /models/) lists workspaces there instead")
    parser.add_argument("-a", "--all", action="store_true",
                        help="human output: show every model, not only those that run here")
    parser.add_argument("--health", action="store_true",
                        help="human output: add the Health column (healthy, healthy* = cannot run here, unhealthy)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="human output: full names, Framework, Source and Split (the rank counts tensor "
                             "parallel allows, and whether it pipelines: mlx-run/mlxk-serve --ranks) columns; with --health "
                             "Integrity, Runtime and Reason")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only full model names, one per line")


def entries(ctx: Context):
    """The entries (cached repos, workspaces) the pattern selects, by name,
    and the store they come from (None for a path pattern)."""
    pattern = (ctx.args.pattern or "").strip()
    if pattern and is_explicit_path(pattern):
        found = match_path_pattern(pattern)
        if not pattern.startswith("/") and not is_model_folder(os.path.expanduser(pattern)):
            # A folder listed or a prefix matched: mlx-knife names each model within
            # that folder (display_name "my-model" from "list ."), as typed otherwise.
            for workspace in found:
                workspace.name = os.path.basename(workspace.path)
        return found, None
    store = Store.from_environ(ctx.env.environ)
    if pattern:
        validate_reference(pattern)
    needle = pattern.lower()
    selected = [r for r in store.repos() if needle in r.repo_id.lower()]
    selected += [w for w in store.home_workspaces() if needle in w.name.lower()]
    selected.sort(key=lambda entry: entry.name)
    return selected, store


def run(ctx: Context):
    args = ctx.args
    selected, store = entries(ctx)
    records = build_records(selected)
    for record in records:
        record["split"] = _split(record)
    if ctx.mode == NDJSON:
        for record in records:
            ctx.out.record(record)
        return 0
    if ctx.mode == JSON:
        ctx.out.envelope({"models": records, "count": len(records), "system": system_info()})
        return 0
    if not args.all:
        records = [r for r in records if runnable(r)]
    if args.quiet:
        for record in records:
            ctx.out.line(record["name"])
        return 0
    if store is not None and not records and not store.repos() and not store.home_workspaces():
        if not os.path.isdir(store.hub):
            ctx.out.info(f"{ctx.tool.name}: note: no model cache at {store.hub}")
    ctx.out.line(human_table(records, args.verbose, args.health, ctx.env.stdout_isatty))
    return 0


def _split(record: dict) -> dict | None:
    """Whether the model can be split across ranks (mlx-run/mlxk-serve --ranks), from its
    config.json and mlx-lm's source (no mlx import); None for a model that does not run here."""
    path = record.get("path")
    if record.get("health") != "healthy" or not record.get("runtime_compatible") or not path:
        return None
    if "text-generation" not in (record.get("capabilities") or []) or "vision" in (record.get("capabilities") or []):
        return None
    try:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    return split_report(config) if isinstance(config, dict) else None


def _split_label(split: dict | None) -> str:
    if not split:
        return "-"
    words = []
    if split["tensor_ranks"]:
        ranks = split["tensor_ranks"]
        words.append("tensor " + ",".join(str(n) for n in ranks))  # not a range: 2,4,8 does not mean 3
    if split["pipeline"]:
        words.append("pipeline")
    return ", ".join(words) or "no"


def human_table(records: list[dict], verbose: bool, health: bool, tty: bool) -> str:
    headers = ["Name", "Hash", "Size", "Modified"]
    headers += ["Framework", "Type", "Source", "Split"] if verbose else ["Type"]
    if health:
        headers += ["Integrity", "Runtime", "Reason"] if verbose else ["Health"]
    rows = []
    for r in records:
        row = [t.display_name(r, verbose), t.short_hash(r), t.size(r.get("size_bytes")), t.age(r.get("last_modified"))]
        row += ([str(r.get("framework") or "-"), t.type_label(r), t.source_label(r), _split_label(r.get("split"))]
                if verbose else [t.type_label(r)])
        if health and verbose:
            healthy = r.get("health") == "healthy"
            runtime = ("yes" if r.get("runtime_compatible") else "no") if healthy else "-"
            row += [str(r.get("health") or "-"), runtime, str(r.get("reason") or "-")]
        elif health:
            row.append(t.health_label(r))
        rows.append(row)
    # On a terminal a long reason is cut to keep one model per line; piped, it is whole.
    widths = {len(headers) - 1: 60} if (health and verbose and tty) else None
    return t.render(headers, rows, widths)


def system_info() -> dict | None:
    """The envelope's ``system`` block (mlx-knife 0.2.4): what this machine has."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return {"memory_total_bytes": memory} if memory > 0 else None


TOOL = Tool(
    name="mlxk-list",
    command="list",
    summary="list models in the cache and workspaces",
    description=(
        "Lists the models in the Hugging Face cache ($HF_HOME/hub) and the workspaces in "
        "$MLXK_WORKSPACE_HOME, or the workspaces a path pattern names.  The human table shows "
        "the models that run here unless --all is given; --json and --ndjson always carry every "
        "model, each with its health fields.  Cached revisions are shown as the revision refs/main "
        "names (else the newest snapshot); names from the mlx-community organisation are shortened "
        "in the table unless --verbose."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-list", "the models that run here"),
        ("mlxk-list --all --health", "every model with its health"),
        ("mlxk-list qwen --json | jq '.data.models[].name'", "names of the models matching 'qwen'"),
        ("mlxk-list ./", "the workspaces in the current folder"),
        ("mlxk-list --ndjson | jq -c 'select(.health == \"unhealthy\")' | mlxk-rm --force -",
         "delete every broken model"),
    ),
    env_vars=("HF_HOME", "MLXK_WORKSPACE_HOME"),
    see_also=("mlxk-show", "mlxk-health", "mlxk-rm"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
