"""Start ranks on this machine the way ``mlx.launch`` does for 127.0.0.1, without its polling.

``mlx.launch``'s I/O threads select on their rank's stdin for writing, which
is always ready: each spins, and the launcher burns up to a core for the
whole run.  For ranks that all run here, this module does what ``mlx.launch``
does for a local host (a ring hostfile of ``127.0.0.1:PORT`` per rank in
``MLX_HOSTFILE``, ``MLX_RANK``, the hostfile's ``envs``) and nothing else:
the ranks write straight to the inherited stdout and stderr, the job line
read from stdin goes to every rank, and the launcher blocks in ``wait``.
Its interface is ``mlx.launch``'s (``--hostfile``, ``--backend ring``,
``--starting-port``, ``-- COMMAND``), and so are its notes on stderr
("Node with rank N exited with code C" / "was killed"), which
``launcher.Launch`` reads the same way: when one rank fails, the others are
terminated, as ``mlx.launch`` does.

    python -m mlxk_common.engine.local_launch --hostfile H --backend ring --starting-port P -- CMD...
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    opts = dict(zip(options[::2], options[1::2]))
    with open(opts["--hostfile"], encoding="utf-8") as f:
        hostfile = json.load(f)
    port = int(opts.get("--starting-port", "32323"))
    ring = [[f"{ip}:{port + i}" for ip in host["ips"][:1]] for i, host in enumerate(hostfile["hosts"])]
    envs = dict(e.split("=", 1) for e in hostfile.get("envs", []))
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="mlxk-ring-", delete=False) as f:
        json.dump(ring, f)
    job = sys.stdin.buffer.readline()
    ranks = {}
    try:
        for rank in range(len(ring)):
            env = {**os.environ, **envs, "MLX_HOSTFILE": f.name, "MLX_RANK": str(rank)}
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
            ranks[proc.pid] = (rank, proc)
        for _, proc in ranks.values():
            try:
                proc.stdin.write(job)
                proc.stdin.close()
            except OSError:
                pass  # it ended already: its exit status says why
        threading.Thread(target=_orphan_guard, args=(ranks,), daemon=True).start()
        return _wait(ranks)
    finally:
        os.unlink(f.name)


def _orphan_guard(ranks: dict) -> None:
    """The launching tool keeps this stdin open while it watches; its end (the tool
    was killed) must not leave the ranks running with no one to stop them."""
    try:  # the raw descriptor: a buffered read would hold stdin's lock at interpreter exit
        while os.read(sys.stdin.fileno(), 65536):
            pass
    except (OSError, ValueError):
        pass
    for _, proc in ranks.values():
        if proc.poll() is None:
            proc.terminate()


def _wait(ranks: dict) -> int:
    running = dict(ranks)
    first_failure = 0
    stopping = False
    while running:
        pid, status = os.wait()
        if pid not in running:
            continue
        rank, proc = running.pop(pid)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if stopping and code == -signal.SIGTERM:
            _note(f"Node with rank {rank} was killed")
            continue
        if code != 0:
            _note(f"Node with rank {rank} exited with code {code}")
            first_failure = first_failure or code
            if not stopping:
                stopping = True
                for _, other in running.values():
                    other.terminate()
    return 0 if first_failure == 0 else 1


def _note(text: str) -> None:
    sys.stderr.write(f"[WARN] {text}\n")
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
