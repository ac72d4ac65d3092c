"""mlx-run: generate text with a model: one-shot, interactive chat, pipes, NDJSON batches."""

from __future__ import annotations

import gc
import sys

from mlxk_bin.run import agents, distributed, vision
from mlxk_bin.run.batch import ndjson_batch
from mlxk_bin.run.chat import chat
from mlxk_bin.run.fetch import fetch, wants_pull
from mlxk_bin.run.output import AnswerPrinter, note_finish, result_record
from mlxk_bin.run.transcribe import AudioSettings, transcribe_files
from mlxk_bin.run.transcribe import add_arguments as add_audio_arguments
from mlxk_common import engine as engines
from mlxk_common.cli import Context, Tool
from mlxk_common.config import env_flag
from mlxk_common.engine.cpu import blas
from mlxk_common.engine.distributed import add_distributed_arguments
from mlxk_common.engine.logprobs import MAX_TOP
from mlxk_common.engine.prompting import parse_template_args
from mlxk_common.engine.sampling import SamplingParams
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import check_runnable, locate, pullable
from mlxk_common.jsonio import dumps
from mlxk_common.options import SIZE, add_cpu_arguments, add_transfer_arguments, parse_size
from mlxk_common.output import HUMAN, JSON, NDJSON, ItemReport
from mlxk_common.progress import human_bytes
from mlxk_common.refs import read_stdin_references

DEFAULT_MAX_INPUT = 50 * 10**6  # mlxk-serve's --max-body default


def configure(parser):
    parser.add_argument("model", metavar="MODEL", nargs="?",
                        help="a model folder (./path) or a cached model name (ORG/NAME, NAME, a unique "
                             "part of a name; NAME@HASH picks a revision)")
    parser.add_argument("text", metavar="PROMPT", nargs="*",
                        help="the prompt (several words are joined); '-' reads the prompt from stdin and "
                             "appends any words after it, after a blank line (pipe mode)")
    parser.add_argument("-m", "--model", dest="model_option", metavar="MODEL",
                        help="the model, as an option instead of MODEL; '-' reads model references from stdin "
                             "(names, paths, or JSON lines with name/path/model, as mlxk-list --ndjson writes) "
                             "and answers the prompt with each")
    prompting = parser.add_argument_group("prompting")
    prompting.add_argument("-p", "--prompt", help="the prompt, as an option instead of PROMPT")
    prompting.add_argument("-c", "--chat", action="store_true",
                           help="interactive chat (the default when no prompt is given on a terminal)")
    prompting.add_argument("--system", metavar="TEXT", help="system prompt (none is added by default)")
    prompting.add_argument("--no-chat-template", action="store_true",
                           help="send the prompt as it is, without the model's chat template")
    prompting.add_argument("--chat-template-arg", action="append", default=[], metavar="KEY=VALUE",
                           help="extra argument for the chat template, e.g. enable_thinking=false "
                                "(VALUE is read as JSON when it parses; repeatable)")
    sampling = parser.add_argument_group("sampling and limits")
    sampling.add_argument("--max-tokens", type=int, metavar="N",
                          help="most tokens to generate (env MLXK2_MAX_TOKENS; default: the rest of the "
                               "context window)")
    sampling.add_argument("--temperature", type=float, metavar="T",
                          help="sampling temperature; 0 is greedy (default: the model's generation_config.json "
                               "value, else 1.0)")
    sampling.add_argument("--top-p", type=float, metavar="P",
                          help="nucleus sampling mass (default: the model's generation_config.json value, else 1.0)")
    sampling.add_argument("--top-k", type=int, metavar="K",
                          help="sample from the K likeliest tokens (default: the model's generation_config.json "
                               "value, else 0: off)")
    sampling.add_argument("--min-p", type=float, metavar="P",
                          help="drop tokens below P x the top probability (default: the model's "
                               "generation_config.json value, else 0: off)")
    sampling.add_argument("--repetition-penalty", type=float, metavar="R",
                          help="penalty for repeating recent tokens, prompt included (default 1.0: off)")
    sampling.add_argument("--presence-penalty", type=float, metavar="X",
                          help="subtract X from every token already in the answer, -2 to 2 (default 0: off)")
    sampling.add_argument("--frequency-penalty", type=float, metavar="X",
                          help="subtract X times its count in the answer from every token, -2 to 2 (default 0: off)")
    sampling.add_argument("--seed", type=int, metavar="N", help="random seed: the same seed gives the same text")
    sampling.add_argument("--stop", action="append", default=[], metavar="STR",
                          help="stop before this string; it is never printed (repeatable)")
    agents.add_arguments(parser.add_argument_group("tools and structured output"))
    output = parser.add_argument_group("output")
    output.add_argument("--stream", action="store_true",
                        help="write text as it is generated even when stdout is not a terminal")
    output.add_argument("--logprobs", type=int, metavar="N",
                        help="with --json/--ndjson: each answer token's log-probability, its UTF-8 bytes and its N "
                             "likeliest alternatives (0-20), in the result's logprobs (and each NDJSON delta's)")
    output.add_argument("--hide-reasoning", action="store_true",
                        help="drop the model's reasoning (text between its thinking markers)")
    output.add_argument("-v", "--verbose", action="store_true",
                        help="print timing (load, time to first token, tokens/s) on stderr")
    prompting.add_argument("--max-input", type=SIZE, default=None, metavar="SIZE",
                           help="largest input read from stdin: the prompt of '-', or one --ndjson-in line "
                                f"(env MLXK2_MAX_INPUT; default {DEFAULT_MAX_INPUT // 10**6}MB, as mlxk-serve's "
                                "--max-body); more is input_too_large")
    downloads = parser.add_argument_group("a model not in the cache (ORG/NAME)")
    downloads.add_argument("--pull", action="store_true",
                           help="download it first, without asking (on a terminal mlx-run asks y/N; "
                                "elsewhere it only says how to get it)")
    add_transfer_arguments(downloads)
    vision.add_arguments(parser, SIZE)
    batch = parser.add_argument_group("batches")
    batch.add_argument("--ndjson-in", action="store_true",
                       help='read one request per stdin line ({"prompt": ...} or {"messages": [...]}, with '
                            'optional id, system, max_tokens, temperature, top_p, top_k, min_p, '
                            'repetition_penalty, presence_penalty, frequency_penalty, seed, stop, chat_template_args, '
                            'tools, tool_choice, parallel_tool_calls, response_format, and "images": [paths] for a '
                            'vision model); write one result line per request, in input order')
    batch.add_argument("--batch-size", type=int, default=8, metavar="N",
                       help="with --ndjson-in: requests generated together (default 8)")
    add_cpu_arguments(parser)
    add_audio_arguments(parser)
    add_distributed_arguments(parser)


