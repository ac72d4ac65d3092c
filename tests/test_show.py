"""mlxk-show: the record plus metadata, revisions, files and config; the real
SmolLM2 model in the cache and as a workspace; stdin references."""

from __future__ import annotations

import json
import os

import pytest

from mlxk_bin.show import main
from fixtures.smollm2 import SMOLLM2_REPO_ID
from fixtures.tooling import base_env

# SmolLM2-135M: 134,515,008 parameters (30 layers of 576, a 49,152-token vocabulary).
SMOLLM2_PARAMS = 134_515_008


@pytest.fixture(scope="module")
def smol_env(smollm2_hf_home):
    return base_env(HF_HOME=smollm2_hf_home)


def test_real_model_metadata(inproc, smol_env, smollm2_hf_home):
    result = inproc(main, ["SmolLM2-135M-Instruct-Q4", "--json"], environ=smol_env)
    assert result.code == 0, result
    data = result.json()["data"]
    model = data["model"]
    assert model["name"] == SMOLLM2_REPO_ID and model["cached"] is True
    assert (model["health"], model["runtime_compatible"], model["framework"]) == ("healthy", True, "MLX")
    assert model["quantization"]["bits"] == 4 and model["quantization"]["group_size"] == 32
    meta = data["metadata"]
    assert meta == {
        "architecture": "LlamaForCausalLM", "model_type": "llama", "quantization": "4bit",
        "quantization_bits": 4, "quantization_group_size": 32, "params": SMOLLM2_PARAMS,
        "params_estimated": True, "context_length": 8192, "vocab_size": 49152, "hidden_size": 576,
        "num_attention_heads": 9, "num_hidden_layers": 30}
    snapshot = os.path.dirname(model["path"])
    assert data["revisions"] == [{"hash": model["hash"], "refs": ["main"], "size_bytes": model["size_bytes"],
                                  "last_modified": model["last_modified"], "record": True, "selected": True}]
    assert snapshot.endswith("/snapshots") and data["workspace_metadata"] is None
    assert "files" not in data and "config" not in data


def test_human_output(inproc, smol_env):
    out = inproc(main, ["smollm2"], environ=smol_env).stdout
    lines = out.splitlines()
    assert lines[0].startswith(f"Model: {SMOLLM2_REPO_ID}@")
    assert "Quantization: 4-bit (group_size=32)" in lines and "Parameters: 134.5M (estimated)" in lines
    assert "Health: healthy" in lines and "Context: 8192" in lines
    assert "Revisions:" in lines and any(line.strip().startswith("* ") and "main" in line for line in lines)


def test_files_with_blob_links(inproc, smol_env, smollm2_hf_home):
    data = inproc(main, [SMOLLM2_REPO_ID, "--files", "--json"], environ=smol_env).json()["data"]
    files = {f["name"]: f for f in data["files"]}
    weights = files["model.safetensors"]
    assert weights["type"] == "weights" and weights["size_bytes"] > 90_000_000 and weights["size"] == "98.4 MB"
    assert weights["link"].startswith("../../blobs/") and weights["blob"] == weights["link"].rsplit("/", 1)[1]
    assert len(weights["blob"]) == 64 and len(files["config.json"]["blob"]) == 40  # LFS sha256, git sha1
    assert files["config.json"]["type"] == "config" and files["tokenizer.json"]["type"] == "tokenizer"
    assert all(f["dangling"] is False for f in data["files"])
    assert sum(f["size_bytes"] for f in data["files"]) == data["model"]["size_bytes"]


def test_config_is_raw(inproc, smol_env):
    data = inproc(main, [SMOLLM2_REPO_ID, "--config", "--json"], environ=smol_env).json()["data"]
    with open(os.path.join(data["model"]["path"], "config.json")) as fh:
        assert data["config"] == json.load(fh)
    human = inproc(main, [SMOLLM2_REPO_ID, "--config"], environ=smol_env).stdout
    assert '    "model_type": "llama",' in human.splitlines()


def test_workspace(inproc, smollm2_workspace):
    env = base_env()
    data = inproc(main, [str(smollm2_workspace), "--json"], environ=env).json()["data"]
    model = data["model"]
    assert model["name"] == str(smollm2_workspace) and model["cached"] is False and model["workspace"] is True
    assert model["managed"] is True and model["clean"] is True and model["hash"] is None
    assert data["workspace_metadata"]["operation"] == "convert-from-gguf" and data["revisions"] == []
    assert data["metadata"]["params"] == SMOLLM2_PARAMS
    files = {f["name"]: f for f in inproc(main, [str(smollm2_workspace), "--files", "--json"],
                                          environ=env).json()["data"]["files"]}
    assert files["model.safetensors"]["link"] is None and files["model.safetensors"]["blob"] is None
    human = inproc(main, [str(smollm2_workspace)], environ=env).stdout
    assert "Workspace:" in human and "  Managed: yes" in human and "  Clean: yes" in human


