"""mlxk-serve: serve models over an OpenAI-compatible HTTP API."""

from __future__ import annotations

import os
import sys
import time

from mlxk_bin.serve import distributed
from mlxk_bin.serve.events import Failed
from mlxk_bin.serve.lockstep import ShardedModel
from mlxk_bin.serve.registry import Registry
from mlxk_bin.serve.serving import Server
from mlxk_bin.serve.worker import Worker
from mlxk_common import __version__
from mlxk_common.cli import Context, Tool
from mlxk_common.config import env_flag
from mlxk_common.engine.cpu import blas
from mlxk_common.engine.cpu.path import CpuSettings
from mlxk_common.engine.distributed import add_distributed_arguments
from mlxk_common.errors import MlxkError
from mlxk_common.options import COUNT, PORT, SIZE, add_cpu_arguments, arg_type, count, model_arg, parse_size, port
from mlxk_common.output import JSON


def configure(parser):
    models = parser.add_argument_group("models")
    model_arg(models, "--model", help="load this model at start-up and use it when a request names none; "
                                      "a bad reference stops the server at once (env MLXK2_PRELOAD_MODEL)")
    models.add_argument("--max-models", type=COUNT, default=1, metavar="N",
                        help="models kept loaded at once; the least recently used idle one is unloaded "
                             "to load another (default 1)")
    model_arg(models, "--allow", nargs="+", action="extend", metavar="REF",
              help="only these models (and --model) may be loaded by requests")
    models.add_argument("--allow-llm-embeddings", action="store_true",
                        help="let POST /v1/embeddings use chat and base models too (the mean of the last hidden "
                             "state, normalised; not what an embedding model gives); without it they get 400")
    net = parser.add_argument_group("network and security")
    net.add_argument("--host", metavar="ADDR", help="address to bind (env MLXK2_HOST; default 127.0.0.1, "
                                                    "this machine only)")
    net.add_argument("--port", type=PORT, metavar="N",
                     help="port to bind; 0 picks a free one, printed at start-up (env MLXK2_PORT; default 8000)")
    net.add_argument("--api-key", metavar="KEY",
                     help="require 'Authorization: Bearer KEY' on every route but /health and the chat page, which "
                          "asks for the key (env MLXK2_API_KEY, which keeps the key out of the process list)")
    net.add_argument("--cors", nargs="+", action="extend", metavar="ORIGIN",
                     help="allow browsers from these origins ('*' for any); CORS is off by default")
    net.add_argument("--no-ui", action="store_true",
                     help="do not serve the web chat page at / (the API only; / is then 404)")
    net.add_argument("--allow-image-urls", action="store_true",
                     help="vision models: fetch http(s) image URLs in requests (image_url parts, Anthropic url "
                          "sources); without it only data: URLs are accepted.  Lets any client make the server "
                          "fetch any URL it can reach, so it is off by default (env MLXK2_ALLOW_IMAGE_URLS=1)")
    net.add_argument("--image-url-timeout", type=arg_type(seconds, "seconds"), metavar="SECONDS",
                     help="with --allow-image-urls: the time to connect and for each read of an image URL; the "
                          "whole download gets twice as long (env MLXK2_IMAGE_URL_TIMEOUT; default 10)")
    net.add_argument("--metrics", action="store_true",
                     help="serve GET /metrics in Prometheus text format (behind the API key when one is set); "
                          "off by default")
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-tokens", type=COUNT, metavar="N",
                        help="most tokens one request may generate; also the default when a request "
                             "sets none (env MLXK2_MAX_TOKENS; default: the rest of the context window)")
    limits.add_argument("--max-queue", type=COUNT, default=256, metavar="N",
                        help="requests that may wait for a decoding slot; more get 503 (default 256)")
    limits.add_argument("--max-batch", type=COUNT, default=32, metavar="N",
                        help="requests decoded together in one batch (default 32)")
    limits.add_argument("--max-n", type=COUNT, default=8, metavar="N",
                        help="most choices one request may ask for with 'n'; they decode together, each in a "
                             "slot of --max-batch, and share one processing of the prompt (default 8)")
    limits.add_argument("--max-body", type=SIZE, default=50 * 10**6, metavar="SIZE",
                        help="largest request body, e.g. 50MB (default; 1 MB = 10^6 bytes, MiB = 2^20); larger ones get 413")
    limits.add_argument("--max-image", type=SIZE, default=20 * 10**6, metavar="SIZE",
                        help="largest image in a request, decoded (default 20MB); larger ones get 413")
    limits.add_argument("--max-images-total", type=SIZE, default=50 * 10**6, metavar="SIZE",
                        help="largest total of the decoded images of one request (default 50MB); more gets 413")
    limits.add_argument("--max-audio", type=SIZE, default=None, metavar="SIZE",
                        help="largest audio file uploaded to /v1/audio/transcriptions or /translations (env "
                             "MLXK2_MAX_AUDIO; default 25MB, as OpenAI's); larger ones get 413")
    models.add_argument("--exif", action="store_true",
                        help="vision models: answers start with the images' EXIF table (file, date, GPS, camera) "
                             "and the model sees that metadata; without it a request asks with "
                             "\"mlxk\": {\"exif\": true}")
    limits.add_argument("--read-timeout", type=arg_type(seconds, "seconds"), metavar="SECONDS",
                        help="drop a request whose head takes longer than this to arrive, or whose body stops "
                             "arriving for this long (408); an idle kept-alive connection is closed after as long "
                             f"(env MLXK2_READ_TIMEOUT; default {READ_TIMEOUT_S:g})")
    limits.add_argument("--prompt-cache", type=SIZE, default=10**9, metavar="SIZE",
                        help="memory for KV caches of earlier requests, reused when a new prompt starts "
                             "with the same tokens (multi-turn chats); 0 turns it off (default 1GB)")
    add_cpu_arguments(parser)
    add_distributed_arguments(parser)