def run(ctx: Context):
    args, env = ctx.args, ctx.env
    blas.ensure(env.environ)  # before anything imports mlx (docs/cpu.md)
    _split_model(args)
    settings = Settings(ctx)
    if ctx.rank is not None:  # one rank of a distributed run: the job carries the prompt
        return one_answer(ctx, settings, ctx.rank.job["prompt"])
    if args.hosts or args.ranks:
        distributed.refuse_unsupported(args)
        prompt = read_prompt(ctx, settings.max_input)
        return distributed.launch(ctx, find(ctx, args.model), prompt, settings.sampling)
    if args.shard or args.peer_timeout:
        raise MlxkError("usage_error", "--shard and --peer-timeout go with --ranks N or --hosts HOSTFILE")
    if args.audio:
        audio = AudioSettings(ctx, settings.max_input)
        return transcribe_files(ctx, audio, lambda: load(ctx, args.model, settings, (engines.AUDIO,)))
    if any(v not in (None, False) for v in (args.language, args.task, args.segments, args.audio_format)) \
            or args.word_timestamps:
        raise MlxkError("usage_error", "--language, --task, --segments, --word-timestamps and --format apply "
                        "to --audio only")
    if args.image:
        return run_images(ctx, settings)
    if args.model == "-":
        if args.ndjson_in or args.chat:
            raise MlxkError("usage_error", "--model - reads model references from stdin: no --ndjson-in or --chat")
        if args.text[:1] == ["-"]:
            raise MlxkError("usage_error", "stdin holds the model references; give the prompt as PROMPT")
        return each_model(ctx, settings, read_prompt(ctx, settings.max_input))
    if args.ndjson_in:
        if args.text or args.prompt is not None or args.chat:
            raise MlxkError("usage_error", "--ndjson-in reads the requests from stdin: give no prompt and no --chat")
        if args.batch_size < 1:
            raise MlxkError("usage_error", "--batch-size must be at least 1")
        vs = vision.VisionSettings(ctx)
        engine, name = load(ctx, args.model, settings)

        return ndjson_batch(ctx, engine, name, settings, args.batch_size, vs)
    no_prompt = not args.text and args.prompt is None
    if args.chat or (no_prompt and env.stdin_isatty):
        if ctx.mode != HUMAN:
            raise MlxkError("usage_error", "interactive chat has no --json/--ndjson output; give a prompt")
        if not no_prompt:
            raise MlxkError("usage_error", "--chat takes its prompts interactively; give no PROMPT")
        if settings.agent:
            raise MlxkError("usage_error", "--tools, --json-schema and --json-object work with a prompt or "
                            "--ndjson-in, not in the interactive chat")
        engine, name = load(ctx, args.model, settings)

        return chat(ctx, engine, name, settings)
    return one_answer(ctx, settings, read_prompt(ctx, settings.max_input))


