"""Runtime compatibility without importing the backends: framework, kind,
capabilities, context window, and agreement with mlx-lm's own loader."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fixtures.oddcaches import write_safetensors

from mlxk_common.inventory import runtime
from mlxk_common.inventory.runtime import check_runtime, context_length, detect_framework, read_front_matter


def _config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (folder / "config.json").write_text(json.dumps(config))


# -- agreement with mlx-lm ---------------------------------------------------

def test_remapping_tables_match_mlx_lm():
    utils = pytest.importorskip("mlx_lm.utils")
    assert runtime.MLX_LM_REMAPPING == utils.MODEL_REMAPPING
    assert runtime.MLX_LM_ARCHITECTURE_REMAPPING == getattr(utils, "MODEL_ARCHITECTURE_REMAPPING", {})


def test_module_lookup_agrees_with_mlx_lm_loader():
    """For every module in mlx_lm/models (helpers included), every remapped type
    and some that do not exist, our file lookup says 'supported' exactly when
    mlx-lm's own _get_classes loads it."""
    utils = pytest.importorskip("mlx_lm.utils")
    from pathlib import Path

    models_dir = Path(utils.__file__).parent / "models"
    types = sorted(p.stem for p in models_dir.glob("*.py") if p.stem != "__init__")
    types += sorted(utils.MODEL_REMAPPING) + ["frobnicator", "no_such_model"]
    configs = [{"model_type": t} for t in types]
    configs += [{"model_type": mt, "architectures": [arch]}
                for (mt, arch) in getattr(utils, "MODEL_ARCHITECTURE_REMAPPING", {})]
    for config in configs:
        try:
            utils._get_classes(config)
            loads = True
        except (ValueError, ImportError, AttributeError):
            loads = False
        except SystemExit:
            continue  # olmo.py exits when its extra package (ai2-olmo) is missing: present, not loadable
        assert runtime.mlx_lm_supports(config) == loads, config


