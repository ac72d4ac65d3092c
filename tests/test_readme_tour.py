"""The first ten minutes of a new user: ``make demo``, then every command of
the README's short tour exactly as the README writes it, on the real model,
with nothing stubbed.

The tour runs in a scratch folder that looks like the checkout after
``make demo`` (``.venv`` and ``models`` link to the real ones, and it is a
git repository with a small change, so ``git diff`` has something to show),
against a fresh Hugging Face cache, with ``MLXK2_MAX_TOKENS`` capping the
answers (a CPU would take minutes to fill the context window).  Two things
stand in for the user's eyes and hands: the interactive chat is driven on a pseudo-terminal, and the
curl line waits until the backgrounded server answers (then ``kill %1``, as
the README's comment says, stops it).  When port 8000 is taken on this
machine, both server lines get a free port instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess

import pexpect
import pytest
from conftest import REPO
from fixtures.tooling import base_env

DEMO_NAME = "mlxk-demo/SmolLM2-135M-Instruct"


def tour_commands() -> list[str]:
    """The shell commands of the README's "A short tour" block, continuation
    lines joined, comment-only and blank lines left out."""
    text = (REPO / "README.md").read_text()
    section = text.split("## A short tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands, pending = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line)
    return commands


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def after_demo(smollm2_gguf, tmp_path_factory):
    """``make demo`` into a fresh HF_HOME; returns (scratch checkout, environment)."""
    missing = [tool for tool in ("make", "git", "jq", "curl") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"the tour needs {', '.join(missing)} (.ci/run installs them)")
    root = tmp_path_factory.mktemp("tour")
    env = base_env(HF_HOME=root / "hf")
    env.pop("HF_HUB_OFFLINE")  # a new user's shell has no such setting
    # The tour's answers run up to the context window (8192 tokens) by default: minutes each on a
    # CI machine's CPU.  A cap the tools read from the environment keeps the commands as written.
    env["MLXK2_MAX_TOKENS"] = "120"
    make = subprocess.run(["make", "demo", f"DATA={smollm2_gguf.parent}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert make.returncode == 0, make.stdout[-3000:] + make.stderr[-3000:]
    assert "make: adding it to the Hugging Face cache as " + DEMO_NAME in make.stdout
    assert make.stdout.strip().splitlines()[-1].strip(), "the demo printed no answer"
    checkout = root / "checkout"
    checkout.mkdir()
    for name in (".venv", "models"):
        (checkout / name).symlink_to(REPO / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    (checkout / "notes.txt").write_text("first line\n")
    subprocess.run([*git, "init", "-q"], cwd=checkout, check=True)
    subprocess.run([*git, "add", "notes.txt"], cwd=checkout, check=True)
    subprocess.run([*git, "commit", "-qm", "notes"], cwd=checkout, check=True)
    (checkout / "notes.txt").write_text("first line\nsecond line: the tour was here\n")
    return checkout, env


def run_line(line: str, checkout, env) -> subprocess.CompletedProcess:
    """``line`` in bash, as a user types it after activating the venv; its
    whole process group is killed if it hangs."""
    script = f"set -o pipefail\n. .venv/bin/activate\n{line}\n"
    proc = subprocess.Popen(["bash", "-c", script], cwd=checkout, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
def test_the_readme_tour_works_as_written(after_demo):
    checkout, env = after_demo
    commands = tour_commands()
    assert commands[0].startswith(". .venv/bin/activate ") and len(commands) >= 14, commands
    serve_at = next(i for i, c in enumerate(commands) if c.startswith("mlxk serve"))
    port = 8000 if port_free(8000) else _free_port()
    for line in commands[1:serve_at]:
        if "--chat" in line:
            chat(line, checkout, env)
            continue
        done = run_line(line, checkout, env)
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (line, done.stderr)
        check_output(line, done, checkout)
    server_lines = [c.replace("8000", str(port)) for c in commands[serve_at:]]
    assert len(server_lines) == 2 and server_lines[0].rstrip().split("#")[0].rstrip().endswith("&")
    script = "\n".join([
        server_lines[0],
        f"for i in $(seq 600); do curl -s localhost:{port}/health >/dev/null && break; sleep 0.5; done",
        server_lines[1],
        "echo",
        "kill %1; wait",
    ])
    done = run_line(script, checkout, env)
    assert done.returncode == 0, done.stderr[-3000:]
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert reply["choices"][0]["message"]["content"].strip(), reply
    assert reply["model"], reply


def chat(line: str, checkout, env) -> None:
    shell = pexpect.spawn("bash", ["-c", f". .venv/bin/activate\n{line}"], cwd=str(checkout),
                          env={**env, "TERM": "dumb"}, encoding="utf-8", timeout=300)
    shell.expect_exact(">>> ")
    shell.sendline("What is the capital of France?")
    shell.expect_exact(">>> ")
    assert shell.before.strip(), "the chat gave no answer"
    shell.sendline("/exit")
    shell.expect(pexpect.EOF)
    shell.close()
    assert shell.exitstatus == 0


def check_output(line: str, done, checkout) -> None:
    """What each kind of tour line must show besides succeeding."""
    if re.match(r"mlxk list\s+#", line):
        assert DEMO_NAME in done.stdout, done.stdout
    elif line.startswith("mlxk show"):
        assert "model.safetensors" in done.stdout and DEMO_NAME in done.stdout, done.stdout
    elif line.startswith("mlxk health --deep"):
        assert "healthy" in done.stdout and "unhealthy" not in done.stdout.split("\n")[0], done.stdout
    elif line.startswith(("mlx-run", "git diff")):
        assert done.stdout.strip(), (line, done.stderr)
    elif "--ndjson-in" in line:
        answers = [json.loads(x) for x in (checkout / "answers.jsonl").read_text().splitlines()]
        assert [a["event"] for a in answers] == ["result", "result"], answers
        assert all(a["response"].strip() for a in answers)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_tour_block_is_found():
    """The parser above sees the README as a reader does (fast, no model)."""
    commands = tour_commands()
    assert any(c.startswith("curl -s localhost:8000") and '"Hi!"' in c for c in commands)
    assert all(not c.endswith("\\") for c in commands)
    assert commands[0].startswith(". .venv/bin/activate ") and commands[1].startswith("mlxk list")
