"""`mlxk help SUB`: the man page when man and the page are there, else --help."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from fixtures.tooling import base_env, run_cli, run_inprocess
from mlxk_bin import mlxk

REPO = Path(__file__).resolve().parent.parent

needs_man = pytest.mark.skipif(shutil.which("man") is None,
                               reason="man (man-db) is not installed; .ci/run installs it")


def path_without_man(tmp_path: Path) -> str:
    """A PATH with the usual tools but no man program."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("sh", "cat", "env"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, folder / tool)
    assert shutil.which("man", path=str(folder)) is None
    return str(folder)


@needs_man
def test_help_sub_shows_the_man_page():
    result = run_cli(["mlxk", "help", "list"], env=base_env(MANPAGER="cat", MANWIDTH="80"))
    assert result.code == 0, result
    text = " ".join(result.stdout.split())
    assert "MLXK-LIST(1)" in result.stdout
    assert "NAME mlxk-list - list models in the cache and workspaces" in text
    for section in ("SYNOPSIS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"):
        assert f"\n{section}\n" in result.stdout
    assert "--ndjson" in result.stdout and "\x08" not in result.stdout  # plain text, no overstrike


@needs_man
@pytest.mark.parametrize("sub,page", [("run", "MLX-RUN(1)"), ("server", "MLXK-SERVE(1)"),
                                      ("completion", "MLXK(1)"), ("help", "MLXK(1)")])
def test_help_follows_aliases_and_meta_commands(sub, page):
    result = run_inprocess(mlxk.main, ["help", sub])
    assert result.code == 0 and page in result.stdout, result


def test_help_falls_back_to_dash_dash_help_without_man(tmp_path):
    env = base_env(PATH=path_without_man(tmp_path))
    result = run_cli(["mlxk", "help", "list"], env=env)
    assert result.code == 0, result
    assert result.stdout.startswith("usage: mlxk-list")
    inproc = run_inprocess(mlxk.main, ["help", "rm"], environ=env)
    assert inproc.code == 0 and inproc.stdout.startswith("usage: mlxk-rm"), inproc
    listing = run_inprocess(mlxk.main, ["help", "completion"], environ=env)
    assert listing.code == 0 and "usage: mlxk <command>" in listing.stdout


def test_help_for_an_unknown_command_suggests(tmp_path):
    result = run_inprocess(mlxk.main, ["help", "lsit"])
    assert result.code == 2 and "Did you mean 'list'" in result.stderr


def test_help_for_a_plugin_runs_its_help(tmp_path):
    plugin = tmp_path / "mlxk-hello"
    plugin.write_text("#!/bin/sh\necho \"hello plugin $*\"\n")
    plugin.chmod(0o755)
    env = base_env(PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = run_inprocess(mlxk.main, ["help", "hello"], environ=env)
    assert result.code == 0 and result.stdout == "hello plugin --help\n"


def test_manual_lookup_prefers_this_checkout_then_installed_folders():
    folders = mlxk.man_folders()
    assert folders[0] == str(REPO / "man")
    assert os.path.join(sys.prefix, "share", "man", "man1") in folders
    if shutil.which("man"):
        assert mlxk.find_manual("mlxk-list")[1:] == [str(REPO / "man" / "mlxk-list.1")]
        assert mlxk.find_manual("mlxk-no-such-tool") is None


def test_no_man_program_means_no_manual(tmp_path):
    assert mlxk.find_manual("mlxk-list", {"PATH": path_without_man(tmp_path)}) is None
