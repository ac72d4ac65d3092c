"""Start the ranks of a distributed run through ``mlx.launch`` and watch them.

(Ranks that all run on this machine start through ``local_launch``, which
does what ``mlx.launch`` does for 127.0.0.1 without its busy I/O loop and
speaks the same way; everything below holds for both.)

``mlx.launch`` starts one process per host (ssh, or directly for 127.0.0.1),
forwards their output, broadcasts its stdin to all of them and kills every
rank when one fails -- but exits 0 whatever happened, and waits forever for
a peer that never starts.  So this launcher:

- sends the job (the tool's arguments, the prompt) as one JSON line on
  ``mlx.launch``'s stdin, which every rank reads first;
- reads the ranks' status lines (``sharded.STATUS``) out of the merged
  stderr: ``ready`` when a rank met its peers, ``exit`` with its code and
  error; the run's exit code is the ranks' own, and the error the one that
  explains the others (a rank that died or refused beats "lost a peer");
- ends everything when the ranks are not all ready after the start-up
  timeout (``peer_timeout``), or on Ctrl-C/SIGTERM: ``mlx.launch`` runs in a
  process group of its own with its local ranks and ssh clients, and the
  whole group is terminated (a remote rank loses its ssh terminal and ends).

Rank 0's stdout is copied to the tool's stdout as it arrives; the ring
backend's own chatter (``[ring] ...``) and ``mlx.launch``'s notes are kept
off stderr unless ``debug`` (MLXK2_DEBUG=1).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from mlxk_common.engine.distributed import Hostfile
from mlxk_common.engine.sharded import parse_status
from mlxk_common.errors import ERROR_TYPES, MlxkError

_NODE_EXIT = re.compile(r"Node with rank (\d+) (?:exited with code (-?\d+)|was killed)")
_NOISE = ("[ring]", "[jaccl]", "[mpi]", "[nccl]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
STOP_GRACE_S = 3.0


def free_ports(count: int, host: str = "127.0.0.1") -> int:
    """A first port of ``count`` consecutive free ports (the ring backend takes one per rank)."""
    import random

    for _ in range(50):
        base = random.randint(20000, 60000 - count)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sockets.append(s)
                s.bind((host, port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise MlxkError("internal_error", f"no {count} consecutive free ports on {host}")


def launcher_command(hostfile: Hostfile) -> list[str]:
    """``mlx.launch`` (ssh to each host); for ranks that all run here on the ring
    backend, ``local_launch``, which starts them the same way without polling."""
    if hostfile.local and hostfile.backend == "ring":
        return [sys.executable, "-m", "mlxk_common.engine.local_launch"]
    return [sys.executable, "-c", "from mlx._distributed_utils.launch import main; main()"]


class RankOutcome:
    def __init__(self):
        self.ready = False
        self.code = None  # from its exit status line
        self.error = None
        self.launch_code = None  # what mlx.launch said about the process (signal: negative)
        self.stopped = False  # mlx.launch terminated it after another rank failed
        self.info = {}


class Launch:
    """One distributed run: ``run()`` returns the per-rank outcomes or raises the run's error."""

    def __init__(
        self,
        hostfile: Hostfile,
        job: dict,
        rank_command: list[str],
        *,
        environ,
        stdout,
        stderr,
        peer_timeout: float,
        debug: bool = False,
        port: int | None = None,
    ):
        self.hostfile = hostfile
        self.job = job
        self.rank_command = rank_command
        self.environ = dict(environ)
        self.stdout = stdout
        self.stderr = stderr
        self.peer_timeout = peer_timeout
        self.debug = debug  # show the backend's and mlx.launch's own messages
        self.port = port
        self.ranks = [RankOutcome() for _ in range(hostfile.ranks)]
        self.events: queue.Queue = queue.Queue()
        self.failed_order: list[int] = []  # ranks that ended badly by themselves, first first
        self.proc = None

    def run(self) -> list[RankOutcome]:
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="mlxk-hosts-", delete=False) as f:
            json.dump(self.hostfile.to_json(), f)
            hostfile_path = f.name
        try:
            return self._run(hostfile_path)
        finally:
            os.unlink(hostfile_path)

    def _run(self, hostfile_path: str) -> list[RankOutcome]:
        port = self.port or (free_ports(self.hostfile.ranks) if self.hostfile.local else 32323)
        cmd = [
            *launcher_command(self.hostfile),
            "--hostfile",
            hostfile_path,
            "--backend",
            self.hostfile.backend,
            "--starting-port",
            str(port),
            *(["--verbose"] if self.debug else []),
            "--",
            *self.rank_command,
        ]
        env = {**self.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        readers = [
            threading.Thread(target=self._copy_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            self.proc.stdin.write((json.dumps(self.job) + "\n").encode())
            self.proc.stdin.flush()  # kept open: mlx.launch spins on a closed stdin
            deadline = time.monotonic() + self.peer_timeout
            while self.proc.poll() is None or any(r.is_alive() for r in readers):
                self._drain(0.2)
                if not all(r.ready for r in self.ranks) and time.monotonic() > deadline:
                    if self.proc.poll() is None:
                        self.stop()
                        raise self._timeout_error()
                    deadline = float("inf")  # it ended anyway: the statuses tell why
            self._drain(0)
        except BaseException:  # Ctrl-C, SIGTERM (Interrupted), or a failure here: no rank survives us
            self.stop()
            raise
        finally:
            for reader in readers:
                reader.join(timeout=1)
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        error = self.outcome_error()
        if error is not None:
            raise error
        return self.ranks

    def stop(self) -> None:
        """Terminate mlx.launch's process group (it, its local ranks, its ssh clients)."""
        proc = self.proc
        if proc is None or proc.poll() is not None and not _group_alive(proc.pid):
            return
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            end = time.monotonic() + wait
            while time.monotonic() < end and _group_alive(proc.pid):
                proc.poll()  # reap it: a zombie still counts as a member of its group
                time.sleep(0.05)
            if not _group_alive(proc.pid):
                break
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass

    # -- output -----------------------------------------------------------
    def _copy_stdout(self) -> None:
        import codecs

        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            text = decoder.decode(data, final=not data)
            if text:
                self.events.put(("stdout", text))
            if not data:
                return

    def _read_stderr(self) -> None:
        for raw in self.proc.stderr:
            self.events.put(("stderr", raw.decode("utf-8", "replace")))

    def _drain(self, timeout: float) -> None:
        try:
            kind, text = self.events.get(timeout=timeout) if timeout else self.events.get_nowait()
        except queue.Empty:
            return
        while True:
            if kind == "stdout":
                self.stdout.write(text)
                self.stdout.flush()
            else:
                self._stderr_line(text)
            try:
                kind, text = self.events.get_nowait()
            except queue.Empty:
                return

    def _stderr_line(self, line: str) -> None:
        status = parse_status(line)
        if status is not None:
            rank = status.get("rank")
            if isinstance(rank, int) and 0 <= rank < len(self.ranks):
                outcome = self.ranks[rank]
                outcome.info["host"] = status.get("host")
                if status.get("event") == "ready":
                    outcome.ready = True
                elif status.get("event") == "exit":
                    outcome.code = status.get("code")
                    outcome.error = status.get("error")
                    outcome.info.update(status.get("info") or {})
            return
        plain = _ANSI.sub("", line)
        node = _NODE_EXIT.search(plain)
        if node:
            rank = int(node.group(1))
            if 0 <= rank < len(self.ranks):
                outcome = self.ranks[rank]
                if node.group(2) is not None:  # it ended by itself: the first of these is the cause
                    outcome.launch_code = int(node.group(2))
                    if outcome.launch_code != 0:
                        self.failed_order.append(rank)
                else:  # mlx.launch stopped it because another rank had failed
                    outcome.launch_code, outcome.stopped = -signal.SIGTERM, True
        quiet = node or plain.lstrip().startswith(_NOISE) or plain.startswith(("[WARN]", "[INFO]", "[ERROR]"))
        if (quiet and not self.debug) or not plain.strip():
            return
        self.stderr.write(line if line.endswith("\n") else line + "\n")
        self.stderr.flush()

    # -- the verdict ------------------------------------------------------
    def host(self, rank: int) -> str:
        return self.ranks[rank].info.get("host") or self.hostfile.names[rank]

    def _timeout_error(self) -> MlxkError:
        missing = [i for i, r in enumerate(self.ranks) if not r.ready]
        names = ", ".join(f"{i} ({self.hostfile.names[i]})" for i in missing)
        return MlxkError(
            "peer_timeout",
            f"rank{'s' if len(missing) > 1 else ''} {names} did not start or meet "
            f"the others within {self.peer_timeout:g} s",
            ranks=missing,
            hosts=[self.hostfile.names[i] for i in missing],
            timeout_s=self.peer_timeout,
            hint="check that every host is reachable (ssh, the IPs in the hostfile, firewalls) "
            "and that mlxk is installed at the same path there; --peer-timeout waits longer",
        )

    def outcome_error(self) -> MlxkError | None:
        """The run's error, or None when every rank ended well."""
        ranks = self.ranks
        if all(r.code == 0 for r in ranks):
            return None
        # 1. A rank that reported its own error (not just a lost peer) explains the rest.
        for i, r in enumerate(ranks):
            if r.code and r.error and r.error.get("reason") != "peer_lost":
                return _from_dict(r.error, r.code)
        # 2. A rank that ended without a word: killed, crashed, or its host went away.
        silent = [i for i, r in enumerate(ranks) if r.code is None]
        if silent:
            first = [i for i in self.failed_order if i in silent]
            i = first[0] if first else min(silent, key=lambda i: ranks[i].stopped)
            how = _how_ended(ranks[i].launch_code)
            return MlxkError(
                "rank_failed",
                f"rank {i} on {self.host(i)} {how}; the run was stopped on every rank",
                rank=i,
                host=self.host(i),
                exit_code=ranks[i].launch_code,
            )
        # 3. Only lost peers (a network failure between hosts).
        for r in ranks:
            if r.code and r.error:
                return _from_dict(r.error, r.code)
        code = next(r.code for r in ranks if r.code)
        return MlxkError("rank_failed", f"a rank exited with code {code}")


def _how_ended(code: int | None) -> str:
    if code is None:
        return "ended without reporting (killed, crashed, or its host could not be reached)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed ({name})"
    if code == 255:
        return "could not be started (ssh failed: host unreachable or login refused)"
    return f"exited with code {code} before reporting"


def _from_dict(error: dict, code: int) -> MlxkError:
    details = {k: v for k, v in error.items() if k not in ("type", "message")}
    kind = error.get("type") if error.get("type") in ERROR_TYPES else "rank_failed"
    return MlxkError(kind, str(error.get("message") or f"a rank failed with code {code}"), **details)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
