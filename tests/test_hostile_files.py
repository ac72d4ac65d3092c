"""Hostile files: what a model folder, a cache or an input file can do to the tools.

Each test is one attack (``tests/fixtures/hostile_tally.py`` counts them:
tried, held).  The rule they check: one bad model is a finding on that one
model, never an error for every model; a crafted input file is a named
error (``unsupported_format``, ``disk_full``, ``unhealthy``), never
``internal_error``; nothing in a model folder makes a tool hang (FIFOs) or
read outside the cache (symlinks).

Attacks on model folders run against a cache holding a healthy model
(``org/good``) beside the hostile one (``org/bad``, or the workspace
``bad``): the healthy one must still be listed healthy.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.cachebuild import lay_into_cache
from fixtures.oddcaches import model_tensors, tiny_model, write_safetensors
from fixtures.tooling import base_env, run_cli, run_inprocess

from mlxk_bin.health import main as health_main
from mlxk_bin.list import main as list_main
from mlxk_bin.show import main as show_main

DEEP = 2000  # beyond the interpreter's recursion limit
MID = 200  # within it, beyond what mlxk accepts (128) and what orjson writes (254)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def safetensors_raw(header: dict | str) -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw


# -- the attacks on one model folder --------------------------------------------------------
# name -> (how to break a healthy folder, the finding codes the model must get)

def _json_file(name: str, text: str):
    return lambda f: (f / name).write_text(text)


def _sentinel(text: str):
    return _json_file(".mlxk_workspace.json", text)


def _config_change(**change):
    def apply(f):
        config = json.loads((f / "config.json").read_text())
        for key, value in change.items():
            if value is ...:
                config.pop(key, None)
            else:
                config[key] = value
        (f / "config.json").write_text(json.dumps(config))
    return apply


def _deep_header(f):
    (f / "model.safetensors").write_bytes(safetensors_raw('{"__metadata__":{"format":"mlx"},"a":' + nested(DEEP) + "}"))


def _dtype_q9(f):
    write_safetensors(f / "model.safetensors", model_tensors(), {"format": "mlx"})
    data = (f / "model.safetensors").read_bytes()
    (f / "model.safetensors").write_bytes(data.replace(b'"F32"', b'"Q9" ', 1))  # same header length


def _giant_shape(f):
    (f / "model.safetensors").write_bytes(safetensors_raw(
        {"__metadata__": {"format": "mlx"}, "w": {"dtype": "F16", "shape": [2**62, 2**62], "data_offsets": [0, 8]}})
        + b"\0" * 8)


def _thousand_dims(f):
    (f / "model.safetensors").write_bytes(safetensors_raw(
        {"w": {"dtype": "F16", "shape": [2**62] * 1000, "data_offsets": [0, 8]}}) + b"\0" * 8)


def _long_tensor_name(f):
    (f / "model.safetensors").write_bytes(safetensors_raw(
        {"x" * 1_000_000: {"dtype": "F16", "shape": [9], "data_offsets": [0, 8]}}) + b"\0" * 8)


def _bin_index_missing_shard(f):
    for p in f.glob("*.safetensors"):
        p.unlink()
    (f / "pytorch_model-00001-of-00002.bin").write_bytes(b"\x80\x02}q\x00.")
    (f / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": {
        "a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin"}}))


def _vision_deep_processor(f):
    config = json.loads((f / "config.json").read_text())
    config.update(model_type="qwen2_vl", vision_config={"hidden_size": 8})
    (f / "config.json").write_text(json.dumps(config))
    (f / "preprocessor_config.json").write_text('{"a":' + nested(DEEP) + "}")


FOLDER_ATTACKS = {
    "config_nested_2000": (_json_file("config.json", '{"model_type":"llama","x":' + nested(DEEP) + "}"),
                           {"config_invalid_json"}),
    "config_nested_200": (_json_file("config.json", '{"model_type":"llama","x":' + nested(MID) + "}"),
                          {"config_invalid_json"}),
    "config_top_level_array_2000": (_json_file("config.json", nested(DEEP)), {"config_invalid_json"}),
    "tokenizer_config_nested_2000": (_json_file("tokenizer_config.json", '{"chat_template":"x","a":' + nested(DEEP) + "}"),
                                     {"tokenizer_invalid"}),
    "tokenizer_json_nested_2000": (_json_file("tokenizer.json", '{"chat_template":"x","a":' + nested(DEEP) + "}"),
                                   {"tokenizer_invalid"}),
    "safetensors_header_nested_2000": (_deep_header, {"safetensors_corrupt"}),
    "index_nested_2000": (_json_file("model.safetensors.index.json", '{"weight_map":' + nested(DEEP) + "}"),
                          {"index_parse_error"}),
    "bin_index_nested_2000": (_json_file("pytorch_model.bin.index.json", nested(DEEP)), {"index_parse_error"}),
    "processor_config_nested_2000": (_vision_deep_processor, {"processor_invalid"}),
    "unknown_dtype_Q9": (_dtype_q9, {"unknown_dtype"}),
    "shape_2^62_x_2^62": (_giant_shape, {"safetensors_corrupt"}),
    "shape_of_1000_dims_of_2^62": (_thousand_dims, {"safetensors_corrupt"}),
    "tensor_name_of_1_MB": (_long_tensor_name, {"safetensors_corrupt"}),
    "config_without_hidden_size": (_config_change(hidden_size=..., num_hidden_layers=...), {"config_incomplete"}),
    "config_layers_as_string": (_config_change(num_hidden_layers="2"), {"config_incomplete"}),
    "config_context_10^30": (_config_change(max_position_embeddings=10**30, quantization={"bits": 10**30}), set()),
    "bin_index_missing_shard": (_bin_index_missing_shard, {"index_missing_shard"}),
}
# Workspaces only: the sentinel is a workspace's file.
WORKSPACE_ATTACKS = {
    "sentinel_nested_2000": (_sentinel('{"managed":true,"files":' + nested(DEEP) + "}"), {"sentinel_invalid"}),
    "sentinel_values_nested_200": (_sentinel('{"managed":true,"source_revision":' + nested(MID) + ',"created_at":'
                                             + nested(MID) + ',"files":{}}'), {"sentinel_invalid"}),
    "sentinel_values_of_wrong_types": (_sentinel('{"managed":true,"source_repo":"a/b","source_revision":5,'
                                                 '"created_at":"yesterday","files":[]}'), {"sentinel_invalid"}),
}


def hostile_cache(tmp_path: Path, attack, workspace: bool = False) -> tuple[dict, Path]:
    """A cache with ``org/good`` and the broken ``org/bad`` (or a workspace
    ``bad`` in MLXK_WORKSPACE_HOME); returns (environment, the bad folder)."""
    hub = tmp_path / "home" / "hub"
    lay_into_cache(hub, "org/good", tiny_model(tmp_path / "src" / "good"))
    bad = tiny_model(tmp_path / ("workspaces" if workspace else "src") / "bad")
    attack(bad)
    if not workspace:
        bad = lay_into_cache(hub, "org/bad", bad)
    (tmp_path / "workspaces").mkdir(exist_ok=True)
    return base_env(HF_HOME=tmp_path / "home", MLXK_WORKSPACE_HOME=tmp_path / "workspaces"), bad


def by_name(records: list[dict]) -> dict:
    return {r.get("display_name") or r["name"]: r for r in records}


def check_listing(env: dict, bad_name: str, codes: set[str]) -> dict:
    """list and health succeed, org/good is healthy, the bad model carries ``codes``."""
    listing = run_inprocess(list_main, ["--json"], environ=env)
    assert listing.code == 0, listing
    models = by_name(listing.json()["data"]["models"])
    assert models["org/good"]["health"] == "healthy" and models["org/good"]["runtime_compatible"] is True
    health = run_inprocess(health_main, ["--json"], environ=env)
    doc = health.json()
    assert doc["status"] == "success", health
    records = by_name(doc["data"]["healthy"] + doc["data"]["unhealthy"])
    assert records["org/good"]["health"] == "healthy"
    bad = records[bad_name]
    found = {f["code"] for f in bad["findings"]}
    assert codes <= found, bad["findings"]
    assert (bad["health"] == "unhealthy") == bool(codes), bad
    assert models[bad_name]["health"] == bad["health"]
    shown = run_inprocess(show_main, [bad["name"], "--json", "--config", "--files"], environ=env)
    assert shown.json()["error"] is None or shown.json()["error"]["type"] != "internal_error", shown
    return bad


@pytest.mark.parametrize("attack", sorted(FOLDER_ATTACKS))
def test_cached_model_attack_is_a_finding_on_that_model(tmp_path, attack):
    from fixtures.schema import validate

    apply, codes = FOLDER_ATTACKS[attack]
    env, _ = hostile_cache(tmp_path, apply)
    bad = check_listing(env, "org/bad", codes)
    validate(bad, "health_record")
    if attack == "config_context_10^30":  # values of the wrong size are unknown, not printed
        assert bad["context_length"] is None


@pytest.mark.parametrize("attack", sorted(WORKSPACE_ATTACKS) + ["config_nested_2000", "unknown_dtype_Q9"])
def test_workspace_attack_is_a_finding_on_that_workspace(tmp_path, attack):
    from fixtures.schema import validate

    apply, codes = {**FOLDER_ATTACKS, **WORKSPACE_ATTACKS}[attack]
    env, folder = hostile_cache(tmp_path, apply, workspace=True)
    bad = check_listing(env, "bad", codes)
    validate(bad, "health_record")
    assert bad["source_revision"] is None and bad["hash_modified"] is None  # wrong types are never passed on


def test_show_config_prints_what_it_can(tmp_path):
    """--config shows config.json as it is: numbers beyond 64 bits as floats,
    nesting beyond the limit as null (with a finding), never internal_error."""
    env, _ = hostile_cache(tmp_path, _config_change(huge=10**30, too_big=int("9" * 400)))
    doc = run_inprocess(show_main, ["org/bad", "--config", "--json"], environ=env).json()
    assert doc["status"] == "success" and doc["data"]["config"]["huge"] == 1e30
    assert doc["data"]["config"]["too_big"] is None
    env, _ = hostile_cache(tmp_path / "mid", FOLDER_ATTACKS["config_nested_200"][0])
    result = run_inprocess(show_main, ["org/bad", "--config", "--json"], environ=env)
    doc = result.json()
    assert doc["status"] == "success" and doc["data"]["config"] is None, result
    assert doc["data"]["model"]["health"] == "unhealthy"


def test_show_survives_a_giant_shape_and_counts_no_parameters_from_it(tmp_path):
    env, _ = hostile_cache(tmp_path, _giant_shape)
    result = run_inprocess(show_main, ["org/bad", "--json"], environ=env)
    doc = result.json()
    assert result.code == 0 and doc["status"] == "success", result
    assert doc["data"]["metadata"]["params"] in (None, 0)
    assert "2^62" not in result.stdout


def test_hostile_metadata_values_are_null_in_show(tmp_path):
    env, _ = hostile_cache(tmp_path, _config_change(vocab_size=10**30, architectures=[{"a": 1}],
                                                    quantization={"bits": "four", "group_size": 10**25}))
    result = run_inprocess(show_main, ["org/bad", "--json"], environ=env)
    meta = result.json()["data"]["metadata"]
    assert (meta["vocab_size"], meta["architecture"], meta["quantization_bits"], meta["quantization"]) == (
        None, None, None, None), result


# -- type confusion: every key the tools read, every JSON type -----------------------------------

ODD_VALUES = [None, True, 0, -1, 1.5, 10**30, -(10**30), "", "x" * 10_000, [], [None], [{"a": 1}], [[1, 2]], {},
              {"a": [1]}, json.loads(nested(100))]
TYPED_KEYS = {
    "config.json": ["model_type", "architectures", "vision_config", "text_config", "audio_config", "quantization",
                    "quantization_config", "image_processor", "model_file", "max_position_embeddings",
                    "eos_token_id", "hidden_size", "num_hidden_layers", "vocab_size", "torch_dtype",
                    "tie_word_embeddings", "rope_scaling"],
    "tokenizer_config.json": ["chat_template", "model_max_length", "eos_token"],
    "generation_config.json": ["eos_token_id", "temperature", "top_p"],
    ".mlxk_workspace.json": ["managed", "source_repo", "source_revision", "created_at", "files", "operation"],
    "preprocessor_config.json": ["processor_class", "feature_extractor_type", "temporal_patch_size"],
}


@pytest.mark.parametrize("file, key", [(f, k) for f, keys in TYPED_KEYS.items() for k in keys])
def test_any_json_type_under_any_key_is_handled(tmp_path, file, key):
    """Records, the show output and what mlx-run decides before loading, for
    every odd value under a key the tools read: no exception, and every
    record still matches the schema."""
    from fixtures.schema import validate

    from mlxk_common.inventory.located import Located
    from mlxk_common.inventory.records import workspace_record
    from mlxk_common.inventory.store import Workspace
    from mlxk_common.jsonio import dumps

    folder = tiny_model(tmp_path / "ws")
    path = folder / file
    base = json.loads(path.read_text()) if path.exists() else {}
    for value in ODD_VALUES:
        path.write_text(json.dumps({**base, key: value}))
        record = workspace_record(Workspace(str(folder), "ws"), reasons=True)
        validate({k: v for k, v in record.items() if k != "healthy_reason"} | {"status": record["health"],
                 "reason": record["reason"] or "x"}, "health_record")
        dumps(record)
        located = Located.folder(folder)
        (located.kind, located.context_length, located.eos_ids(), located.integrity.ok, located.runtime.reason)
        shown = run_inprocess(show_main, [str(folder), "--json", "--config"])
        assert shown.json()["status"] == "success", (value, shown)


# -- the server's model listing -------------------------------------------------------------

@pytest.mark.slow
def test_v1_models_lists_the_good_model_beside_hostile_ones(tmp_path, serve):
    """/v1/models over a cache of hostile models: the good one is listed, the
    others are not, the server stays up (no model loaded: no --model)."""
    env, _ = hostile_cache(tmp_path, FOLDER_ATTACKS["config_nested_2000"][0])
    hub = tmp_path / "home" / "hub"
    for i, name in enumerate(["tokenizer_config_nested_2000", "safetensors_header_nested_2000",
                              "shape_2^62_x_2^62", "config_context_10^30"]):
        folder = tiny_model(tmp_path / "more" / str(i))
        FOLDER_ATTACKS[name][0](folder)
        lay_into_cache(hub, f"org/bad{i}", folder)
    ws = tiny_model(tmp_path / "workspaces" / "ws-sentinel")
    WORKSPACE_ATTACKS["sentinel_values_nested_200"][0](ws)
    fifo_snapshot = lay_into_cache(hub, "org/fifo", tiny_model(tmp_path / "more" / "fifo"))
    (fifo_snapshot / "config.json").unlink()
    os.mkfifo(fifo_snapshot / "config.json")
    server = serve(env=env)
    reply = server.http("GET", "/v1/models", timeout=60)
    assert reply.status == 200, reply
    ids = {m["id"] for m in reply.json()["data"]}
    assert "org/good" in ids and "org/bad3" in ids  # a wrong-sized window alone does not hide a model
    assert not ids & {"org/bad", "org/bad0", "org/bad1", "org/bad2", "org/fifo"}
    assert server.http("GET", "/health").status == 200


# -- special files: nothing blocks ------------------------------------------------------------

FIFO_PLACES = ["config.json", "README.md", "tokenizer.json", "model.safetensors", "notes.txt",
               "sub/extra.json"]


@pytest.mark.parametrize("place", FIFO_PLACES)
def test_fifo_in_a_snapshot_blocks_no_tool(tmp_path, place):
    env, snapshot = hostile_cache(tmp_path, lambda f: None)
    target = snapshot / place
    target.parent.mkdir(exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    os.mkfifo(target)
    for argv in (["mlxk-list", "--json"], ["mlxk-health", "--json", "org/bad"],
                 ["mlxk-show", "org/bad", "--json", "--config", "--files"], ["mlxk-health", "--deep", "org/bad"]):
        started = time.monotonic()
        result = run_cli(argv, env=env, timeout=60)  # a blocking open would hang here
        assert time.monotonic() - started < 60
        assert "internal_error" not in result.stdout, (argv, result)
    records = by_name(run_cli(["mlxk-health", "--json"], env=env).json()["data"]["unhealthy"])
    assert place in {f["file"] for f in records["org/bad"]["findings"] if f["code"] == "special_file"}


def test_fifo_blob_does_not_block_deep_verification(tmp_path):
    env, snapshot = hostile_cache(tmp_path, lambda f: None)
    blob = (snapshot / "README.md").resolve()
    blob.unlink()
    os.mkfifo(blob)
    result = run_cli(["mlxk-health", "--deep", "--json", "org/bad"], env=env, timeout=60)
    record = result.json()["data"]["unhealthy"][0]
    assert "README.md" in record["deep"]["unverifiable_files"]
    assert any(f["code"] == "special_file" for f in record["findings"])


def test_fifo_hfignore_does_not_block_push_check(tmp_path):
    folder = tiny_model(tmp_path / "ws")
    os.mkfifo(folder / ".hfignore")
    result = run_cli(["mlxk-push", folder, "me/x", "--private", "--check-only", "--json"], env=base_env(), timeout=60)
    assert result.json()["error"]["type"] == "usage_error", result  # unreadable .hfignore, said so


def test_fifo_in_a_snapshot_refuses_the_clone(tmp_path):
    env, snapshot = hostile_cache(tmp_path, lambda f: None)
    (snapshot / "README.md").unlink()
    os.mkfifo(snapshot / "README.md")
    result = run_cli(["mlxk-clone", "org/bad", tmp_path / "out", "--json"], env=env, timeout=60)
    assert result.json()["error"]["type"] == "unhealthy", result
    assert not (tmp_path / "out").exists()


# -- symlinks that lead out of the cache: a finding, never read ------------------------------------

SECRET = "outside-the-cache-7f3a"


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "elsewhere" / "secret.json"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(json.dumps({"model_type": SECRET, "hidden_size": 1}))
    return secret


@pytest.mark.parametrize("how", ["snapshot_link", "blob_is_a_link", "weights_link"])
def test_symlink_out_of_the_cache_is_a_finding_and_never_read(tmp_path, how):
    env, snapshot = hostile_cache(tmp_path, lambda f: None)
    secret = _outside(tmp_path)
    name = "model.safetensors" if how == "weights_link" else "config.json"
    link = snapshot / name
    if how == "blob_is_a_link":  # the snapshot link stays in blobs/, the blob itself leads out
        blob = link.resolve()
        blob.unlink()
        blob.symlink_to(secret)
    else:
        link.unlink()
        link.symlink_to(secret)
    health = run_inprocess(health_main, ["org/bad", "--json"], environ=env)
    record = health.json()["data"]["unhealthy"][0]
    assert {"code": "symlink_escape", "file": name,
            "message": f"{name}: symlink leads outside the cache (never read)"} in record["findings"]
    for argv in (["org/bad", "--json", "--config"], ["org/bad", "--ndjson"]):
        shown = run_inprocess(show_main, argv, environ=env)
        assert SECRET not in shown.stdout, shown
    assert SECRET not in run_inprocess(list_main, ["--json"], environ=env).stdout
    clone = run_cli(["mlxk-clone", "org/bad", tmp_path / "out", "--json"], env=env, timeout=60)
    assert clone.json()["error"]["type"] == "unhealthy" and not (tmp_path / "out").exists()
    repair = run_cli(["mlxk-convert", "org/bad", tmp_path / "fixed", "--repair-index", "--json"], env=env,
                     timeout=120)
    assert repair.json()["error"]["type"] in ("unhealthy", "usage_error") and not (tmp_path / "fixed").exists()


def test_mlx_run_refuses_an_incomplete_config_before_loading(tmp_path):
    folder = tiny_model(tmp_path / "ws")
    _config_change(hidden_size=...)(folder)
    result = run_cli(["mlx-run", folder, "hello", "--json"], env=base_env(), timeout=300)
    error = result.json()["error"]
    assert error["type"] == "unhealthy" and "hidden_size" in error["message"], result
    assert error["findings"][0]["code"] == "config_incomplete"


# -- crafted GGUF files: unsupported_format, never internal_error ------------------------------------

def gguf_header(kvs: list[tuple[str, int, bytes]], tensors: int = 0) -> bytes:
    """A GGUF v3 header with the given raw key/values (name, value type, encoded value)."""
    import struct

    out = b"GGUF" + struct.pack("<IQQ", 3, tensors, len(kvs))
    for key, vtype, value in kvs:
        out += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", vtype) + value
    return out + b"\0" * 32


def _string(text: str) -> bytes:
    import struct

    return struct.pack("<Q", len(text)) + text.encode()


def _nested_arrays(depth: int) -> bytes:
    import struct

    return struct.pack("<IQ", 9, 1) * (depth - 1) + struct.pack("<IQ", 4, 0)


def _raw_gguf(kvs):
    def write(path):
        path.write_bytes(gguf_header(kvs))
    return write


def _tiny_gguf(**metadata):
    """write_tiny_llama with metadata values replaced: {key: (value, GGUFValueType name[, sub type])}."""
    def write(path):
        import gguf
        from fixtures.tiny_gguf import write_tiny_llama

        over = {k: (v[0], gguf.GGUFValueType[v[1]], gguf.GGUFValueType[v[2]] if len(v) > 2 else None)
                for k, v in metadata.items()}
        write_tiny_llama(path, "F16", metadata=over)
    return write


GGUF_ATTACKS = {
    "200k_nested_arrays": _raw_gguf([("general.architecture", 8, _string("llama")),
                                     ("x", 9, _nested_arrays(200_000))]),
    "alignment_as_array": _raw_gguf([("general.architecture", 8, _string("llama")),
                                     ("general.alignment", 9, _nested_arrays(2))]),
    "alignment_zero": _raw_gguf([("general.alignment", 4, (0).to_bytes(4, "little"))]),
    "alignment_not_a_power_of_two": _raw_gguf([("general.alignment", 4, (24).to_bytes(4, "little"))]),
    "array_count_2^39": _raw_gguf([("x", 9, (0).to_bytes(4, "little") + (1 << 39).to_bytes(8, "little"))]),
    "architecture_as_array": _raw_gguf([("general.architecture", 9, _nested_arrays(3))]),
    "block_count_as_string": _tiny_gguf(**{"llama.block_count": ("2", "STRING")}),
    "head_count_zero": _tiny_gguf(**{"llama.attention.head_count": (0, "UINT32")}),
    "rms_eps_as_string": _tiny_gguf(**{"llama.attention.layer_norm_rms_epsilon": ("tiny", "STRING")}),
    "tokens_as_integers": _tiny_gguf(**{"tokenizer.ggml.tokens": ([1, 2, 3], "ARRAY", "INT32")}),
    "merges_without_space": _tiny_gguf(**{"tokenizer.ggml.merges": (["ab"], "ARRAY", "STRING")}),
    "bos_id_out_of_range": _tiny_gguf(**{"tokenizer.ggml.bos_token_id": (10**6, "UINT32")}),
    "pre_tokenizer_as_array": _tiny_gguf(**{"tokenizer.ggml.pre": ([1], "ARRAY", "INT32")}),
    "chat_template_as_number": _tiny_gguf(**{"tokenizer.chat_template": (7, "UINT32")}),
    "rope_scaling_as_array": _tiny_gguf(**{"llama.rope.scaling.type": ([1], "ARRAY", "INT32")}),
}


@pytest.mark.parametrize("attack", sorted(GGUF_ATTACKS))
def test_crafted_gguf_is_unsupported_format(tmp_path, attack):
    from mlxk_bin.convert import main as convert_main

    src = tmp_path / "crafted.gguf"
    GGUF_ATTACKS[attack](src)
    result = run_inprocess(convert_main, [str(src), str(tmp_path / "out"), "--from-gguf", "--json"])
    doc = result.json()
    assert doc["error"]["type"] == "unsupported_format", result
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert len(doc["error"]["message"]) < 600


# -- a full disk during convert -------------------------------------------------------------------

def _gguf(tmp_path: Path) -> Path:
    from fixtures.tiny_gguf import write_tiny_llama

    src = tmp_path / "tiny.gguf"
    write_tiny_llama(src, "F16")
    return src


def test_convert_into_a_full_tmpfs_is_disk_full(tmp_path):
    """A real full file system: a 64 KiB tmpfs (needs root; skipped otherwise)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    src = _gguf(tmp_path)
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        result = run_cli(["mlxk-convert", src, mnt / "out", "--from-gguf", "--json"], timeout=300)
        assert result.json()["error"]["type"] == "disk_full", result
        assert os.listdir(mnt) == []  # nothing half-written is kept
    finally:
        subprocess.run(["umount", str(mnt)])


