"""mlxk-list on real caches and workspaces: every output mode and option,
patterns, broken entries, empty and missing caches; in-process and as the
installed executable."""

from __future__ import annotations

import calendar
import os
import re
import subprocess
import time

import pytest

from mlxk_bin.list import main
from fixtures.caches import as_unprivileged
from fixtures.tooling import base_env, executable

MODEL_FIELDS = ("name", "hash", "size_bytes", "last_modified", "framework", "model_type", "capabilities",
                "context_length", "health", "runtime_compatible", "reason", "cached")
WORKSPACE_FIELDS = ("path", "workspace", "managed", "source_repo", "clean", "origin", "content_hash")


@pytest.fixture
def mixed(cache_home):
    """Three cached models (runnable, PyTorch = healthy*, broken) and two
    workspaces in the workspace home (one managed)."""
    cache_home.add("mlx-community/tiny-chat")
    cache_home.add("someorg/tiny-pt", kind="pytorch_repo")
    cache_home.add("someorg/tiny-broken", kind="shard_missing")
    cache_home.workspace("ws-plain")
    cache_home.workspace("ws-managed", managed=True)
    return cache_home


def names_column(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines()[1:]]


def cells(line: str) -> list[str]:
    """A table row's cells (columns are two or more spaces apart)."""
    return re.split(r"\s{2,}", line.strip())


def test_default_table_shows_runnable_models(inproc, mixed):
    result = inproc(main, [], environ=mixed.env)
    assert result.code == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Name", "Hash", "Size", "Modified", "Type"]
    assert names_column(result.stdout) == ["tiny-chat", "ws-managed", "ws-plain"]  # short mlx-community name
    row = lines[1].split()
    snapshot = next((mixed.repo_dir("mlx-community/tiny-chat") / "snapshots").iterdir())
    assert row[1] == snapshot.name[:7] and row[-1] == "chat" and row[4] in ("just", "1m", "2m")


def test_all_and_health_column(inproc, mixed):
    result = inproc(main, ["--all", "--health"], environ=mixed.env)
    assert result.code == 0
    rows = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines()[1:]}
    assert rows == {"tiny-chat": "healthy", "someorg/tiny-broken": "unhealthy", "someorg/tiny-pt": "healthy*",
                    "ws-managed": "healthy", "ws-plain": "healthy"}
    assert result.stdout.splitlines()[0].split()[-1] == "Health"


def test_verbose_health_splits_integrity_runtime_reason(inproc, mixed):
    result = inproc(main, ["--all", "--health", "--verbose"], environ=mixed.env)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Name", "Hash", "Size", "Modified", "Framework", "Type", "Source", "Split",
                                "Integrity", "Runtime", "Reason"]
    rows = {cells(line)[0]: cells(line)[4:] for line in lines[1:]}
    # llama splits tensor-parallel only (its class has no pipeline); what is not MLX or is broken: "-".
    assert {name: row[3] for name, row in rows.items()} == {
        "mlx-community/tiny-chat": "tensor 2", "someorg/tiny-broken": "-", "someorg/tiny-pt": "-",
        "ws-managed": "tensor 2", "ws-plain": "tensor 2"}
    by_name = {name: row[:3] + row[4:] for name, row in rows.items()}  # the Split column: its own test
    assert by_name["mlx-community/tiny-chat"] == ["MLX", "chat", "cache", "healthy", "yes", "-"]  # full name
    assert by_name["someorg/tiny-pt"] == ["PyTorch", "chat", "cache", "healthy", "no",
                                         "Incompatible framework: PyTorch"]
    assert by_name["someorg/tiny-broken"][3:] == ["unhealthy", "-",
                                                 "Missing weight shards: model-00002-of-00003.safetensors"]
    assert by_name["ws-managed"][2] == "ws" and by_name["ws-plain"][2] == "ws?"


def test_long_reasons_are_cut_only_on_a_terminal(inproc, mixed):
    mixed.add("someorg/tiny-shards", kind="index_mismatch")
    piped = inproc(main, ["-a", "--health", "-v", "shards"], environ=mixed.env)
    tty = inproc(main, ["-a", "--health", "-v", "shards"], environ=mixed.env, tty=True)
    assert "mlxk-convert --repair-index" in piped.stdout
    assert tty.stdout.splitlines()[1].endswith("…") and "--repair-index" not in tty.stdout


def test_quiet_prints_full_names(inproc, mixed):
    # A workspace's full name is its absolute path: it works from any folder.
    assert inproc(main, ["-q"], environ=mixed.env).stdout.split() == [
        "mlx-community/tiny-chat", str(mixed.workspaces / "ws-managed"), str(mixed.workspaces / "ws-plain")]
    assert len(inproc(main, ["-q", "--all"], environ=mixed.env).stdout.split()) == 5