READ_TIMEOUT_S = 30.0


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    value = float(text)
    if not 0 < value < 10**6:  # also refuses nan and inf
        raise ValueError("must be a number of seconds above 0 and below 10^6")
    return value


def run(ctx: Context):
    args = ctx.args
    if ctx.rank is None and (args.ranks or args.hosts):
        return distributed.launch(ctx)  # this process starts the ranks; rank 0 serves
    if ctx.rank is None and (args.shard or args.peer_timeout):
        raise MlxkError("usage_error", "--shard and --peer-timeout go with --ranks N or --hosts HOSTFILE")
    # gevent must patch the standard library before anything else imports
    # socket, threading or ssl: first thing, and only when really serving.
    # subprocess stays the standard one: libraries start processes while
    # loading a model on the engine thread (trio, when installed, runs
    # ldconfig on import), and gevent's version works only on the hub's thread.
    from gevent import monkey

    monkey.patch_all(subprocess=False)
    blas.ensure(ctx.env.environ)  # before anything imports mlx (docs/cpu.md)
    from mlxk_bin.serve.app import Settings, State
    from mlxk_bin.serve.transcription import SpeechWorker

    env = ctx.env
    sharded = None
    if ctx.rank is not None:  # rank 0 of a distributed server: one model, split; no prompt cache
        sharded = ShardedModel(ctx.rank, ctx.lockstep, CpuSettings(args.cpu_dtype, environ=env.environ))
    host = ctx.setting(args.host, "MLXK2_HOST", "127.0.0.1")
    bind_port = ctx.setting(args.port, "MLXK2_PORT", 8000, port)
    max_tokens = ctx.setting(args.max_tokens, "MLXK2_MAX_TOKENS", None, count)
    api_key = ctx.setting(args.api_key, "MLXK2_API_KEY", None)
    preload = ctx.setting(args.model, "MLXK2_PRELOAD_MODEL", None)
    read_timeout = ctx.setting(args.read_timeout, "MLXK2_READ_TIMEOUT", READ_TIMEOUT_S, seconds)
    allow_image_urls = args.allow_image_urls or env_flag(env.environ, "MLXK2_ALLOW_IMAGE_URLS", False)
    image_url_timeout = ctx.setting(args.image_url_timeout, "MLXK2_IMAGE_URL_TIMEOUT", 10.0, seconds)
    log = ctx.log

    registry = Registry(env.environ)
    default = registry.resolve_operator(preload) if preload else None  # fails fast on a bad reference
    if default is not None:
        registry.set_default(default)
    if args.allow or sharded is not None:
        registry.allow([] if sharded is not None else args.allow)  # distributed: only the model the ranks hold
    max_audio = ctx.setting(args.max_audio, "MLXK2_MAX_AUDIO", 25 * 10**6, parse_size)
    settings = Settings(api_key=api_key, cors=args.cors or (), max_body=args.max_body,
                        max_image=args.max_image, max_images_total=args.max_images_total, exif=args.exif,
                        version=__version__, web_ui=not args.no_ui,
                        allow_llm_embeddings=args.allow_llm_embeddings, metrics=args.metrics,
                        max_n=args.max_n, max_audio=max_audio, allow_image_urls=allow_image_urls,
                        image_url_timeout=image_url_timeout)
    worker = Worker(log.getChild("engine"), max_models=args.max_models, max_batch=args.max_batch,
                    max_queue=args.max_queue, cache_bytes=0 if sharded else args.prompt_cache,
                    max_tokens=max_tokens, cpu=CpuSettings(args.cpu_dtype, environ=env.environ), sharded=sharded)
    speech = SpeechWorker(log.getChild("speech"), max_queue=args.max_queue)
    state = State(settings, worker, registry, log, speech)
    server = Server(state, host, bind_port, read_timeout)
    try:
        bound_host, bound_port = server.start()
    except OSError as exc:
        raise MlxkError("usage_error", f"cannot listen on {host}:{bind_port}: {exc.strerror or exc}") from None
    try:
        # The address first (stderr), so a client can wait on /health (503 "loading") meanwhile.
        _serving_line(ctx, bound_host, bound_port, default, args)
        if default is not None:
            state.loading.append(default.name)
            started = time.perf_counter()
            try:
                server.preload(default)
            finally:
                state.loading.clear()
            ctx.out.stderr(f"mlxk-serve: ready ({default.name} loaded in {time.perf_counter() - started:.1f} s)")
        else:
            ctx.out.stderr("mlxk-serve: ready")
        _announce(ctx, bound_host, bound_port, default, args, max_tokens)
        if sharded is None:
            server.stop_requested.wait()
        else:
            _watch_ranks(ctx, server, sharded)
    except KeyboardInterrupt:  # a signal while the model was loading: still a clean stop
        pass
    except BaseException:
        server.shutdown()
        raise
    stopped = server.shutdown()
    ctx.out.stderr(f"mlxk-serve: stopped; {state.metrics.summary()}")
    if not stopped and ctx.rank is None:
        # The engine thread is stuck in a long MLX call: do not let
        # interpreter shutdown race it (a rank ends with os._exit anyway).
        env.stdout.flush()
        env.stderr.flush()
        os._exit(0)
    return 0


