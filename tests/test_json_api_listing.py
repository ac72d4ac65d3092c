"""Real outputs of mlxk-list, mlxk-show, mlxk-health and mlxk-rm in every mode
(--json, --ndjson, per-item and fatal errors, an interrupted --deep check), validated against
docs/json-api.schema.json.  One cache of odd models is built per run; rm gets
fresh caches of tiny models."""

from __future__ import annotations

import fcntl
import signal
import subprocess

import pytest

from fixtures.caches import CacheHome, synthetic_model
from fixtures.oddcaches import break_blob
from fixtures.schema import interrupt, validate, validate_stream
from fixtures.tooling import base_env, tool_process
from mlxk_bin import health, list as list_tool, rm, show
from mlxk_common.errors import ERROR_TYPES

SMOL = "mlx-community/SmolLM2-135M-Instruct-Q4"
A, B = "a" * 40, "b" * 40
# Each kind gives the records a different shape: broken files, other frameworks,
# vision, remote code, no snapshot at all, a dangling blob, two revisions.
ODD_KINDS = ("truncated", "config_missing", "lfs_pointer", "gguf_repo", "pytorch_repo", "vision_with_processor",
             "model_file_config", "unsupported_type", "shard_missing")


@pytest.fixture(scope="session")
def zoo(tmp_path_factory, smollm2_workspace) -> CacheHome:
    """A cache with the real SmolLM2 and one model of each oddity, plus
    workspaces (managed, plain, broken) in MLXK_WORKSPACE_HOME.  Read-only."""
    home = CacheHome(tmp_path_factory.mktemp("json-api-zoo"))
    home.add(SMOL, folder=smollm2_workspace, commit=A)
    home.add_revision(SMOL.replace("SmolLM2", "Tiny"), B, ref="pr/1")
    home.add(SMOL.replace("SmolLM2", "Tiny"), commit=A)
    for kind in ODD_KINDS:
        home.add(f"odd/{kind.replace('_', '-')}", kind)
    snapshot = home.add("odd/dangling")
    break_blob(snapshot.parent.parent, snapshot, "config.json", "delete")
    (home.hub / "models--odd--no-snapshots" / "blobs").mkdir(parents=True)
    home.workspace("ws-managed", managed=True)
    home.workspace("ws-plain")
    home.workspace("ws-broken", "empty_weights")
    return home


def assert_fatal(result, doc, error_type: str):
    """A fatal error: the documented type and its exit code."""
    assert doc["error"]["type"] == error_type, doc
    assert result.code == ERROR_TYPES[error_type][0], result


# -- mlxk-list -----------------------------------------------------------------------

def test_list_json_and_ndjson(inproc, zoo):
    result = inproc(list_tool.main, ["--json"], environ=zoo.env)
    assert result.code == 0, result
    data = validate(result.json(), "list_envelope")["data"]
    names = {m["display_name"] or m["name"] for m in data["models"]}
    assert SMOL in names and "ws-managed" in names and "odd/no-snapshots" in names
    assert {m["health"] for m in data["models"]} == {"healthy", "unhealthy"}
    assert {m["framework"] for m in data["models"]} >= {"MLX", "GGUF", "PyTorch"}
    ndjson = inproc(list_tool.main, ["--ndjson"], environ=zoo.env)
    records = validate_stream(ndjson.stdout, "list_line", min_lines=len(data["models"]))
    assert [r["name"] for r in records] == [m["name"] for m in data["models"]]
    # A path pattern, and one that matches nothing.
    for argv in ([str(zoo.workspaces) + "/"], ["no-such-model"]):
        validate(inproc(list_tool.main, [*argv, "--json"], environ=zoo.env).json(), "list_envelope")
        validate_stream(inproc(list_tool.main, [*argv, "--ndjson"], environ=zoo.env).stdout, "list_line",
                        min_lines=0)


@pytest.mark.parametrize("argv, error_type", [
    (["--bogus"], "usage_error"),
    (["a\x00b"], "invalid_reference"),
])
def test_list_errors(inproc, zoo, argv, error_type):
    result = inproc(list_tool.main, [*argv, "--json"], environ=zoo.env)
    assert_fatal(result, validate(result.json(), "list_envelope"), error_type)
    result = inproc(list_tool.main, [*argv, "--ndjson"], environ=zoo.env)
    (event,) = validate_stream(result.stdout, "list_line")
    assert event["event"] == "error" and event["error"]["type"] == error_type