def test_json_envelope_and_model_objects(inproc, mixed):
    result = inproc(main, ["--json"], environ=mixed.env)
    assert result.code == 0
    doc = result.json()
    assert (doc["status"], doc["command"], doc["error"]) == ("success", "list", None)
    models = doc["data"]["models"]
    assert doc["data"]["count"] == len(models) == 5  # JSON always carries every model
    assert doc["data"]["system"]["memory_total_bytes"] > 0
    for model in models:
        assert set(MODEL_FIELDS + WORKSPACE_FIELDS) <= set(model), model
    by_name = {m["display_name"] or m["name"]: m for m in models}
    chat = by_name["mlx-community/tiny-chat"]  # JSON keeps the full name
    assert chat["display_name"] is None
    snapshot = next((mixed.repo_dir("mlx-community/tiny-chat") / "snapshots").iterdir())
    assert chat["hash"] == snapshot.name and chat["path"] == str(snapshot)
    assert chat["size_bytes"] == sum(p.stat().st_size for p in snapshot.iterdir())
    assert (chat["framework"], chat["model_type"], chat["capabilities"]) == ("MLX", "chat", ["text-generation", "chat"])
    assert (chat["health"], chat["runtime_compatible"], chat["reason"], chat["cached"]) == ("healthy", True, None, True)
    assert chat["context_length"] == 2048 and chat["refs"] == ["main"] and chat["workspace"] is False
    newest = max(p.stat().st_mtime for p in [snapshot, *snapshot.iterdir()])
    assert chat["last_modified"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest))
    assert abs(calendar.timegm(time.strptime(chat["last_modified"], "%Y-%m-%dT%H:%M:%SZ")) - newest) < 1
    pt = by_name["someorg/tiny-pt"]
    assert (pt["health"], pt["runtime_compatible"], pt["reason"]) == ("healthy", False, "Incompatible framework: PyTorch")
    broken = by_name["someorg/tiny-broken"]
    assert broken["health"] == "unhealthy" and broken["runtime_compatible"] is False and "Missing" in broken["reason"]
    managed, plain = by_name["ws-managed"], by_name["ws-plain"]
    assert (managed["cached"], managed["workspace"], managed["managed"], managed["clean"]) == (False, True, True, True)
    assert managed["source_repo"] == managed["origin"] == "org/source"
    assert managed["content_hash"].startswith("sha256:") and managed["hash"] is None
    assert managed["path"] == managed["name"] == str(mixed.workspaces / "ws-managed")  # mlx-knife: absolute
    assert managed["display_name"] == "ws-managed"  # as found in MLXK_WORKSPACE_HOME
    assert (plain["managed"], plain["clean"], plain["content_hash"]) == (False, None, None)


def test_dirty_workspace(inproc, mixed):
    with open(mixed.workspaces / "ws-managed" / "README.md", "a") as fh:
        fh.write("edited\n")
    model = next(m for m in inproc(main, ["--json"], environ=mixed.env).json()["data"]["models"]
                 if m["display_name"] == "ws-managed")
    assert model["clean"] is False
    assert cells(inproc(main, ["-v", "ws-managed"], environ=mixed.env).stdout.splitlines()[1])[-2] == "ws*"


def test_ndjson_is_one_record_per_line(inproc, mixed):
    lines = inproc(main, ["--ndjson"], environ=mixed.env).ndjson()
    assert lines == inproc(main, ["--json"], environ=mixed.env).json()["data"]["models"]


def test_pattern_is_a_case_insensitive_substring(inproc, mixed):
    result = inproc(main, ["TINY", "--json", "--all"], environ=mixed.env)
    assert [m["name"] for m in result.json()["data"]["models"]] == [
        "mlx-community/tiny-chat", "someorg/tiny-broken", "someorg/tiny-pt"]
    assert inproc(main, ["ws-", "-q"], environ=mixed.env).stdout.split() == [
        str(mixed.workspaces / "ws-managed"), str(mixed.workspaces / "ws-plain")]
    assert inproc(main, ["nothing", "--json"], environ=mixed.env).json()["data"]["count"] == 0


def test_path_patterns_list_workspaces_in_the_input_style(inproc, mixed, monkeypatch):
    parent = mixed.root / "here"
    for name in ("gemma-2b", "gemma-7b", "llama-1b"):
        mixed.workspace(name, parent=parent)
    monkeypatch.chdir(parent)
    # mlx-knife's display_name: a folder's (or a prefix's) models are named within it.
    assert names_column(inproc(main, ["."], environ=mixed.env).stdout) == ["gemma-2b", "gemma-7b", "llama-1b"]
    assert inproc(main, ["./gemma-", "-q"], environ=mixed.env).stdout.split() == [
        str(parent / "gemma-2b"), str(parent / "gemma-7b")]
    shown = [m["display_name"] for m in inproc(main, ["./gemma-", "--json"], environ=mixed.env).json()["data"]["models"]]
    assert shown == ["gemma-2b", "gemma-7b"]
    names = [(m["name"], m["display_name"])
             for m in inproc(main, [str(parent) + "/gem", "--json"], environ=mixed.env).json()["data"]["models"]]
    assert names == [(str(parent / "gemma-2b"), str(parent / "gemma-2b")), (str(parent / "gemma-7b"), str(parent / "gemma-7b"))]
    records = inproc(main, ["../here/llama-1b", "--ndjson"], environ=mixed.env).ndjson()
    assert [(r["name"], r["display_name"], r["path"], r["cached"]) for r in records] == [
        (str(parent / "llama-1b"), "../here/llama-1b", str(parent / "llama-1b"), False)]


