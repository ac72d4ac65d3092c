"""mlx-run with a model named ORG/NAME that is not in the cache: fetch it first.

``--pull`` fetches without asking; on a terminal mlx-run asks y/N.  The
download is mlxk-pull's, run as a child process (``python -m mlxk_bin.pull
REF --ndjson``) rather than imported: its machinery would cost start-up time
on every mlx-run, and few runs need it.  The child's progress events drive a
bar on stderr (on a terminal), its notes (retries) reach stderr as they are,
and its result or error comes back as it was (same error type and details).
"""

from __future__ import annotations

import subprocess
import sys

from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import JSONDecodeError, loads
from mlxk_common.options import ask_yes_no
from mlxk_common.output import HUMAN
from mlxk_common.progress import ProgressBar, human_bytes

_NOT_DETAILS = ("type", "message", "input", "source")  # what the child's error event adds around the error


def wants_pull(ctx, ref: str) -> bool:
    """--pull; or a yes on the terminal (human mode, stdin and stderr a TTY)."""
    if ctx.args.pull:
        return True
    env = ctx.env
    if ctx.mode != HUMAN or not (env.stdin_isatty and env.stderr_isatty):
        return False
    return ask_yes_no(env, f"{ctx.tool.name}: {ref} is not in the cache. Pull it now?")


def fetch(ctx, ref: str) -> dict:
    """Pull ``ref`` into the cache with mlxk-pull; its result record."""
    args, env = ctx.args, ctx.env
    argv = [sys.executable, "-m", "mlxk_bin.pull", ref, "--ndjson", "--workers", str(args.workers)]
    if args.retries is not None:
        argv += ["--retries", str(args.retries)]
    if args.force_resume:
        argv.append("--force-resume")
    environ = dict(env.environ)
    if args.token:
        environ["HF_TOKEN"] = args.token  # not on a command line that others can read
    bar = ProgressBar(env, None, f"pulling {ref}", enabled=ctx.mode == HUMAN and env.stderr_isatty)
    files: dict[str, tuple[int, int]] = {}
    result = error = None
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=environ,
                            stderr=None if env.is_process else subprocess.PIPE)
    try:
        for line in proc.stdout:
            try:
                event = loads(line)
            except JSONDecodeError:
                continue
            kind = event.get("event")
            if kind == "progress":
                files[event["file"]] = (event["bytes"], event["total"])
                bar.set(sum(done for done, _ in files.values()), sum(total for _, total in files.values()))
            elif kind == "result":
                result = event
            elif kind == "error":
                error = event["error"]
        proc.wait()
    except BaseException:  # Ctrl-C reached the child too; SIGTERM may not have
        if proc.poll() is None:
            proc.terminate()
        proc.wait()
        raise
    finally:
        bar.close()
        if proc.stderr is not None:  # in-process runs: the child's notes into this run's stderr
            env.stderr.write(proc.stderr.read().decode("utf-8", "replace"))
    if error is not None:
        raise MlxkError(error["type"], error["message"], **{k: v for k, v in error.items() if k not in _NOT_DETAILS})
    if result is None:
        raise MlxkError("download_failed", f"mlxk-pull ended with exit status {proc.returncode} and no result",
                        reference=ref)
    ctx.out.info(f"{ctx.tool.name}: pulled {result['model']}@{result['hash'][:8]} "
                 f"({human_bytes(result['size_bytes'])})")
    return result
