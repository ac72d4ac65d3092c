"""mlx-run --ranks/--hosts: check the split, start the ranks through mlx.launch, wait for them.

The checks that need no peer run here, before anything starts: the hostfile,
the model (found and healthy here), whether the architecture and head counts
allow the split.  Then every rank runs ``mlxk_bin.run.rank`` with the same
arguments and the prompt read here; rank 0's output comes back through
``mlx.launch`` to this process's stdout.
"""

from __future__ import annotations

import random
import sys

from mlxk_common.cli import Context
from mlxk_common.config import debug
from mlxk_common.engine import distributed
from mlxk_common.engine.launcher import Launch
from mlxk_common.engine.loader import check_architecture
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import Located
from mlxk_common.output import HUMAN
from mlxk_common.progress import human_bytes

RANK_COMMAND = ("-m", "mlxk_bin.run.rank")


def refuse_unsupported(args) -> None:
    """What a distributed mlx-run does not do (yet): one prompt, one answer."""
    for flag, on in (("--chat", args.chat), ("--ndjson-in", args.ndjson_in), ("--model -", args.model == "-"),
                     ("--image", bool(args.image)), ("--audio", bool(args.audio))):
        if on:
            raise MlxkError(
                "usage_error",
                f"{flag} does not run distributed yet; give one prompt (PROMPT, --prompt or '-') with --ranks/--hosts",
            )


def hostfile_of(args) -> distributed.Hostfile:
    if args.hosts:
        return distributed.Hostfile.read(args.hosts)
    return distributed.Hostfile.local_ranks(args.ranks)


def launch(ctx: Context, located: Located, prompt: str, sampling) -> int:
    """Run the prompt on every rank; returns the exit code (errors raise, in the tool's output mode)."""
    args, env = ctx.args, ctx.env
    hosts = hostfile_of(args)
    check_architecture(located)
    plan = distributed.plan(located.name, str(located.path), located.config, hosts.ranks, args.shard)
    argv = list(ctx.argv)
    if args.seed is None and not sampling.greedy:
        argv += ["--seed", str(random.randrange(2**31))]  # every rank must draw the same tokens
    timeout = ctx.setting(args.peer_timeout, "MLXK2_PEER_TIMEOUT", distributed.DEFAULT_PEER_TIMEOUT, float)
    job = {
        "argv": argv,
        "prompt": prompt,
        "ranks": hosts.ranks,
        "backend": hosts.backend,
        "mode": plan.mode,
        "cast": plan.cast,
        "fingerprint": distributed.fingerprint(str(located.path)),
        "peer_timeout": timeout,
        "stdout_isatty": env.stdout_isatty,
        "stderr_isatty": env.stderr_isatty,
    }
    if ctx.mode == HUMAN and args.verbose:
        ctx.out.info(
            f"{ctx.tool.name}: {located.name} on {hosts.ranks} ranks ({plan.mode} parallel, "
            f"{hosts.backend} backend" + (f", weights cast to {plan.cast}" if plan.cast else "") + ")"
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
    ranks = run.run()
    if args.verbose:
        for i, rank in enumerate(ranks):
            info = rank.info
            if "load_s" in info:
                ctx.out.info(
                    f"{ctx.tool.name}: rank {i} ({run.host(i)}): its part loaded in {info['load_s']:.2f} s; "
                    f"peak memory (RSS) {human_bytes(info.get('peak_rss_bytes') or 0)}"
                )
        lead = ranks[0].info
        if lead.get("collective_ms") is not None and lead.get("collectives_per_token"):
            per_token = lead["collective_ms"] * lead["collectives_per_token"]
            what = "all-reduces" if plan.mode == distributed.TENSOR else "hand-overs and gathers"
            share = (f" of {lead['token_ms']:.1f} ms per generated token ({100 * per_token / lead['token_ms']:.0f} %)"
                     if lead.get("token_ms") else "")
            ctx.out.info(
                f"{ctx.tool.name}: network: one all-reduce of a token's hidden state takes {lead['collective_ms']:.3f} ms "
                f"(median of 20, measured after the answer); a token needs {lead['collectives_per_token']} {what}: "
                f"about {per_token:.1f} ms{share}"
            )
    return 0
