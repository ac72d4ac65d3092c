"""mlxk-convert --quantize / --dequantize on the real SmolLM2 model and a tiny llama."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.tooling import base_env, run_inprocess
from mlxk_bin.convert import main as convert_main
from mlxk_common.inventory.runtime import backend_installed

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


def _json(folder: Path, name: str):
    return json.loads((folder / name).read_text())


def _answer(folder: Path) -> str:
    from mlx_lm import generate, load

    model, tokenizer = load(str(folder))
    prompt = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False)
    return generate(model, tokenizer, prompt, max_tokens=8)  # greedy by default


def _dtypes(folder: Path) -> dict[str, set]:
    import mlx.core as mx

    found: dict[str, set] = {}
    for path in sorted(folder.glob("model*.safetensors")):
        for name, array in mx.load(str(path)).items():
            found.setdefault(name.rsplit(".", 1)[-1], set()).add(str(array.dtype).split(".")[-1])
    return found


def convert(*args, environ=None):
    return run_inprocess(convert_main, [str(a) for a in args], environ=environ)


# -- the real model ------------------------------------------------------------

def test_dequantized_copy_of_cached_model(smollm2_f16, smollm2_workspace):
    import mlx.core as mx

    config = _json(smollm2_f16, "config.json")
    source = _json(smollm2_workspace, "config.json")
    assert config == {k: v for k, v in source.items() if k not in ("quantization", "quantization_config")}
    ours = mx.load(str(smollm2_f16 / "model.safetensors"))
    theirs = mx.load(str(smollm2_workspace / "model.safetensors"))
    assert set(ours) == {k for k in theirs if not k.endswith((".scales", ".biases"))}
    for name, array in ours.items():
        if name.replace(".weight", ".scales") in theirs:  # dequantized: the scales' type, float shape
            assert array.dtype == mx.float16 and array.shape[-1] == theirs[name].shape[-1] * 32 // (
                8 if "embed" in name else 4), name
        else:  # never quantized (norms): untouched, no cast without --dtype
            assert array.dtype == theirs[name].dtype == mx.float32 and mx.array_equal(array, theirs[name]), name
    # the files that travel with the weights came along unchanged
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        assert (smollm2_f16 / name).read_bytes() == (smollm2_workspace / name).read_bytes()
    readme = (smollm2_f16 / "README.md").read_text()
    front = readme.split("---\n")[1]
    assert "library_name: mlx" in front and "- mlx" in front and "license: apache-2.0" in front
    assert "base_model: mlx-community/SmolLM2-135M-Instruct-Q4" in front
    sentinel = _json(smollm2_f16, ".mlxk_workspace.json")
    assert sentinel["operation"] == "convert-dequantize"
    assert sentinel["source"] == sentinel["source_repo"] == "mlx-community/SmolLM2-135M-Instruct-Q4"
    assert len(sentinel["source_revision"]) == 40
    assert sentinel["parameters"] == {"dtype": None}
    assert sorted(sentinel["files"]) == sorted(p.name for p in smollm2_f16.iterdir() if p.name != ".mlxk_workspace.json")


@pytest.mark.slow
def test_quantize_4bit_answers_paris(smollm2_f16, tmp_path):
    # Group 32: at mlx-lm's default group of 64 this 135M model, already
    # rounded once by its Q4_1 origin, no longer answers coherently.
    result = convert(smollm2_f16, tmp_path / "q4", "--quantize", "4", "--group-size", "32", "--json")
    assert result.code == 0, result
    data = result.json()["data"]
    assert data["quantization"] == {"group_size": 32, "bits": 4, "mode": "affine"}
    assert data["health"] == "healthy" and data["runtime_compatible"] is True and data["warnings"] == []
    config = _json(tmp_path / "q4", "config.json")
    assert config["quantization"] == config["quantization_config"] == {"group_size": 32, "bits": 4, "mode": "affine"}
    assert _dtypes(tmp_path / "q4") == {"weight": {"uint32", "float32"}, "scales": {"float16"}, "biases": {"float16"}}
    assert sorted(p.name for p in (tmp_path / "q4").glob("*.safetensors*")) == ["model.safetensors"]
    assert _json(tmp_path / "q4", ".mlxk_workspace.json")["parameters"] == {
        "bits": 4, "group_size": 32, "mode": "affine", "dtype": None}
    assert "Paris" in _answer(tmp_path / "q4")


@pytest.mark.slow
def test_quantize_8bit_in_shards_answers_paris(smollm2_q8_sharded):
    folder = smollm2_q8_sharded
    shards = sorted(p.name for p in folder.glob("model-*.safetensors"))
    assert shards == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert all((folder / s).stat().st_size <= 60_000_000 for s in shards)
    index = _json(folder, "model.safetensors.index.json")
    assert set(index["weight_map"].values()) == set(shards)
    assert index["metadata"]["total_size"] == sum((folder / s).stat().st_size for s in shards) - sum(
        8 + int.from_bytes((folder / s).read_bytes()[:8], "little") for s in shards)
    assert _json(folder, "config.json")["quantization"] == {"group_size": 64, "bits": 8, "mode": "affine"}
    assert "Paris" in _answer(folder)


# -- a tiny model: options, warnings, modes -----------------------------------------

def _logits(folder: Path):
    import mlx.core as mx
    import numpy as np
    from mlx_lm import load

    model, _ = load(str(folder))
    return np.array(model(mx.array([[5, 70, 80, 100, 7, 250]])).astype(mx.float32))


def test_requantizing_to_more_bits_warns_and_dequantizes_first(tiny_q4, tmp_path):
    import numpy as np

    result = convert(tiny_q4, tmp_path / "q8", "--quantize", "8", "--group-size", "32", "--ndjson")
    assert result.code == 0, result
    assert "warning: re-quantizing a 4-bit model to 8 bits" in result.stderr
    events = result.ndjson()
    assert events[-1]["event"] == "result" and len(events[-1]["warnings"]) == 1
    config = _json(tmp_path / "q8", "config.json")
    assert config["quantization"] == {"group_size": 32, "bits": 8, "mode": "affine"}
    # every layer was re-packed at 8 bits (a 4-bit layer skipped by quantize
    # would keep its 4-bit packing): 256 inputs -> 64 uint32 words
    import mlx.core as mx

    weights = mx.load(str(tmp_path / "q8" / "model.safetensors"))
    assert weights["model.layers.0.self_attn.q_proj.weight"].shape[-1] == 256 * 8 // 32
    assert weights["model.embed_tokens.weight"].shape[-1] == 256 * 8 // 32
    # 8 bits of the 4-bit values: the same model, to 8-bit rounding (a model
    # with mangled weights would not correlate at all)
    ours, source = _logits(tmp_path / "q8"), _logits(tiny_q4)
    assert np.corrcoef(ours.ravel(), source.ravel())[0, 1] > 0.999
    assert (ours.argmax(-1) == source.argmax(-1)).all()


def test_dequantize_to_bfloat16(tiny_q4, tmp_path):
    result = convert(tiny_q4, tmp_path / "bf16", "--dequantize", "--dtype", "bfloat16", "--json")
    assert result.code == 0, result
    assert result.json()["data"]["dtype"] == "bfloat16"
    assert _dtypes(tmp_path / "bf16") == {"weight": {"bfloat16"}}
    assert _json(tmp_path / "bf16", "config.json")["torch_dtype"] == "bfloat16"


@pytest.mark.parametrize("mode, bits, group", [("mxfp4", 4, 32), ("nvfp4", 4, 16), ("mxfp8", 8, 32)])
def test_float_quantization_modes(mode, bits, group, tiny_q4, tmp_path):
    import numpy as np

    result = convert(tiny_q4, tmp_path / mode, "--quantize", bits, "--mode", mode, "--json")
    assert result.code == 0, result
    assert result.json()["data"]["quantization"] == {"group_size": group, "bits": bits, "mode": mode}
    assert np.isfinite(_logits(tmp_path / mode)).all()


@pytest.mark.parametrize("args, needle", [
    (["--quantize", "4", "--mode", "mxfp4", "--group-size", "64"], "mxfp4 quantizes to 4 bits in groups of 32"),
    (["--quantize", "4", "--mode", "mxfp8"], "mxfp8 quantizes to 8 bits"),
    (["--dequantize", "--group-size", "32"], "--group-size and --mode apply to --quantize only"),
    (["--repair-index", "--dtype", "float16"], "--dtype applies to --quantize, --dequantize and --from-ct2 only"),
    (["--quantize", "4", "--max-shard-size", "lots"], "'lots' is not a size"),
    (["--quantize", "7"], "invalid choice: 7"),
    (["--quantize", "4", "--dequantize"], "not allowed with argument"),
])
def test_usage_errors(args, needle, tiny_q4, tmp_path):
    result = convert(tiny_q4, tmp_path / "out", *args, "--json")
    assert result.code == 2, result
    assert result.json()["error"]["type"] == "usage_error" and needle in result.json()["error"]["message"]
    assert list(tmp_path.iterdir()) == []


def test_dequantizing_a_float_model_needs_a_dtype(tiny_q4, tmp_path):
    assert convert(tiny_q4, tmp_path / "f", "--dequantize").code == 0
    assert "torch_dtype" not in _json(tmp_path / "f", "config.json")  # nothing was cast
    result = convert(tmp_path / "f", tmp_path / "g", "--dequantize", "--json")
    assert result.code == 2 and "not quantized" in result.json()["error"]["message"]
    assert convert(tmp_path / "f", tmp_path / "g", "--dequantize", "--dtype", "float32").code == 0
    assert _dtypes(tmp_path / "g") == {"weight": {"float32"}}


def _fake_model(folder: Path, config: dict, extra: dict | None = None) -> Path:
    import mlx.core as mx

    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    mx.save_safetensors(str(folder / "model.safetensors"), {"w": mx.zeros((4, 4))})
    for name, value in (extra or {}).items():
        (folder / name).write_text(json.dumps(value))
    return folder


@pytest.mark.skipif(backend_installed("mlx_vlm"), reason="mlx-vlm is installed: vision models convert")
def test_vision_model_without_mlx_vlm_is_refused(tmp_path):
    src = _fake_model(tmp_path / "vlm", {"model_type": "llava", "vision_config": {"model_type": "clip"}},
                      {"preprocessor_config.json": {"image_processor_type": "CLIPImageProcessor"}})
    result = convert(src, tmp_path / "out", "--quantize", "4", "--json")
    assert result.code == 1
    error = result.json()["error"]
    assert error["type"] == "capability_not_supported" and "needs mlx-vlm" in error["message"]
    assert "vision" in error["hint"] and not (tmp_path / "out").exists()


def test_unknown_model_type_is_refused(tmp_path):
    src = _fake_model(tmp_path / "odd", {"model_type": "no_such_arch"})
    result = convert(src, tmp_path / "out", "--quantize", "4", "--json")
    assert result.code == 1 and result.json()["error"]["type"] == "capability_not_supported"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd"]


def test_unhealthy_source_is_refused_before_loading(tiny_q4, tmp_path):
    import shutil

    src = tmp_path / "cut"
    shutil.copytree(tiny_q4, src)
    data = (src / "model.safetensors").read_bytes()
    (src / "model.safetensors").write_bytes(data[: len(data) // 2])
    result = convert(src, tmp_path / "out", "--quantize", "8", "--json")
    assert result.code == 1
    assert result.json()["error"]["type"] == "unhealthy" and "Truncated" in result.json()["error"]["message"]
    assert not (tmp_path / "out").exists()


def test_human_output_and_skip_health(tiny_q4, tmp_path):
    result = convert(tiny_q4, tmp_path / "out", "--quantize", "4", "--skip-health")
    assert result.code == 0, result
    assert result.stdout.startswith(f"converted {tiny_q4} -> {tmp_path / 'out'} (4-bit affine, group 64, ")
    sentinel = _json(tmp_path / "out", ".mlxk_workspace.json")
    assert sentinel["operation"] == "convert-quantize" and sentinel["source"] == str(tiny_q4)


def test_ndjson_progress_stream(tiny_q4, tmp_path):
    result = convert(tiny_q4, tmp_path / "out", "--dequantize", "--ndjson")
    events = result.ndjson()
    assert result.code == 0 and events[-1]["event"] == "result"
    progress = events[:-1]
    assert all(e["event"] == "progress" and set(e) == {"event", "stage", "done", "total"} for e in progress)
    stages = [e["stage"] for e in progress]
    assert stages[0] == "load" and stages[-1] == "health"
    assert {"convert", "write", "index"} <= set(stages)
    assert events[-1]["health"] == "healthy" and events[-1]["path"] == str(tmp_path / "out")


def test_cli_choices_match_the_library():
    import mlxk_bin.convert as cli
    from mlxk_bin.convert import jobs as lib

    assert (cli.BITS, cli.GROUP_SIZES, cli.QUANT_MODES, cli.DTYPES) == (
        lib.BITS, lib.GROUP_SIZES, lib.QUANT_MODES, lib.DTYPES)


def test_imports_stay_light():
    code = ("import sys, mlxk_bin.convert, mlxk_bin.convert.jobs, mlxk_common.inventory.atomic, mlxk_bin.convert.repair_index, "
            "mlxk_bin.convert.shards; mlxk_bin.convert.TOOL.parser().format_help(); "
            "print(sorted(m for m in ('mlx', 'mlx_lm', 'mlx_vlm', 'transformers', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=base_env()).stdout
    assert out.strip() == "[]"
