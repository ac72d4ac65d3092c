"""The shared I/O contract every tool gets from mlxk_common (docs/json-api.md, "Output modes")."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pytest

from mlxk_common import config
from mlxk_common.cli import Tool
from mlxk_common.errors import ERROR_TYPES, MlxkError
from mlxk_common.iox import IOEnv
from mlxk_common.logs import redact
from mlxk_common.refs import expand_references

from fixtures.tooling import base_env, run_inprocess


def _demo_tool(behaviour):
    """A throwaway tool built with the real framework, for contract tests."""

    def configure(parser):
        parser.add_argument("items", nargs="*")
        parser.add_argument("--count", type=int, default=3)

    def run(ctx):
        return behaviour(ctx)

    return Tool("mlxk-demo", "demo", "a demo tool", run, configure)


def test_json_envelope_success():
    tool = _demo_tool(lambda ctx: ctx.out.envelope({"models": [], "count": 0}))
    result = run_inprocess(tool.main, ["--json"])
    assert result.code == 0
    doc = json.loads(result.stdout)
    assert doc == {"status": "success", "command": "demo", "data": {"models": [], "count": 0}, "error": None}


@pytest.mark.parametrize("error_type", sorted(ERROR_TYPES))
def test_every_error_type_maps_to_its_exit_code_in_all_modes(error_type):
    def fail(ctx):
        raise MlxkError(error_type, f"boom {error_type}", model="x")

    tool = _demo_tool(fail)
    expected = ERROR_TYPES[error_type][0]
    human = run_inprocess(tool.main, [])
    assert human.code == expected
    assert human.stdout == ""
    assert human.stderr.startswith(f"mlxk-demo: error: boom {error_type}")
    if error_type == "output_error":  # stdout is what failed: stderr only, in every mode
        for mode in ("--json", "--ndjson"):
            result = run_inprocess(tool.main, [mode])
            assert (result.code, result.stdout) == (expected, "")
            assert result.stderr.startswith(f"mlxk-demo: error: boom {error_type}")
        return
    as_json = run_inprocess(tool.main, ["--json"])
    assert as_json.code == expected
    doc = json.loads(as_json.stdout)
    assert doc["status"] == "error" and doc["data"] is None
    assert doc["error"] == {"type": error_type, "message": f"boom {error_type}", "model": "x"}
    as_ndjson = run_inprocess(tool.main, ["--ndjson"])
    assert as_ndjson.code == expected
    last = json.loads(as_ndjson.stdout.splitlines()[-1])
    assert last["event"] == "error" and last["error"]["type"] == error_type


def test_exit_codes_are_the_documented_ones():
    assert ERROR_TYPES["usage_error"][0] == 2
    assert ERROR_TYPES["interrupted"][0] == 130
    assert ERROR_TYPES["model_not_found"][0] == 1
    with pytest.raises(ValueError):
        MlxkError("no_such_type", "x")


def test_usage_error_in_each_mode():
    tool = _demo_tool(lambda ctx: 0)
    human = run_inprocess(tool.main, ["--count", "many"])
    assert human.code == 2
    assert "usage: mlxk-demo" in human.stderr
    assert "mlxk-demo: error: argument --count: invalid int value: 'many'" in human.stderr
    as_json = run_inprocess(tool.main, ["--json", "--count", "many"])
    assert as_json.code == 2
    assert json.loads(as_json.stdout)["error"]["type"] == "usage_error"
    both = run_inprocess(tool.main, ["--json", "--ndjson"])
    assert both.code == 2 and "not allowed with argument" in both.stdout + both.stderr


def test_unexpected_exception_is_internal_error_without_traceback():
    def crash(ctx):
        raise RuntimeError("kaputt")

    tool = _demo_tool(crash)
    result = run_inprocess(tool.main, [])
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert "mlxk-demo: error: RuntimeError: kaputt" in result.stderr
    debug = run_inprocess(tool.main, [], environ=base_env(MLXK2_DEBUG="1"))
    assert "Traceback (most recent call last)" in debug.stderr


def test_keyboard_interrupt_is_exit_130_and_interrupted_type():
    def interrupt(ctx):
        raise KeyboardInterrupt

    tool = _demo_tool(interrupt)
    assert run_inprocess(tool.main, []).code == 130
    doc = json.loads(run_inprocess(tool.main, ["--json"]).stdout)
    assert doc["error"]["type"] == "interrupted"


def test_ndjson_lines_are_flushed_one_by_one():
    flushes = []

    class Recorder(io.StringIO):
        def flush(self):
            flushes.append(self.getvalue().count("\n"))

    def emit(ctx):
        for i in range(3):
            ctx.out.record({"i": i})

    out = Recorder()
    env = IOEnv(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), environ=base_env())
    assert _demo_tool(emit).main(["--ndjson"], env) == 0
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert flushes[:3] == [1, 2, 3]


def test_stdin_references_bare_names_json_lines_and_bad_lines():
    stdin = io.StringIO(textwrap.dedent("""\
        mlx-community/Foo-4bit

        {"name": "org/bar", "size_bytes": 3}
        {"path": "./ws"}
        {"model": "baz"}
        {"nothing": 1}
        {not json
        [1, 2]
    """))
    items = list(expand_references(["first", "-", "last", "-"], stdin))
    assert [i.ref for i in items] == ["first", "mlx-community/Foo-4bit", "org/bar", "./ws", "baz", None, None, None, "last"]
    errors = [i.error for i in items if i.error]
    assert [e.type for e in errors] == ["invalid_reference"] * 3
    assert [i.source for i in items if i.error] == ["stdin:6", "stdin:7", "stdin:8"]
    assert items[2].record == {"name": "org/bar", "size_bytes": 3}


def test_configuration_precedence_flag_env_default():
    environ = {"MLXK2_PORT": "9001", "MLXK2_LOG_JSON": "yes", "MLXK2_MAX_TOKENS": "abc"}
    assert config.setting(8080, "MLXK2_PORT", environ, 8000, int) == 8080
    assert config.setting(None, "MLXK2_PORT", environ, 8000, int) == 9001
    assert config.setting(None, "MLXK2_PORT", {}, 8000, int) == 8000
    assert config.setting(None, "MLXK2_PORT", {"MLXK2_PORT": ""}, 8000, int) == 8000
    assert config.env_flag(environ, "MLXK2_LOG_JSON") is True
    with pytest.raises(MlxkError) as info:
        config.setting(None, "MLXK2_MAX_TOKENS", environ, 100, int)
    assert info.value.type == "usage_error" and "MLXK2_MAX_TOKENS" in info.value.message


def test_hf_home_and_hub_dir_resolution(tmp_path):
    assert config.hub_dir({"HF_HOME": str(tmp_path)}) == tmp_path / "hub"
    assert config.hub_dir({"HF_HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "c")}) == tmp_path / "c"
    assert config.hub_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "huggingface" / "hub"
    assert config.hf_token({"HUGGINGFACE_HUB_TOKEN": "hf_b"}) == "hf_b"
    assert config.hf_token({"HF_TOKEN": "hf_a", "HUGGINGFACE_HUB_TOKEN": "hf_b"}) == "hf_a"
    assert config.hf_token({"HF_TOKEN": "hf_a"}, "hf_flag") == "hf_flag"


def test_redaction_of_tokens_bearer_and_home():
    environ = {"HOME": "/home/alice", "HF_TOKEN": "secret-token-value"}
    text = "token hf_AbCdEf123456 in /home/alice/.cache and Bearer xyz.abc; secret-token-value /home/alicex"
    cleaned = redact(text, environ)
    assert "hf_AbCdEf123456" not in cleaned and "hf_***" in cleaned
    assert "~/.cache" in cleaned and "/home/alice/" not in cleaned
    assert "Bearer ***" in cleaned and "xyz.abc" not in cleaned
    assert "secret-token-value" not in cleaned
    assert "/home/alicex" in cleaned  # only the home folder itself, not a lookalike


def test_error_messages_and_logs_are_redacted(tmp_path):
    def leak(ctx):
        ctx.log.warning("using hf_SECRET12345 from %s", ctx.env.environ["HOME"] + "/x")
        raise MlxkError("access_denied", "token hf_SECRET12345 refused")

    tool = _demo_tool(leak)
    environ = base_env(HOME=str(tmp_path))
    human = run_inprocess(tool.main, [], environ=environ)
    assert "hf_SECRET12345" not in human.stderr and "hf_***" in human.stderr
    assert str(tmp_path) not in human.stderr and "~/x" in human.stderr
    as_json = run_inprocess(tool.main, ["--json", "--log-json"], environ=environ)
    assert "hf_SECRET12345" not in as_json.stdout + as_json.stderr
    log_line = json.loads(as_json.stderr.splitlines()[0])
    assert log_line["level"] == "warning" and log_line["msg"] == "using hf_*** from ~/x"
    assert log_line["ts"].endswith("Z")


def test_log_level_flag_beats_environment():
    def talk(ctx):
        ctx.log.info("info line")
        ctx.log.debug("debug line")

    tool = _demo_tool(talk)
    quiet = run_inprocess(tool.main, [], environ=base_env())
    assert "info line" not in quiet.stderr
    env_info = run_inprocess(tool.main, [], environ=base_env(MLXK2_LOG_LEVEL="info"))
    assert "info line" in env_info.stderr and "debug line" not in env_info.stderr
    flag_debug = run_inprocess(tool.main, ["--log-level", "debug"], environ=base_env(MLXK2_LOG_LEVEL="error"))
    assert "debug line" in flag_debug.stderr
    env_json = run_inprocess(tool.main, [], environ=base_env(MLXK2_LOG_LEVEL="info", MLXK2_LOG_JSON="1"))
    assert json.loads(env_json.stderr.splitlines()[0])["msg"] == "info line"


def test_colour_only_on_tty_and_never_with_no_color():
    assert IOEnv(stdout=io.StringIO(), environ={}, stdout_isatty=True).color is True
    assert IOEnv(stdout=io.StringIO(), environ={}, stdout_isatty=False).color is False
    assert IOEnv(stdout=io.StringIO(), environ={"NO_COLOR": ""}, stdout_isatty=True).color is False
    assert IOEnv(stdout=io.StringIO(), environ={"TERM": "dumb"}, stdout_isatty=True).color is False


STREAM_SCRIPT = textwrap.dedent("""
    import sys
    from mlxk_common.cli import Tool
    def run(ctx):
        for i in range(10000):
            ctx.out.record({"event": "progress", "i": i, "pad": "x" * 40})
        ctx.out.event("result", count=10000)
    sys.exit(Tool("mlxk-demo", "demo", "demo", run).main())
""")


def test_ndjson_stream_into_head_exits_quietly(tmp_path):
    script = tmp_path / "stream.py"
    script.write_text(STREAM_SCRIPT)
    proc = subprocess.run(
        f"set -o pipefail; '{sys.executable}' '{script}' --ndjson | head -1; echo \"rc=${{PIPESTATUS[0]}}\"",
        shell=True, executable="/bin/bash", capture_output=True, text=True, env=base_env(), timeout=60,
    )
    first, rc = proc.stdout.splitlines()
    assert json.loads(first) == {"event": "progress", "i": 0, "pad": "x" * 40}
    assert rc == "rc=0"
    assert proc.stderr == ""


def test_sigterm_is_reported_as_interrupted(tmp_path):
    script = tmp_path / "sleeper.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        from mlxk_common.cli import Tool
        def run(ctx):
            print("ready", flush=True)
            time.sleep(30)
        sys.exit(Tool("mlxk-demo", "demo", "demo", run).main())
    """))
    proc = subprocess.Popen([sys.executable, str(script), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=base_env())
    assert proc.stdout.readline().strip() == "ready"
    proc.terminate()
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert json.loads(out)["error"]["type"] == "interrupted"
    assert "Traceback" not in err


def test_options_may_follow_the_positionals():
    def echo(ctx):
        ctx.out.envelope({"items": ctx.args.items, "count": ctx.args.count})

    tool = _demo_tool(echo)
    result = run_inprocess(tool.main, ["a", "--count", "5", "b", "--json"])
    assert result.code == 0, result
    assert json.loads(result.stdout)["data"] == {"items": ["a", "b"], "count": 5}