def test_no_backend_is_imported(odd_model):
    folder = odd_model("healthy")
    code = (
        "import sys; from mlxk_common.inventory.health import model_health; "
        f"r = model_health({str(folder)!r}); assert r['runtime_compatible'], r; "
        "bad = [m for m in ('mlx', 'mlx_lm', 'mlx_vlm', 'mlx_audio', 'transformers', 'huggingface_hub') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- framework ---------------------------------------------------------------

def test_framework_signals(odd_model):
    folder = odd_model("pytorch_repo")
    assert detect_framework(folder) == "PyTorch"
    assert detect_framework(folder, repo_id="mlx-community/whatever") == "MLX"
    assert detect_framework(folder, repo_id="someone/mlx-community-fan") == "PyTorch"
    (folder / "README.md").write_text("---\nlicense: mit\ntags: [text-generation, MLX]\n---\n")
    assert detect_framework(folder) == "MLX"
    (folder / "README.md").write_text("---\nlibrary_name: 'mlx'\n---\n")
    assert detect_framework(folder) == "MLX"
    (folder / "README.md").write_text("no front matter\nlibrary_name: mlx\n")
    assert detect_framework(folder) == "PyTorch"
    _config(folder, quantization={"group_size": 64, "bits": 4})
    assert detect_framework(folder) == "MLX"


def test_mlx_written_safetensors_count_as_mlx(odd_model):
    folder = odd_model("healthy")
    (folder / "README.md").unlink()
    assert detect_framework(folder) == "MLX"  # the weights carry {"format": "mlx"}


def test_gguf_and_unknown(odd_model):
    assert detect_framework(odd_model("gguf_repo")) == "GGUF"
    folder = odd_model("no_weights")
    (folder / "README.md").unlink()
    assert detect_framework(folder) == "Unknown"
    result = check_runtime(odd_model("gguf_repo"))
    assert (result.runtime_compatible, result.reason) == (False, "Incompatible framework: GGUF")


def test_front_matter_block_tags(tmp_path):
    (tmp_path / "README.md").write_text("---\nlibrary_name: mlx\ntags:\n  - mlx\n  - 'chat'\nbase_model: x\n---\n")
    assert read_front_matter(tmp_path) == {"library_name": "mlx", "tags": ["mlx", "chat"]}
    assert read_front_matter(tmp_path / "missing") == {"library_name": None, "tags": []}


# -- kind, capabilities, context ---------------------------------------------

def test_chat_model(odd_model):
    result = check_runtime(odd_model("healthy"))
    assert result.framework == "MLX" and result.architecture == "llama"
    assert (result.model_type, result.chat) == ("chat", True)
    assert result.capabilities == ["text-generation", "chat"]
    assert (result.runtime_compatible, result.reason, result.backend) == (True, None, "mlx_lm")


def test_base_model_without_template(odd_model):
    folder = odd_model("healthy", name="tiny-base")
    tok = json.loads((folder / "tokenizer_config.json").read_text())
    del tok["chat_template"]
    (folder / "tokenizer_config.json").write_text(json.dumps(tok))
    result = check_runtime(folder)
    assert (result.model_type, result.chat, result.capabilities) == ("base", False, ["text-generation"])
    # The name alone can say chat (mlx-knife's heuristic), as can a template file.
    assert check_runtime(folder, repo_id="org/tiny-Instruct").chat
    (folder / "chat_template.jinja").write_text("{{ messages }}")
    assert check_runtime(folder).chat


def test_vision_model_needs_mlx_vlm(odd_model):
    result = check_runtime(odd_model("vision_with_processor"))
    assert "vision" in result.capabilities and result.chat
    if runtime.backend_installed("mlx_vlm"):
        assert result.runtime_compatible == runtime.mlx_vlm_supports({"model_type": "qwen2_vl"})
    else:
        assert result.runtime_compatible is False
        assert result.reason.startswith("mlx-vlm is not installed")


def test_speech_to_text_model(odd_model):
    folder = odd_model("healthy", name="whisper-tiny")
    _config(folder, model_type="whisper", architectures=["WhisperForConditionalGeneration"])
    (folder / "preprocessor_config.json").write_text(json.dumps({"feature_extractor_type": "WhisperFeatureExtractor"}))
    result = check_runtime(folder)
    assert (result.model_type, result.capabilities, result.chat) == ("audio", ["audio"], False)
    if not runtime.backend_installed("mlx_audio"):
        assert result.reason.startswith("mlx-audio is not installed")


def test_embedding_models(odd_model):
    folder = odd_model("healthy", name="bge-small")
    _config(folder, model_type="bert", architectures=["BertModel"])
    result = check_runtime(folder)
    assert (result.model_type, result.capabilities) == ("embedding", ["embeddings"])
    if runtime.backend_installed("mlx_embeddings"):
        assert (result.runtime_compatible, result.backend) == (True, "mlx_embeddings")
    else:
        assert result.runtime_compatible is False and "'embeddings' extra" in result.reason
    folder = odd_model("healthy", name="Qwen3-Embedding-0.6B")
    _config(folder, model_type="qwen3", architectures=["Qwen3ForCausalLM"])
    result = check_runtime(folder)
    assert result.capabilities == ["embeddings"]
    assert result.runtime_compatible == runtime.mlx_embeddings_supports({"model_type": "qwen3"})


def test_context_length_sources():
    assert context_length({"max_position_embeddings": 4096}) == 4096
    assert context_length({"text_config": {"max_position_embeddings": 131072}}) == 131072
    assert context_length({"n_positions": 1024, "text_config": {"max_position_embeddings": 9}}) == 1024
    assert context_length({"max_position_embeddings": True}) is None
    assert context_length({"max_position_embeddings": -1, "seq_len": 512}) == 512
    assert context_length({}) is None and context_length(None) is None


# -- refusals ----------------------------------------------------------------

def test_model_file_is_refused(odd_model):
    result = check_runtime(odd_model("model_file_config"))
    assert result.runtime_compatible is False
    assert result.reason == "requires executing model-supplied code (config.json: model_file)"


def test_unsupported_model_type(odd_model):
    result = check_runtime(odd_model("unsupported_type"))
    assert (result.runtime_compatible, result.reason) == (False, "model_type 'frobnicator_9000' not supported by mlx-lm")


def test_missing_model_type(odd_model):
    folder = odd_model("healthy")
    _config(folder, model_type=None)
    assert check_runtime(folder).reason == "config.json missing model_type field"


def test_remapped_type_is_supported(odd_model):
    folder = odd_model("healthy")
    _config(folder, model_type="mistral")  # mlx-lm loads it through llama.py
    assert runtime.has_model_module("mlx_lm", "models", "mistral") is False
    assert check_runtime(folder).runtime_compatible is True


def test_legacy_weight_names(odd_model):
    folder = odd_model("healthy")
    (folder / "model.safetensors").rename(folder / "weights.00.safetensors")
    assert check_runtime(folder).reason == "Legacy weight file names not supported by mlx-lm"


def test_module_names_cannot_escape(odd_model):
    assert runtime.has_model_module("mlx_lm", "models", "../utils") is False
    assert runtime.has_model_module("mlx_lm", "models", "") is False
    assert runtime.has_model_module("no_such_package_xyz", "models", "llama") is False


def test_broken_folder_never_raises(tmp_path):
    (tmp_path / "config.json").write_text("[1, 2")
    write_safetensors(tmp_path / "model.safetensors", {})
    result = check_runtime(tmp_path)
    assert result.runtime_compatible is False and result.context_length is None
