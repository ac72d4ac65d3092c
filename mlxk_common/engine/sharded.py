"""The rank side of a distributed run: meet the peers, load this rank's part, report.

Every rank runs the same tool with the same arguments (the job the launcher
broadcast on stdin); each loads its share of the model with mlx-lm's own
splitting and computes every step; only rank 0 writes output.  A rank tells
the launcher how it is doing with status lines on stderr (``STATUS`` then a
JSON object: ``ready`` once every peer answered, ``exit`` with its code and
error at the end), because ``mlx.launch`` forwards output but not exit codes.

A peer that never starts leaves ``mx.distributed.init`` waiting forever,
holding the interpreter lock, so no Python timer can end it: the C-level
``faulthandler`` watchdog exits the process once the start-up timeout (plus
a margin for the launcher, which reports it first) has passed.
"""

from __future__ import annotations

import faulthandler
import json
import os
import socket
import sys
import time

from mlxk_common.engine.cpu.path import apply
from mlxk_common.engine.distributed import PIPELINE, TENSOR, fingerprint
from mlxk_common.engine.loader import TextEngine, check_architecture
from mlxk_common.errors import MlxkError

STATUS = "\x1fmlxk-rank "
WATCHDOG_MARGIN_S = 5.0


def status_line(**fields) -> str:
    return "\n" + STATUS + json.dumps(fields, separators=(",", ":")) + "\n"


def parse_status(line: str) -> dict | None:
    at = line.find(STATUS)
    if at < 0:
        return None
    try:
        return json.loads(line[at + len(STATUS) :])
    except ValueError:
        return None


def peak_rss() -> int:
    """This process's peak resident memory in bytes."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


class Rank:
    """This process's place in the job: its rank, group and the job's settings."""

    def __init__(self, job: dict, rank: int):
        self.job = job
        self.rank = rank
        self.ranks = job["ranks"]
        self.backend = job["backend"]
        self.mode = job["mode"]
        self.cast = job.get("cast")
        self.host = socket.gethostname()
        self.group = None
        self.peer_timeout = float(job.get("peer_timeout") or 60)
        self._status = sys.__stderr__

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def report(self, **fields) -> None:
        try:
            self._status.write(status_line(rank=self.rank, host=self.host, **fields))
            self._status.flush()
        except (OSError, ValueError):
            pass

    def exit(self, code: int, error: dict | None, info: dict) -> None:
        """End this rank: its exit status line (with its peak RSS) for the launcher, then
        ``os._exit`` — no teardown of the backend's sockets while peers may be gone."""
        info["peak_rss_bytes"] = peak_rss()
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        self.report(event="exit", code=code, error=error, info=info)
        os._exit(code)

    def describe(self) -> dict:
        """The ``distributed`` object of JSON results."""
        return {"ranks": self.ranks, "backend": self.backend, "mode": self.mode, "cast": self.cast}

    def check_model(self, path: str) -> None:
        """Refuse before loading when this host's copy differs from rank 0's."""
        mine = fingerprint(path)
        if mine != self.job["fingerprint"]:
            raise MlxkError(
                "model_mismatch",
                f"rank {self.rank} on {self.host} sees a different revision of the "
                f"model at {path} (files hash {mine}, rank 0 has {self.job['fingerprint']})",
                rank=self.rank,
                host=self.host,
                hint="copy the same revision to every host (mlxk-clone, or mlxk-pull on each)",
            )

    def join(self) -> None:
        """Meet every peer (the start-up timeout ends a wait for one that never comes)."""
        import mlx.core as mx

        self._watchdog_out = open(os.devnull, "w")  # noqa: SIM115 - the C watchdog writes here until cancelled
        faulthandler.dump_traceback_later(self.peer_timeout + WATCHDOG_MARGIN_S, exit=True, file=self._watchdog_out)
        try:
            backend = "jaccl" if self.backend == "jaccl-ring" else self.backend
            group = mx.distributed.init(strict=True, backend=backend)
            mx.eval(mx.distributed.all_sum(mx.array(1.0), stream=mx.cpu, group=group))
        except RuntimeError as exc:
            raise peer_error(self, exc) from None
        finally:
            faulthandler.cancel_dump_traceback_later()
        if group.size() != self.ranks or group.rank() != self.rank:
            raise MlxkError(
                "internal_error",
                f"MLX started rank {group.rank()} of {group.size()}, "
                f"the launcher meant rank {self.rank} of {self.ranks}",
            )
        self.group = group
        self.report(event="ready")

    def collective_cost(self, size: int, dtype: str = "float16", reps: int = 20) -> float:
        """Median seconds of one all-reduce of ``size`` elements (one token's hidden state) on
        this group: what tensor parallelism pays twice per layer per token.  Every rank must
        call it at the same point."""
        import mlx.core as mx

        x = mx.ones((1, max(1, size)), dtype=getattr(mx, dtype, mx.float16))
        times = []
        for i in range(reps + 3):
            start = time.perf_counter()
            mx.eval(mx.distributed.all_sum(x, group=self.group))
            if i >= 3:  # the first ones set up the connections' buffers
                times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2]

    def collectives_per_token(self, layers: int | None) -> int | None:
        """Collectives one generated token costs: tensor parallel, an all-reduce after the
        attention and after the MLP of every layer; pipeline, one hand-over per rank boundary
        and the final all-gather of the output."""
        if self.mode == TENSOR:
            return 2 * layers if layers else None
        return self.ranks

    def load(self, located, cpu=None):
        """This rank's share of the model, as a ``TextEngine`` (the same checks as a plain load)."""
        import mlx.core as mx
        from mlx_lm.utils import load_model, load_tokenizer

        check_architecture(located)
        start = time.perf_counter()
        path = located.path
        try:
            # mlx_lm.utils.sharded_load's own steps, without its hub download:
            # every host already has the files (checked by check_model).
            model, config = load_model(_path(path), lazy=True, strict=False)
            tokenizer = load_tokenizer(
                _path(path), {"trust_remote_code": True}, eos_token_ids=config.get("eos_token_id", None)
            )
            if self.mode == TENSOR:
                model.shard(self.group)
            elif self.mode == PIPELINE:
                model.model.pipeline(self.group)
            if self.cast:  # one float dtype everywhere: mixed dtypes break the pipeline's send/recv
                model.set_dtype(getattr(mx, self.cast))
            mx.eval(model.parameters())
            mx.eval(mx.distributed.all_sum(mx.array(1.0), stream=mx.cpu, group=self.group))
        except RuntimeError as exc:
            if "[ring]" in str(exc) or "peer" in str(exc):
                raise peer_error(self, exc) from None
            raise MlxkError(
                "unhealthy", f"cannot load {os.path.basename(path)} as rank {self.rank}: {exc}", path=str(path)
            ) from None
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise MlxkError(
                "unhealthy",
                f"cannot load {os.path.basename(path)} as rank {self.rank}: {type(exc).__name__}: {exc}",
                path=str(path),
            ) from None
        # On a CPU device, the single-process CPU path (float32 casts; a sharded
        # quantized layer stays quantized: only whole layers are dequantized).
        cpu_path = apply(model, cpu)
        engine = TextEngine(located, model, tokenizer, time.perf_counter() - start, cpu_path)
        engine.check_nan = True
        return engine


def _path(path):
    from pathlib import Path

    return Path(path)


def peer_error(rank: Rank, exc: Exception) -> MlxkError:
    return MlxkError(
        "rank_failed",
        f"rank {rank.rank} on {rank.host} lost its connection to a peer ({exc})",
        rank=rank.rank,
        host=rank.host,
        reason="peer_lost",
    )
