"""Start-up discipline: tools import only what they need (docs/architecture.md, "Start-up")."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fixtures.tooling import base_env

HEAVY = ("mlx", "mlx_lm", "transformers", "bottle", "gevent", "huggingface_hub", "numpy", "torch", "mlx_vlm",
         "mlx_audio", "PIL", "exifread", "pillow_heif")
INVENTORY = ("list", "show", "health", "rm")

PROBE = """
import sys
from mlxk_bin import {module} as tool
code = tool.main({argv!r})
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')
"""


def heavy_modules_after(module: str, argv: list[str], env: dict, timeout: float = 60) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(module=module, argv=argv, heavy=HEAVY)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    line = [l for l in proc.stderr.splitlines() if l.startswith("HEAVY=")]
    assert line, proc.stderr
    return [m for m in line[-1][len("HEAVY="):].split(",") if m]


@pytest.mark.parametrize("module", ["mlxk", "list", "show", "health", "rm", "pull", "run", "serve", "clone",
                                    "convert", "push"])
def test_help_imports_nothing_heavy(module):
    assert heavy_modules_after(module, ["--help"], base_env()) == []


@pytest.mark.parametrize("module", INVENTORY)
@pytest.mark.parametrize("mode", [[], ["--json"], ["--ndjson"]])
def test_inventory_tools_stay_light_on_a_real_run(module, mode, tmp_path):
    argv = {"list": [], "show": ["some/model"], "health": [], "rm": ["--force", "some/model"]}[module] + mode
    assert heavy_modules_after(module, argv, base_env(HF_HOME=str(tmp_path))) == []


@pytest.mark.slow
def test_text_generation_never_loads_the_vision_stack(smollm2_workspace):
    """mlx-vlm and exifread load only when an image (or a vision model) is used.  (Pillow may
    come in with transformers, which imports it where it is installed.)"""
    heavy = heavy_modules_after("run", [str(smollm2_workspace), "Hi", "--max-tokens", "2"], base_env(), timeout=600)
    assert "mlx_lm" in heavy
    assert not [m for m in heavy if m.split(".")[0] in ("mlx_vlm", "mlx_audio", "exifread", "pillow_heif")]
