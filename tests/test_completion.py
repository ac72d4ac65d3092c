"""Shell completions: generated from the parsers, committed and current, and
driven for real in bash (and zsh and fish where installed)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from fixtures.tooling import base_env, run_cli, run_inprocess
from mlxk_bin import mlxk
from mlxk_bin.mlxk import completion
from mlxk_bin.mlxk.commands import ALIASES, BUILTINS
from mlxk_bin.mlxk.docspec import ToolSpec, load_tools
from mlxk_common.options import MODEL, completes, model_arg

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = {shell: REPO / "completions" / name for shell, name in completion.FILES.items()}
TOOLS = {tool.name: tool for tool in load_tools()}
SMOL = "mlx-community/SmolLM2-135M-Instruct"
HASHES = ("abcdef0123456789abcdef0123456789abcdef01", "9999999999999999999999999999999999999999")


def live_flags(tool) -> list[str]:
    return [flag for action in tool.parser()._actions if action.help != argparse.SUPPRESS
            for flag in action.option_strings]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A cache with two models (one with two revisions) and a workspace home."""
    root = tmp_path_factory.mktemp("completion-store")
    hub = root / "hf" / "hub"
    for commit in HASHES:
        (hub / "models--mlx-community--SmolLM2-135M-Instruct" / "snapshots" / commit).mkdir(parents=True)
    (hub / "models--Qwen--Qwen3-0.6B" / "snapshots" / ("1" * 40)).mkdir(parents=True)
    (hub / "version.txt").write_text("1")  # a file in the hub is not a model
    (root / "ws" / "my-workspace").mkdir(parents=True)
    (root / "cwd" / "local-model").mkdir(parents=True)
    return root


def store_env(store: Path, **extra) -> dict:
    return base_env(HF_HOME=store / "hf", MLXK_WORKSPACE_HOME=store / "ws", **extra)


def bash_complete(lines: list[str], env: dict, cwd: Path | None = None) -> list[list[str]]:
    """What bash's completion function offers for each command line (cursor at
    the end), run in one real bash with the committed script sourced."""
    program = [f"source {SCRIPTS['bash']}"]
    for line in lines:
        quoted = "'" + line.replace("'", "'\\''") + "'"
        program += [f"COMP_LINE={quoted}; COMP_POINT=${{#COMP_LINE}}; COMPREPLY=()",
                    "_mlxk_complete", 'printf "%s\\n" "${COMPREPLY[@]}"', "echo '<end>'"]
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", "\n".join(program)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    chunks = proc.stdout.split("<end>\n")[:-1]
    return [sorted(item for item in chunk.split("\n") if item) for chunk in chunks]


# -- committed, current, and printed by `mlxk completion` ---------------------------

@pytest.mark.parametrize("shell", completion.SHELLS)
def test_committed_script_equals_fresh_generation(shell):
    assert SCRIPTS[shell].read_text() == completion.script(shell), \
        f"{SCRIPTS[shell].relative_to(REPO)} is stale; run 'make docs'"


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_mlxk_completion_prints_the_script(shell):
    result = run_cli(["mlxk", "completion", shell])
    assert result.code == 0 and result.stdout == SCRIPTS[shell].read_text()


def test_mlxk_completion_needs_a_known_shell():
    for argv in (["completion"], ["completion", "tcsh"], ["completion", "bash", "zsh"]):
        result = run_inprocess(mlxk.main, argv)
        assert result.code == 2 and "usage: mlxk completion {bash,zsh,fish}" in result.stderr


def test_scripts_parse_in_their_shells():
    for shell, flag in (("bash", "-n"), ("zsh", "-n"), ("fish", "--no-execute")):
        if shutil.which(shell) is None:
            continue
        proc = subprocess.run([shell, flag, str(SCRIPTS[shell])], capture_output=True, text=True)
        assert proc.returncode == 0 and proc.stderr == "", f"{shell}: {proc.stderr}"


# -- everything is covered ---------------------------------------------------------------

@pytest.mark.parametrize("name", list(TOOLS))
def test_every_flag_of_every_tool_is_in_every_script(name):
    tool = TOOLS[name]
    ident = name.replace("-", "_")
    bash = SCRIPTS["bash"].read_text()
    opts_line = next(line for line in bash.splitlines() if line.startswith(f"_mlxk_opts_{ident}="))
    zsh = SCRIPTS["zsh"].read_text()
    zsh_body = zsh.split(f"_mlxk_{ident}() {{", 1)[1].split("\n}\n", 1)[0]
    fish = [line for line in SCRIPTS["fish"].read_text().splitlines() if line.startswith(f"complete -c {name} ")]
    for flag in live_flags(tool):
        assert f" {flag} " in f" {opts_line.split('=', 1)[1].strip(chr(39))} ", f"bash lacks {name} {flag}"
        assert f"){flag}[" in zsh_body or f"){flag}=" in zsh_body or f"){flag}+" in zsh_body \
            or f"*{flag}" in zsh_body, f"zsh lacks {name} {flag}"
        fish_flag = f"-l {flag[2:]} " if flag.startswith("--") else f"-s {flag[1:]} "
        assert any(fish_flag in line for line in fish), f"fish lacks {name} {flag}"
    for executable in ("mlxk", name):
        assert f" {executable}" in bash.splitlines()[-1]  # complete -F _mlxk_complete ...
        assert f" {executable}" in zsh.splitlines()[0]  # #compdef ...


