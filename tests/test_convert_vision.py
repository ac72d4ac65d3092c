"""mlxk-convert on a vision model through mlx-vlm (runs where the 'vision'
extra is installed): a tiny random LLaVA (CLIP tower + llama), quantized,
re-quantized and dequantized, each loaded back with mlx-vlm."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixtures.tooling import run_inprocess
from mlxk_bin.convert import main as convert_main
from mlxk_common.inventory.runtime import backend_installed

pytestmark = pytest.mark.skipif(not backend_installed("mlx_vlm"), reason="mlx-vlm is not installed")

TEXT = {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5}
VISION = {"model_type": "clip_vision_model", "num_hidden_layers": 2, "hidden_size": 64, "intermediate_size": 128,
          "num_attention_heads": 4, "image_size": 56, "patch_size": 14, "projection_dim": 64}


@pytest.fixture(scope="module")
def tiny_llava(tiny_q4, tmp_path_factory) -> Path:
    """Random float16 weights in mlx-vlm's own layout; tiny_q4's tokenizer."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_vlm.models import llava

    vocab = json.loads((tiny_q4 / "config.json").read_text())["vocab_size"]
    config = {"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"], "vocab_size": vocab,
              "image_token_index": 0, "torch_dtype": "float16",
              "text_config": {**TEXT, "vocab_size": vocab}, "vision_config": VISION}
    args = llava.ModelConfig.from_dict(config)
    args.text_config = llava.TextConfig.from_dict(config["text_config"])
    args.vision_config = llava.VisionConfig.from_dict(VISION)
    mx.random.seed(0)
    model = llava.Model(args)
    folder = tmp_path_factory.mktemp("vision") / "tiny-llava"
    folder.mkdir()
    mx.save_safetensors(str(folder / "model.safetensors"),
                        {k: (mx.random.normal(v.shape) * 0.02).astype(mx.float16)
                         for k, v in tree_flatten(model.parameters())}, metadata={"format": "mlx"})
    (folder / "config.json").write_text(json.dumps(config))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(tiny_q4 / name, folder / name)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "CLIPImageProcessor", "crop_size": {"height": 56, "width": 56},
        "size": {"shortest_edge": 56}, "do_center_crop": True, "do_normalize": True, "do_resize": True,
        "do_rescale": True, "rescale_factor": 1 / 255, "image_mean": [0.5] * 3, "image_std": [0.5] * 3,
        "processor_class": "LlavaProcessor"}))
    (folder / "processor_config.json").write_text(json.dumps({
        "processor_class": "LlavaProcessor", "patch_size": 14, "vision_feature_select_strategy": "default",
        "image_token": "<|endoftext|>"}))
    return folder


def _logits(folder: Path):
    import mlx.core as mx
    import numpy as np
    from mlx_vlm.utils import load

    model, _ = load(str(folder))
    out = model.language_model(mx.array([[5, 70, 80, 100]]))
    return np.array(getattr(out, "logits", out).astype(mx.float32))


def convert(*args):
    result = run_inprocess(convert_main, [*map(str, args), "--json"])
    assert result.code == 0, result
    return result.json()["data"]


def test_quantize_requantize_dequantize(tiny_llava, tmp_path):
    import numpy as np

    q4 = convert(tiny_llava, tmp_path / "q4", "--quantize", "4", "--group-size", "32")
    assert q4["quantization"]["bits"] == 4 and q4["health"] == "healthy" and q4["model_type"] == "llava"
    q8 = convert(tmp_path / "q4", tmp_path / "q8", "--quantize", "8")
    assert q8["warnings"] and "re-quantizing a 4-bit model to 8 bits" in q8["warnings"][0]
    # dequantized first: one clean 8-bit block, no 4-bit leftovers
    assert q8["quantization"] == {"group_size": 64, "bits": 8, "mode": "affine"}
    f = convert(tmp_path / "q4", tmp_path / "bf16", "--dequantize", "--dtype", "bfloat16")
    config = json.loads((tmp_path / "bf16" / "config.json").read_text())
    assert f["quantization"] is None and "quantization" not in config and config["torch_dtype"] == "bfloat16"
    assert (tmp_path / "q4" / "preprocessor_config.json").exists()
    assert "library_name: mlx" in (tmp_path / "q4" / "README.md").read_text()
    source = _logits(tiny_llava)
    for name in ("q4", "q8", "bf16"):
        assert np.corrcoef(_logits(tmp_path / name).ravel(), source.ravel())[0, 1] > 0.99, name
