"""mlxk-rm: delete a model, or one revision of it, from the cache."""

from __future__ import annotations

import sys

from mlxk_bin.rm.removal import Locks, clear_leftovers, execute, plan
from mlxk_common.cli import Context, Tool
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.names import resolve
from mlxk_common.inventory.store import Store
from mlxk_common.output import HUMAN, JSON, NDJSON, ItemReport
from mlxk_common.refs import expand_references
from mlxk_common.table import size


def configure(parser):
    parser.add_argument("refs", nargs="+", metavar="REF",
                        help="model to delete: ORG/NAME (every revision), ORG/NAME@HASH (that revision and "
                             "the blobs only it uses), NAME or a substring (asks to confirm the match); "
                             "'-' reads references from stdin (needs --force; each line must name the "
                             "model exactly: ORG/NAME or ORG/NAME@HASH)")
    parser.add_argument("-f", "--force", action="store_true",
                        help="delete without asking, and even while another process holds the model's locks")
    parser.add_argument("-n", "--dry-run", action="store_true",
                        help="delete nothing; show what would go and how many bytes it would free")


def run(ctx: Context):
    args = ctx.args
    store = Store.from_environ(ctx.env.environ)
    from_stdin = "-" in args.refs
    if not args.dry_run:
        clear_leftovers(store.hub)
    report = ItemReport(ctx.out)
    results = []
    removals = report.each(expand_references(args.refs, ctx.env.stdin),
                           lambda item: remove_one(ctx, store, item.ref, from_stdin, item.source != "argv"))
    for _, result in removals:
        results.append(result)
        if ctx.mode == NDJSON:
            ctx.out.event("result", **result)
        elif ctx.mode == HUMAN:
            ctx.out.line(human_line(result))
    if ctx.mode != JSON:
        return report.exit_code
    data = {"results": results, "count": len(results), "freed_bytes": sum(r["freed_bytes"] for r in results)}
    if len(results) == 1 and report.count == 1:
        data = {**results[0], **data}  # mlx-knife's single-model fields at the top
    return report.envelope(data)


def remove_one(ctx: Context, store, ref: str, from_stdin: bool, stdin_line: bool = False) -> dict:
    """Resolve, plan, confirm and carry out the removal one reference asks for."""
    resolved = resolve(ref, store)
    if stdin_line and not resolved.exact:
        # No one reads a line of a pipe before it is acted on: a garbage line
        # must not find a model by expansion, substring or hash prefix.
        raise MlxkError("invalid_reference", f"{ref!r} is not an exact model name (it would match "
                        f"{resolved.name}); references from stdin must name the model exactly",
                        reference=ref, match=resolved.match, model=resolved.name,
                        hint=f"give the full name ({resolved.name}), or run mlxk-rm {resolved.name} on a terminal")
    if not resolved.is_cache:
        raise MlxkError("not_cached", f"{resolved.name} is a workspace folder, not a cached model; mlxk-rm "
                        "deletes only from the cache", reference=ref,
                        hint=f"delete the folder yourself: rm -r {resolved.entry.path}")
    revision = resolved.revision if "@" in resolved.ref else None
    todo = plan(resolved.entry, revision)
    result = {**todo.summary(), "match": resolved.match, "reference": ref}
    locks = Locks(resolved.entry)
    try:
        result["locks_held"] = list(locks.held_by_others)
        if ctx.args.dry_run:
            result.update(action="would_delete", lock_files_cleaned=0)
            result["message"] = describe(result, "Would delete")
            return result
        if locks.held_by_others and not ctx.args.force:
            raise MlxkError("locked", f"{todo.repo.repo_id} is locked by another process (a download?): "
                            + ", ".join(locks.held_by_others), reference=ref, lock_files=locks.held_by_others,
                            hint="wait for it to finish, or pass --force to delete anyway")
        if not confirmed(ctx, resolved, result, from_stdin):
            result.update(action="kept", freed_bytes=0, lock_files_cleaned=0,
                          message=f"Kept {result['model']}")
            return result
        execute(todo)
        result["lock_files_cleaned"] = locks.release(remove_stale=True)
    finally:
        locks.release(remove_stale=False)
        store.refresh()  # the cache changed: the next reference must see it as it is now
    result.update(action="deleted", message=describe(result, "Deleted"))
    return result


def confirmed(ctx: Context, resolved, result: dict, from_stdin: bool) -> bool:
    """--force, or a yes typed on the terminal; never a guess."""
    if ctx.args.force:
        return True
    if from_stdin:
        raise MlxkError("confirmation_required", "references come from stdin, so there is no one to ask: "
                        "pass --force to delete them", reference=resolved.ref)
    if not ctx.env.stdin_isatty:
        raise MlxkError("confirmation_required", f"not deleting {result['model']} without confirmation "
                        "(stdin is not a terminal)", reference=resolved.ref,
                        hint="pass -f/--force to delete from a script")
    note = "" if resolved.exact else f"'{resolved.ref}' matches {result['model']}. "
    ctx.env.stderr.write(f"{note}{describe(result, 'Delete')}? [y/N] ")
    ctx.env.stderr.flush()
    answer = ctx.env.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def describe(result: dict, verb: str) -> str:
    freed = size(result["freed_bytes"])
    if result["scope"] == "model":
        count = len(result["revisions"])
        return f"{verb} {result['model']} (all {count} revision{'s' if count != 1 else ''}, {freed})"
    refs = f"; refs: {', '.join(result['refs_removed'])}" if result["refs_removed"] else ""
    blobs = result["blobs"]
    return f"{verb} {result['model']}@{result['hash'][:7]} ({blobs} blob{'s' if blobs != 1 else ''}, {freed}{refs})"


def human_line(result: dict) -> str:
    line = result["message"]
    if result["action"] == "would_delete" and result["scope"] == "model":
        line += ": " + ", ".join(h[:7] for h in result["revisions"])
    if result.get("locks_held"):
        line += f" [locked: {', '.join(result['locks_held'])}]"
    return line


TOOL = Tool(
    name="mlxk-rm",
    command="rm",
    summary="delete a model or one revision from the cache",
    description=(
        "ORG/NAME deletes the model with all its revisions; ORG/NAME@HASH deletes that revision, the "
        "blobs no other revision uses, and the refs that named it.  A name found by expansion or "
        "substring says what it matched.  Every deletion asks y/N on a terminal; scripts pass --force "
        "(without a terminal and without --force nothing is deleted).  References read from stdin ('-') "
        "must name a model exactly (ORG/NAME, ORG/NAME@HASH): a line that would match only by expansion, "
        "substring or a bare @HASH is an error record, never a deletion.  A model whose lock files another "
        "process holds is not deleted unless --force; stale lock files are cleaned up.  Workspaces are "
        "never deleted (they are plain folders).  Nothing outside the cache is ever touched, and an "
        "interrupted run leaves a consistent cache."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-rm mlx-community/Qwen3-4B-4bit", "delete the model (asks first)"),
        ("mlxk-rm Qwen3-4B-4bit@e96 --force", "delete one revision without asking"),
        ("mlxk-rm --dry-run qwen", "what deleting the model matching 'qwen' would free"),
        ("mlxk-list --ndjson | jq -c 'select(.health == \"unhealthy\")' | mlxk-rm --force -",
         "delete every broken model"),
    ),
    env_vars=("HF_HOME",),
    see_also=("mlxk-list", "mlxk-pull"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