def one_answer(ctx: Context, settings: Settings, prompt: str) -> int:
    engine, name = load(ctx, ctx.args.model, settings)
    result = answer(ctx, engine, name, settings, prompt)
    if ctx.mode == NDJSON:
        ctx.out.event("result", **result)
    elif ctx.mode == JSON:
        ctx.out.envelope(result)
    return 0


def run_images(ctx: Context, settings: Settings) -> int:
    """mlx-run MODEL --image IMG... [PROMPT]: images checked first, then the model loads."""
    args = ctx.args
    vision.split_prompt_words(args)
    vs = vision.VisionSettings(ctx)
    if args.ndjson_in or args.chat:
        raise MlxkError("usage_error", "--image answers one prompt: no --ndjson-in or --chat "
                        "(--ndjson-in lines carry their own \"images\")")
    if "-" in args.image and (args.model == "-" or args.text[:1] == ["-"]):
        raise MlxkError("usage_error", "stdin can hold one thing: an image ('--image -'), a prompt or model names")
    if args.text or args.prompt is not None:
        prompt = read_prompt(ctx, settings.max_input)
    else:
        prompt = vision.DEFAULT_PROMPT
    images = vision.read_images(ctx, vs)
    if args.model == "-":
        return each_model(ctx, settings, prompt, images=(images, vs))
    engine, name = load(ctx, args.model, settings, images=True)
    result = vision.answer_images(ctx, engine, name, settings, vs, prompt, images)
    if ctx.mode == NDJSON:
        ctx.out.event("result", **result)
    elif ctx.mode == JSON:
        ctx.out.envelope(result)
    return 0


def _split_model(args) -> None:
    """MODEL is the first positional word unless --model names the model."""
    if args.model_option is not None:
        if args.model is not None:
            args.text.insert(0, args.model)
        args.model = args.model_option
    elif args.model is None:
        raise MlxkError("usage_error", "no MODEL: give a model folder or name (or --model)")


class Settings:
    """The generation options of the command line, validated before the model loads."""
    def __init__(self, ctx: Context):
        args = ctx.args
        self.sampling = SamplingParams(temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                                       min_p=args.min_p, repetition_penalty=args.repetition_penalty,
                                       presence_penalty=args.presence_penalty,
                                       frequency_penalty=args.frequency_penalty, seed=args.seed)
        self.max_tokens = ctx.setting(args.max_tokens, "MLXK2_MAX_TOKENS", None, int)
        if self.max_tokens is not None and self.max_tokens < 1:
            raise MlxkError("usage_error", "--max-tokens must be at least 1")
        self.template_args = parse_template_args(args.chat_template_arg)
        self.chat_template = not args.no_chat_template
        self.system = args.system
        self.stop = tuple(s for s in args.stop if s)
        self.hide_reasoning = args.hide_reasoning
        self.max_input = ctx.setting(args.max_input, "MLXK2_MAX_INPUT", DEFAULT_MAX_INPUT, parse_size)
        self.agent = agents.read_options(args)  # tools, tool_choice, response_format
        self.logprobs = args.logprobs
        if self.logprobs is not None:
            if not 0 <= self.logprobs <= MAX_TOP:
                raise MlxkError("usage_error", f"--logprobs must be between 0 and {MAX_TOP}")
            if ctx.mode == HUMAN:
                raise MlxkError("usage_error", "--logprobs needs --json or --ndjson output")
        self.cpu = engines.CpuSettings(args.cpu_dtype, environ=ctx.env.environ)

    def prepare(self, engine, **request):
        options = {"system": self.system, "chat_template": self.chat_template,
                   "template_args": self.template_args, "max_tokens": self.max_tokens,
                   "sampling": self.sampling, "stop": self.stop, **self.agent}
        options.update(request)
        agents.check_engine(engine, {k: v for k, v in options.items() if k in agents.ENGINE_KEYS and v is not None})
        prepared = engine.prepare(**options)
        prepared.logprobs = self.logprobs
        return prepared