def test_every_subcommand_and_alias_is_offered(store):
    env = store_env(store)
    [subs, aliases_only] = bash_complete(["mlxk ", "mlxk serv"], env)
    assert set(BUILTINS) | set(ALIASES) | {"help", "completion"} <= set(subs)
    assert aliases_only == ["serve", "server"]


@pytest.mark.parametrize("name", ["mlxk-show", "mlxk-health", "mlxk-rm", "mlx-run", "mlxk-serve", "mlxk-clone",
                                  "mlxk-list"])
def test_tools_that_take_models_complete_model_names(name):
    """Each tool marks its model-name arguments (docspec.model_arg / completes),
    so TAB offers cached models there."""
    tool = TOOLS[name]
    assert any(arg.completer == MODEL for arg in ToolSpec(tool).args), \
        f"{name}: mark the model argument with options.model_arg() or completes(action, MODEL)"


# -- bash, for real ---------------------------------------------------------------------------

def test_bash_registers_every_executable():
    names = ["mlxk"] + [exe for exe, _, _ in BUILTINS.values()]
    program = f"source {SCRIPTS['bash']}\n" + "\n".join(f"complete -p {name}" for name in names)
    proc = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"complete -F _mlxk_complete {name}" for name in names]


def test_bash_completes_subcommands_flags_and_values(store):
    env = store_env(store)
    got = bash_complete([
        "mlxk sh", "mlxk he", "mlxk -", "mlxk-list --js", "mlxk list --js", "mlxk-list --log-level w",
        "mlxk-list --log-level=w", "mlxk help con", "mlxk completion ", "mlxk --version ", "mlx-run --max-tokens ",
        "mlxk-list --json --", "mlxk-show --",
    ], env)
    assert got[0] == ["show"]
    assert got[1] == ["health", "help"]
    assert got[2] == ["--help", "--version", "-V", "-h"]
    assert got[3] == got[4] == ["--json"]
    assert got[5] == ["warning"]
    assert got[6] == ["warning"]  # '=' is a word break: readline replaces only what follows it
    assert got[7] == ["convert"]
    assert got[8] == ["bash", "fish", "zsh"]
    assert got[9] == ["--json"]
    assert got[10] == []  # a number: nothing to offer
    assert "--ndjson" in got[11] and "--log-level" in got[11]
    assert set(got[12]) >= {"--help", "--json", "--ndjson", "--log-level", "--log-json", "--version"}


def test_bash_completes_model_names_revisions_and_workspaces(store):
    env = store_env(store)
    got = bash_complete([
        "mlx-run ", "mlx-run mlx-c", "mlxk run mlx-community/", "mlxk-show Q", "mlxk-show Qwen-",
        f"mlxk-rm {SMOL}@", f"mlxk-rm {SMOL}@ab", "mlxk-health SmolLM2-135M-Instruct@9", "mlxk-show my",
        "mlx-run Nope", f"mlx-run {SMOL} ",
    ], env)
    assert got[0] == sorted(["Qwen/Qwen3-0.6B", SMOL, "my-workspace"])
    assert got[1] == got[2] == [SMOL]
    assert got[3] == ["Qwen/Qwen3-0.6B"]
    assert got[4] == []
    # '@' is a word break that bash keeps in the replaced text: candidates start at '@'.
    assert got[5] == sorted("@" + h for h in HASHES)
    assert got[6] == ["@" + HASHES[0]]
    assert got[7] == ["@" + HASHES[1]]  # a bare NAME means mlx-community/NAME
    assert got[8] == ["my-workspace"]
    assert got[9] == []
    assert got[10] == []  # mlx-run's second positional is the prompt


def test_bash_completes_paths_for_path_like_words(store):
    got = bash_complete(["mlx-run ./lo", "mlxk-show ../cwd/lo"], store_env(store), cwd=store / "cwd")
    assert got == [["./local-model"], ["../cwd/local-model"]]