RANK_FAILED_GRACE_S = 2.0  # a rank died: answer 503 this long (a balancer notices), then exit non-zero


def _watch_ranks(ctx: Context, server, sharded) -> None:
    """Rank 0 of a distributed server: serve until a signal or until a rank is gone
    (its control connection ends, or a step loses a peer); then new requests get
    503 for a moment and the server stops, and the rank exits with rank_failed."""
    import gevent

    leader = sharded.leader
    while not server.stop_requested.wait(0.25):
        if leader.check() is not None:
            break
    if leader.check() is None:  # a signal, with every rank alive (one that died was checked just now)
        return
    ctx.log.error("%s", leader.failed.message)
    ctx.out.stderr(f"mlxk-serve: {leader.failed.message}")
    # Open requests cannot finish (the engine may be stuck in a collective with the lost
    # rank): they end now with that error, streams with an error event and [DONE].
    worker = server.state.worker
    for job in list(worker.open_jobs):
        job.ticket.events.append(Failed(leader.failed))
        job.ticket._set()
    gevent.sleep(RANK_FAILED_GRACE_S)


def _url(host: str, port_: int) -> str:
    return f"http://[{host}]:{port_}" if ":" in host else f"http://{host}:{port_}"


def _serving_line(ctx: Context, host: str, port_: int, default, args) -> None:
    """On stderr before any model loads: where to connect, and what is loading."""
    url = _url(host, port_)
    auth = bool(ctx.setting(args.api_key, "MLXK2_API_KEY", None))
    if not auth and host not in ("127.0.0.1", "localhost", "::1"):
        ctx.out.warn(f"serving {host} without an API key: anyone who can reach this port can use it "
                     "(set MLXK2_API_KEY)")
    page = "" if args.no_ui else f"chat page at {url}/, "
    loading = f"; loading {default.name}" if default else ""
    ctx.out.stderr(f"mlxk-serve: serving on {url} ({page}OpenAI API at {url}/v1){loading}")


