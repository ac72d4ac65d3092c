"""mlxk-convert: workspace to workspace conversions (GGUF import, CTranslate2
Whisper import, quantize, dequantize, index repair)."""

from __future__ import annotations

import sys
from pathlib import Path

from mlxk_bin.convert import jobs
from mlxk_bin.convert.ct2 import prepare_ct2
from mlxk_bin.convert.gguf import OPERATION, prepare_gguf
from mlxk_bin.convert.shards import DEFAULT_MAX_SHARD, parse_shard_size
from mlxk_common.cli import Context, Tool
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.atomic import check_target_free, clean_stale_partials, refuse_cache_target
from mlxk_common.output import HUMAN, NDJSON
from mlxk_common.progress import ProgressBar, human_bytes

# Kept here (not imported from mlxk_bin.convert.jobs) so --help stays instant;
# a test checks they match.
BITS = (2, 3, 4, 5, 6, 8)
GROUP_SIZES = (32, 64, 128)
QUANT_MODES = ("affine", "mxfp4", "nvfp4", "mxfp8")
DTYPES = ("float16", "bfloat16", "float32")


def configure(parser):
    parser.add_argument("source", metavar="SRC",
                        help="source: a model folder, a cached model (ORG/NAME, NAME, NAME@HASH), "
                             "or with --from-gguf a .gguf file or a cached GGUF repository")
    parser.add_argument("target", metavar="DEST",
                        help="target folder; must not exist or be empty, and not lie inside $HF_HOME")
    mode = parser.add_argument_group("conversion mode (one is required)").add_mutually_exclusive_group(required=True)
    mode.add_argument("--from-gguf", action="store_true",
                      help="import a llama-architecture GGUF file (Q4_0, Q4_1, Q8_0, F16, F32) as an MLX model folder")
    mode.add_argument("--from-ct2", action="store_true",
                      help="import a CTranslate2 (faster-whisper) Whisper folder (model.bin, config.json, "
                           "tokenizer.json, vocabulary.txt; float16 or float32) as an MLX Whisper folder")
    mode.add_argument("--quantize", type=int, metavar="BITS", choices=BITS,
                      help="quantize to BITS bits (2, 3, 4, 5, 6, 8) with mlx-lm (mlx-vlm for vision models); "
                           "a quantized source is dequantized first")
    mode.add_argument("--dequantize", action="store_true",
                      help="turn quantized weights back into floats (see --dtype)")
    mode.add_argument("--repair-index", action="store_true",
                      help="copy the model with model.safetensors.index.json rebuilt from the shards' own headers")
    options = parser.add_argument_group("conversion options")
    options.add_argument("--group-size", type=int, choices=GROUP_SIZES, default=None,
                         help="with --quantize: weights per quantization group (default 64; "
                              "the mx/nv float modes have their own fixed size)")
    options.add_argument("--mode", dest="quant_mode", choices=QUANT_MODES, default="affine",
                         help="with --quantize: quantization mode (default affine; mxfp4, nvfp4: 4 bits, "
                              "mxfp8: 8 bits)")
    options.add_argument("--dtype", choices=DTYPES, default=None,
                         help="cast the float weights to this type (with --quantize: before quantizing, so "
                              "also the scales); default: the config's torch_dtype, else no cast (dequantized "
                              "weights take their scales' type)")
    options.add_argument("--max-shard-size", metavar="SIZE", default=None,
                         help="largest weight file to write, e.g. 5GB (default), 500MB, 2GiB; larger "
                              "models are split into shards with an index")
    options.add_argument("--file", dest="gguf_file", metavar="NAME", default=None,
                         help="with --from-gguf: which .gguf file of a folder or cached repository holding several")
    options.add_argument("--skip-health", action="store_true",
                         help="do not run the health check on the result before putting it in place")


def _usage(message: str):
    raise MlxkError("usage_error", message)


def _check_flags(args) -> None:
    if args.quantize is None and (args.group_size is not None or args.quant_mode != "affine"):
        _usage("--group-size and --mode apply to --quantize only")
    if (args.from_gguf or args.repair_index) and args.dtype:
        _usage("--dtype applies to --quantize, --dequantize and --from-ct2 only")
    if args.from_ct2 and args.max_shard_size:
        _usage("--max-shard-size does not apply to --from-ct2")
    if args.repair_index and args.max_shard_size:
        _usage("--repair-index keeps the shards as they are; --max-shard-size does not apply")
    if args.gguf_file and not args.from_gguf:
        _usage("--file applies to --from-gguf only")


