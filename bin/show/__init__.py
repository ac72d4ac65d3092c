"""mlxk-show: one model in detail: its record, metadata, revisions, files, config."""

from __future__ import annotations

import sys

from mlxk_bin.show.safetensors_meta import human_count, model_metadata, quantization
from mlxk_common import table as t
from mlxk_common.cli import Context, Tool
from mlxk_common.inventory.names import resolve
from mlxk_common.inventory.records import cache_record, utc_iso, workspace_record
from mlxk_common.inventory.splits import split_report
from mlxk_common.inventory.store import Store, tree_stats
from mlxk_common.jsonio import dumps
from mlxk_common.output import JSON, NDJSON, ItemReport
from mlxk_common.refs import expand_references


def configure(parser):
    parser.add_argument("refs", nargs="+", metavar="REF",
                        help="model: ORG/NAME, NAME, a substring, NAME@HASH, or a folder path; "
                             "'-' reads references from stdin (names or JSON lines with a 'name')")
    parser.add_argument("--files", action="store_true",
                        help="list the model's files: name, size, type and, in the cache, the blob each links to")
    parser.add_argument("--config", action="store_true", help="include config.json as it is")


def run(ctx: Context):
    store = Store.from_environ(ctx.env.environ)
    args = ctx.args
    report = ItemReport(ctx.out)
    results = []
    found = report.each(expand_references(args.refs, ctx.env.stdin),
                        lambda item: describe(resolve(item.ref, store), args.files, args.config))
    for _, details in found:
        results.append(details)
        if ctx.mode == NDJSON:
            ctx.out.record(flat_record(details))
        elif ctx.mode != JSON:
            if len(results) > 1:
                ctx.out.line()
            ctx.out.line(render(details))
    if ctx.mode != JSON:
        return report.exit_code
    single = report.count == 1
    data = results[0] if single and results else {"models": [flat_record(d) for d in results], "count": len(results)}
    return report.envelope(data)


def flat_record(details: dict) -> dict:
    """One NDJSON line: the model object with the details beside its fields
    (so it carries ``name`` and pipes into mlxk-health/mlxk-rm)."""
    return {**details["model"], **{k: v for k, v in details.items() if k != "model"}}


def describe(resolved, files: bool, config: bool) -> dict:
    """The ``data`` object of ``mlxk-show --json`` (mlx-knife's keys, plus
    ``revisions``)."""
    entry = resolved.entry
    if resolved.is_cache:
        model = cache_record(entry, resolved.revision)
        revisions = revision_list(entry, resolved.revision)
        sentinel = None
    else:
        model = workspace_record(entry)
        revisions = []
        sentinel = entry.sentinel
    folder = model["path"]
    # Every read goes through the model's files: special files are never
    # opened, cache links that lead out of the cache never followed, and
    # JSON is parsed with a depth limit.
    snapshot = resolved.path is not None  # a cached repo without any snapshot has no model files
    config_data = resolved.config if snapshot else None
    if isinstance(config_data, dict) and quantization(config_data):
        model["quantization"] = printable(quantization(config_data))
    details = {
        "model": model,
        "metadata": model_metadata(resolved.files if snapshot else None, config_data,
                                   context_length=model.get("context_length")),
        "revisions": revisions,
        "workspace_metadata": printable(sentinel),
        "split": split_report(config_data) if isinstance(config_data, dict) else None,
    }
    if files:
        details["files"] = file_list(folder, entry.path if resolved.is_cache else None) if snapshot else []
    if config:
        details["config"] = raw_config(resolved) if snapshot else None
    return details


def revision_list(repo, selected) -> list[dict]:
    record = repo.record()
    listing = []
    for revision in repo.revisions:
        stats = tree_stats(revision.path)
        listing.append({
            "hash": revision.hash,
            "refs": list(revision.refs),
            "size_bytes": stats.size,
            "last_modified": utc_iso(stats.mtime),
            "record": record is not None and revision.hash == record.hash,
            "selected": selected is not None and revision.hash == selected.hash,
        })
    return listing


