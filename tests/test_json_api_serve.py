"""mlxk-serve --json: the start-up envelope of a real server and the error
envelopes of a server that cannot start, validated against
docs/json-api.schema.json (the HTTP API is tests/test_openapi.py's)."""

from __future__ import annotations

import socket

import pytest

from fixtures.schema import validate
from fixtures.tiny_gguf import write_tiny_llama
from fixtures.tooling import base_env, run_cli
from mlxk_common.errors import ERROR_TYPES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("json-api-serve")
    write_tiny_llama(root / "tiny.gguf", "Q4_0")
    result = run_cli(["mlxk-convert", root / "tiny.gguf", root / "workspaces" / "tiny", "--from-gguf"])
    assert result.code == 0, result
    return base_env(HF_HOME=root / "hf", MLXK_WORKSPACE_HOME=root / "workspaces")


def test_start_up_envelope(serve, home):
    server = serve("--model", "tiny", "--api-key", "k", "--cors", "https://app.example", env=home)
    data = validate(server.envelope, "serve_envelope")["data"]
    assert data["port"] == server.port and data["auth"] is True and data["model"] == "tiny"
    assert server.health()["status"] == "ok"
    assert server.stop() == 0


def test_errors(home):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = [
            (["--model", "no-such-model"], "model_not_found"),
            (["--port", str(port)], "usage_error"),  # cannot listen
            (["--port", "70000"], "usage_error"),
            (["--max-body", "lots"], "usage_error"),
        ]
        for args, error_type in cases:
            result = run_cli(["mlxk-serve", *args, "--json"], env=home, timeout=120)
            doc = validate(result.json(), "serve_envelope")
            assert doc["error"]["type"] == error_type and result.code == ERROR_TYPES[error_type][0], (args, result)
