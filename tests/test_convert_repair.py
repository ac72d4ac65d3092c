"""mlxk-convert --repair-index: the shard index rebuilt from the shards' own headers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fixtures.cachebuild import lay_into_cache
from fixtures.tooling import base_env, run_cli, run_inprocess
from mlxk_bin.convert import main as convert_main
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.health import check_integrity
from mlxk_bin.convert.repair_index import index_from_shards

INDEX = "model.safetensors.index.json"


def _link_copy(src: Path, dest: Path) -> Path:
    """A copy of a model folder whose big files are hard links (cheap; the
    tests below never write to them)."""
    dest.mkdir()
    for path in src.iterdir():
        if path.name == ".mlxk_workspace.json":
            continue
        if path.suffix == ".safetensors":
            os.link(path, dest / path.name)
        else:
            (dest / path.name).write_bytes(path.read_bytes())
    return dest


def _write_index(folder: Path, weight_map: dict) -> None:
    (folder / INDEX).write_text(json.dumps({"metadata": {"total_size": 1, "note": "kept"}, "weight_map": weight_map}))


def test_repairs_a_cached_model_with_an_index_for_another_split(smollm2_q8_sharded, tmp_path):
    """mlx-vlm #624: the index names a 4-way split, the folder holds a 3-way one."""
    good = json.loads((smollm2_q8_sharded / INDEX).read_text())
    broken = _link_copy(smollm2_q8_sharded, tmp_path / "broken")
    _write_index(broken, {t: f"model-0000{i % 4 + 1}-of-00004.safetensors"
                          for i, t in enumerate(sorted(good["weight_map"]))})
    reasons = check_integrity(broken).reasons
    assert any("mlx-vlm #624" in r for r in reasons), reasons
    home = tmp_path / "hf"
    snapshot = lay_into_cache(home / "hub", "someone/SmolLM2-8bit-broken", broken)

    result = run_cli(["mlxk-convert", "someone/SmolLM2-8bit-broken", tmp_path / "fixed", "--repair-index", "--json"],
                     env=base_env(HF_HOME=home))
    assert result.code == 0, result
    data = result.json()["data"]
    assert data["health"] == "healthy" and data["operation"] == "convert-repair-index"
    assert data["source_repo"] == "someone/SmolLM2-8bit-broken" and data["source_revision"] == snapshot.name
    assert data["index"] == {"moved": len(good["weight_map"]), "added": 0, "dropped": 0, "had_index": True}
    fixed = tmp_path / "fixed"
    rebuilt = json.loads((fixed / INDEX).read_text())
    assert rebuilt["weight_map"] == good["weight_map"]
    assert rebuilt["metadata"] == {"note": "kept", "total_size": good["metadata"]["total_size"]}
    assert check_integrity(fixed).ok
    for shard in sorted(smollm2_q8_sharded.glob("model-*.safetensors")):
        assert (fixed / shard.name).read_bytes() == shard.read_bytes()
    sentinel = json.loads((fixed / ".mlxk_workspace.json").read_text())
    assert sentinel["operation"] == "convert-repair-index" and sentinel["source_revision"] == snapshot.name


def _shards(folder: Path, layout: dict[str, list[str]]) -> Path:
    import mlx.core as mx

    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    for shard, tensors in layout.items():
        mx.save_safetensors(str(folder / shard), {t: mx.ones((2, 3)) for t in tensors})
    return folder


TWO = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]


def test_index_from_headers_alone(tmp_path):
    folder = _shards(tmp_path / "m", {TWO[0]: ["a", "b"], TWO[1]: ["c"]})
    assert index_from_shards(folder) == {"metadata": {"total_size": 3 * 24},
                                         "weight_map": {"a": TWO[0], "b": TWO[0], "c": TWO[1]}}


def test_missing_index_is_written(tmp_path):
    folder = _shards(tmp_path / "m", {TWO[0]: ["a"], TWO[1]: ["b"]})
    assert any("index missing" in r for r in check_integrity(folder).reasons)
    result = run_inprocess(convert_main, [str(folder), str(tmp_path / "out"), "--repair-index", "--skip-health", "--json"])
    assert result.code == 0, result
    assert result.json()["data"]["index"] == {"moved": 0, "added": 2, "dropped": 0, "had_index": False}
    assert json.loads((tmp_path / "out" / INDEX).read_text())["weight_map"] == {"a": TWO[0], "b": TWO[1]}


def test_duplicate_tensors_across_shards_are_refused(tmp_path):
    folder = _shards(tmp_path / "m", {TWO[0]: ["a", "b"], TWO[1]: ["b", "c"]})
    _write_index(folder, {"a": TWO[0], "b": TWO[0], "c": TWO[1]})
    with pytest.raises(MlxkError) as err:
        index_from_shards(folder)
    assert err.value.type == "unhealthy" and err.value.details["duplicates"] == {"b": TWO}
    result = run_inprocess(convert_main, [str(folder), str(tmp_path / "out"), "--repair-index", "--json"])
    assert result.code == 1 and result.json()["error"]["type"] == "unhealthy"
    assert "held by more than one shard" in result.json()["error"]["message"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_truncated_shard_is_refused(tmp_path):
    folder = _shards(tmp_path / "m", {TWO[0]: ["a"], TWO[1]: ["b"]})
    data = (folder / TWO[1]).read_bytes()
    (folder / TWO[1]).write_bytes(data[:-10])
    result = run_inprocess(convert_main, [str(folder), str(tmp_path / "out"), "--repair-index", "--json"])
    assert result.code == 1 and result.json()["error"]["type"] == "unhealthy"
    assert "truncated" in result.json()["error"]["message"] and not (tmp_path / "out").exists()


def test_single_file_model_needs_no_index(tiny_q4, tmp_path):
    result = run_inprocess(convert_main, [str(tiny_q4), str(tmp_path / "out"), "--repair-index", "--json"])
    assert result.code == 2 and "needs no index" in result.json()["error"]["message"]
    assert not (tmp_path / "out").exists()
    # a stale index next to a single file is rebuilt (mlx-lm writes one for single files too)
    folder = _shards(tmp_path / "one", {"model.safetensors": ["a", "b"]})
    _write_index(folder, {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"})
    result = run_inprocess(convert_main, [str(folder), str(tmp_path / "fixed"), "--repair-index", "--skip-health"])
    assert result.code == 0, result
    assert json.loads((tmp_path / "fixed" / INDEX).read_text())["weight_map"] == {
        "a": "model.safetensors", "b": "model.safetensors"}
