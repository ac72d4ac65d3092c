"""Real outputs of mlxk-convert in every conversion mode (--from-gguf,
--quantize, --dequantize, --repair-index) and output mode (--json, --ndjson,
errors, a run interrupted by SIGINT), validated against
docs/json-api.schema.json.  A tiny random llama GGUF keeps it quick; the
interrupt uses the real SmolLM2 GGUF (enough tensors to stop it midway)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from fixtures.schema import interrupt, validate, validate_stream
from fixtures.tiny_gguf import write_tiny_llama
from fixtures.tooling import base_env, run_cli, tool_process
from mlxk_common.errors import ERROR_TYPES


def convert(*args, env=None):
    return run_cli(["mlxk-convert", *map(str, args)], env=env)


def convert_ndjson(*args) -> dict:
    """Run with --ndjson; validate the stream; return the result event."""
    result = convert(*args, "--ndjson")
    assert result.code == 0, result
    lines = validate_stream(result.stdout, "convert_line", final=True, min_lines=2)
    assert {line["event"] for line in lines} == {"progress", "result"}
    return lines[-1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    """A tiny GGUF, imported (quantized), then dequantized into small shards."""
    root = tmp_path_factory.mktemp("json-api-convert")
    write_tiny_llama(root / "tiny.gguf", "Q4_0")
    convert_ndjson(root / "tiny.gguf", root / "q4", "--from-gguf")
    convert_ndjson(root / "q4", root / "f16-sharded", "--dequantize", "--max-shard-size", "1MB")
    return {"root": root, "gguf": root / "tiny.gguf", "q4": root / "q4", "sharded": root / "f16-sharded"}


@pytest.mark.parametrize("flags, source, operation", [
    (["--from-gguf"], "gguf", "convert-from-gguf"),
    (["--quantize", "8", "--group-size", "32"], "q4", "convert-quantize"),
    (["--quantize", "4", "--mode", "mxfp4"], "sharded", "convert-quantize"),
    (["--dequantize", "--dtype", "bfloat16", "--skip-health"], "q4", "convert-dequantize"),
    (["--repair-index"], "sharded", "convert-repair-index"),
])
def test_every_mode_json_and_ndjson(tiny, tmp_path, flags, source, operation):
    result = convert(tiny[source], tmp_path / "json", *flags, "--json")
    assert result.code == 0, result
    data = validate(result.json(), "convert_envelope")["data"]
    assert data["operation"] == operation
    assert convert_ndjson(tiny[source], tmp_path / "ndjson", *flags)["operation"] == operation


@pytest.mark.parametrize("mode", ["--json", "--ndjson"])
def test_errors(tiny, tmp_path, mode):
    hf_home = tmp_path / "hf"
    (hf_home / "hub").mkdir(parents=True)
    (tmp_path / "not.gguf").write_bytes(b"GGUF but not really")
    cases = [
        ((tiny["gguf"], tiny["q4"], "--from-gguf"), "target_exists"),
        ((tiny["gguf"], hf_home / "hub" / "x", "--from-gguf"), "cache_write_refused"),
        ((tiny["gguf"], tmp_path / "t"), "usage_error"),  # no mode
        ((tiny["gguf"], tmp_path / "t", "--from-gguf", "--dtype", "float16"), "usage_error"),
        ((tiny["q4"], tmp_path / "t", "--repair-index"), "usage_error"),  # one file needs no index
        ((tmp_path / "not.gguf", tmp_path / "t", "--from-gguf"), "unsupported_format"),
        ((tmp_path / "missing", tmp_path / "t", "--quantize", "4"), "model_not_found"),
    ]
    for args, error_type in cases:
        result = convert(*args, mode, env=base_env(HF_HOME=hf_home))
        if mode == "--json":
            error = validate(result.json(), "convert_envelope")["error"]
        else:
            error = validate_stream(result.stdout, "convert_line", final=True)[-1]["error"]
        assert error["type"] == error_type and result.code == ERROR_TYPES[error_type][0], (args, result)
    assert not (tmp_path / "t").exists()


def test_interrupted(smollm2_gguf, tmp_path):
    proc = tool_process(["mlxk-convert", smollm2_gguf, tmp_path / "out", "--from-gguf", "--ndjson"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env())
    code, out, _ = interrupt(proc, signal.SIGINT, line=lambda obj: obj.get("stage") == "tensors")
    lines = validate_stream(out, "convert_line", final=True, min_lines=2)
    assert code == 130 and lines[-1]["error"]["type"] == "interrupted"
    assert not (tmp_path / "out").exists()