def run(ctx: Context):
    args = ctx.args
    _check_flags(args)
    environ = ctx.env.environ
    target = Path(args.target)
    # Fail fast, before any model is read; the staging step checks again.
    refuse_cache_target(target, environ)
    check_target_free(target)
    clean_stale_partials(target)  # what a killed (SIGKILL) earlier run left
    max_shard = parse_shard_size(args.max_shard_size or DEFAULT_MAX_SHARD)
    emit = _progress_sink(ctx)
    warn = ctx.out.warn  # stderr in every mode; the result lists the warnings too

    if args.from_gguf:
        source = jobs.resolve_gguf_source(args.source, environ, args.gguf_file)
        job = _GGUF(prepare_gguf(source.path, target, progress=emit), source, max_shard)
    elif args.from_ct2:
        source = jobs.resolve_source(args.source, environ)
        job = prepare_ct2(source.path, dtype=args.dtype, progress=emit, **source.provenance())
    elif args.repair_index:
        job = jobs.RepairJob(jobs.resolve_source(args.source, environ), emit=emit).prepare()
    else:
        job = jobs.ModelJob(jobs.resolve_source(args.source, environ), bits=args.quantize,
                            group_size=args.group_size, mode=args.quant_mode, dequantize=args.dequantize,
                            dtype=args.dtype, max_shard_bytes=max_shard, name=target.resolve().name,
                            emit=emit, warn=warn).prepare()
    result = jobs.run_job(job, target, environ=environ, skip_health=args.skip_health, emit=emit, warn=warn)
    return _report(ctx, result)


class _GGUF:
    """The GGUF import in the shape of the other jobs."""

    def __init__(self, job, source, max_shard_bytes: int):
        self.job, self.source, self.max_shard_bytes = job, source, max_shard_bytes

    def build(self, out: Path) -> dict:
        summary = self.job.build(out, max_shard_bytes=self.max_shard_bytes, **self.source.provenance())
        return {**self.source.provenance(), "operation": OPERATION, **summary, "warnings": []}


def _progress_sink(ctx: Context):
    if ctx.mode == NDJSON:
        return lambda info: ctx.out.json_line({"event": "progress", **{k: v for k, v in info.items() if k != "event"}})
    if ctx.mode == HUMAN and ctx.env.stderr_isatty:
        state = {}

        def draw(info):
            bar = state.get("bar")
            if bar is None or state.get("stage") != info.get("stage"):
                if bar is not None:
                    bar.close()
                bar = state["bar"] = ProgressBar(ctx.env, info.get("total"), info.get("stage", ""), unit="steps")
                state["stage"] = info.get("stage")
            bar.set(info.get("done", bar.done), info.get("total"))
            if info.get("done") == info.get("total"):
                bar.close()

        return draw
    return None


def _describe(result: dict) -> str:
    quant = result.get("quantization")
    op = result.get("operation", "")
    if op == "convert-repair-index":
        changes = result.get("index") or {}
        return (f"index rebuilt for {result['tensors']} tensors in {len(result.get('shards', []))} shards; "
                f"{changes.get('moved', 0)} moved, {changes.get('added', 0)} added, "
                f"{changes.get('dropped', 0)} dropped")
    what = (f"{quant['bits']}-bit {quant.get('mode', 'affine')}, group {quant['group_size']}"
            if isinstance(quant, dict) and "bits" in quant else result.get("dtype") or "float weights")
    return f"{what}, {result['tensors']} tensors"


def _report(ctx: Context, result: dict):
    if ctx.mode == NDJSON:
        ctx.out.event("result", **result)
    elif ctx.mode == HUMAN:
        ctx.out.line(f"converted {result['source']} -> {result['path']} "
                     f"({_describe(result)}, {human_bytes(result['size_bytes'])})")
    else:
        ctx.out.envelope(result)
    return 0


TOOL = Tool(
    name="mlxk-convert",
    command="convert",
    summary="convert a model folder: GGUF and Whisper imports, quantize, repair",
    description=(
        "Converts a model into a new workspace folder.  The source is a model folder or a cached "
        "model; the target is written in a temporary folder next to it, checked for health, and "
        "renamed into place at the end, so an interrupted or failed conversion leaves nothing behind.  "
        "The result carries a .mlxk_workspace.json sentinel naming the operation and the source."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlxk-convert SmolLM2-135M-Instruct.Q4_1.gguf ./smollm2 --from-gguf",
         "import a GGUF file as an MLX model folder"),
        ("mlxk-convert ./faster-whisper-tiny.en ./whisper-tiny.en --from-ct2",
         "import a faster-whisper (CTranslate2) Whisper model for mlx-run --audio"),
        ("mlxk-convert ./smollm2 ./smollm2-f16 --dequantize --dtype float16",
         "turn a quantized model back into float16 weights"),
        ("mlxk-convert ./smollm2-f16 ./smollm2-4bit --quantize 4 --group-size 32",
         "quantize to 4 bits in groups of 32"),
        ("mlxk-convert mlx-community/Some-Model ./fixed --repair-index",
         "copy a cached model whose index does not match its shards, with a rebuilt index"),
        ("mlxk-convert ./big ./big-8bit --quantize 8 --max-shard-size 2GB --ndjson",
         "quantize, write 2 GB shards, stream progress events as NDJSON"),
        ("mlxk-convert ./smollm2 ./smollm2-8bit --quantize 8 --ndjson | jq -c 'select(.event == \"result\")'",
         "keep only the final result event of a scripted conversion"),
    ),
    see_also=("mlxk-clone", "mlxk-health", "mlx-run"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
