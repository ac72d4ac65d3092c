"""mlx-run and mlxk-serve with a model that is not in the cache: they say how
to get it (``mlxk pull ORG/NAME``); mlx-run --pull downloads it from the
(test) Hub first, and on a terminal mlx-run asks y/N."""

from __future__ import annotations

import subprocess

import pexpect
import pytest
from fixtures.hub import HUB_TOKEN
from fixtures.model_repo import transfer_env
from fixtures.tooling import default_sigint, executable, run_cli

FAST = ["--temperature", "0", "--max-tokens", "2"]


@pytest.fixture
def on_hub(hub, tiny_q4):
    """Publish the tiny converted model on the test Hub under a new name."""
    def publish(name: str) -> str:
        files = {p.relative_to(tiny_q4).as_posix(): p for p in tiny_q4.rglob("*")
                 if p.is_file() and not p.name.startswith(".")}
        hub.add_repo("acme", name, files)
        return f"acme/{name}"

    return publish


def test_unknown_org_name_says_how_to_get_it(hub, tmp_path):
    env = transfer_env(hub, tmp_path / "hf", HUB_TOKEN)
    result = run_cli(["mlx-run", "acme/not-here", "hi", *FAST], env=env)
    assert result.code == 1 and "no model matches 'acme/not-here'" in result.stderr, result
    assert "hint: download it with: mlxk pull acme/not-here" in result.stderr
    doc = run_cli(["mlx-run", "acme/not-here@main", "hi", "--json"], env=env).json()
    assert doc["error"]["hint"] == "download it with: mlxk pull acme/not-here@main"
    served = run_cli(["mlxk-serve", "--model", "acme/not-here", "--port", "0"], env=env, timeout=120)
    assert served.code == 1 and "mlxk pull acme/not-here" in served.stderr, served
    # A bare name or a substring is no Hub name: no pull hint.
    result = run_cli(["mlx-run", "not-here", "hi", "--json"], env=env)
    assert "hint" not in result.json()["error"] or "mlxk pull" not in result.json()["error"]["hint"]


def test_pull_flag_downloads_then_answers(hub, on_hub, tmp_path):
    repo = on_hub("tiny-pull-flag")
    env = transfer_env(hub, tmp_path / "hf", HUB_TOKEN)
    result = run_cli(["mlx-run", repo, "hi", *FAST, "--pull"], env=env, timeout=300)
    assert result.code == 0, result
    assert f"mlx-run: pulled {repo}@" in result.stderr and result.stdout.strip()
    assert (tmp_path / "hf" / "hub" / "models--acme--tiny-pull-flag" / "refs" / "main").is_file()
    # In the cache now: the next run needs neither the flag nor the Hub.
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    doc = run_cli(["mlx-run", repo, "hi", *FAST, "--json"], env=offline, timeout=300).json()
    assert doc["status"] == "success" and doc["data"]["model"] == repo


def test_pull_flag_keeps_stdout_to_the_answer_in_json_modes(hub, on_hub, tmp_path):
    repo = on_hub("tiny-pull-ndjson")
    env = transfer_env(hub, tmp_path / "hf", HUB_TOKEN)
    result = run_cli(["mlx-run", repo, "hi", *FAST, "--pull", "--ndjson"], env=env, timeout=300)
    events = result.ndjson()
    assert result.code == 0 and {e["event"] for e in events} <= {"delta", "result"}, events
    assert events[-1]["event"] == "result"


def test_terminal_asks_before_pulling(hub, on_hub, tmp_path):
    repo = on_hub("tiny-pull-ask")
    env = transfer_env(hub, tmp_path / "hf", HUB_TOKEN)
    env["TERM"] = "dumb"
    no = pexpect.spawn(executable("mlx-run"), [repo, "hi", *FAST], env=env, timeout=120, encoding="utf-8",
                       preexec_fn=default_sigint)
    no.expect_exact(f"{repo} is not in the cache. Pull it now? [y/N]")
    no.sendline("n")
    no.expect(pexpect.EOF)
    no.close()
    assert no.exitstatus == 1 and "mlxk pull" in no.before
    assert not (tmp_path / "hf" / "hub" / "models--acme--tiny-pull-ask").exists()
    yes = pexpect.spawn(executable("mlx-run"), [repo, "hi", *FAST], env=env, timeout=300, encoding="utf-8",
                        preexec_fn=default_sigint)
    yes.expect_exact("Pull it now? [y/N]")
    yes.sendline("y")
    yes.expect_exact(f"pulled {repo}@")
    yes.expect(pexpect.EOF)
    yes.close()
    assert yes.exitstatus == 0


def test_pull_retries_are_announced(tmp_path):
    """A Hub that cannot be reached: each retry says so on stderr (instead of
    seconds of silence before the final error)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HOME": str(tmp_path)}
    from fixtures.tooling import base_env

    proc = subprocess.run([executable("mlxk-pull"), "acme/model", "--retries", "2"], capture_output=True, text=True,
                          env=base_env(HF_HUB_OFFLINE="0", **env), timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert any("retry 1 of 2 in 0.5 s" in line for line in lines), proc.stderr
    assert any("retry 2 of 2 in 1.0 s" in line for line in lines), proc.stderr
    assert lines[-1].startswith("mlxk-pull: error: acme/model: cannot reach"), proc.stderr


def test_pull_flag_reports_the_hubs_answer_as_it_is(hub, tmp_path):
    """--pull of a name the Hub does not have: mlxk-pull's own error type and
    message, in mlx-run's output mode, and nothing written to the cache."""
    env = transfer_env(hub, tmp_path / "hf", HUB_TOKEN)
    result = run_cli(["mlx-run", "acme/never-published", "hi", "--pull", "--json"], env=env, timeout=300)
    error = result.json()["error"]
    assert result.code == 1 and error["type"] == "repo_not_found", result
    assert "acme/never-published" in error["message"] and "input" not in error
    assert not (tmp_path / "hf" / "hub" / "models--acme--never-published" / "snapshots").exists()