def read_prompt(ctx: Context, max_input: int) -> str:
    args, env = ctx.args, ctx.env
    words = list(args.text)
    if args.prompt is not None:
        if words:
            raise MlxkError("usage_error", "give the prompt either as PROMPT or with --prompt, not both")
        words = [args.prompt]
    if not words:
        raise MlxkError("usage_error", "no prompt: give PROMPT, '-' to read it from stdin, or --chat",
                        hint=f"{ctx.tool.name} MODEL \"What is MLX?\"")
    if words[0] == "-":
        if not env_flag(env.environ, "MLXK2_ENABLE_PIPES", True):
            raise MlxkError("usage_error", "reading the prompt from stdin ('-') is off (MLXK2_ENABLE_PIPES=0)")
        piped = read_stdin(env.stdin, max_input)
        extra = " ".join(words[1:])
        prompt = piped.rstrip("\n") + ("\n\n" + extra if extra else "")
    else:
        prompt = " ".join(words)
    if not prompt.strip():
        raise MlxkError("usage_error", "the prompt is empty")
    return prompt


def read_stdin(stdin, limit: int) -> str:
    """All of stdin as text, refused once it grows past ``limit`` bytes (the
    rest is never read: a runaway pipe cannot fill the memory)."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:  # an in-memory text stream
        text = stdin.read(limit + 1)
        size = len(text.encode("utf-8", "surrogatepass"))
    else:
        data = raw.read(limit + 1)
        size = len(data)
    if size > limit:
        raise MlxkError("input_too_large", f"the prompt on stdin is over {human_bytes(limit)} (--max-input)",
                        limit_bytes=limit, hint="raise the limit with --max-input SIZE (or MLXK2_MAX_INPUT)")
    if raw is None:
        return text
    try:
        text = data.decode(getattr(stdin, "encoding", None) or "utf-8")
    except UnicodeDecodeError as exc:
        raise MlxkError("usage_error", f"stdin is not text: undecodable bytes at offset {exc.start}") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as text mode reads


def load(ctx: Context, ref: str, settings: Settings, kinds: tuple[str, ...] = (engines.TEXT, engines.VISION),
         images: bool = False):
    """Resolve and check the model, then load it: (engine, display name).
    ``kinds``: the kinds of model the request can run on; ``images``: the
    request has images, so a text model is refused before it loads.
    A rank of a distributed run loads only its share, after meeting its peers."""
    rank = ctx.rank
    if rank is not None:
        located = locate(ref, ctx.env.environ)
        check_runnable(located)
        rank.check_model(str(located.path))
        rank.join()
        engine = rank.load(located, settings.cpu)
        ctx.rank_info = {"load_s": round(engine.load_s, 3)}
        ctx.rank_config = located.config
        return engine, located.name
    located = find(ctx, ref, kinds, images)
    ctx.log.debug("loading %s from %s", located.name, located.path)
    return engines.load_engine(located, cpu=settings.cpu), located.name


def find(ctx: Context, ref: str, kinds: tuple[str, ...] = (engines.TEXT, engines.VISION), images: bool = False):
    """Resolve and check the model (offering a download where it can)."""
    try:
        located = locate(ref, ctx.env.environ)
    except MlxkError as exc:
        if exc.type != "model_not_found" or not pullable(ref) or not wants_pull(ctx, ref.strip()):
            raise
        fetch(ctx, ref.strip())
        located = locate(ref, ctx.env.environ)
    if images and located.path is not None and located.config is not None and located.kind != engines.VISION:
        raise MlxkError("capability_not_supported", f"{located.name} is a {located.kind} model; images need a "
                        "vision model", kind=located.kind, requested=engines.VISION)
    check_runnable(located, kinds)
    return located


def answer(ctx: Context, engine, name: str, settings: Settings, prompt: str) -> dict:
    """Generate one answer, streaming it in the output mode (human text or
    NDJSON deltas); returns the result record (--json data, result event)."""
    env, out = ctx.env, ctx.out
    request = settings.prepare(engine, prompt=prompt)
    hide = settings.hide_reasoning
    finished = printer = None
    splitter = agents.tool_splitter(engine, settings.agent)
    if ctx.mode == HUMAN:
        printer = AnswerPrinter(env.stdout, stream=ctx.args.stream or env.stdout_isatty, color=env.color,
                                hide_reasoning=hide, markers=engine.markers)
    try:
        for event in engine.generate(request):
            if event.kind == "finished":
                finished = event
                continue
            if splitter is not None:
                event.content = splitter.feed(event.content)[0]
            if printer is not None:
                printer.delta(event.content, event.reasoning)
            elif ctx.mode == NDJSON:
                if event.reasoning and not hide:
                    out.event("delta", reasoning=event.reasoning)
                if event.content:
                    if event.logprobs is not None:
                        out.event("delta", text=event.content, logprobs=[e.to_openai() for e in event.logprobs])
                    else:
                        out.event("delta", text=event.content)
    except KeyboardInterrupt:
        if printer is not None:
            printer.cut()  # the error that follows starts on a line of its own
        raise
    record = agents.with_calls(result_record(name, prompt, finished, hide, engine.load_s, engine.cpu_path), engine,
                               finished,
                               settings.agent)
    if splitter is not None:
        tail = splitter.finish()[0]
        if printer is not None:
            printer.delta(tail)
            for call in record.get("tool_calls") or ():
                printer.delta(("\n" if printer.wrote else "") + dumps(call["function"]))
        elif ctx.mode == NDJSON and tail:
            out.event("delta", text=tail)
    if printer is not None:
        printer.end()
    note_finish(ctx, finished, engine.load_s, engine.cpu_path)
    if ctx.rank is not None:
        record["distributed"] = ctx.rank.describe()
        tps = (finished.timing or {}).get("generation_tps")
        if tps and getattr(ctx, "rank_info", None) is not None:
            ctx.rank_info["token_ms"] = round(1000 / tps, 3)  # for --verbose's share of the network
    return record


def each_model(ctx: Context, settings: Settings, prompt: str, images=None) -> int:
    """--model -: the same prompt to every model named on stdin, one after another."""
    report = ItemReport(ctx.out, "models")
    records = []

    def where(index: int, item) -> dict:
        return {"index": index, "line": int(item.source.partition(":")[2])}

    def answer_with(item) -> dict:
        engine, name = load(ctx, item.ref, settings, images=images is not None)
        if ctx.mode == HUMAN:
            ctx.out.line(f"== {name} ==")
        try:
            if images is not None:
                return vision.answer_images(ctx, engine, name, settings, images[1], prompt, images[0])
            return answer(ctx, engine, name, settings, prompt)
        finally:
            del engine
            gc.collect()  # one model in memory at a time

    for item, result in report.each(read_stdin_references(ctx.env.stdin), answer_with, where):
        record = {"event": "result", **where(report.count - 1, item), **result}
        records.append(record)
        if ctx.mode == NDJSON:
            ctx.out.json_line(record)
    if ctx.mode == JSON:
        records += [{"event": "error", **top, "error": info} for _, info, top in report.errors]
        records.sort(key=lambda record: record["index"])
        ctx.out.envelope({"model": "-", "count": report.count, "errors": len(report.errors), "results": records})
    return report.exit_code


TOOL = Tool(
    name="mlx-run",
    command="run",
    summary="generate text: one-shot, chat, pipes, NDJSON batches",
    description=(
        "Runs a text model with mlx-lm.  With a prompt, prints one answer (streamed on a terminal, one write "
        "when stdout is a pipe); without one, on a terminal, starts an interactive chat (/clear, /system TEXT, "
        "/exit; Ctrl-C stops an answer, Ctrl-D leaves).  The model's chat template is used when it has one.  "
        "Reasoning between the template's thinking markers is shown dimmed, dropped with --hide-reasoning, "
        "and returned apart as \"reasoning\" in JSON.  A prompt longer than the context window fails with "
        "context_length_exceeded before anything is generated; a piped prompt over --max-input fails with "
        "input_too_large.  A model named ORG/NAME that is not in the cache can be downloaded first: --pull "
        "does it, on a terminal mlx-run asks.\n\n"
        "--json prints {model, prompt, response, reasoning, finish_reason, usage, timing}; --ndjson prints "
        "delta events as text arrives, then the result event.\n\n"
        "Vision models (mlx-vlm, the 'vision' extra) take --image files: each is checked before the model "
        "loads (a file that is missing, a URL, not an image, truncated or too large is invalid_image).  They "
        "are answered --chunk N at a time, each chunk a fresh session; the EXIF metadata of each photo (file "
        "name, GPS, capture date-time, camera) is shown as a collapsible Markdown table before the answer and "
        "given to the model (--no-exif turns both off); --json adds images and chunks records.  Text-only "
        "prompts work on vision models too.\n\n"
        "With a Whisper model, --audio FILE... transcribes speech (mlx-audio; the 'audio' extra): the text on "
        "stdout, --segments or --format srt|vtt|json for timings, --language, --task translate, --prompt as "
        "Whisper's initial prompt, --word-timestamps.  Audio of any length runs in 30-second windows, with "
        "progress on a terminal.  --json prints {model, file, task, language, text, duration_s, segments, "
        "timing{load_s, audio_s, rtf}}; --ndjson a segment event per segment as it is decoded, then the result.  "
        "An unreadable file is invalid_audio.\n\n"
        "--ranks N or --hosts HOSTFILE splits the model across several processes or machines with MLX's own "
        "distributed engine (mlx.launch, the ring backend by default): tensor parallel where the architecture "
        "and its head counts allow it, else pipeline (--shard picks).  A split that cannot work is refused "
        "before anything starts; a rank that fails, or never starts (--peer-timeout), ends the run on every "
        "rank with one error and a non-zero exit.  Results carry distributed: {ranks, backend, mode, cast}.  "
        "See docs/distributed.md."
    ),
    configure=configure,
    run=run,
    examples=(
        ("mlx-run ./smollm2 \"What is the capital of France?\"", "one answer"),
        ("mlx-run SmolLM2", "chat with a cached model (a unique part of its name is enough)"),
        ("mlx-run mlx-community/Qwen3-0.6B-4bit \"Hi\" --pull", "download the model first if it is not cached"),
        ("mlxk-list --ndjson | mlx-run --model - \"Say hi.\"", "the same prompt to every model listed"),
        ("git diff | mlx-run ./smollm2 - \"Summarize this change.\"", "pipe mode: stdin, a blank line, then the words"),
        ("mlx-run ./whisper-tiny.en --audio meeting.m4a", "transcribe a recording"),
        ("mlx-run ./whisper-tiny.en --audio talk.mp3 --format srt > talk.srt", "subtitles with timings"),
        ("jq -c '{id, prompt: .question}' q.jsonl | mlx-run ./smollm2 --ndjson-in --batch-size 16",
         "one result line per request, generated in batches"),
        ("mlx-run ./smollm2 \"What is MLX?\" --ranks 3", "the model split across 3 local ranks (tensor parallel)"),
        ("mlx-run Qwen3-32B-4bit \"Hi\" --hosts hosts.json", "one rank per host of an mlx.launch hostfile"),
        ("mlx-run Qwen2-VL --image photos/*.jpg \"Where was this taken?\" --chunk 2",
         "describe photos two at a time, with their EXIF table"),
    ),
    env_vars=("MLXK2_MAX_TOKENS", "MLXK2_MAX_INPUT", "MLXK2_AUDIO_SEGMENTS", "MLXK2_ENABLE_PIPES",
              "MLXK2_PEER_TIMEOUT", "MLXK2_VISION_CHUNK_SIZE", "MLXK2_EXIF_METADATA", "MLXK2_MAX_IMAGE",
              "MLXK2_MAX_IMAGES_TOTAL", "MLXK2_ALLOW_IMAGE_URLS", "HF_HOME", "HF_ENDPOINT", "HF_TOKEN", "MLXK_WORKSPACE_HOME",
              "MLXK2_CPU_DTYPE", "MLXK2_CPU_MEMORY", "MLXK2_CPU_THREADS", "MLXK2_CPU_BLAS", "MLXK2_CPU_KERNELS",
              "NO_COLOR"),
    see_also=("mlxk-serve", "mlxk-list", "mlxk-health"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