def test_dangling_symlinks_and_unreadable_files_do_not_crash(inproc, cache_home):
    snapshot = cache_home.add("org/dangling")
    (snapshot / "tokenizer.json").resolve().unlink()
    cache_home.add("org/blocked")
    blocked = next((cache_home.repo_dir("org/blocked") / "snapshots").iterdir())
    (blocked / "config.json").unlink()
    (blocked / "config.json").mkdir()  # a file that cannot be read as one
    result = inproc(main, ["--json"], environ=cache_home.env)
    assert result.code == 0, result
    by_name = {m["name"]: m for m in result.json()["data"]["models"]}
    assert by_name["org/dangling"]["health"] == "unhealthy" and "tokenizer.json" in by_name["org/dangling"]["reason"]
    assert by_name["org/blocked"]["health"] == "unhealthy"
    assert inproc(main, [], environ=cache_home.env).stdout.splitlines()[1:] == []


def test_unreadable_files_as_an_unprivileged_user(cache_home):
    """chmod 000 does not stop root: as root, run the real executable without
    the capabilities that bypass file permissions."""
    snapshot = cache_home.add("org/locked-out")
    (snapshot / "config.json").resolve().chmod(0)
    cache_home.add("org/no-snapshots")
    os.chmod(cache_home.repo_dir("org/no-snapshots") / "snapshots", 0)
    cache_home.add("org/fine")
    command = as_unprivileged([executable("mlxk-list"), "--json"])
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=cache_home.env, timeout=60)
    finally:
        os.chmod(cache_home.repo_dir("org/no-snapshots") / "snapshots", 0o755)
    assert proc.returncode == 0, proc.stderr
    models = {m["name"]: m for m in __import__("json").loads(proc.stdout)["data"]["models"]}
    assert models["org/fine"]["health"] == "healthy"
    locked = models["org/locked-out"]
    assert locked["health"] == "unhealthy" and "config.json" in locked["reason"], locked
    assert models["org/no-snapshots"]["hash"] is None and models["org/no-snapshots"]["health"] == "unhealthy"


def test_empty_and_missing_caches(inproc, tmp_path):
    empty = tmp_path / "empty"
    (empty / "hub").mkdir(parents=True)
    for home in (empty, tmp_path / "missing"):
        env = base_env(HF_HOME=home)
        doc = inproc(main, ["--json"], environ=env).json()
        assert doc["status"] == "success" and doc["data"]["count"] == 0 and doc["data"]["models"] == []
        assert inproc(main, ["--ndjson"], environ=env).stdout == ""
        assert inproc(main, ["-q"], environ=env).stdout == ""
    human = inproc(main, [], environ=base_env(HF_HOME=tmp_path / "missing"))
    assert human.code == 0 and human.stdout.split() == ["Name", "Hash", "Size", "Modified", "Type"]
    assert "no model cache at" in human.stderr


def test_bad_pattern_is_an_error(inproc, mixed):
    result = inproc(main, ["a/b/c", "--json"], environ=mixed.env)
    assert result.code == 1 and result.json()["error"]["type"] == "invalid_reference"


def test_many_models_in_parallel_workers_match_one_process(cache_home):
    from fixtures.caches import synthetic_cache

    from mlxk_common.inventory.records import build_records, record_for
    from mlxk_common.inventory.store import scan_cache

    synthetic_cache(cache_home.hub, 70, broken_every=20)
    repos = scan_cache(str(cache_home.hub))
    serial = [record_for(r) for r in repos]
    assert build_records(repos, workers=3) == serial
    assert sum(r["health"] == "unhealthy" for r in serial) == 3
    assert max(r["size_bytes"] for r in serial) > 9e9  # sparse weights: sizes without the disk


# -- the installed executable -----------------------------------------------------

def test_executable_json_and_human(cli, mixed):
    doc = cli(["mlxk-list", "--json"], env=mixed.env).json()
    assert doc["data"]["count"] == 5
    human = cli(["mlxk-list", "--all"], env=mixed.env)
    assert human.code == 0 and len(human.stdout.splitlines()) == 6


def test_closed_stdout_ends_quietly(mixed):
    proc = subprocess.run(f"{executable('mlxk-list')} --all --ndjson | head -1", shell=True, capture_output=True,
                          text=True, env=mixed.env, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout.count("\n") == 1


def test_human_list_does_not_import_orjson(mixed):
    probe = ("import sys; from mlxk_bin import list as t; t.main([]); "
             "sys.stderr.write('ORJSON=%s' % ('orjson' in sys.modules))")
    proc = subprocess.run([executable("python"), "-c", probe], capture_output=True, text=True, env=mixed.env, timeout=60)
    assert "ORJSON=False" in proc.stderr, proc.stderr
