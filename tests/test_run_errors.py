"""mlx-run refuses bad models and bad requests with clear error types, before
loading weights (no generation happens in this file)."""

import json
import os
import shutil

import pytest

from mlxk_bin.run import main
from fixtures.tooling import base_env
from mlxk_common.inventory.runtime import backend_installed


def copy_model(src, dest, *, weights=True, config_changes=None):
    dest.mkdir()
    for entry in src.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.suffix == ".safetensors":
            if weights:
                os.symlink(entry, dest / entry.name)
        else:
            shutil.copy2(entry, dest / entry.name)
    if config_changes:
        config = json.loads((dest / "config.json").read_text())
        config.update(config_changes)
        (dest / "config.json").write_text(json.dumps(config))
    return dest


def error_of(result):
    assert result.code == 1, result
    return result.json()["error"]


def test_unknown_path_and_name(inproc, tmp_path):
    error = error_of(inproc(main, [str(tmp_path / "nothing-here"), "hi", "--json"]))
    assert error["type"] == "model_not_found"
    env = base_env(HF_HOME=str(tmp_path / "hf"))
    error = error_of(inproc(main, ["no-such-model", "hi", "--json"], environ=env))
    assert error["type"] == "model_not_found"


def test_folder_without_weights_is_unhealthy(inproc, smollm2_workspace, tmp_path):
    model = copy_model(smollm2_workspace, tmp_path / "broken", weights=False)
    result = inproc(main, [str(model), "hi"])
    assert result.code == 1
    assert result.stderr.startswith("mlx-run: error: ") and "unhealthy" in result.stderr
    assert error_of(inproc(main, [str(model), "hi", "--json"]))["type"] == "unhealthy"


def test_unsupported_architecture(inproc, smollm2_workspace, tmp_path):
    model = copy_model(smollm2_workspace, tmp_path / "alien", config_changes={"model_type": "alien_transformer"})
    error = error_of(inproc(main, [str(model), "hi", "--json"]))
    assert error["type"] == "unhealthy"
    assert "alien_transformer" in error["message"]


@pytest.mark.parametrize("changes, processor, word", [
    ({"vision_config": {"model_type": "siglip_vision_model", "hidden_size": 64}},
     {"image_processor_type": "SiglipImageProcessor"}, "vision"),
    ({"model_type": "whisper"}, None, "speech"),
])
def test_other_capabilities_are_refused(inproc, smollm2_workspace, tmp_path, changes, processor, word):
    model = copy_model(smollm2_workspace, tmp_path / "other", config_changes=changes)
    if processor:
        (model / "preprocessor_config.json").write_text(json.dumps(processor))
    if word == "vision" and backend_installed("mlx_vlm"):
        pytest.skip("with the 'vision' extra mlx-run runs vision models (tests/test_run_vision.py)")
    error = error_of(inproc(main, [str(model), "hi", "--json"]))
    assert error["type"] == "capability_not_supported"
    assert word in error["message"]


def test_prompt_over_the_context_window(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), "-", "--ndjson"], stdin="word " * 9000)
    assert result.code == 1
    events = result.ndjson()
    assert [e["event"] for e in events] == ["error"]  # no delta: nothing was generated
    error = events[0]["error"]
    assert error["type"] == "context_length_exceeded"
    assert error["context_length"] == 8192 and error["prompt_tokens"] > 8192


@pytest.mark.parametrize("argv, env, needle", [
    ([], {}, "no prompt"),
    (["-"], {"MLXK2_ENABLE_PIPES": "0"}, "MLXK2_ENABLE_PIPES"),
    (["hi", "--prompt", "ho"], {}, "not both"),
    (["--chat", "--json"], {}, "interactive"),
    (["hi", "--ndjson-in"], {}, "--ndjson-in"),
    (["hi", "--temperature", "-1"], {}, "temperature"),
    (["hi", "--max-tokens", "0"], {}, "max-tokens"),
    (["hi"], {"MLXK2_MAX_TOKENS": "lots"}, "MLXK2_MAX_TOKENS"),
    (["hi", "--chat-template-arg", "novalue"], {}, "KEY=VALUE"),
    (["--model", "-", "--ndjson-in"], {}, "reads model references"),
])
def test_usage_errors(inproc, smollm2_workspace, argv, env, needle):
    # (with --model, the folder given first is the first word of the prompt)
    result = inproc(main, [str(smollm2_workspace), *argv], environ=base_env(**env))
    assert result.code == 2, result
    assert needle in result.stderr + result.stdout


def test_no_model_at_all(inproc):
    result = inproc(main, [])
    assert result.code == 2 and "no MODEL" in result.stderr
    result = inproc(main, ["--model", "-", "-", "more words"])
    assert result.code == 2 and "stdin holds the model references" in result.stderr
