"""One rank of a distributed mlxk-serve (started by mlx.launch; see bin/serve/distributed.py).

Reads the job (arguments, split, control token) as one JSON line on stdin,
meets its peers, and then: rank 0 runs the server (HTTP, the worker, the
batch scheduler, whose calls it sends to the others); every other rank
loads its share of the model and replays rank 0's scheduler calls
(``lockstep.follow``).  Each rank reports its end to the launcher as a
status line, as mlx-run's ranks do.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys

from mlxk_bin.serve import TOOL, lockstep
from mlxk_common.cli import Context
from mlxk_common.engine.cpu.path import CpuSettings
from mlxk_common.engine.sharded import Rank, peer_error
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import locate
from mlxk_common.iox import IOEnv
from mlxk_common.output import Output


def main() -> int:
    job = json.loads(sys.stdin.buffer.readline() or b"null")
    if not isinstance(job, dict):
        sys.stderr.write("mlxk_bin.serve.rank: no job on stdin (it is started by mlxk-serve --ranks/--hosts)\n")
        return 2
    rank = Rank(job, int(os.environ.get("MLX_RANK", "0")))
    code, error, info = 1, None, {}
    try:
        code = _leader(job, rank, info) if rank.leader else _follower(job, rank, info)
    except MlxkError as exc:
        code, error = exc.exit_code, exc.to_dict()
    except KeyboardInterrupt:
        code, error = 130, {"type": "interrupted", "message": "interrupted"}
    except (RuntimeError, OSError) as exc:  # the backend: "[ring] connection to a peer was lost"
        exc = peer_error(rank, exc)
        code, error = exc.exit_code, exc.to_dict()
    except Exception as exc:  # noqa: BLE001 - reported, never a traceback on another host's terminal
        code, error = 1, {"type": "internal_error", "message": f"rank {rank.rank}: {type(exc).__name__}: {exc}"}
    rank.exit(code, error, info)



def _parse(job: dict, env: IOEnv):
    parser = TOOL.parser(env)
    return parser.parse_intermixed_args(job["argv"])


def _leader(job: dict, rank: Rank, info: dict) -> int:
    # The server's own process set-up: it runs on gevent, patched in before the
    # server's modules import (the control socket below stays a plain one).
    env = IOEnv(
        stdin=io.StringIO(""),
        stdout=sys.stdout,
        stderr=sys.stderr,
        environ=os.environ,
        stdin_isatty=False,
        stdout_isatty=bool(job.get("stdout_isatty")),
        stderr_isatty=bool(job.get("stderr_isatty")),
        is_process=True,
    )
    args = _parse(job, env)
    out = Output(TOOL.name, TOOL.command, args.output_mode, env)
    ctx = Context(TOOL, args, env, out)
    ctx.argv = list(job["argv"])
    located = locate(args.model, os.environ)
    rank.check_model(str(located.path))
    leader = lockstep.Leader(rank, job["token"])
    server = leader.listen(job["leader_address"])
    rank.join()
    lockstep.share_port(server.getsockname()[1], rank.group)
    leader.accept(server, rank.peer_timeout)
    ctx.rank = rank
    ctx.lockstep = leader
    ctx.rank_info = info
    code = TOOL.run(ctx)
    if leader.failed is not None:
        raise leader.failed
    return 0 if code is None else int(code)


def _follower(job: dict, rank: Rank, info: dict) -> int:
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the followers write nothing, for the process's life
    env = IOEnv(
        stdin=io.StringIO(""),
        stdout=devnull,
        stderr=devnull,
        environ=os.environ,
        stdin_isatty=False,
        stdout_isatty=False,
        stderr_isatty=False,
        is_process=True,
    )
    args = _parse(job, env)
    located = locate(args.model, os.environ)
    rank.check_model(str(located.path))
    rank.join()
    port = lockstep.share_port(0, rank.group)
    conn = lockstep.connect(job["leader_address"], port, rank.rank, job["token"], rank.peer_timeout)
    engine = rank.load(located, CpuSettings(args.cpu_dtype, environ=os.environ))
    info["load_s"] = round(engine.load_s, 3)
    sched = engine.batch(max_batch=args.max_batch)
    sched.sampler_wrap = lockstep.follower_sampler(rank.group)
    # SIGTERM (the launcher stopping every rank) ends a follower at once, also inside a collective.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        lockstep.follow(conn, sched)
    except lockstep.PeerLost as exc:
        raise peer_error(rank, exc) from None
    return 0


if __name__ == "__main__":
    main()