# -- mlxk-show -----------------------------------------------------------------------

def test_show_one_model_every_option(inproc, zoo):
    for ref in (SMOL, f"{SMOL}@{A[:7]}", "Tiny", "ws-managed", str(zoo.workspaces / "ws-plain"), "odd/dangling",
                "odd/no-snapshots", "odd/gguf-repo"):
        for extra in ([], ["--files"], ["--config"], ["--files", "--config"]):
            result = inproc(show.main, [ref, *extra, "--json"], environ=zoo.env)
            assert result.code == 0, result
            data = validate(result.json(), "show_envelope")["data"]
            validate(data, "show_details")
            assert ("files" in data) == ("--files" in extra) and ("config" in data) == ("--config" in extra)
            validate_stream(inproc(show.main, [ref, *extra, "--ndjson"], environ=zoo.env).stdout, "show_line")


def test_show_several_and_stdin(inproc, zoo):
    stdin = f'{SMOL}\n{{"name": "ws-plain"}}\n{{"nothing": 1}}\nnot/there\n[1]\n'
    result = inproc(show.main, ["-", "--ndjson"], stdin=stdin, environ=zoo.env)
    assert result.code == 1
    lines = validate_stream(result.stdout, "show_line", min_lines=5)
    assert [line.get("event") for line in lines] == [None, None, "error", "error", "error"]
    assert [line["error"]["type"] for line in lines[2:]] == ["invalid_reference", "model_not_found",
                                                             "invalid_reference"]
    # --json: the models that worked, and an error listing the ones that failed.
    result = inproc(show.main, ["-", "--json"], stdin=stdin, environ=zoo.env)
    doc = validate(result.json(), "show_envelope")
    assert result.code == 1 and doc["status"] == "error" and doc["data"]["count"] == 2
    validate(doc["data"], "show_many")
    assert len(doc["error"]["errors"]) == 3
    result = inproc(show.main, [SMOL, "Tiny", "--json"], environ=zoo.env)
    assert result.code == 0 and validate(result.json(), "show_envelope")["data"]["count"] == 2


@pytest.mark.parametrize("ref, error_type", [
    ("no-such-model", "model_not_found"),
    ("odd", "ambiguous_match"),
    (f"{SMOL}@{'c' * 7}", "hash_not_found"),
    ("../escape", "model_not_found"),
    ("x" * 200, "invalid_reference"),
])
def test_show_errors(inproc, zoo, ref, error_type):
    result = inproc(show.main, [ref, "--json"], environ=zoo.env)
    doc = validate(result.json(), "show_envelope")
    assert_fatal(result, doc, error_type)
    if error_type == "ambiguous_match":
        assert doc["error"]["candidates"] == sorted(doc["error"]["candidates"])
    result = inproc(show.main, [ref, "--ndjson"], environ=zoo.env)
    (event,) = validate_stream(result.stdout, "show_line", final=True)
    assert event["error"]["type"] == error_type and result.code == ERROR_TYPES[error_type][0]


# -- mlxk-health ---------------------------------------------------------------------

def test_health_every_model(inproc, zoo):
    result = inproc(health.main, ["--json"], environ=zoo.env)
    assert result.code == 1  # some are broken
    data = validate(result.json(), "health_envelope")["data"]
    assert data["summary"]["unhealthy_count"] >= len(ODD_KINDS) // 2 and data["summary"]["healthy_count"] >= 3
    result = inproc(health.main, ["--ndjson"], environ=zoo.env)
    lines = validate_stream(result.stdout, "health_line", min_lines=data["summary"]["total"])
    assert {line["status"] for line in lines} == {"healthy", "unhealthy"}


def test_health_deep_and_stdin(inproc, zoo):
    result = inproc(health.main, ["--deep", SMOL, "ws-plain", "--json"], environ=zoo.env)
    assert result.code == 0, result
    data = validate(result.json(), "health_envelope")["data"]
    assert {r["deep"]["blobs_verified"] > 0 for r in data["healthy"]} == {True, False}  # cache vs workspace
    stdin = f'{{"name": "{SMOL}", "health": "healthy"}}\nnot-there\n{{"path": "{zoo.workspaces}/ws-broken"}}\n'
    result = inproc(health.main, ["-", "--ndjson"], stdin=stdin, environ=zoo.env)
    lines = validate_stream(result.stdout, "health_line", min_lines=3)
    assert result.code == 1 and [line.get("event") for line in lines] == [None, "error", None]
    result = inproc(health.main, ["-", "--json"], stdin=stdin, environ=zoo.env)
    data = validate(result.json(), "health_envelope")["data"]
    assert len(data["errors"]) == 1 and data["summary"]["total"] == 2