def file_type(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    if base == "config.json":
        return "config"
    if base.endswith((".safetensors", ".bin", ".gguf", ".npz")):
        return "weights"
    if "tokenizer" in base.lower():
        return "tokenizer"
    if base.endswith(".json"):
        return "config"
    if base == "README.md":
        return "readme"
    return "other"


def file_list(folder: str, repo_dir: str | None) -> list[dict]:
    """Every file of the snapshot or workspace, dangling links included."""
    import os

    stats = tree_stats(folder, keep_files=True)
    listing = []
    for rel in sorted([*stats.files, *stats.dangling]):
        st = stats.files.get(rel)
        link = None
        if st is None or rel in stats.links:
            try:
                link = os.readlink(os.path.join(folder, rel))
            except OSError:
                link = None
        blob = os.path.basename(link) if (link and repo_dir and "/blobs/" in "/" + link) else None
        listing.append({
            "name": rel,
            "size": t.size(st.st_size) if st is not None else "-",
            "size_bytes": st.st_size if st is not None else None,
            "type": file_type(rel),
            "link": link,
            "blob": blob,
            "dangling": st is None,
        })
    return listing


def raw_config(resolved):
    """config.json as it is (any JSON value), or None when it is missing,
    unreadable or not JSON."""
    return printable(resolved.files.json("config.json")[0])


_INT64 = 1 << 63


def printable(value):
    """JSON read from a file, with integers no JSON writer takes (a crafted
    config's 10**30) as floats, the one JSON number form that holds them.
    The depth is bounded already (``parse_untrusted``)."""
    if type(value) is int and not -_INT64 <= value < _INT64:
        try:
            return float(value)
        except OverflowError:
            return None  # beyond any float: unknown
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    return value


# -- human output -------------------------------------------------------------

def render(details: dict) -> str:
    model = details["model"]
    meta = details.get("metadata") or {}
    short = t.short_hash(model)
    lines = [f"Model: {model.get('display_name') or model['name']}" + (f"@{short}" if model.get("hash") else "")]
    quant = model.get("quantization") or {}
    quant_text = f"{quant.get('bits')}-bit (group_size={quant.get('group_size')})" if quant.get("bits") else "-"
    health = t.health_label(model)
    if health == "healthy*":
        health = "healthy (files OK, cannot run here)"
    params = meta.get("params")
    lines += [
        f"Path: {model.get('path')}",
        f"Framework: {model.get('framework') or '-'}",
        f"Type: {t.type_label(model)}",
        f"Capabilities: {', '.join(model.get('capabilities') or []) or '-'}",
        f"Quantization: {quant_text}",
        f"Parameters: {human_count(params) + ' (estimated)' if params else '-'}",
        f"Context: {model.get('context_length') or '-'}",
        f"Size: {t.size(model.get('size_bytes'))}",
        f"Modified: {t.age(model.get('last_modified'))}",
        f"Health: {health}",
    ]
    if model.get("reason"):
        lines.append(f"Reason: {model['reason']}")
    split = details.get("split")
    if split:
        ranks = split["tensor_ranks"]
        tensor = ("tensor parallel on " + ", ".join(map(str, ranks)) + " ranks") if ranks else "no tensor parallel"
        lines.append(f"Split: {tensor}; pipeline {'yes' if split['pipeline'] else 'no'} (mlx-run --ranks/--hosts)")
    if meta:
        lines += ["", "Metadata:"] + [f"  {k}: {v}" for k, v in meta.items() if v is not None]
    if details.get("revisions"):
        lines += ["", "Revisions:"]
        rows = [[("* " if r["selected"] else "  ") + r["hash"][:7], ",".join(r["refs"]) or "-",
                 t.size(r["size_bytes"]), t.age(r["last_modified"])] for r in details["revisions"]]
        lines += ["  " + line for line in t.render(["  Hash", "Refs", "Size", "Modified"], rows).splitlines()]
    sentinel = details.get("workspace_metadata")
    if not model.get("cached"):
        clean = {True: "yes", False: "no (changed since the sentinel was written)"}.get(model.get("clean"), "unknown")
        lines += ["", "Workspace:", f"  Managed: {'yes' if model.get('managed') else 'no'}"]
        if sentinel:
            lines += [f"  Source: {sentinel.get('source_repo') or sentinel.get('source') or '-'}",
                      f"  Revision: {sentinel.get('source_revision') or '-'}",
                      f"  Operation: {sentinel.get('operation') or '-'}",
                      f"  Created: {sentinel.get('created_at') or '-'}"]
        lines.append(f"  Clean: {clean}")
    if "files" in details:
        lines += ["", "Files:"]
        rows = [[f["name"], f["type"], f["size"], ("-> " + f["link"]) if f["link"] else ""]
                + (["(dangling)"] if f["dangling"] else []) for f in details["files"]]
        rows = [row + [""] * (5 - len(row)) for row in rows]
        lines += ["  " + line for line in t.render(["Name", "Type", "Size", "Link", ""], rows).splitlines()]
    if "config" in details:
        config = details["config"]
        lines += ["", "Config:"]
        lines += ["  " + line for line in (dumps(config, indent=True).splitlines() if config is not None
                                           else ["(config.json missing or not valid JSON)"])]
    return "\n".join(lines)


TOOL = Tool(
    name="mlxk-show",
    command="show",
    summary="show one model in detail",
    description=(
        "Shows a model's record (the same fields as mlxk-list), its metadata (architecture, "
        "quantization, parameters estimated from the safetensors headers, context length, "
        "vocabulary, layers) and, for cached models, every revision.  --files lists the files "
        "with their blob links; --config prints config.json as it is."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-show Qwen3-4B-4bit", "mlx-community/Qwen3-4B-4bit in detail"),
        ("mlxk-show Qwen3@e96 --files", "one revision and its files"),
        ("mlxk-show ./my-model --config --json | jq .data.config", "a workspace's config.json"),
        ("mlxk-list --ndjson qwen | mlxk-show --ndjson -", "details of every model matching 'qwen'"),
    ),
    env_vars=("HF_HOME", "MLXK_WORKSPACE_HOME"),
    see_also=("mlxk-list", "mlxk-health"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
