"""mlxk-push against the test Hub: create, update, no-op, dry run, branches, safety rules.

Both upload paths of huggingface_hub 2.4 are exercised: Git LFS with Xet disabled,
and the Xet pipeline against a server that takes every file inline in the commit.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fixtures.hub import HUB_TOKEN
from fixtures.model_repo import transfer_env, write_model_folder
from fixtures.tooling import run_cli
from hubkit.store import StoreError

EXCLUDED = {".DS_Store", ".mlxk_workspace.json", "__pycache__/mod.cpython-311.pyc", ".git/config",
            ".venv/bin/python", "sub/.DS_Store", "logs/run.log", "scratch.bak"}


def make_workspace(folder: Path, seed: int) -> set[str]:
    """A small model folder plus files that must never be pushed; returns what should be."""
    files = set(write_model_folder(folder, seed=seed, big_size=600_000))
    for rel in EXCLUDED:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"local only {rel}\n")
    (folder / ".hfignore").write_text("# local notes\nlogs/\n*.bak\n")
    return files | {".hfignore"}


@pytest.fixture(params=["lfs", "inline"])
def mode(request, hub):
    """lfs: HF_HUB_DISABLE_XET=1 (LFS batch + PUT); inline: Xet client, every file in the commit."""
    hub.inline_uploads = request.param == "inline"
    return request.param


def push(hub, tmp_path, mode, *args, token=HUB_TOKEN, **env):
    environ = transfer_env(hub, tmp_path / "hf", token, **env)
    if mode == "inline":
        environ.pop("HF_HUB_DISABLE_XET", None)
    return run_cli(["mlxk-push", *map(str, args)], env=environ, timeout=120)


def remote_matches(hub, repo_id: str, folder: Path, expected: set[str], branch: str = "main") -> None:
    remote = hub.files(repo_id, branch)
    assert set(remote) == expected | {".gitattributes"}
    for rel in expected:
        assert hub.read_file(repo_id, rel, branch) == (folder / rel).read_bytes(), rel


def test_create_update_noop_and_dry_run(hub, mode, tmp_path, request):
    repo_id = f"me/push-{mode}"
    ws = tmp_path / "ws"
    expected = make_workspace(ws, seed=hash(request.node.name) % 1000)

    res = push(hub, tmp_path, mode, ws, repo_id, "--private", "--create", "--commit", "first upload", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["created_repo"] is True and data["private"] is True and data["no_changes"] is False
    assert data["commit_sha"] == hub.head(repo_id)
    assert data["commit_url"].endswith(data["commit_sha"])
    assert set(data["excluded"]) == EXCLUDED
    assert hub.repo_info(repo_id)["private"] is True
    remote_matches(hub, repo_id, ws, expected)
    lfs_requests = [r for r in hub.requests if "/info/lfs/" in r["path"] or r["path"].startswith("/lfs-")]
    assert bool(lfs_requests) == (mode == "lfs")  # inline: every file travelled in the commit itself

    head = hub.head(repo_id)
    res = push(hub, tmp_path, mode, ws, repo_id, "--private", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["no_changes"] is True and data["commit_sha"] is None
    assert hub.head(repo_id) == head

    (ws / "config.json").write_text('{"model_type": "llama", "changed": true}')
    (ws / "tokenizer_config.json").unlink()
    (ws / "new.txt").write_text("new\n")
    expected = (expected - {"tokenizer_config.json"}) | {"new.txt"}
    res = push(hub, tmp_path, mode, ws, repo_id, "--private", "--dry-run", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert (data["added"], data["modified"], data["deleted"]) == (["new.txt"], ["config.json"],
                                                                  ["tokenizer_config.json"])
    assert data["dry_run"] is True and hub.head(repo_id) == head

    res = push(hub, tmp_path, mode, ws, repo_id, "--private", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["change_summary"] == {"added": 1, "modified": 1, "deleted": 1}
    assert data["commit_sha"] == hub.head(repo_id) != head
    remote_matches(hub, repo_id, ws, expected)


def test_push_to_a_new_branch(hub, mode, tmp_path):
    repo_id = f"me/branchy-{mode}"
    ws = tmp_path / "ws"
    expected = make_workspace(ws, seed=7)
    assert push(hub, tmp_path, mode, ws, repo_id, "--private", "--create").code == 0
    main_head = hub.head(repo_id)
    (ws / "README.md").write_text("---\nlibrary_name: mlx\n---\n# on a branch\n")
    res = push(hub, tmp_path, mode, ws, repo_id, "--private", "--branch", "dev", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["created_branch"] is True and data["branch"] == "dev"
    assert data["change_summary"] == {"added": 0, "modified": 1, "deleted": 0}
    assert hub.head(repo_id) == main_head
    assert hub.head(repo_id, "dev") == data["commit_sha"]
    remote_matches(hub, repo_id, ws, expected, branch="dev")


def test_check_only_needs_no_network_and_no_token(hub, tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, seed=3)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    res = push(hub, tmp_path, "lfs", ws, "me/anything", "--private", "--check-only", "--json", token=None,
               HF_ENDPOINT=f"http://127.0.0.1:{closed}")
    assert res.code == 0, res
    health = res.json()["data"]["workspace_health"]
    assert health["healthy"] is True and health["files_count"] == len(make_workspace(tmp_path / "x", 3))
    (ws / "config.json").unlink()
    res = push(hub, tmp_path, "lfs", ws, "me/anything", "--private", "--check-only", "--json", token=None)
    assert res.code == 1 and res.json()["data"]["workspace_health"]["healthy"] is False
    assert hub.requests == []


def test_check_only_needs_private_too(hub, tmp_path):
    """mlx-knife requires --private for every push, a check included: a script
    that checks first and pushes second states the visibility both times."""
    ws = tmp_path / "ws"
    make_workspace(ws, seed=3)
    res = push(hub, tmp_path, "lfs", ws, "me/anything", "--check-only", "--json", token=None)
    assert res.code == 2 and res.json()["error"]["type"] == "usage_error"
    assert "--private" in res.json()["error"]["message"]
    assert hub.requests == []


def test_public_repo_is_refused_without_public_flag(hub, tmp_path):
    hub.add_repo("me", "open", {"config.json": b"{}"})
    ws = tmp_path / "ws"
    make_workspace(ws, seed=11)
    head = hub.head("me/open")
    res = push(hub, tmp_path, "lfs", ws, "me/open", "--private", "--json")
    assert res.code == 2 and "--public" in res.json()["error"]["message"]
    assert hub.head("me/open") == head
    res = push(hub, tmp_path, "lfs", ws, "me/open", "--public", "--json")
    assert res.code == 0, res
    assert res.json()["data"]["private"] is False and hub.head("me/open") != head


def test_flags_token_and_missing_repo(hub, tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, seed=12)
    res = push(hub, tmp_path, "lfs", ws, "me/nope", "--json")
    assert res.code == 2 and "--private" in res.json()["error"]["message"]
    res = push(hub, tmp_path, "lfs", ws, "me/nope", "--private", "--json", token=None)
    assert res.code == 1 and res.json()["error"]["type"] == "access_denied"
    res = push(hub, tmp_path, "lfs", ws, "me/nope", "--private", "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "repo_not_found"
    assert "--create" in res.json()["error"]["message"]
    bogus = "hf_definitely_not_valid_42"
    for mode in ("--json", "--ndjson", "--log-level=debug"):
        res = push(hub, tmp_path, "lfs", ws, "me/nope", "--private", "--create", mode, token=bogus)
        assert res.code == 1, res
        assert bogus not in res.stdout + res.stderr
        assert "access_denied" in res.stdout or "refused" in res.stderr
    with pytest.raises(StoreError):
        hub.repo_info("me/nope")


def test_xet_against_a_hub_without_xet_is_a_clear_upload_error(hub, tmp_path):
    ws = tmp_path / "ws"
    make_workspace(ws, seed=13)
    res = push(hub, tmp_path, "inline", ws, "me/xet", "--private", "--create", "--json")
    assert res.code == 1, res
    error = res.json()["error"]
    assert error["type"] == "upload_failed" and "HF_HUB_DISABLE_XET" in error["hint"]


def test_workspace_must_be_a_folder(hub, tmp_path):
    res = push(hub, tmp_path, "lfs", tmp_path / "missing", "me/x", "--private", "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "model_not_found"
    res = push(hub, tmp_path, "lfs", tmp_path, "../escape", "--private", "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "invalid_reference"


def test_dry_run_of_a_new_repo(hub, tmp_path):
    ws = tmp_path / "ws"
    expected = make_workspace(ws, seed=14)
    res = push(hub, tmp_path, "lfs", ws, "me/fresh", "--private", "--create", "--dry-run", "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["would_create_repo"] is True and set(data["added"]) == expected
    with pytest.raises(StoreError):
        hub.repo_info("me/fresh")