def test_revisions_and_hash_selection(inproc, cache_home):
    cache_home.add("org/multi", commit="1" * 40)
    cache_home.add_revision("org/multi", "2" * 40, ref="pr/3")
    data = inproc(main, ["org/multi@2222", "--json"], environ=cache_home.env).json()["data"]
    assert data["model"]["hash"] == "2" * 40
    revisions = {r["hash"][:1]: r for r in data["revisions"]}
    assert revisions["1"]["refs"] == ["main"] and revisions["1"]["record"] and not revisions["1"]["selected"]
    assert revisions["2"]["refs"] == ["pr/3"] and revisions["2"]["selected"] and not revisions["2"]["record"]


def test_broken_model_is_shown_not_refused(inproc, cache_home):
    snapshot = cache_home.add("org/broken", kind="truncated")
    (snapshot / "README.md").resolve().unlink()
    data = inproc(main, ["org/broken", "--files", "--json"], environ=cache_home.env).json()["data"]
    assert data["model"]["health"] == "unhealthy"
    readme = next(f for f in data["files"] if f["name"] == "README.md")
    assert readme["dangling"] is True and readme["size_bytes"] is None and readme["blob"]
    human = inproc(main, ["org/broken", "--files"], environ=cache_home.env).stdout
    assert "(dangling)" in human and "Reason: " in human


def test_invalid_config_is_null_with_config(inproc, cache_home):
    cache_home.add("org/badconfig", kind="config_invalid")
    data = inproc(main, ["org/badconfig", "--config", "--json"], environ=cache_home.env).json()["data"]
    assert data["config"] is None and data["metadata"] is None


@pytest.mark.parametrize("ref, error_type", [("nothing", "model_not_found"), ("tiny", "ambiguous_match"),
                                             ("org/a@ffff", "hash_not_found"), ("a/b/c", "invalid_reference")])
def test_errors(inproc, cache_home, ref, error_type):
    cache_home.add("org/a-tiny")
    cache_home.add("org/b-tiny")
    result = inproc(main, [ref, "--json"], environ=cache_home.env)
    doc = result.json()
    assert result.code == 1 and doc["status"] == "error" and doc["error"]["type"] == error_type
    human = inproc(main, [ref], environ=cache_home.env)
    assert human.code == 1 and human.stdout == "" and human.stderr.startswith("mlxk-show: error: ")


def test_stdin_references(inproc, cache_home):
    cache_home.add("org/a-tiny")
    cache_home.add("org/b-tiny")
    stdin = 'org/a-tiny\n{"name": "org/b-tiny", "health": "healthy"}\n\nmissing-one\n[1]\n'
    result = inproc(main, ["-", "--ndjson"], stdin=stdin, environ=cache_home.env)
    assert result.code == 1
    lines = result.ndjson()
    assert [line.get("name") for line in lines[:2]] == ["org/a-tiny", "org/b-tiny"]
    assert "metadata" in lines[0] and "revisions" in lines[0]
    assert lines[2]["error"]["type"] == "model_not_found" and lines[2]["error"]["source"] == "stdin:4"
    assert lines[3]["error"]["type"] in ("invalid_reference", "model_not_found")
    doc = inproc(main, ["-", "--json"], stdin=stdin, environ=cache_home.env).json()
    assert doc["status"] == "error" and doc["data"]["count"] == 2
    assert [m["name"] for m in doc["data"]["models"]] == ["org/a-tiny", "org/b-tiny"]
    assert len(doc["error"]["errors"]) == 2
    ok = inproc(main, ["-", "--json"], stdin="org/a-tiny\norg/b-tiny\n", environ=cache_home.env)
    assert ok.code == 0 and ok.json()["status"] == "success"


def test_list_pipes_into_show(cache_home):
    import subprocess

    from fixtures.tooling import executable

    cache_home.add("org/a-tiny")
    cache_home.add("org/b-tiny")
    proc = subprocess.run(f"{executable('mlxk-list')} --ndjson tiny | {executable('mlxk-show')} --ndjson -",
                          shell=True, capture_output=True, text=True, env=cache_home.env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["name"] for line in proc.stdout.splitlines()] == ["org/a-tiny", "org/b-tiny"]


def test_repo_without_snapshots(inproc, cache_home):
    (cache_home.hub / "models--org--empty" / "blobs").mkdir(parents=True)
    (cache_home.hub / "models--org--empty" / "blobs" / "abc.incomplete").write_bytes(b"x")
    data = inproc(main, ["org/empty", "--files", "--config", "--json"], environ=cache_home.env).json()["data"]
    assert data["model"]["hash"] is None and data["model"]["health"] == "unhealthy"
    assert data["files"] == [] and data["revisions"] == [] and data["config"] is None and data["metadata"] is None
