"""One rank of a distributed mlx-run (started by mlx.launch; see bin/run/distributed.py).

Reads the job (arguments, prompt, split) as one JSON line on stdin, runs
mlx-run's one-shot path on its share of the model, and reports its end to
the launcher as a status line.  Only rank 0 writes to stdout and stderr.
"""

from __future__ import annotations

import io
import json
import os
import sys

from mlxk_bin.run import TOOL
from mlxk_common.cli import Context
from mlxk_common.engine.sharded import Rank, peer_error
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.splits import text_config
from mlxk_common.iox import GuardedStdout, IOEnv
from mlxk_common.output import Output


def main() -> int:
    job = json.loads(sys.stdin.buffer.readline() or b"null")
    if not isinstance(job, dict):
        sys.stderr.write("mlxk_bin.run.rank: no job on stdin (it is started by mlx-run --ranks/--hosts)\n")
        return 2
    rank = Rank(job, int(os.environ.get("MLX_RANK", "0")))
    code, error, ctx = 1, None, None
    try:
        code, ctx = _run(job, rank)
    except MlxkError as exc:
        code, error = exc.exit_code, exc.to_dict()
    except KeyboardInterrupt:
        code, error = 130, {"type": "interrupted", "message": "interrupted"}
    except RuntimeError as exc:  # the backend: "[ring] connection to a peer was lost"
        exc = peer_error(rank, exc)
        code, error = exc.exit_code, exc.to_dict()
    except Exception as exc:  # noqa: BLE001 - reported, never a traceback on another host's terminal
        code, error = 1, {"type": "internal_error", "message": f"rank {rank.rank}: {type(exc).__name__}: {exc}"}
    info = dict(getattr(ctx, "rank_info", None) or {})
    rank.exit(code, error, info)



def _run(job: dict, rank: Rank):
    leader = rank.leader
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the other ranks' stdout and stderr, for the process's life
    env = IOEnv(
        stdin=io.StringIO(""),
        stdout=GuardedStdout(sys.stdout) if leader else devnull,
        stderr=sys.stderr if leader else devnull,
        environ=os.environ,
        stdin_isatty=False,
        stdout_isatty=bool(job.get("stdout_isatty")) and leader,
        stderr_isatty=bool(job.get("stderr_isatty")) and leader,
        is_process=True,
    )
    parser = TOOL.parser(env)
    args = parser.parse_intermixed_args(job["argv"])
    out = Output(TOOL.name, TOOL.command, args.output_mode, env)
    ctx = Context(TOOL, args, env, out)
    ctx.argv = list(job["argv"])
    ctx.rank = rank
    code = TOOL.run(ctx)
    info = getattr(ctx, "rank_info", None)
    if args.verbose and info is not None and rank.group is not None:
        # --verbose: what the network costs per step, measured by every rank together.
        config = text_config(getattr(ctx, "rank_config", None) or {})
        hidden = config.get("hidden_size") if isinstance(config.get("hidden_size"), int) else 4096
        info["collective_ms"] = round(rank.collective_cost(hidden) * 1000, 4)
        info["collectives_per_token"] = rank.collectives_per_token(config.get("num_hidden_layers"))
    return (0 if code is None else int(code)), ctx


if __name__ == "__main__":
    main()
