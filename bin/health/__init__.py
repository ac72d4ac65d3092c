"""mlxk-health: integrity and runtime-compatibility checks of models."""

from __future__ import annotations

import os
import sys

from mlxk_bin.health.hashing import deep_reasons
from mlxk_common.cli import Context, Tool
from mlxk_common.inventory.health import check_integrity
from mlxk_common.inventory.names import resolve as resolve_name
from mlxk_common.inventory.names import validate_reference
from mlxk_common.inventory.records import build_records, record_for
from mlxk_common.inventory.store import Store, is_explicit_path, is_model_folder, match_path_pattern
from mlxk_common.output import HUMAN, JSON, NDJSON, ItemReport
from mlxk_common.progress import ProgressBar
from mlxk_common.refs import expand_references


def configure(parser):
    parser.add_argument("refs", nargs="*", metavar="REF",
                        help="models to check: ORG/NAME, NAME, a substring, NAME@HASH, a folder path, "
                             "or '-' to read references from stdin (default: every cached model and "
                             "every workspace in MLXK_WORKSPACE_HOME)")
    parser.add_argument("--deep", action="store_true",
                        help="also verify every blob of the revision against its name (sha256 for LFS "
                             "files, git blob sha1 for small files), reading files in parallel on all cores")


def all_entries(store) -> list:
    """Every workspace of MLXK_WORKSPACE_HOME, then every cached model (its revision of record)."""
    return [(ws, None) for ws in store.home_workspaces()] + [(repo, None) for repo in store.repos()]


def resolve(store, ref: str) -> list:
    """The (entry, revision) pairs one reference names: a path pattern such as
    ``.`` or ``./gemma-`` may name several workspaces, anything else one model."""
    ref = validate_reference(ref)
    if is_explicit_path(ref) and not is_model_folder(os.path.expanduser(ref)):
        found = match_path_pattern(ref)
        if found:
            return [(ws, None) for ws in found]
    resolved = resolve_name(ref, store)
    return [(resolved.entry, resolved.revision)]


def check(entry, revision, deep: bool, ctx: Context) -> dict:
    """The model record (as mlxk-list prints it) plus ``status`` (mlx-knife's
    health field), every integrity reason, the runtime reason, the findings
    (``{code, file, message}``) and, with --deep, what blob verification
    found.  ``reason`` is always a sentence, for a healthy model too."""
    return finish(build_record((entry, revision)), entry, deep, ctx)


def build_record(item) -> dict:
    """The record of one ``(entry, revision)`` with every integrity reason and
    the runtime reason (what ``check`` adds before --deep); plain data, so
    ``build_records`` can build many in worker processes."""
    entry, revision = item
    if entry.kind == "cache" and revision is None:
        revision = entry.record()
    record = record_for(entry, revision, reasons=True)
    integrity = record.pop("integrity_reasons")
    record.pop("runtime_reason")
    findings = record.pop("findings")
    healthy_reason = record.pop("healthy_reason")
    if record["health"] == "healthy":
        integrity, runtime_reason = [], record["reason"]
        if record["reason"] is None:  # mlx-knife's health records always say why
            record["reason"] = healthy_reason
    else:
        if revision is None and entry.kind == "cache":  # no snapshot: check what the repo folder holds
            found = check_integrity(record["path"], repo_dir=entry.path)
            integrity = [record["reason"], *found.reasons]
            findings = findings + [f.to_dict() for f in found.findings]
        integrity = integrity or [record["reason"]]
        runtime_reason = None
    record["integrity_reasons"] = integrity
    record["runtime_reason"] = runtime_reason
    record["findings"] = findings
    return record


def finish(record: dict, entry, deep: bool, ctx: Context) -> dict:
    """--deep's blob verification (here, not in a worker: it reads in parallel
    itself) and mlx-knife's ``status`` field."""
    repo_dir = entry.path if entry.kind == "cache" else None
    if deep:
        record["deep"] = deep_check(record, repo_dir, ctx)
    record["status"] = record["health"]
    return record


def deep_check(record: dict, repo_dir: str | None, ctx: Context) -> dict:
    """Verify the revision's blobs; a mismatch makes the model unhealthy."""
    if repo_dir is None or not record.get("hash"):
        note = "a workspace has no content-addressed blobs to verify" if repo_dir is None else "no snapshot"
        return {"blobs_verified": 0, "bytes_verified": 0, "unverifiable_files": [], "note": note}

    bar = None
    if ctx.mode == HUMAN and ctx.env.stderr_isatty:
        bar = ProgressBar(ctx.env, None, f"verifying {record['name']}")
    try:
        reasons, stats = deep_reasons(record["path"], repo_dir,
                                      progress=(lambda done, total: bar.set(done, total)) if bar else None)
    finally:
        if bar is not None:
            bar.close()
    if reasons:
        if record["health"] == "healthy":
            record["reason"] = reasons[0][1]
        record["integrity_reasons"].extend(reason for _, reason in reasons)
        record["findings"].extend({"code": "checksum_mismatch", "file": name, "message": f"{name}: {reason}"}
                                  for names, reason in reasons for name in names)
        record["health"] = "unhealthy"
        record["runtime_compatible"] = False
        record["runtime_reason"] = None
    return stats


