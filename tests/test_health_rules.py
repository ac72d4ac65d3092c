"""Every integrity rule of the health check, each on a folder broken in one way."""

from __future__ import annotations

import json
import os

import pytest
from fixtures.oddcaches import break_blob, write_safetensors

from mlxk_common.inventory.health import check_integrity, model_health
from mlxk_common.inventory.safetensors_header import SafetensorsError, read_header

# kind -> a phrase its reason must contain (and it must be the only reason)
BROKEN = {
    "config_missing": "config.json missing",
    "config_invalid": "config.json contains invalid JSON",
    "config_empty": "config.json is empty or invalid",
    "tokenizer_json_missing": "tokenizer_config.json present but tokenizer.json missing",
    "no_weights": "No model weights found",
    "empty_weights": "Empty weight files: model.safetensors",
    "lfs_pointer": "LFS pointers instead of files: model.safetensors",
    "truncated": "Truncated safetensors file model.safetensors",
    "header_garbage": "Corrupt safetensors file model.safetensors",
    "partial_marker": "Partial download markers: model.safetensors.partial",
    "vision_without_processor": "Vision model missing preprocessor_config.json or processor_config.json",
    "shard_missing": "Missing weight shards: model-00002-of-00003.safetensors",
    "shard_empty": "Empty weight files: model-00002-of-00003.safetensors",
    "index_mismatch": "Index/shard mismatch (mlx-vlm #624)",
    "index_wrong_tensor": "Index names 1 tensors that model-00001-of-00003.safetensors does not hold",
    "index_missing": "Safetensors index missing for sharded model",
    "shard_totals_inconsistent": "Inconsistent shard totals for model-*",
    "index_invalid": "Empty or invalid weight_map in index",
}


@pytest.mark.parametrize("kind", ["healthy", "sharded", "vision_with_processor", "model_file_config",
                                  "unsupported_type", "gguf_repo", "pytorch_repo"])
def test_intact_folders_pass(odd_model, kind):
    result = check_integrity(odd_model(kind))
    assert result.ok, result.reasons
    assert result.reasons == []


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_each_rule_has_its_own_reason(odd_model, kind):
    result = check_integrity(odd_model(kind))
    assert not result.ok
    assert len(result.reasons) == 1, result.reasons
    assert BROKEN[kind] in result.reasons[0]


def test_reasons_are_distinct():
    assert len(set(BROKEN.values())) == len(BROKEN)


def test_index_mismatch_hints_at_repair(odd_model):
    reason = check_integrity(odd_model("index_mismatch")).reasons[0]
    assert "mlxk-convert --repair-index" in reason
    assert "4 shards, 3 of them missing, while 3 unreferenced" not in reason  # counts are the real ones
    assert "index references 3 shards" in reason and "3 unreferenced shards" in reason


def test_several_problems_are_all_reported(odd_model):
    folder = odd_model("shard_missing")
    (folder / "tokenizer.json").unlink()
    (folder / "x.incomplete").write_bytes(b"")
    reasons = check_integrity(folder).reasons
    assert len(reasons) == 3
    assert any("tokenizer.json missing" in r for r in reasons)
    assert any("Partial download markers: x.incomplete" in r for r in reasons)


def test_sentencepiece_vocabulary_stands_in_for_tokenizer_json(odd_model):
    folder = odd_model("tokenizer_json_missing")
    (folder / "tokenizer.model").write_bytes(b"\x0a\x05hello")
    assert check_integrity(folder).ok


def test_missing_folder_is_a_finding(tmp_path):
    result = check_integrity(tmp_path / "nope")
    assert not result.ok and result.reasons == ["Model folder does not exist"]


def test_safetensors_header_reader(tmp_path):
    import numpy as np

    path = write_safetensors(tmp_path / "a.safetensors", {"w": np.zeros((3, 5), np.float32)}, {"format": "mlx"})
    header = read_header(path)
    assert header["tensors"]["w"] == {"dtype": "F32", "shape": [3, 5], "data_offsets": [0, 60]}
    assert header["metadata"] == {"format": "mlx"} and header["data_size"] == 60
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    with pytest.raises(SafetensorsError, match="truncated"):
        read_header(path)
    path.write_bytes(data[:6])
    with pytest.raises(SafetensorsError, match="too short"):
        read_header(path)
    # A shape that disagrees with the byte range is corrupt, not truncated.
    raw = json.dumps({"w": {"dtype": "F32", "shape": [4, 5], "data_offsets": [0, 60]}}).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + bytes(60))
    with pytest.raises(SafetensorsError, match="needs 80 bytes"):
        read_header(path)


def test_hand_built_safetensors_load_in_the_reference_reader(odd_model):
    st = pytest.importorskip("safetensors.numpy")
    tensors = st.load_file(str(odd_model("healthy") / "model.safetensors"))
    assert tensors["model.norm.weight"].tolist() == [1.0] * 16


# -- cache layout ---------------------------------------------------------

def test_healthy_cache_snapshot(odd_cache):
    home, repo_dir, snapshot = odd_cache("sharded")
    assert all((snapshot / n).is_symlink() for n in os.listdir(snapshot))
    assert check_integrity(snapshot, repo_dir=repo_dir).ok


def test_dangling_symlink_is_a_finding(odd_cache):
    home, repo_dir, snapshot = odd_cache("healthy")
    break_blob(repo_dir, snapshot, "tokenizer.json", "delete")
    reasons = check_integrity(snapshot, repo_dir=repo_dir).reasons
    assert any(r.startswith("Dangling symlinks (missing blobs): tokenizer.json") for r in reasons), reasons


