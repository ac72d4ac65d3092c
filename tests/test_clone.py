"""mlxk-clone: cache -> workspace copies, sentinel, atomicity, pulling first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fixtures.hub import HUB_TOKEN
from fixtures.model_repo import BIG_SHARD, REPO_ID, sha256_file, transfer_env
from fixtures.tooling import run_cli
from mlxk_common.inventory.fscopy import COPY, COPY_FILE_RANGE, REFLINK, copy_file, shares_extents

MiB = 1 << 20


def clone(hub, hf_home, *args, cwd=None, **env):
    return run_cli(["mlxk-clone", *map(str, args)], env=transfer_env(hub, hf_home, HUB_TOKEN, **env), timeout=120,
                   cwd=cwd)


def repo_dir(hf_home: Path) -> Path:
    return Path(hf_home) / "hub" / ("models--" + REPO_ID.replace("/", "--"))


def tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): (p.is_symlink(), os.readlink(p) if p.is_symlink() else p.stat().st_size)
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def cached(hub, model_repo, tmp_path) -> Path:
    hf_home = tmp_path / "hf"
    res = run_cli(["mlxk-pull", REPO_ID], env=transfer_env(hub, hf_home))
    assert res.code == 0, res
    hub.stats.reset()
    return hf_home


def reflink_supported(folder: Path) -> bool:
    src, dst = folder / "probe-src", folder / "probe-dst"
    src.write_bytes(b"x" * 4096)
    try:
        return copy_file(src, dst) == REFLINK
    finally:
        src.unlink()
        dst.unlink(missing_ok=True)


def test_clone_makes_flat_files_and_a_sentinel(hub, model_repo, cached, tmp_path):
    before = tree(repo_dir(cached))
    target = tmp_path / "work" / "smol"
    res = clone(hub, cached, REPO_ID, target, "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["clone_status"] == "success" and data["pulled"] is False
    assert data["target_dir"] == str(target) and data["hash"] == model_repo["commit"]
    assert data["health_check"] is True and data["health"] == "healthy", data
    assert hub.requests == []  # a cached model needs no network

    files = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert files == set(model_repo["files"]) | {".mlxk_workspace.json"}
    assert not [p for p in target.rglob("*") if p.is_symlink()]
    for rel, meta in model_repo["files"].items():
        assert sha256_file(target / rel) == meta["sha256"], rel

    sentinel = json.loads((target / ".mlxk_workspace.json").read_text())
    assert sentinel["source_repo"] == REPO_ID and sentinel["source_revision"] == model_repo["commit"]
    assert sentinel["operation"] == "clone" and sentinel["managed"] is True
    assert sentinel["created_at"].endswith("Z")
    assert sentinel["files"] == {rel: {"size": m["size"], "sha256": m["sha256"]}
                                 for rel, m in model_repo["files"].items()}

    # Copy-on-write where this file system can; checked either way.
    if reflink_supported(tmp_path):
        assert data["method"] == REFLINK
        assert shares_extents(target / BIG_SHARD) is True
    else:
        assert data["method"] in (COPY_FILE_RANGE, COPY)
        assert shares_extents(target / BIG_SHARD) in (False, None)

    assert tree(repo_dir(cached)) == before  # the cache was not touched
    assert [p.name for p in target.parent.iterdir()] == ["smol"]  # no staging folder left

    from mlxk_common.inventory.store import Workspace

    assert Workspace(str(target), "smol").clean() is True


def test_non_empty_target_is_refused(hub, model_repo, cached, tmp_path):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    res = clone(hub, cached, REPO_ID, target, "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "target_exists"
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "hf"]


def test_empty_target_folder_is_used(hub, model_repo, cached, tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    res = clone(hub, cached, REPO_ID, target, "--no-health-check", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["health_check"] is False and "health" not in data
    assert (target / "config.json").is_file()


def test_target_inside_the_cache_is_refused(hub, model_repo, cached, tmp_path):
    before = tree(cached)
    res = clone(hub, cached, REPO_ID, cached / "hub" / "copy", "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "cache_write_refused"
    assert tree(cached) == before


def test_uncached_model_is_pulled_first(hub, model_repo, tmp_path):
    hf_home, target = tmp_path / "hf", tmp_path / "ws"
    res = clone(hub, hf_home, REPO_ID, target, "--ndjson")
    assert res.code == 0, res
    events = res.ndjson()
    assert events[-1]["event"] == "result" and events[-1]["pulled"] is True
    assert hub.stats.bytes_sent == sum(m["size"] for m in model_repo["files"].values())
    assert (repo_dir(hf_home) / "refs" / "main").read_text() == model_repo["commit"]
    assert sha256_file(target / BIG_SHARD) == model_repo["files"][BIG_SHARD]["sha256"]


def test_interrupted_pull_is_resumed_by_clone(hub, model_repo, tmp_path):
    hf_home = tmp_path / "hf"
    assert run_cli(["mlxk-pull", REPO_ID, "--include", "*.json"], env=transfer_env(hub, hf_home)).code == 0
    etag = model_repo["files"][BIG_SHARD]["etag"]
    partial = repo_dir(hf_home) / "blobs" / f"{etag}.incomplete"
    partial.write_bytes(model_repo["source"][BIG_SHARD].read_bytes()[:10 * MiB])
    hub.stats.reset()
    res = clone(hub, hf_home, REPO_ID, tmp_path / "ws", "--json")
    assert res.code == 0, res
    assert res.json()["data"]["pulled"] is True
    assert hub.stats.file_bytes(REPO_ID, BIG_SHARD) == model_repo["files"][BIG_SHARD]["size"] - 10 * MiB
    assert not partial.exists()


def test_default_target_in_workspace_home(hub, model_repo, cached, tmp_path):
    home = tmp_path / "home"
    res = clone(hub, cached, REPO_ID, "--json", MLXK_WORKSPACE_HOME=home)
    assert res.code == 0, res
    assert res.json()["data"]["target_dir"] == str(home / "model")
    res = clone(hub, cached, REPO_ID, "named", "--json", MLXK_WORKSPACE_HOME=home)
    assert res.json()["data"]["target_dir"] == str(home / "named")
    res = clone(hub, cached, REPO_ID, "--json")
    assert res.code == 2 and res.json()["error"]["type"] == "usage_error"


def test_workspace_reference_is_refused(hub, model_repo, cached, tmp_path):
    assert clone(hub, cached, REPO_ID, tmp_path / "a").code == 0
    res = clone(hub, cached, "./a", tmp_path / "b", "--json", cwd=tmp_path)
    assert res.code == 1 and res.json()["error"]["type"] == "invalid_reference"
    assert not (tmp_path / "b").exists()


def test_pull_killed_before_any_file_finished_is_resumed(hub, model_repo, tmp_path):
    hf_home = tmp_path / "hf"
    blobs = repo_dir(hf_home) / "blobs"
    blobs.mkdir(parents=True)  # what a pull killed early leaves: partials, no snapshot yet
    etag = model_repo["files"][BIG_SHARD]["etag"]
    (blobs / f"{etag}.incomplete").write_bytes(model_repo["source"][BIG_SHARD].read_bytes()[:3 * MiB])
    res = clone(hub, hf_home, REPO_ID, tmp_path / "ws", "--json")
    assert res.code == 0, res
    assert res.json()["data"]["pulled"] is True
    assert hub.stats.file_bytes(REPO_ID, BIG_SHARD) == model_repo["files"][BIG_SHARD]["size"] - 3 * MiB


def test_reference_from_stdin(hub, model_repo, cached, tmp_path):
    env = transfer_env(hub, cached, HUB_TOKEN)
    res = run_cli(["mlxk-clone", "-", str(tmp_path / "ws"), "--json"], stdin='{"name": "acme/model"}\n', env=env)
    assert res.code == 0, res
    assert res.json()["data"]["model"] == REPO_ID
    res = run_cli(["mlxk-clone", "-", str(tmp_path / "ws2"), "--json"], stdin="acme/model\nacme/other\n", env=env)
    assert res.code == 2 and res.json()["error"]["type"] == "usage_error"