def test_bash_offers_plugins_on_path(store, tmp_path):
    plugin = tmp_path / "mlxk-hello"
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    env = store_env(store, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert bash_complete(["mlxk he"], env) == [["health", "hello", "help"]]


def test_bash_lists_a_thousand_models(tmp_path):
    """The pure-shell lister on a large cache (bench/completion_speed.py times it)."""
    hub = tmp_path / "hf" / "hub"
    names = [f"org-{i % 25}/model-{i:04d}" for i in range(1000)]
    for name in names:
        (hub / ("models--" + name.replace("/", "--")) / "snapshots").mkdir(parents=True)
    env = base_env(HF_HOME=tmp_path / "hf")
    everything, one_org = bash_complete(["mlxk-show ", "mlxk-show org-7/"], env)
    assert everything == sorted(names)
    assert one_org == sorted(n for n in names if n.startswith("org-7/"))


def test_bash_interactive_tab(store):
    """Real readline: type, press TAB, read back the edited line."""
    pexpect = pytest.importorskip("pexpect")
    env = store_env(store, PS1="$ ", TERM="dumb", INPUTRC="/dev/null")
    shell = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, encoding="utf-8", timeout=10,
                          dimensions=(24, 250))
    try:
        shell.sendline(f"source {SCRIPTS['bash']}; bind 'set bell-style none'; echo READY")
        shell.expect_exact("READY\r\n")
        for typed, expected in ((f"mlx-run {SMOL}@ab", f"mlx-run {SMOL}@{HASHES[0]} "),
                                ("mlx-run mlx-c", f"mlx-run {SMOL} "),
                                ("mlxk li", "mlxk list "),
                                ("mlxk-list --log-level=w", "mlxk-list --log-level=warning ")):
            assert _edited_line(shell, typed, "\x01echo LINE:") == expected
    finally:
        shell.close(force=True)


def _edited_line(shell, typed: str, prefix_keys: str) -> str:
    """Send TYPED and a TAB; once the line stops changing, prepend a command
    that prints the line and run it."""
    shell.send(typed + "\t")
    _settle(shell)
    shell.send(prefix_keys + "\x05:END\r")
    shell.expect(r"\nLINE:([^\r\n]*):END\r\n")
    return shell.match.group(1)


def _settle(shell, quiet: float = 0.3, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            shell.read_nonblocking(4096, timeout=quiet)
        except Exception:  # pexpect.TIMEOUT: nothing new for `quiet` seconds
            return


# -- zsh and fish, where installed -------------------------------------------------------------

def test_zsh_interactive_tab(store):
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed; .ci/run installs it")
    pexpect = pytest.importorskip("pexpect")
    home = store / "zsh-home"
    home.mkdir(exist_ok=True)
    env = store_env(store, TERM="dumb", HOME=home)
    shell = pexpect.spawn("zsh", ["-f", "-i"], env=env, encoding="utf-8", timeout=10, dimensions=(24, 250))
    try:
        shell.sendline(f"PS1='$ '; bindkey -e; autoload -U compinit && compinit -u -D; "
                       f"source {SCRIPTS['zsh']}; echo READY")
        shell.expect_exact("READY\r\n")
        for typed, expected in ((f"mlx-run {SMOL}@ab", f"mlx-run {SMOL}@{HASHES[0]} "),
                                ("mlxk-show Qw", "mlxk-show Qwen/Qwen3-0.6B "),
                                ("mlxk sh", "mlxk show "),
                                ("mlxk-list --js", "mlxk-list --json "),
                                ("mlxk run --log-level w", "mlxk run --log-level warning "),
                                ("mlxk completion f", "mlxk completion fish ")):
            # zsh drops the auto-inserted space when the cursor moves away (Ctrl-A).
            assert _edited_line(shell, typed, "\x01print -r -- LINE:") == expected.rstrip()
    finally:
        shell.close(force=True)


def test_fish_completes(store):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed; .ci/run installs it")
    lines = ["mlxk-list --js", "mlxk sh", "mlx-run mlx-c", f"mlx-run {SMOL}@", "mlxk run --log-level ",
             "mlxk-show ", "mlxk completion "]
    program = f"source {SCRIPTS['fish']}\n" + "\n".join(
        f"complete -C {_fish_quote(line)}; echo '<end>'" for line in lines)
    proc = subprocess.run(["fish", "--no-config", "-c", program], capture_output=True, text=True, env=store_env(store))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    got = [sorted(item.split("\t")[0] for item in chunk.split("\n") if item)
           for chunk in proc.stdout.split("<end>\n")[:-1]]
    assert got[0] == ["--json"]
    assert got[1] == ["show"]
    assert got[2] == [SMOL]
    assert got[3] == sorted(f"{SMOL}@{h}" for h in HASHES)
    assert got[4] == ["debug", "error", "info", "warning"]
    assert got[5] == sorted(["Qwen/Qwen3-0.6B", SMOL, "my-workspace"])
    assert got[6] == ["bash", "fish", "zsh"]


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- the model behind the scripts -------------------------------------------------------------

def test_completer_marks_and_guesses():
    parser = argparse.ArgumentParser()
    model_arg(parser, "ref", nargs="+")
    completes(parser.add_argument("--image", action="append"), "file")
    parser.add_argument("--out", metavar="DIR")
    parser.add_argument("--mode", choices=("a", "b"))
    parser.add_argument("--count", type=int)
    by_dest = {action.dest: action for action in parser._actions}
    from mlxk_bin.mlxk.docspec import Arg

    kinds = {dest: Arg(action, "x", "options", None).completer for dest, action in by_dest.items()}
    assert kinds == {"help": "none", "ref": "model", "image": "file", "out": "dir", "mode": "choices", "count": "none"}
    with pytest.raises(ValueError):
        completes(parser.add_argument("--bad"), "url")


def test_script_rejects_unknown_shells():
    with pytest.raises(ValueError):
        completion.script("tcsh")
