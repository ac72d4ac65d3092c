"""The git-style dispatcher: `mlxk SUB ARGS` is `mlxk-SUB ARGS`, plugins on PATH."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mlxk_bin import mlxk as dispatcher
from mlxk_bin.mlxk.commands import BUILTINS

from fixtures.tooling import base_env, executable, run_cli, run_inprocess


def test_listing_from_no_args_help_and_help_flag_is_the_same():
    bare = run_cli(["mlxk"])
    assert bare.code == 0
    for sub, (exe, _, summary) in BUILTINS.items():
        assert f"  {sub}" in bare.stdout and summary in bare.stdout
    assert "alias: server" in bare.stdout
    assert run_cli(["mlxk", "--help"]).stdout == bare.stdout
    assert run_cli(["mlxk", "help"]).stdout == bare.stdout


@pytest.mark.parametrize("argv", [
    ["convert", "--bogus"],
    ["convert", "--help"],
    ["convert", "a.gguf"],
    ["convert", "/nonexistent/x.gguf", "/tmp/never-created", "--from-gguf", "--json"],
    ["list", "--version"],
])
def test_subcommand_output_equals_the_dashed_tool_byte_for_byte(argv):
    exe = BUILTINS[argv[0]][0]
    via_mlxk = run_cli(["mlxk", *argv])
    direct = run_cli([exe, *argv[1:]])
    assert (via_mlxk.code, via_mlxk.stdout, via_mlxk.stderr) == (direct.code, direct.stdout, direct.stderr)


@pytest.mark.parametrize("alias,exe", [("run", "mlx-run"), ("serve", "mlxk-serve"), ("server", "mlxk-serve")])
def test_aliases(alias, exe):
    via = run_cli(["mlxk", alias, "--help"])
    direct = run_cli([exe, "--help"])
    assert via.code == direct.code == 0
    assert via.stdout == direct.stdout
    assert f"usage: {exe}" in via.stdout


def test_unknown_command_suggests_and_exits_2():
    result = run_cli(["mlxk", "lsit"])
    assert result.code == 2
    assert "unknown command 'lsit'" in result.stderr and "Did you mean 'list'" in result.stderr
    none = run_cli(["mlxk", "zzzzqqq"])
    assert none.code == 2 and "Did you mean" not in none.stderr
    assert run_cli(["mlxk", "--frobnicate"]).code == 2


@pytest.fixture
def plugin_path(tmp_path):
    plugin = tmp_path / "mlxk-hello"
    plugin.write_text(
        "#!/bin/sh\n"
        "echo \"hello from plugin: $*\"\n"
        "echo 'to stderr' >&2\n"
        "cat\n"
        "exit 7\n"
    )
    plugin.chmod(0o755)
    trap = tmp_path / "mlxk-trap"
    trap.write_text("#!/bin/sh\ntrap 'echo got-term; exit 42' TERM\necho ready\nwhile :; do sleep 0.1; done\n")
    trap.chmod(0o755)
    env = base_env()
    env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    return env


def test_plugin_on_path_runs_with_args_stdin_and_exit_code(plugin_path):
    result = run_cli(["mlxk", "hello", "a", "b c"], stdin="piped input\n", env=plugin_path)
    assert result.code == 7
    assert result.stdout == "hello from plugin: a b c\npiped input\n"
    assert result.stderr == "to stderr\n"
    listing = run_cli(["mlxk", "--help"], env=plugin_path)
    assert "commands found on PATH:" in listing.stdout and "hello" in listing.stdout
    assert run_cli(["mlxk", "helo"], env=plugin_path).stderr.count("'hello'") == 1


def test_plugin_in_process_matches_subprocess(plugin_path):
    result = run_inprocess(dispatcher.main, ["hello", "x"], stdin="in\n", environ=plugin_path)
    assert (result.code, result.stdout, result.stderr) == (7, "hello from plugin: x\nin\n", "to stderr\n")


def test_signals_reach_the_plugin(plugin_path):
    proc = subprocess.Popen([executable("mlxk"), "trap"], stdout=subprocess.PIPE, text=True, env=plugin_path)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 42 and out.strip() == "got-term"


def test_builtin_sigterm_behaves_like_the_dashed_tool(tmp_path):
    """Both forms get the same handling: SIGTERM while the tool waits on stdin
    gives an interrupted exit (130) with an error envelope."""
    results = []
    env = base_env(HF_HOME=str(tmp_path))
    for argv in (["mlxk", "rm"], ["mlxk-rm"]):
        proc = subprocess.Popen([executable(argv[0]), *argv[1:], "--force", "--json", "-"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(1.0)  # the tool is now blocked reading references from stdin
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        results.append((proc.returncode, json.loads(out)["error"]["type"], err))
    assert results[0] == results[1]
    assert results[0][:2] == (130, "interrupted")


def test_version_human_and_json():
    human = run_cli(["mlxk", "--version"])
    assert human.code == 0 and human.stdout.startswith("mlxk ")
    doc = run_cli(["mlxk", "--version", "--json"]).json()
    assert doc["status"] == "success" and doc["command"] == "version" and doc["error"] is None
    data = doc["data"]
    assert data["cli_version"] in human.stdout and data["json_api_spec_version"] in human.stdout
    system = data["system"]
    assert system["platform"] == sys.platform
    assert system["mlx_version"] and system["device"] in ("cpu", "gpu")
    assert run_cli(["mlxk", "--version", "--bogus"]).code == 2


def test_help_output_into_closed_pipe_is_quiet():
    proc = subprocess.run(f"set -o pipefail; '{executable('mlxk')}' --help | head -1; echo rc=${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, env=base_env())
    assert proc.stdout.splitlines() == ["usage: mlxk <command> [args...]", "rc=0"]
    assert proc.stderr == ""


def test_builtin_summaries_match_the_tools():
    import importlib

    for sub, (exe, module, summary) in BUILTINS.items():
        tool = importlib.import_module(f"mlxk_bin.{module}").TOOL
        assert tool.name == exe and tool.command == sub
        assert tool.summary == summary, sub


def test_console_scripts_cover_every_builtin():
    import tomllib
    from pathlib import Path

    from mlxk_bin import start

    scripts = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["mlxk"] == "mlxk_bin.start:mlxk"
    assert set(scripts) == {"mlxk"} | {exe for exe, _, _ in BUILTINS.values()}
    for exe, module, _ in BUILTINS.values():
        entry = exe.replace("-", "_")
        assert scripts[exe] == f"mlxk_bin.start:{entry}"
        assert getattr(start, entry).__name__ == module  # the launcher runs mlxk_bin.<module>:main
