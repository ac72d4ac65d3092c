"""mlxk-convert: workspace to workspace conversions (GGUF import first)."""

from __future__ import annotations

import sys
from pathlib import Path

from mlxk_common.cli import Context, Tool
from mlxk_common.errors import MlxkError
from mlxk_common.output import HUMAN, NDJSON


def configure(parser):
    parser.add_argument("source", metavar="SRC", help="source: a .gguf file (with --from-gguf)")
    parser.add_argument("target", metavar="DEST", help="target folder; must not exist or be empty")
    mode = parser.add_argument_group("conversion mode").add_mutually_exclusive_group(required=True)
    mode.add_argument("--from-gguf", action="store_true",
                      help="import a llama-architecture GGUF file (Q4_0, Q4_1, Q8_0, F16, F32) as an MLX model folder")


def run(ctx: Context):
    args = ctx.args
    source, target = Path(args.source), Path(args.target)
    if args.from_gguf:
        from mlxk_common.gguf import convert_gguf

        return _report(ctx, convert_gguf(source, target, progress=_progress_sink(ctx)))
    raise MlxkError("usage_error", "choose a conversion mode")


def _progress_sink(ctx: Context):
    if ctx.mode == NDJSON:
        return lambda info: ctx.out.json_line({"event": "progress", **{k: v for k, v in info.items() if k != "event"}})
    if ctx.mode == HUMAN and ctx.env.stderr_isatty:
        from mlxk_common.progress import ProgressBar

        state = {}

        def draw(info):
            bar = state.get("bar")
            if bar is None:
                bar = state["bar"] = ProgressBar(ctx.env, info.get("total"), "converting", unit="tensors")
            bar.set(info.get("done", bar.done), info.get("total"))
            if info.get("done") == info.get("total"):
                bar.close()

        return draw
    return None


def _report(ctx: Context, result: dict):
    if ctx.mode == NDJSON:
        ctx.out.event("result", **result)
    elif ctx.mode == HUMAN:
        from mlxk_common.progress import human_bytes

        ctx.out.line(f"converted {result['source']} -> {result['path']} "
                     f"({result['tensors']} tensors, {human_bytes(result['size_bytes'])})")
    else:
        ctx.out.envelope(result)
    return 0


TOOL = Tool(
    name="mlxk-convert",
    command="convert",
    summary="convert a model folder: GGUF import, quantize, repair",
    description=(
        "Converts a model into a new workspace folder.  The target is written in a temporary folder "
        "next to it and renamed at the end, so an interrupted or failed conversion leaves nothing behind."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-convert SmolLM2-135M-Instruct.Q4_1.gguf ./smollm2 --from-gguf",
         "import a GGUF file as an MLX model folder"),
    ),
    see_also=("mlxk-clone", "mlx-run"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
