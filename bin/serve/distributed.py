"""mlxk-serve --ranks/--hosts: check the split, start the ranks through mlx.launch, watch them.

This process (the one the user started) serves nothing itself: every rank
runs ``mlxk_bin.serve.rank``; rank 0 binds the HTTP port and runs the server,
the others compute (``lockstep``).  Rank 0's output (the address, the
``--json`` envelope, the log) comes back here through the launcher.  The
server's exit code is the ranks' own: 0 after SIGINT/SIGTERM (sent on to
every rank), ``rank_failed`` when a rank died.
"""

from __future__ import annotations

import secrets
import signal
import sys

from mlxk_common.cli import Context
from mlxk_common.config import debug
from mlxk_common.engine import distributed
from mlxk_common.engine.launcher import Launch
from mlxk_common.engine.loader import check_architecture
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import check_runnable, locate
from mlxk_common.inventory.located import TEXT

RANK_COMMAND = ("-m", "mlxk_bin.serve.rank")


def refuse_unsupported(ctx: Context, args) -> None:
    """What a distributed server does not do: say so before anything starts."""
    if not ctx.setting(args.model, "MLXK2_PRELOAD_MODEL", None):
        raise MlxkError("usage_error", "--ranks/--hosts serve one model split across the ranks: name it with --model")
    if args.allow_llm_embeddings:
        raise MlxkError(
            "usage_error",
            "--allow-llm-embeddings does not run distributed (an embedding pass would "
            "run on rank 0 alone); leave it out with --ranks/--hosts",
        )
    if args.max_models != 1:
        raise MlxkError("usage_error", "--max-models: a distributed server serves its one --model")


def launch(ctx: Context) -> int:
    args, env = ctx.args, ctx.env
    refuse_unsupported(ctx, args)
    hosts = distributed.Hostfile.read(args.hosts) if args.hosts else distributed.Hostfile.local_ranks(args.ranks)
    located = locate(ctx.setting(args.model, "MLXK2_PRELOAD_MODEL", None), env.environ)
    check_runnable(located, (TEXT,))
    if located.kind != TEXT:
        raise MlxkError(
            "capability_not_supported",
            f"{located.name} is a {located.kind} model: only text models run distributed",
            kind=located.kind,
        )
    check_architecture(located)
    plan = distributed.plan(located.name, str(located.path), located.config, hosts.ranks, args.shard)
    timeout = ctx.setting(args.peer_timeout, "MLXK2_PEER_TIMEOUT", distributed.DEFAULT_PEER_TIMEOUT, float)
    argv = list(ctx.argv)
    if not args.model:  # the model from MLXK2_PRELOAD_MODEL: every rank gets it on its command line
        argv += ["--model", str(located.path)]
    job = {
        "argv": argv,
        "ranks": hosts.ranks,
        "backend": hosts.backend,
        "mode": plan.mode,
        "cast": plan.cast,
        "fingerprint": distributed.fingerprint(str(located.path)),
        "peer_timeout": timeout,
        "leader_address": (hosts.hosts[0].get("ips") or [hosts.hosts[0]["ssh"]])[0],
        "token": secrets.token_hex(16),  # keeps strangers off rank 0's control port
        "stdout_isatty": env.stdout_isatty,
        "stderr_isatty": env.stderr_isatty,
    }
    ctx.out.stderr(
        f"mlxk-serve: {located.name} on {hosts.ranks} ranks ({plan.mode} parallel, {hosts.backend} "
        "backend" + (f", weights cast to {plan.cast}" if plan.cast else "") + ")"
    )
    run = Launch(
        hosts,
        job,
        [sys.executable, *RANK_COMMAND],
        environ=env.environ,
        stdout=env.stdout,
        stderr=env.stderr,
        peer_timeout=timeout,
        debug=debug(env.environ),
    )
    # SIGINT/SIGTERM here: stop every rank (rank 0 ends its streams and says so); a clean stop is exit 0.
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        run.run()
    except KeyboardInterrupt:
        if not stopping:
            raise
        ctx.out.stderr("mlxk-serve: stopped every rank")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