def _announce(ctx: Context, host: str, port_: int, default, args, max_tokens) -> None:
    """The JSON envelope on stdout once the server is ready (--json)."""
    url = _url(host, port_)
    auth = bool(ctx.setting(args.api_key, "MLXK2_API_KEY", None))
    data = {"host": host, "port": port_, "url": url, "model": default.name if default else None,
            "max_models": args.max_models, "max_tokens": max_tokens, "auth": auth, "cors": args.cors or [],
            "pid": os.getpid()}
    if ctx.rank is not None:  # rank 0 of a distributed server (its pid is rank 0's, not the launcher's)
        data["distributed"] = ctx.rank.describe()
    if ctx.mode == JSON:
        ctx.out.envelope(data, indent=False)


TOOL = Tool(
    name="mlxk-serve",
    command="serve",
    summary="serve models over an OpenAI-compatible HTTP API",
    description=(
        "An OpenAI-compatible server: GET /health, GET /v1/models, POST /v1/chat/completions, "
        "POST /v1/completions and POST /v1/responses (streaming with server-sent events, "
        "stream_options.include_usage), POST /v1/messages (Anthropic's Messages API), "
        "POST /v1/embeddings (embedding models; the 'embeddings' extra), GET /metrics (--metrics), and "
        "POST /v1/audio/transcriptions and /v1/audio/translations for Whisper models (multipart uploads, "
        "json, text, srt, vtt, verbose_json; transcribed on a thread of their own, so chat goes on meanwhile).  "
        "Tool calling (tools, tool_choice) uses the model family's own "
        "tool-call format; response_format json_object/json_schema and tool_choice required are enforced "
        "while sampling by a grammar.  Sampling defaults: a field a request leaves out gets the model's "
        "generation_config.json value (temperature, top_p, top_k, min_p), else temperature 1 and top_p 1; "
        "no repetition, presence or frequency penalty unless the request asks.  "
        "Concurrent requests are decoded together (continuous batching) on one engine thread, and a "
        "prompt cache reuses the shared beginning of prompts.  GET / is a web chat page (--no-ui turns it "
        "off).  Requests name models as mlx-run does; "
        "a path in a request must lie inside MLXK_WORKSPACE_HOME.  SIGINT or SIGTERM stops it cleanly "
        "(exit 0): open streams end with an error event and [DONE].  "
        "--ranks N or --hosts HOSTFILE serves the --model split across several processes or machines with "
        "MLX's own distributed engine (as mlx-run --ranks): rank 0 serves HTTP and every rank takes its batch "
        "steps; a rank that dies makes the server answer 503 and exit 1 (rank_failed).  See docs/distributed.md."
    ),
    configure=configure,
    exit_at_once_when_interrupted=True,
    run=run,
    modes=(JSON,),
    handle_sigterm=False,  # the server handles SIGINT/SIGTERM itself, on its event loop
    env_vars=("MLXK2_HOST", "MLXK2_PORT", "MLXK2_PRELOAD_MODEL", "MLXK2_MAX_TOKENS", "MLXK2_API_KEY",
              "MLXK2_READ_TIMEOUT", "MLXK2_MAX_AUDIO", "MLXK2_ALLOW_IMAGE_URLS", "MLXK2_IMAGE_URL_TIMEOUT",
              "MLXK_WORKSPACE_HOME", "HF_HOME", "MLXK2_LOG_LEVEL",
              "MLXK2_LOG_JSON", "MLXK2_CPU_DTYPE", "MLXK2_CPU_MEMORY", "MLXK2_CPU_THREADS", "MLXK2_CPU_BLAS",
              "MLXK2_CPU_KERNELS"),
    examples=(
        ("mlxk-serve --model mlx-community/SmolLM2-135M-Instruct-Q4",
         "serve one model on http://127.0.0.1:8000; open that address in a browser to chat"),
        ("mlxk-serve --port 0 --json", "pick a free port and print it in a JSON envelope"),
        ("mlxk-serve --model ./bge-small --metrics",
         "serve an embedding model at /v1/embeddings, with Prometheus metrics at /metrics"),
        ("curl -s http://127.0.0.1:8000/v1/models | jq -r '.data[].id'", "the models a running server offers"),
        ("mlxk-serve --model ./smollm2 --ranks 3", "one model split across 3 local ranks (tensor parallel)"),
        ("MLXK2_API_KEY=secret mlxk-serve --host 0.0.0.0 --cors https://app.example",
         "serve the network, with a key and one browser origin"),
    ),
    see_also=("mlx-run", "mlxk-list"),
)


def main(argv=None, env=None) -> int:
    return TOOL.main(argv, env)


if __name__ == "__main__":
    sys.exit(main())
