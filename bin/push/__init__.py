"""mlxk-push: upload a workspace to a Hub repository."""

from __future__ import annotations

import sys
from pathlib import Path

from mlxk_bin.push.publish import PushRequest, base_result, check_workspace, push
from mlxk_common.cli import Context, Tool
from mlxk_common.config import env_flag
from mlxk_common.errors import MlxkError
from mlxk_common.hub.client import HubSettings, hub_errors, validate_revision
from mlxk_common.inventory.names import validate_repo_id
from mlxk_common.options import add_token_argument
from mlxk_common.output import HUMAN


def configure(parser):
    parser.add_argument("workspace", metavar="WORKSPACE", help="the folder to upload")
    parser.add_argument("repo", metavar="ORG/NAME", help="the Hub repository")
    visibility = parser.add_mutually_exclusive_group()
    visibility.add_argument("--private", action="store_true",
                            help="required: the repository is (created) private, and a public one is refused")
    visibility.add_argument("--public", action="store_true",
                            help="instead of --private: allow creating or updating a public repository")
    parser.add_argument("--create", action="store_true", help="create the repository if it does not exist")
    parser.add_argument("--branch", default="main", metavar="BRANCH",
                        help="the branch to commit to (default main; created from main if missing)")
    parser.add_argument("--commit", metavar="MSG", default=None,
                        help="the commit message (default 'Upload with mlxk-push')")
    parser.add_argument("--check-only", action="store_true",
                        help="only check the workspace locally (files, health); no network, no token (--private "
                             "is required all the same, as for every push)")
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would be added, modified (by hash) and deleted on the branch; upload nothing")
    add_token_argument(parser, "Hub token with write access")


def run(ctx: Context):
    args = ctx.args
    workspace = Path(args.workspace).expanduser()
    if not workspace.is_dir():
        raise MlxkError("model_not_found", f"{args.workspace} is not a folder", reference=args.workspace)
    repo_id = validate_repo_id(args.repo)
    validate_revision(args.branch)
    settings = HubSettings.from_environ(ctx.env.environ, token=args.token, notify=ctx.out.warn)
    req = PushRequest(workspace.resolve(), repo_id, public=args.public, create=args.create, branch=args.branch,
                      message=args.commit, dry_run=args.dry_run)
    if not (args.private or args.public):
        # The same command line with --check-only first, then without it, must
        # behave alike: the visibility is stated either way (as mlx-knife requires).
        raise MlxkError("usage_error", "--private is required (mlxk-push never publishes by accident); "
                        "pass --public to push to a public repository on purpose")
    if args.check_only:
        health = check_workspace(req.workspace)
        result = {**base_result(settings, req), "local_files_count": health["files_count"],
                  "workspace_health": health, "message": "Check-only: no upload performed."}
        ctx.out.result(result, human_report(result))
        return 0 if health["healthy"] else 1

    _xet_setting(ctx.env.environ)
    with hub_errors(settings, repo_id, args.branch):
        result = push(settings, req, progress_bars=ctx.mode == HUMAN and ctx.env.stderr_isatty)
    ctx.out.result(result, human_report(result))
    return 0


def _xet_setting(environ) -> None:
    """huggingface_hub reads HF_HUB_DISABLE_XET when it is imported; follow this run's environment."""
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_XET = env_flag(environ, "HF_HUB_DISABLE_XET")


def human_report(result: dict) -> str:
    health = result.get("workspace_health")
    if health is not None:
        verdict = "healthy" if health["healthy"] else "unhealthy: " + "; ".join(health["reasons"])
        return (f"{result['workspace']}: {health['files_count']} files to push, "
                f"{health['total_bytes']} bytes, {verdict}")
    lines = []
    if result["dry_run"]:
        lines.append(f"dry run against {result['repo_id']}@{result['branch']}"
                     + (" (repository would be created)" if result.get("would_create_repo") else ""))
        for kind, mark in (("added", "+"), ("modified", "~"), ("deleted", "-")):
            lines += [f"  {mark} {path}" for path in result.get(kind, [])]
        if result["no_changes"]:
            lines.append("  no changes")
        return "\n".join(lines)
    if result["no_changes"]:
        return f"{result['repo_id']}@{result['branch']}: no changes, nothing committed"
    summary = result["change_summary"]
    return (f"pushed to {result['repo_id']}@{result['branch']}: {summary['added']} added, {summary['modified']} "
            f"modified, {summary['deleted']} deleted\n{result['commit_url']}")


TOOL = Tool(
    name="mlxk-push",
    command="push",
    summary="upload a workspace to a Hub repository",
    description=(
        "Commits a workspace folder to a branch of a Hub repository so that the branch holds exactly the "
        "workspace's files: new and changed files (compared by hash) are uploaded, files no longer in the "
        "workspace are deleted (.gitattributes is kept).  Left out always: .git, __pycache__, .venv, *.pyc, "
        ".DS_Store and the .mlxk_workspace.json sentinel, plus the patterns of the workspace's .hfignore "
        "(gitignore syntax).  --private is required, and an existing public repository is refused unless "
        "--public is given.  Nothing changed: no commit (no_changes).  The token is never printed."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-push ./my-model me/my-model --private --create", "create a private repo and upload"),
        ("mlxk-push ./my-model me/my-model --private --dry-run", "list what a push would change"),
        ("mlxk-push ./my-model me/my-model --private --check-only", "check the workspace locally"),
        ("mlxk-push ./my-model me/my-model --private --dry-run --json | jq '.data.change_summary'",
         "count what a push would add, modify and delete"),
    ),
    env_vars=("HF_TOKEN", "HUGGINGFACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_DISABLE_XET"),
    see_also=("mlxk-clone", "mlxk-convert", "mlxk-health"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
