"""mlxk-pull: download a model repo into the cache, resumably."""

from __future__ import annotations

import sys

from mlxk_common.cli import Context, Tool
from mlxk_common.hub.pull import confirmer, pull, request_from_args, settings_from_args
from mlxk_common.options import add_transfer_arguments
from mlxk_common.output import HUMAN, JSON, ItemReport
from mlxk_common.progress import human_bytes
from mlxk_common.refs import expand_references


def configure(parser):
    parser.add_argument("models", metavar="ORG/NAME[@REV]", nargs="+",
                        help="the repository (NAME alone means mlx-community/NAME); @REV picks a branch, tag "
                             "or commit (default: main); several are pulled one after the other; - reads "
                             "names (or JSON objects with a name field) from stdin, one per line")
    add_transfer_arguments(parser)
    parser.add_argument("--include", action="append", metavar="GLOB", default=[],
                        help="download only files matching GLOB (repeatable; 'dir/' means everything under dir)")
    parser.add_argument("--exclude", action="append", metavar="GLOB", default=[],
                        help="skip files matching GLOB (repeatable)")


def run(ctx: Context):
    args = ctx.args
    settings = settings_from_args(args, ctx.env.environ, ctx.out)
    report = ItemReport(ctx.out, "models")
    results = []

    def pull_one(item) -> dict:
        req = request_from_args(args, item.ref, args.include, args.exclude)
        return pull(settings, req, ctx.out, ctx.env, confirm=confirmer(ctx.mode, ctx.env))

    for _, result in report.each(expand_references(args.models, ctx.env.stdin), pull_one):
        results.append(result)
        if ctx.mode != JSON:
            ctx.out.result(result, human_summary(result))
        if ctx.mode == HUMAN and result["health"] != "healthy":
            ctx.out.warn(f"{result['model']} is {result['health']}: {result['reason']}")
    if ctx.mode != JSON:
        return report.exit_code
    single = report.count == 1 and results
    return report.envelope(results[0] if single else {"results": results, "count": len(results)})


def human_summary(result: dict) -> str:
    name = f"{result['model']}@{result['hash'][:8]}"
    if result["download_status"] == "already_exists":
        return f"{name} is already in the cache ({result['files']} files, {human_bytes(result['size_bytes'])})"
    resumed = f", resumed {human_bytes(result['resumed_bytes'])}" if result["resumed_bytes"] else ""
    return (f"pulled {name}: {result['files']} files, {human_bytes(result['size_bytes'])} "
            f"({human_bytes(result['downloaded_bytes'])} downloaded{resumed}) in {result['elapsed_s']:.1f}s")


TOOL = Tool(
    name="mlxk-pull",
    command="pull",
    summary="download a model into the cache, resumably",
    description=(
        "Downloads one revision of a Hub repository into the Hugging Face cache ($HF_HOME/hub), in the "
        "layout huggingface_hub writes, so hf, mlx_lm and transformers see the same files.  Files come in "
        "parallel; each is checked against its sha256 (git sha1 for small files) before it enters the "
        "cache.  A pull that is interrupted (Ctrl-C, a dropped connection, even SIGKILL) keeps its partial "
        "files, and the next run continues every file from its last byte.  Partials that other tools left "
        "behind are reused or cleaned up.  A model already complete is reported as already_exists without "
        "downloading anything.  Network failures are retried with backoff before the pull gives up."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-pull mlx-community/SmolLM2-135M-Instruct", "download the main branch"),
        ("mlxk-pull org/model@v1.0 --include '*.json' --include '*.safetensors'",
         "a tag, only JSON and safetensors files"),
        ("mlxk-pull org/model --ndjson | jq -c 'select(.event==\"result\")'", "machine-readable progress"),
    ),
    env_vars=("HF_HOME", "HF_ENDPOINT", "HF_TOKEN", "HUGGINGFACE_HUB_TOKEN", "HF_HUB_OFFLINE",
              "HF_HUB_DOWNLOAD_TIMEOUT"),
    see_also=("mlxk-clone", "mlxk-list", "mlxk-health", "mlxk-rm"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