def test_convert_past_the_file_size_limit_is_disk_full(tmp_path):
    """``ulimit -f``: writes past it fail with EFBIG (Python ignores SIGXFSZ)."""
    src = _gguf(tmp_path)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = subprocess.run([str(Path(sys.executable).parent / "mlxk-convert"), str(src), str(tmp_path / "out"),
                           "--from-gguf", "--json"], capture_output=True, text=True, env=base_env(),
                          preexec_fn=limit, timeout=300)
    doc = json.loads(proc.stdout)
    assert doc["error"]["type"] == "disk_full", proc.stdout + proc.stderr
    assert proc.returncode == 1 and not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]


# -- mlx-knife compatibility --------------------------------------------------------------------

def test_repair_index_result_is_a_convert_envelope_and_a_clean_workspace(tmp_path):
    env, _ = hostile_cache(tmp_path, lambda f: None)
    broken = tiny_model(tmp_path / "src" / "sharded", shards=3)
    index = json.loads((broken / "model.safetensors.index.json").read_text())
    index["weight_map"] = {k: v.replace("-of-00003", "-of-00004") for k, v in index["weight_map"].items()}
    (broken / "model.safetensors.index.json").write_text(json.dumps(index))
    lay_into_cache(tmp_path / "home" / "hub", "org/sharded", broken)
    result = run_cli(["mlxk-convert", "org/sharded", tmp_path / "fixed", "--repair-index", "--json"], env=env,
                     timeout=120)
    doc = result.json()
    assert (doc["status"], doc["command"], doc["data"]["operation"]) == ("success", "convert", "convert-repair-index")
    (record,) = run_inprocess(list_main, [str(tmp_path / "fixed"), "--json"], environ=env).json()["data"]["models"]
    assert (record["managed"], record["clean"], record["health"]) == (True, True, "healthy")
    assert record["name"] == str(tmp_path / "fixed") and record["display_name"] == str(tmp_path / "fixed")


