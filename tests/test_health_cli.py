"""mlxk-health end to end: real caches and workspaces, every output mode, --deep."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fixtures.cachebuild import lay_into_cache
from fixtures.oddcaches import break_blob, build_odd
from fixtures.tooling import base_env

from mlxk_bin.health import main

RECORD_FIELDS = {"name", "hash", "status", "health", "runtime_compatible", "reason", "framework",
                 "model_type", "capabilities", "context_length", "cached", "integrity_reasons"}


@pytest.fixture
def mixed_home(tmp_path):
    """A cache with a healthy, a PyTorch and a broken model, and a workspace home with one workspace."""
    hub = tmp_path / "home" / "hub"
    for kind, repo_id in (("sharded", "mlx-community/tiny-ok"), ("pytorch_repo", "someorg/tiny-pt"),
                          ("shard_missing", "someorg/tiny-broken")):
        lay_into_cache(hub, repo_id, build_odd(tmp_path / "src" / kind, kind))
    build_odd(tmp_path / "workspaces" / "tiny-ws", "healthy")
    return base_env(HF_HOME=tmp_path / "home", MLXK_WORKSPACE_HOME=tmp_path / "workspaces")


def test_all_models_human(inproc, mixed_home):
    result = inproc(main, [], environ=mixed_home)
    assert result.code == 1, result
    rows = [line.split()[:2] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert rows[:4] == [["healthy", "tiny-ws"], ["healthy", f"mlx-community/tiny-ok@{rows[1][1][-7:]}"],
                        ["unhealthy", rows[2][1]], ["healthy*", rows[3][1]]]
    assert rows[2][1].startswith("someorg/tiny-broken@") and rows[3][1].startswith("someorg/tiny-pt@")
    assert "           Missing weight shards: model-00002-of-00003.safetensors" in result.stdout
    assert "           Incompatible framework: PyTorch" in result.stdout
    assert result.stdout.splitlines()[-1] == "4 models: 3 healthy (1 cannot run here), 1 unhealthy"
    assert "\x1b[" not in result.stdout and result.stderr == ""


def test_colour_only_on_a_tty(inproc, mixed_home):
    assert "\x1b[31munhealthy" in inproc(main, [], environ=mixed_home, tty=True).stdout
    assert "\x1b[" not in inproc(main, [], environ={**mixed_home, "NO_COLOR": "1"}, tty=True).stdout


def test_json_envelope(inproc, mixed_home):
    result = inproc(main, ["--json"], environ=mixed_home)
    assert result.code == 1
    doc = result.json()
    assert (doc["status"], doc["command"], doc["error"]) == ("success", "health", None)
    data = doc["data"]
    assert data["summary"] == {"total": 4, "healthy_count": 3, "unhealthy_count": 1}
    assert [r["display_name"] or r["name"] for r in data["healthy"]] == ["tiny-ws", "mlx-community/tiny-ok",
                                                                          "someorg/tiny-pt"]
    for record in data["healthy"] + data["unhealthy"]:
        assert RECORD_FIELDS <= set(record), record
        assert record["status"] == record["health"]
    pt = data["healthy"][2]
    assert (pt["framework"], pt["runtime_compatible"], pt["reason"]) == ("PyTorch", False, "Incompatible framework: PyTorch")
    broken = data["unhealthy"][0]
    assert broken["runtime_compatible"] is False and broken["reason"].startswith("Missing weight shards")
    ws = data["healthy"][0]
    assert (ws["cached"], ws["managed"], ws["hash"]) == (False, False, None)
    assert ws["reason"] == "Model is healthy" and ws["findings"] == []  # mlx-knife: a reason for healthy ones too
    assert broken["findings"][0]["code"] == "index_missing_shard"


def test_exit_zero_when_all_healthy(inproc, mixed_home):
    result = inproc(main, ["--ndjson", "mlx-community/tiny-ok", "someorg/tiny-pt"], environ=mixed_home)
    assert result.code == 0, result
    assert [r["name"] for r in result.ndjson()] == ["mlx-community/tiny-ok", "someorg/tiny-pt"]


def test_stdin_references_and_bad_lines(inproc, mixed_home):
    lines = "\n".join([
        json.dumps({"name": "mlx-community/tiny-ok", "size_bytes": 1}),
        "someorg/tiny-pt",
        "{not json",
        "someorg/no-such-model",
    ])
    result = inproc(main, ["--ndjson", "-"], stdin=lines, environ=mixed_home)
    assert result.code == 1
    out = result.ndjson()
    assert [o.get("name") or o["error"]["type"] for o in out] == [
        "mlx-community/tiny-ok", "someorg/tiny-pt", "invalid_reference", "model_not_found"]
    assert out[2]["event"] == "error" and out[2]["error"]["source"] == "stdin:3"


def test_json_errors(inproc, mixed_home):
    only_bad = inproc(main, ["--json", "nothing-like-this"], environ=mixed_home)
    assert only_bad.code == 1
    doc = only_bad.json()
    assert (doc["status"], doc["data"], doc["error"]["type"]) == ("error", None, "model_not_found")
    ambiguous = inproc(main, ["--json", "tiny"], environ=mixed_home).json()["error"]
    assert ambiguous["type"] == "ambiguous_match"
    assert ambiguous["candidates"] == ["mlx-community/tiny-ok", "someorg/tiny-broken", "someorg/tiny-pt", "tiny-ws"]
    mixed = inproc(main, ["--json", "tiny-ok", "nothing-like-this"], environ=mixed_home)
    assert mixed.code == 1
    data = mixed.json()["data"]
    assert data["summary"]["total"] == 1 and [e["input"] for e in data["errors"]] == ["nothing-like-this"]


def test_human_errors_go_to_stderr(inproc, mixed_home):
    result = inproc(main, ["tiny-ok", "nothing-like-this"], environ=mixed_home)
    assert result.code == 1
    assert result.stderr.startswith("mlxk-health: error: nothing-like-this: no model matches")
    assert result.stdout.splitlines()[-1] == "1 model: 1 healthy, 0 unhealthy"


def test_revision_by_hash_prefix(inproc, tmp_path):
    hub = tmp_path / "hub"
    folder = build_odd(tmp_path / "src", "healthy")
    lay_into_cache(hub, "org/m", folder, commit="a" * 40)
    (folder / "config.json").write_text("{}")
    lay_into_cache(hub, "org/m", folder, commit="b" * 40)  # refs/main now names the broken one
    env = base_env(HF_HUB_CACHE=hub)
    assert inproc(main, ["org/m"], environ=env).code == 1
    result = inproc(main, ["--json", "org/m@aaaa"], environ=env)
    assert result.code == 0 and result.json()["data"]["healthy"][0]["hash"] == "a" * 40
    assert inproc(main, ["org/m@cccc"], environ=env).code == 1


def test_workspace_path_reference(inproc, tmp_path):
    build_odd(tmp_path / "ws-a", "healthy")
    build_odd(tmp_path / "ws-b", "truncated")
    result = inproc(main, ["--json", str(tmp_path) + "/ws-"], environ=base_env(HF_HOME=tmp_path / "none"))
    data = result.json()["data"]
    assert result.code == 1
    assert [r["name"] for r in data["healthy"]] == [f"{tmp_path}/ws-a"]
    assert data["unhealthy"][0]["reason"].startswith("Truncated safetensors file model.safetensors")


def test_dangling_symlink_never_crashes(inproc, odd_cache):
    home, repo_dir, snapshot = odd_cache("sharded")
    break_blob(repo_dir, snapshot, "model-00002-of-00003.safetensors", "delete")
    result = inproc(main, ["--json", "--deep"], environ=base_env(HF_HOME=home))
    assert result.code == 1
    record = result.json()["data"]["unhealthy"][0]
    assert any(r.startswith("Dangling symlinks (missing blobs): model-00002") for r in record["integrity_reasons"])
    assert record["deep"]["unverifiable_files"] == ["model-00002-of-00003.safetensors"]


def test_deep_finds_a_flipped_byte(inproc, odd_cache):
    home, repo_dir, snapshot = odd_cache("healthy")
    env = base_env(HF_HOME=home)
    clean = inproc(main, ["--json", "--deep"], environ=env)
    assert clean.code == 0, clean
    deep = clean.json()["data"]["healthy"][0]["deep"]
    files = sorted(p.name for p in snapshot.iterdir())
    assert deep["blobs_verified"] == len(files) and deep["unverifiable_files"] == []
    for name, how in (("tokenizer.json", "git-sha1"), ("model.safetensors", "sha256")):
        blob = break_blob(repo_dir, snapshot, name, "flip")
        assert len(blob.name) == (64 if how == "sha256" else 40)
        assert inproc(main, ["--json"], environ=env).code == 0  # the fast checks cannot see it
        result = inproc(main, ["--json", "--deep"], environ=env)
        assert result.code == 1
        record = result.json()["data"]["unhealthy"][0]
        assert record["reason"].startswith(f"Checksum mismatch: {name} (blob {blob.name[:12]}")
        break_blob(repo_dir, snapshot, name, "flip")  # flip back


def test_deep_progress_bar_only_on_a_tty(inproc, odd_cache):
    home, _, _ = odd_cache("healthy")
    env = base_env(HF_HOME=home)
    assert "verifying mlx-community/tiny-odd" in inproc(main, ["--deep"], environ=env, tty=True).stderr
    assert inproc(main, ["--deep"], environ=env).stderr == ""


def test_many_models_checked_in_workers_as_one_by_one(inproc, tmp_path):
    """Enough models for parallel workers: the same records, every reason kept,
    as checking each reference on its own gives (a repo without snapshots too)."""
    from fixtures.caches import synthetic_cache

    hub = tmp_path / "home" / "hub"
    synthetic_cache(hub, 70, broken_every=20)
    (hub / "models--org--nosnap" / "blobs").mkdir(parents=True)
    (hub / "models--org--nosnap" / "blobs" / "x.incomplete").write_bytes(b"")
    env = base_env(HF_HOME=tmp_path / "home")
    together = inproc(main, ["--json"], environ=env).json()["data"]
    sample = together["healthy"][::10] + together["unhealthy"]
    one_by_one = [inproc(main, [r["name"], "--ndjson"], environ=env).stdout for r in sample]
    assert [json.loads(line) for line in one_by_one] == sample
    assert together["summary"] == {"total": 71, "healthy_count": 67, "unhealthy_count": 4}
    nosnap = next(r for r in together["unhealthy"] if r["name"] == "org/nosnap")
    assert nosnap["reason"].startswith("No snapshots")
    assert "Incomplete download: 1 blob(s) in blobs/*.incomplete" in nosnap["integrity_reasons"]
    truncated = next(r for r in together["unhealthy"] if r["integrity_reasons"][0].startswith("Truncated"))
    assert truncated["runtime_reason"] is None and truncated["reason"] == truncated["integrity_reasons"][0]


def test_empty_cache(inproc, tmp_path):
    result = inproc(main, ["--json"], environ=base_env(HF_HOME=tmp_path))
    assert result.code == 0
    assert result.json()["data"] == {"healthy": [], "unhealthy": [], "summary": {
        "total": 0, "healthy_count": 0, "unhealthy_count": 0}}


@pytest.mark.parametrize("mode", ["", "--ndjson"])
def test_no_heavy_imports(mixed_home, mode):
    """mlx-knife's contract: health never imports the ML stacks or the server;
    orjson only when printing JSON."""
    code = (
        "import sys; from mlxk_bin.health import main; import io, contextlib\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main({[mode] if mode else []!r})\n"
        "heavy = ('mlx', 'mlx_lm', 'transformers', 'bottle', 'gevent', 'huggingface_hub', 'numpy', 'orjson')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=mixed_home, check=True)
    assert out.stdout.strip() == ("['orjson']" if mode else "[]"), out.stderr


def test_real_model_deep_as_a_subprocess(cli, smollm2_hf_home):
    result = cli(["mlxk-health", "--deep", "--json"], env=base_env(HF_HOME=smollm2_hf_home))
    assert result.code == 0, result
    record = result.json()["data"]["healthy"][0]
    assert record["name"] == "mlx-community/SmolLM2-135M-Instruct-Q4"
    assert record["runtime_compatible"] is True and record["reason"] == "Model is healthy"
    assert record["deep"]["bytes_verified"] > 90_000_000
