"""The vision engine on issue 19's CPU path (engine/cpu): the language model and
the vision tower in float32 with OpenBLAS, chosen by the loader as for text.

Random weights give garbage text: these tests compare tokens between paths
and look at the dtypes and the reported path, never at words or timings.
"""

from __future__ import annotations

import sys

import pytest
from fixtures.tiny_vlm import build_tiny_qwen2vl
from fixtures.tooling import base_env, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore"),
    pytest.mark.skipif(sys.platform != "linux", reason="the CPU path is Linux-only"),
]


@pytest.fixture(scope="module")
def bf16_vlm(tmp_path_factory):
    pytest.importorskip("mlx_vlm", reason="the 'vision' extra is not installed")
    return build_tiny_qwen2vl(tmp_path_factory.mktemp("vlm-bf16") / "qwen2-vl-bf16", dtype="bfloat16")


def run_json(model, image, *args, **env):
    result = run_cli(
        ["mlx-run", model, "--image", image, "--no-exif", "--temperature", "0", "--max-tokens", "16", "--json", *args],
        env=base_env(**env),
    )
    assert result.code == 0, result
    return result.json()["data"]


def test_float32_model_on_openblas_gives_the_native_paths_tokens(tiny_vlm, vision_images, tmp_path):
    image = vision_images["red.png"]
    fast = run_json(tiny_vlm, image, XDG_CACHE_HOME=str(tmp_path))
    native = run_json(tiny_vlm, image, "--cpu-dtype", "native", MLXK2_CPU_BLAS="0")
    cpu = fast["timing"]["cpu"]
    assert cpu["path"] == "float32" and cpu["blas"] == "openblas" and cpu["dtype"] == "auto", cpu
    ref = native["timing"]["cpu"]
    assert ref["path"] == "native" and ref["blas"] == "reference", ref
    assert fast["usage"]["completion_tokens"] == native["usage"]["completion_tokens"] > 0
    assert fast["response"] == native["response"]


def test_bfloat16_model_is_cast_whole_and_matches_float32_on_mlx_own_blas(bf16_vlm, vision_images, tmp_path):
    image = vision_images["noise.bmp"]
    fast = run_json(bf16_vlm, image, XDG_CACHE_HOME=str(tmp_path))
    reference = run_json(bf16_vlm, image, "--cpu-dtype", "float32", MLXK2_CPU_BLAS="0")
    cpu = fast["timing"]["cpu"]
    assert cpu["path"] == "float32" and cpu["blas"] == "openblas" and "within the budget" in cpu["reason"], cpu
    assert reference["timing"]["cpu"]["path"] == "float32" and reference["timing"]["cpu"]["blas"] == "reference"
    assert fast["usage"]["completion_tokens"] == reference["usage"]["completion_tokens"] > 0
    assert fast["response"] == reference["response"]


def test_every_parameter_of_the_tower_and_the_language_model_follows_cpu_dtype(bf16_vlm):
    import mlx.core as mx
    from mlx.utils import tree_flatten

    from mlxk_common.engine import CpuSettings, load_engine

    def dtypes(engine, part):
        return {a.dtype for _n, a in tree_flatten(getattr(engine.model, part).parameters())}

    engine = load_engine(str(bf16_vlm))  # auto
    assert engine.cpu_path["path"] == "float32", engine.cpu_path
    assert dtypes(engine, "vision_tower") == {mx.float32}
    assert dtypes(engine, "language_model") == {mx.float32}
    native = load_engine(str(bf16_vlm), cpu=CpuSettings("native"))
    assert native.cpu_path["path"] == "native"
    assert dtypes(native, "vision_tower") == {mx.bfloat16}
    assert dtypes(native, "language_model") == {mx.bfloat16}


def test_verbose_says_which_path_ran(tiny_vlm, vision_images, tmp_path):
    result = run_cli(
        [
            "mlx-run",
            tiny_vlm,
            "--image",
            vision_images["red.png"],
            "--no-exif",
            "--max-tokens",
            "2",
            "--cpu-dtype",
            "native",
            "--verbose",
        ],
        env=base_env(XDG_CACHE_HOME=str(tmp_path)),
    )
    assert result.code == 0, result
    assert "CPU path native (OpenBLAS" in result.stderr and "--cpu-dtype native" in result.stderr