def test_plain_transformers_model_is_pytorch_and_not_runnable(tmp_path):
    def transformers_checkpoint(f):
        (f / "README.md").write_text("---\nlibrary_name: transformers\nlicense: apache-2.0\n---\n# a model\n")
        write_safetensors(f / "model.safetensors", model_tensors(), {"format": "pt"})

    env, _ = hostile_cache(tmp_path, transformers_checkpoint)
    record = by_name(run_inprocess(health_main, ["--json"], environ=env).json()["data"]["healthy"])["org/bad"]
    assert (record["framework"], record["runtime_compatible"], record["reason"]) == (
        "PyTorch", False, "Incompatible framework: PyTorch")


def test_push_check_only_reports_mlx_knife_codes(tmp_path):
    folder = tiny_model(tmp_path / "ws", shards=3)
    (folder / "model-00002-of-00003.safetensors").unlink()
    (folder / "model-00003-of-00003.safetensors").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 9\n")
    (folder / "weights.partial").write_bytes(b"x")
    result = run_cli(["mlxk-push", folder, "me/x", "--private", "--check-only", "--json"], env=base_env())
    health = result.json()["data"]["workspace_health"]
    assert result.code == 1 and health["healthy"] is False
    codes = {a["code"] for a in health["anomalies"]}
    assert {"index_missing_shard", "lfs_pointer_detected", "partial_marker"} <= codes, health
    assert health["config"] == {"exists": True, "valid_json": True, "path": str(folder / "config.json")}
    assert health["weights"]["index"] == {"has_index": True, "missing": ["model-00002-of-00003.safetensors"]}
    assert health["weights"]["pattern_complete"] is False and health["weights"]["formats"] == ["safetensors"]
    assert [f["code"] for f in health["findings"]] == [a["code"] for a in health["anomalies"]]
    empty = tiny_model(tmp_path / "ws2")
    (empty / "model.safetensors").write_bytes(b"")
    health = run_cli(["mlxk-push", empty, "me/x", "--private", "--check-only", "--json"],
                     env=base_env()).json()["data"]["workspace_health"]
    assert "empty_weight_file" in {a["code"] for a in health["anomalies"]}
    (empty / "model.safetensors").unlink()
    health = run_cli(["mlxk-push", empty, "me/x", "--private", "--check-only", "--json"],
                     env=base_env()).json()["data"]["workspace_health"]
    assert "no_weights_found" in {a["code"] for a in health["anomalies"]}
