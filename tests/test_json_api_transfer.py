"""Real outputs of mlxk-pull, mlxk-clone and mlxk-push against the test Hub in
every mode (--json, --ndjson, errors, runs interrupted by SIGINT/SIGTERM),
validated against docs/json-api.schema.json."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from fixtures.hub import HUB_OTHER_TOKEN
from fixtures.model_repo import BIG_SHARD, REPO_ID, transfer_env, write_model_folder
from fixtures.schema import interrupt, validate, validate_stream
from fixtures.tooling import run_cli, tool_process
from mlxk_common.errors import ERROR_TYPES

MiB = 1 << 20


def tool(name, hub, hf_home, *args, token="default", **env):
    environ = transfer_env(hub, hf_home, **({} if token == "default" else {"token": token}), **env)
    return run_cli([name, *map(str, args)], env=environ, timeout=120)


def fatal(result, mode: str, command: str, error_type: str) -> dict:
    """The one error a failed run reports, checked for its mode, type and exit code."""
    if mode == "--json":
        error = validate(result.json(), f"{command}_envelope")["error"]
    else:
        error = validate_stream(result.stdout, f"{command}_line", final=True)[-1]["error"]
    assert error["type"] == error_type and result.code == ERROR_TYPES[error_type][0], result
    return error


@pytest.fixture(scope="module")
def pulled(hub_server, model_repo, tmp_path_factory) -> Path:
    """An HF_HOME with acme/model pulled once (with --ndjson, validated)."""
    hf_home = tmp_path_factory.mktemp("pulled")
    result = tool("mlxk-pull", hub_server, hf_home, REPO_ID, "--ndjson")
    assert result.code == 0, result
    lines = validate_stream(result.stdout, "pull_line", final=True, min_lines=3)
    assert {line["event"] for line in lines} == {"progress", "result"}
    assert lines[-1]["download_status"] == "success"
    return hf_home


# -- mlxk-pull -----------------------------------------------------------------------

def test_pull_json_and_ndjson(hub, pulled):
    result = tool("mlxk-pull", hub, pulled, REPO_ID, "--json")
    data = validate(result.json(), "pull_envelope")["data"]
    assert result.code == 0 and data["download_status"] == "already_exists"
    (line,) = validate_stream(tool("mlxk-pull", hub, pulled, REPO_ID, "--ndjson").stdout, "pull_line", final=True)
    assert line["event"] == "result"


def test_pull_several_and_stdin(hub, pulled):
    stdin = f'{{"name": "{REPO_ID}"}}\n{REPO_ID}-missing\n{{"x": 1}}\n'
    environ = transfer_env(hub, pulled)
    result = run_cli(["mlxk-pull", "-", "--ndjson"], stdin=stdin, env=environ, timeout=120)
    lines = validate_stream(result.stdout, "pull_line", final=True, min_lines=3)
    assert result.code == 1 and [line["event"] for line in lines] == ["result", "error", "error"]
    result = run_cli(["mlxk-pull", REPO_ID, f"{REPO_ID}-missing", "--json"], env=environ, timeout=120)
    doc = validate(result.json(), "pull_envelope")
    assert result.code == 1 and doc["data"]["count"] == 1 and len(doc["error"]["errors"]) == 1
    validate(doc["data"], "pull_many")
    result = run_cli(["mlxk-pull", REPO_ID, REPO_ID, "--json"], env=environ, timeout=120)
    assert result.code == 0 and validate(result.json(), "pull_envelope")["data"]["count"] == 2


@pytest.mark.parametrize("mode", ["--json", "--ndjson"])
def test_pull_errors(hub, model_repo, tmp_path, mode):
    hub.set_private(REPO_ID, False)
    cases = [
        ((f"{REPO_ID}-missing",), {}, "repo_not_found"),
        ((REPO_ID,), {"token": "hf_wrong"}, "access_denied"),
        (("../../etc",), {}, "invalid_reference"),
        ((REPO_ID, "--include", "*.nothing"), {}, "usage_error"),
        ((REPO_ID, "--workers", "0"), {}, "usage_error"),
        ((f"{REPO_ID}@no-such-branch",), {}, "repo_not_found"),
    ]
    for args, kw, error_type in cases:
        fatal(tool("mlxk-pull", hub, tmp_path / "hf", *args, mode, **kw), mode, "pull", error_type)
    hub.fail_next(1000, status=503)
    error = fatal(tool("mlxk-pull", hub, tmp_path / "hf", REPO_ID, "--retries", "0", mode), mode, "pull",
                  "network_error")
    assert "hf_" not in json.dumps(error)


def spawn(name, hub, hf_home, *args):
    return tool_process([name, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        env=transfer_env(hub, hf_home))


def big_shard_moving(event: dict) -> bool:
    return event.get("event") == "progress" and event["file"] == BIG_SHARD and event["bytes"] > 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_pull_interrupted(hub, model_repo, tmp_path, sig):
    hub.throttle_bps = 4 * MiB
    code, out, _ = interrupt(spawn("mlxk-pull", hub, tmp_path / "hf", REPO_ID, "--ndjson"), sig, line=big_shard_moving)
    lines = validate_stream(out, "pull_line", final=True, min_lines=2)
    assert code == 130 and lines[-1]["error"]["type"] == "interrupted"
    assert lines[-1]["error"]["kept_bytes"] > 0


def test_pull_interrupted_json(hub, model_repo, tmp_path):
    hub.throttle_bps = 4 * MiB
    proc = spawn("mlxk-pull", hub, tmp_path / "hf", REPO_ID, "--json")
    blobs = tmp_path / "hf" / "hub" / ("models--" + REPO_ID.replace("/", "--")) / "blobs"
    partial = blobs / (model_repo["files"][BIG_SHARD]["etag"] + ".incomplete")

    def big_shard_started() -> bool:  # no progress events in --json: watch its partial file grow
        try:
            return partial.stat().st_size > 0
        except FileNotFoundError:
            return False

    code, out, _ = interrupt(proc, signal.SIGINT, until=big_shard_started)
    doc = validate(json.loads(out), "pull_envelope")
    assert code == 130 and doc["error"]["type"] == "interrupted"


# -- mlxk-clone ----------------------------------------------------------------------

def test_clone_json_and_ndjson(hub, model_repo, pulled, tmp_path):
    result = tool("mlxk-clone", hub, pulled, REPO_ID, tmp_path / "ws1", "--json")
    data = validate(result.json(), "clone_envelope")["data"]
    assert result.code == 0 and data["pulled"] is False
    result = run_cli(["mlxk-clone", "-", tmp_path / "ws2", "--ndjson", "--no-health-check"],
                     stdin=json.dumps({"name": REPO_ID}) + "\n", env=transfer_env(hub, pulled), timeout=120)
    lines = validate_stream(result.stdout, "clone_line", final=True)
    assert lines[-1]["event"] == "result" and lines[-1]["health_check"] is False
    # Not cached yet: pulled first, with the pull's progress events.
    result = tool("mlxk-clone", hub, tmp_path / "fresh", REPO_ID, tmp_path / "ws3", "--ndjson")
    lines = validate_stream(result.stdout, "clone_line", final=True, min_lines=3)
    assert lines[-1]["pulled"] is True and "progress" in {line["event"] for line in lines}


@pytest.mark.parametrize("mode", ["--json", "--ndjson"])
def test_clone_errors(hub, model_repo, pulled, tmp_path, mode):
    write_model_folder(tmp_path / "full", big_size=1000)  # a workspace: not empty, and no cached model
    cases = [
        ((REPO_ID, tmp_path / "full"), "target_exists"),
        ((REPO_ID, pulled / "hub" / "inside"), "cache_write_refused"),
        (("nothing-like-this", tmp_path / "t"), "repo_not_found"),  # not cached: a pull is tried
        ((str(tmp_path / "full"), tmp_path / "t"), "invalid_reference"),  # clone copies from the cache
        ((REPO_ID,), "usage_error"),
    ]
    for args, error_type in cases:
        fatal(tool("mlxk-clone", hub, pulled, *args, mode), mode, "clone", error_type)


def test_clone_interrupted(hub, model_repo, tmp_path):
    hub.throttle_bps = 4 * MiB
    proc = spawn("mlxk-clone", hub, tmp_path / "hf", REPO_ID, tmp_path / "ws", "--ndjson")
    code, out, _ = interrupt(proc, signal.SIGINT, line=big_shard_moving)
    lines = validate_stream(out, "clone_line", final=True, min_lines=2)
    assert code == 130 and lines[-1]["error"]["type"] == "interrupted"
    assert not (tmp_path / "ws").exists()


# -- mlxk-push -----------------------------------------------------------------------

@pytest.fixture
def workspace(tmp_path) -> Path:
    write_model_folder(tmp_path / "ws", seed=7, big_size=200_000)
    return tmp_path / "ws"


def test_push_every_mode(hub, workspace, tmp_path):
    repo = "me/json-api-push"
    checks = [
        (["--private", "--check-only"], 0),
        (["--private", "--create", "--dry-run"], 0),
        (["--private", "--create"], 0),
        (["--private"], 0),  # no changes
    ]
    for flags, code in checks:
        result = tool("mlxk-push", hub, tmp_path / "hf", workspace, repo, *flags, "--json")
        assert result.code == code, result
        validate(result.json(), "push_envelope")
    (workspace / "extra.txt").write_text("more\n")
    result = tool("mlxk-push", hub, tmp_path / "hf", workspace, repo, "--private", "--branch", "dev", "--ndjson")
    (line,) = validate_stream(result.stdout, "push_line", final=True)
    assert line["event"] == "result" and line["commit_sha"]
    (workspace / "config.json").write_text("{broken")
    result = tool("mlxk-push", hub, tmp_path / "hf", workspace, repo, "--private", "--check-only", "--ndjson")
    (line,) = validate_stream(result.stdout, "push_line", final=True)
    assert result.code == 1 and line["workspace_health"]["healthy"] is False


@pytest.mark.parametrize("mode", ["--json", "--ndjson"])
def test_push_errors(hub, workspace, tmp_path, mode):
    hub.add_repo("someone", "theirs", {"README.md": b"hi\n"})
    cases = [
        ((workspace, "me/x"), {}, "usage_error"),  # no --private
        ((tmp_path / "nothing", "me/x", "--private"), {}, "model_not_found"),
        ((workspace, "me/not-there", "--private"), {}, "repo_not_found"),
        ((workspace, "me/x", "--private", "--create"), {"token": None}, "access_denied"),
        ((workspace, "someone/theirs", "--private"), {"token": HUB_OTHER_TOKEN}, "usage_error"),
        ((workspace, "../x", "--private"), {}, "invalid_reference"),
    ]
    for args, kw, error_type in cases:
        fatal(tool("mlxk-push", hub, tmp_path / "hf", *args, mode, **kw), mode, "push", error_type)