def test_dangling_shard_is_reported_once(odd_cache):
    home, repo_dir, snapshot = odd_cache("sharded")
    break_blob(repo_dir, snapshot, "model-00002-of-00003.safetensors", "delete")
    reasons = check_integrity(snapshot, repo_dir=repo_dir).reasons
    assert reasons == ["Dangling symlinks (missing blobs): model-00002-of-00003.safetensors"]


def test_dangling_weight_blob(odd_cache):
    home, repo_dir, snapshot = odd_cache("healthy")
    break_blob(repo_dir, snapshot, "model.safetensors", "delete")
    record = model_health(snapshot, repo_dir=repo_dir, repo_id="mlx-community/tiny-odd")
    assert record["health"] == "unhealthy" and record["runtime_compatible"] is False
    assert "model.safetensors" in record["reason"]


def test_incomplete_blob_of_this_model(odd_cache):
    home, repo_dir, snapshot = odd_cache("healthy")
    assert check_integrity(snapshot, repo_dir=repo_dir).ok
    (repo_dir / "blobs" / ("ab" * 32 + ".incomplete")).write_bytes(b"\0" * 10)
    reasons = check_integrity(snapshot, repo_dir=repo_dir).reasons
    assert reasons == ["Incomplete download: 1 blob(s) in blobs/*.incomplete"]
    # Without the repo folder the snapshot alone looks fine: the rule is cache-level.
    assert check_integrity(snapshot).ok


def test_flipped_byte_passes_fast_checks(odd_cache):
    home, repo_dir, snapshot = odd_cache("healthy")
    break_blob(repo_dir, snapshot, "tokenizer.json", "flip")
    # Same size, still JSON-ish at the start: only --deep can see it (test_health_cli).
    assert check_integrity(snapshot, repo_dir=repo_dir).ok


def test_model_health_record_shape(odd_model):
    record = model_health(odd_model("healthy"))
    assert record == {
        "health": "healthy", "runtime_compatible": True, "reason": None, "framework": "MLX",
        "model_type": "chat", "architecture": "llama", "capabilities": ["text-generation", "chat"],
        "context_length": 2048, "integrity_reasons": [], "runtime_reason": None, "findings": [],
        "healthy_reason": "Model is healthy",
    }


def test_integrity_reason_wins_over_runtime_reason(odd_model):
    folder = odd_model("unsupported_type")
    (folder / "tokenizer.json").unlink()
    record = model_health(folder)
    assert record["health"] == "unhealthy"
    assert record["reason"] == "tokenizer_config.json present but tokenizer.json missing"
    assert record["runtime_reason"] == "model_type 'frobnicator_9000' not supported by mlx-lm"


def test_healthy_real_model(smollm2_workspace, smollm2_hf_home):
    record = model_health(smollm2_workspace)
    assert record["health"] == "healthy", record
    assert record["runtime_compatible"] is True
    assert record["capabilities"] == ["text-generation", "chat"]
    assert record["context_length"] == 8192
    repo_dir = smollm2_hf_home / "hub" / "models--mlx-community--SmolLM2-135M-Instruct-Q4"
    snapshot = next((repo_dir / "snapshots").iterdir())
    cached = model_health(snapshot, repo_dir=repo_dir, repo_id="mlx-community/SmolLM2-135M-Instruct-Q4")
    assert cached == record


# -- blob verification (--deep) ---------------------------------------------

def test_blob_names_match_git_and_sha256(odd_cache):
    """Our hashes are the names git and the Hub give: git hash-object for small
    files, sha256 for LFS files; every snapshot file maps to one blob."""
    import shutil
    import subprocess

    from mlxk_bin.health.hashing import hash_blob, revision_blobs, verify_blobs

    home, repo_dir, snapshot = odd_cache("sharded")
    blobs, unverifiable = revision_blobs(snapshot, repo_dir)
    assert unverifiable == [] and sorted(f for b in blobs for f in b.files) == sorted(os.listdir(snapshot))
    assert {b.algorithm for b in blobs} == {"sha256", "git-sha1"}
    git = shutil.which("git")
    for blob in blobs:
        assert hash_blob(blob) == blob.expected
        if git and blob.algorithm == "git-sha1":
            out = subprocess.run([git, "hash-object", str(blob.path)], capture_output=True, text=True, check=True)
            assert out.stdout.strip() == blob.expected
    assert set(verify_blobs(blobs, workers=2).values()) == {None}


def test_verify_reports_each_bad_blob(odd_cache):
    from mlxk_bin.health.hashing import deep_reasons

    home, repo_dir, snapshot = odd_cache("sharded")
    break_blob(repo_dir, snapshot, "model-00003-of-00003.safetensors", "flip")
    break_blob(repo_dir, snapshot, "config.json", "flip")
    seen = []
    reasons, stats = deep_reasons(snapshot, repo_dir, workers=3, progress=lambda done, total: seen.append((done, total)))
    assert [r.split(" (")[0] for _, r in reasons] == ["Checksum mismatch: config.json",
                                                      "Checksum mismatch: model-00003-of-00003.safetensors"]
    assert [names for names, _ in reasons] == [["config.json"], ["model-00003-of-00003.safetensors"]]
    assert stats["blobs_verified"] == len(os.listdir(snapshot))
    assert seen[-1] == (stats["bytes_verified"], stats["bytes_verified"])


def test_files_outside_blobs_are_unverifiable(tmp_path, odd_cache):
    from mlxk_bin.health.hashing import revision_blobs

    home, repo_dir, snapshot = odd_cache("healthy")
    (snapshot / "notes.txt").write_text("a real file, not a link into blobs/")
    blobs, unverifiable = revision_blobs(snapshot, repo_dir)
    assert unverifiable == ["notes.txt"] and "notes.txt" not in {f for b in blobs for f in b.files}