def test_health_deep_interrupted(tmp_path):
    """SIGINT while --deep hashes a big model (sparse: no disk used) after the first record."""
    synthetic_model(tmp_path / "hub", "org/a-small", 50_000)
    synthetic_model(tmp_path / "hub", "org/b-big", 2_500_000_000, shards=2)
    proc = tool_process(["mlxk-health", "--deep", "--ndjson"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, env=base_env(HF_HOME=tmp_path))
    code, out, _ = interrupt(proc, signal.SIGINT, line=lambda record: True)
    lines = validate_stream(out, "health_line", final=True, min_lines=2)
    assert code == 130 and lines[0]["name"] == "org/a-small" and lines[-1]["error"]["type"] == "interrupted"


def test_health_errors(inproc, zoo):
    result = inproc(health.main, ["nope-1", "nope-2", "--json"], environ=zoo.env)
    doc = validate(result.json(), "health_envelope")
    assert_fatal(result, doc, "model_not_found")
    assert len(doc["error"]["errors"]) == 2
    result = inproc(health.main, ["--deep", "--json", "--no-such-flag"], environ=zoo.env)
    assert_fatal(result, validate(result.json(), "health_envelope"), "usage_error")


# -- mlxk-rm -------------------------------------------------------------------------

@pytest.fixture
def rm_home(cache_home) -> CacheHome:
    cache_home.add("org/multi", commit=A)
    cache_home.add_revision("org/multi", B, ref="pr/1")
    cache_home.add("org/one")
    cache_home.add("org/two")
    cache_home.add("org/locked")
    cache_home.workspace("ws")
    return cache_home


def test_rm_json_and_ndjson(inproc, rm_home):
    env = rm_home.env
    result = inproc(rm.main, ["--dry-run", "org/multi", "--json"], environ=env)
    data = validate(result.json(), "rm_envelope")["data"]
    assert result.code == 0 and data["action"] == "would_delete" and data["count"] == 1
    result = inproc(rm.main, [f"org/multi@{B[:8]}", "--force", "--json"], environ=env)
    data = validate(result.json(), "rm_envelope")["data"]
    assert data["scope"] == "revision" and data["action"] == "deleted"
    result = inproc(rm.main, ["org/one", "-f", "--ndjson"], environ=env)
    (event,) = validate_stream(result.stdout, "rm_line", final=True)
    assert event["event"] == "result" and event["action"] == "deleted"
    # Several references from stdin: results and per-line errors, then one JSON envelope.
    stdin = '{"name": "org/two"}\n{"name": "ws"}\nno-such\n{"x": 1}\n'
    result = inproc(rm.main, ["-", "-f", "--ndjson"], stdin=stdin, environ=env)
    lines = validate_stream(result.stdout, "rm_line", final=True, min_lines=4)
    assert result.code == 1 and [line["event"] for line in lines] == ["result", "error", "error", "error"]
    assert [line["error"]["type"] for line in lines[1:]] == ["not_cached", "model_not_found", "invalid_reference"]
    result = inproc(rm.main, ["org/multi", "ws", "-f", "--json"], environ=env)
    doc = validate(result.json(), "rm_envelope")
    assert result.code == 1 and doc["status"] == "error" and doc["data"]["count"] == 1


def test_rm_errors(inproc, rm_home):
    env = rm_home.env
    result = inproc(rm.main, ["org/two", "--json"], environ=env)  # no terminal, no --force
    assert_fatal(result, validate(result.json(), "rm_envelope"), "confirmation_required")
    result = inproc(rm.main, ["-", "--ndjson"], stdin="org/two\n", environ=env)
    (event,) = validate_stream(result.stdout, "rm_line", final=True)
    assert event["error"]["type"] == "confirmation_required"
    result = inproc(rm.main, ["org", "-f", "--json"], environ=env)
    assert_fatal(result, validate(result.json(), "rm_envelope"), "ambiguous_match")
    lock = rm_home.lock("org/locked")
    with open(lock, "r+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # a download in progress
        result = inproc(rm.main, ["org/locked", "--json"], environ=env)
    assert_fatal(result, validate(result.json(), "rm_envelope"), "locked")