def run(ctx: Context):
    store = Store.from_environ(ctx.env.environ)
    report = Report(ctx)
    if not ctx.args.refs:
        # Every model: records built in parallel workers as mlxk-list does; --deep after.
        entries = all_entries(store)
        for (entry, _), record in zip(entries, build_records(entries, build=build_record)):
            report.add(finish(record, entry, ctx.args.deep, ctx))
    else:
        for _, found in report.items.each(expand_references(ctx.args.refs, ctx.env.stdin),
                                          lambda item: resolve(store, item.ref)):
            for entry, revision in found:
                report.add(check(entry, revision, ctx.args.deep, ctx))
    return report.finish()


class Report:
    """Streams records (NDJSON), prints rows (human) or collects the envelope (JSON)."""
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.healthy: list[dict] = []
        self.unhealthy: list[dict] = []
        self.items = ItemReport(ctx.out)  # the references given, and their errors

    def add(self, record: dict) -> None:
        (self.healthy if record["health"] == "healthy" else self.unhealthy).append(record)
        if self.ctx.mode == NDJSON:
            self.ctx.out.record(record)
        elif self.ctx.mode == HUMAN:
            self.ctx.out.line(human_row(record, self.ctx.env.color))

    def finish(self) -> int:
        summary = {"total": len(self.healthy) + len(self.unhealthy), "healthy_count": len(self.healthy),
                   "unhealthy_count": len(self.unhealthy)}
        errors = self.items.infos
        if self.ctx.mode == JSON:
            if errors and not summary["total"]:
                # Nothing could be checked: an error envelope, as for any failed command.
                error = dict(errors[0], **({"errors": errors} if len(errors) > 1 else {}))
                self.ctx.out.envelope(None, error)
                return 1
            data = {"healthy": self.healthy, "unhealthy": self.unhealthy, "summary": summary}
            if errors:
                data["errors"] = errors
            self.ctx.out.envelope(data)
        elif self.ctx.mode == HUMAN:
            self.ctx.out.line(human_summary(summary, self.healthy))
        return 1 if self.unhealthy or errors else 0


_COLORS = {"healthy": "32", "healthy*": "33", "unhealthy": "31"}


def status_word(record: dict) -> str:
    if record["health"] != "healthy":
        return "unhealthy"
    return "healthy" if record["runtime_compatible"] else "healthy*"


def human_row(record: dict, color: bool) -> str:
    word = status_word(record)
    shown = f"\x1b[{_COLORS[word]}m{word:<9}\x1b[0m" if color else f"{word:<9}"
    name = (record.get("display_name") or record["name"]) + (f"@{record['hash'][:7]}" if record.get("hash") else "")
    lines = [f"{shown}  {name}"]
    # A model that is fine needs no line saying so; one that cannot run here says why.
    reasons = record["integrity_reasons"] or ([record["runtime_reason"]] if record["runtime_reason"] else [])
    lines += [f"           {reason}" for reason in reasons]
    deep = record.get("deep")
    if deep and deep.get("blobs_verified"):
        lines.append(f"           deep: {deep['blobs_verified']} blobs verified")
    return "\n".join(lines)


def human_summary(summary: dict, healthy: list[dict]) -> str:
    limited = sum(1 for r in healthy if not r["runtime_compatible"])
    total = summary["total"]
    text = f"{total} model{'s' if total != 1 else ''}: {summary['healthy_count']} healthy"
    if limited:
        text += f" ({limited} cannot run here)"
    return text + f", {summary['unhealthy_count']} unhealthy"


TOOL = Tool(
    name="mlxk-health",
    command="health",
    summary="check model integrity and runtime compatibility",
    description=(
        "Integrity (fast, reads no weights beyond safetensors headers): config.json valid and complete for "
        "the model's mlx-lm class, tokenizer files consistent, weights present and complete (index and shards "
        "agree, no empty shards, no Git-LFS pointer files, no partial downloads, no dangling symlinks, "
        "safetensors headers parse, fit their files and name known dtypes), no FIFOs or devices (never "
        "opened) and no cache symlinks leading out of the cache (never followed).  With --deep, every blob of "
        "the revision is also hashed and compared with its name.  --json and --ndjson records list each "
        "problem as a finding with a stable code.\n"
        "Runtime compatibility: the framework is MLX, the installed mlx-lm / mlx-vlm / mlx-audio has a "
        "module for the model_type, and the model asks for no code of its own.\n"
        "Status: healthy, healthy* (files fine, cannot run here: see the reason) or unhealthy.  "
        "The exit status is 1 when any model is unhealthy or any reference fails."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-health", "check every cached model and workspace"),
        ("mlxk-health --deep mlx-community/SmolLM2-135M-Instruct-Q4", "verify every blob's checksum too"),
        ("mlxk-list --ndjson | jq -c 'select(.framework==\"MLX\")' | mlxk-health --ndjson -",
         "check the models another tool selected"),
    ),
    env_vars=("HF_HOME", "MLXK_WORKSPACE_HOME", "NO_COLOR"),
    see_also=("mlxk-list", "mlxk-show", "mlxk-convert"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
