"""The command-line tools as a hostile user drives them: garbage on stdin,
bytes that are not text, secrets in the environment, signals at awkward
moments, output nobody can take.  Every test is one attack (or one family of
them, parametrized); it holds when the tool answers with a stable error type
and the right exit code, acts on nothing it was not asked for by name, and
prints no traceback and no secret.  ``pytest tests/test_hostile_cli.py -v``
lists the attacks; each passing test is one that held.
"""

from __future__ import annotations

import io
import random
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO
from fixtures.tooling import base_env, executable, tool_process

from mlxk_bin.health import main as health_main
from mlxk_bin.rm import main as rm_main
from mlxk_bin.show import main as show_main
from mlxk_common.iox import IOEnv

TOOLS_WITH_REFERENCES = {"show": show_main, "health": health_main, "rm": rm_main}


def run_bytes(main, argv, stdin: bytes, environ: dict):
    """In-process run whose stdin is a real text layer over raw bytes (what a
    pipe gives a process), so undecodable input reaches the tool as it would."""
    out, err = io.StringIO(), io.StringIO()
    stream = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    env = IOEnv(stdin=stream, stdout=out, stderr=err, environ=environ, stdin_isatty=False,
                stdout_isatty=False, stderr_isatty=False)
    return main(list(argv), env), out.getvalue(), err.getvalue()


def cached(cache_home, *repo_ids):
    for repo_id in repo_ids:
        cache_home.add(repo_id)
    return {repo_id: cache_home.repo_dir(repo_id) for repo_id in repo_ids}


# -- mlxk-rm - never deletes what a line does not name exactly --------------------------------

@pytest.mark.parametrize("line", ["Q", "qwen", "Qwen3-8B-4bit", "@", "mlx-community/Qwen3", "wen3-8B-4bit\r"])
def test_rm_stdin_partial_names_delete_nothing(inproc, cache_home, line):
    """A substring, an expansion (NAME -> mlx-community/NAME) or a bare @HASH
    from a pipe is an error record; an exact name on the next line still goes."""
    cache_home.add("mlx-community/Qwen3-8B-4bit", commit="c" * 40)
    cache_home.add("org/other", commit="d" * 40)
    repos = {r: cache_home.repo_dir(r) for r in ("mlx-community/Qwen3-8B-4bit", "org/other")}
    stdin = f"{line}\n@ccccccc\norg/other\n"
    result = inproc(rm_main, ["--force", "--ndjson", "-"], stdin=stdin, environ=cache_home.env)
    events = result.ndjson()
    assert result.code == 1, result
    assert repos["mlx-community/Qwen3-8B-4bit"].exists(), "a partial reference from stdin deleted a model"
    assert not repos["org/other"].exists()
    assert [e["event"] for e in events] == ["error", "error", "result"], events
    assert events[0]["error"]["type"] in ("invalid_reference", "model_not_found", "ambiguous_match")
    assert events[1]["error"]["type"] == "invalid_reference" and events[1]["error"]["match"] == "hash"


def test_rm_stdin_exact_names_and_revisions_still_work(inproc, cache_home):
    cache_home.add("org/multi", commit="a" * 40)
    cache_home.add_revision("org/multi", "b" * 40, ref="pr/1")
    cache_home.add("mlx-community/Qwen3-8B-4bit")
    stdin = '{"name": "org/multi@bbbbbbb"}\nmlx-community/Qwen3-8B-4bit\n'
    result = inproc(rm_main, ["--force", "--json", "-"], stdin=stdin, environ=cache_home.env)
    assert result.code == 0, result
    data = result.json()["data"]
    assert [(r["model"], r["scope"], r["match"]) for r in data["results"]] == [
        ("org/multi", "revision", "exact"), ("mlx-community/Qwen3-8B-4bit", "model", "exact")]


def test_rm_interactive_fuzzy_name_still_asks(cache_home):
    """On a terminal a partial name keeps working: it is shown and confirmed."""
    cache_home.add("mlx-community/Qwen3-8B-4bit")
    out, err = io.StringIO(), io.StringIO()
    env = IOEnv(stdin=io.StringIO("y\n"), stdout=out, stderr=err, environ=cache_home.env, stdin_isatty=True,
                stdout_isatty=True, stderr_isatty=True)
    assert rm_main(["Qwen3"], env) == 0
    assert "'Qwen3' matches mlx-community/Qwen3-8B-4bit" in err.getvalue()
    assert not cache_home.repo_dir("mlx-community/Qwen3-8B-4bit").exists()


def test_rm_stdin_path_prefix_is_not_exact(inproc, cache_home, tmp_path, monkeypatch):
    """./gem (a prefix of ./gemma-2b) resolves as a fuzzy match, never as the path itself."""
    cache_home.workspace("gemma-2b", parent=tmp_path)
    monkeypatch.chdir(tmp_path)
    result = inproc(rm_main, ["--force", "--ndjson", "-"], stdin="./gem\n./gemma-2b\n", environ=cache_home.env)
    events = result.ndjson()
    assert events[0]["error"]["type"] == "invalid_reference" and events[0]["error"]["match"] == "fuzzy"
    assert events[1]["error"]["type"] == "not_cached"  # exact, but a workspace: rm never deletes those
    assert (tmp_path / "gemma-2b" / "config.json").exists()


@pytest.mark.parametrize("seed", [1, 2])
def test_rm_random_bytes_delete_nothing(cache_home, seed):
    """1 MB of random bytes into the real executable: the cache's only model stays."""
    repos = cached(cache_home, "mlx-community/SmolLM2-135M-Instruct")
    garbage = random.Random(seed).randbytes(1 << 20)
    # Printable noise as well: short lines of letters are the likeliest substrings.
    letters = "".join(random.Random(seed).choice("abcdefghijklmnopqrstuvwxyzSML0123456789-/@\n")
                      for _ in range(20000)).encode()
    for stdin in (garbage, letters):
        for mode in ((), ("--json",), ("--ndjson",)):
            proc = subprocess.run([executable("mlxk-rm"), "--force", *mode, "-"], input=stdin, capture_output=True,
                                  env=cache_home.env, timeout=300)
            assert repos["mlx-community/SmolLM2-135M-Instruct"].exists(), "garbage on stdin deleted a model"
            assert proc.returncode == 1, proc.stderr[-500:]
            assert b"Traceback" not in proc.stderr and b"internal_error" not in proc.stdout


# -- bytes that are not text: one error record, the other lines go on ---------------------------

@pytest.mark.parametrize("tool", sorted(TOOLS_WITH_REFERENCES))
@pytest.mark.parametrize("mode", ["--json", "--ndjson"])
def test_undecodable_stdin_line_is_one_error_record(cache_home, tool, mode):
    cached(cache_home, "org/first", "org/last")
    argv = ["-", mode] + (["--force"] if tool == "rm" else [])
    stdin = b"org/first\n\xff\xfe\xc3(broken\norg/last\n"
    code, out, err = run_bytes(TOOLS_WITH_REFERENCES[tool], argv, stdin, cache_home.env)
    assert code == 1, (out, err)
    assert "internal_error" not in out and "Traceback" not in err
    import json

    if mode == "--ndjson":
        records = [json.loads(line) for line in out.splitlines()]
        errors = [r for r in records if r.get("event") == "error" or "error" in r and r.get("error")]
        assert len(errors) == 1, records
        assert errors[0]["error"]["type"] == "invalid_reference" and errors[0]["error"]["source"] == "stdin:2"
        assert "org/last" in out  # the line after the bad one was acted on
    else:
        doc = json.loads(out)
        errors = (doc["error"] or {}).get("errors") or doc["data"].get("errors")  # health keeps its records
        assert [e["source"] for e in errors] == ["stdin:2"], doc
        assert "org/last" in out
    if tool == "rm":
        assert not cache_home.repo_dir("org/first").exists() and not cache_home.repo_dir("org/last").exists()


def test_undecodable_line_through_a_real_pipe(cache_home):
    cached(cache_home, "org/first", "org/last")
    proc = subprocess.run([executable("mlxk-show"), "-", "--ndjson"], input=b"org/first\n\x80\x81\norg/last\n",
                          capture_output=True, env=cache_home.env, timeout=120)
    lines = proc.stdout.decode().splitlines()
    assert proc.returncode == 1 and len(lines) == 3 and "invalid_reference" in lines[1], proc


def test_huge_stdin_line_is_one_error_record(inproc, cache_home):
    cached(cache_home, "org/last")
    stdin = "x" * (3 << 20) + "\norg/last\n"
    result = inproc(show_main, ["-", "--ndjson"], stdin=stdin, environ=cache_home.env)
    records = result.ndjson()
    assert result.code == 1 and records[0]["error"]["type"] == "invalid_reference", records[0]
    assert len(records) == 2 and "org/last" in result.stdout


# -- credentials in HF_ENDPOINT never reach the screen --------------------------------------

SECRET = "pw-S3CRET-4711"


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("mode", [(), ("--json",), ("--ndjson",), ("--log-level", "debug", "--log-json")])
@pytest.mark.parametrize("where", ["unreachable", "test-hub"])
def test_endpoint_credentials_are_redacted(hub, tmp_path, mode, where):
    """pull, clone and push fail against an endpoint whose URL carries a user
    and password; no output mode prints the password (or the user name)."""
    from fixtures.hub import HUB_TOKEN
    from fixtures.model_repo import transfer_env

    port = _closed_port() if where == "unreachable" else hub.port
    endpoint = f"http://mlxk-user:{SECRET}@127.0.0.1:{port}"
    env = transfer_env(hub, tmp_path / "hf", HUB_TOKEN, HF_ENDPOINT=endpoint)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "config.json").write_text('{"model_type": "llama"}')
    runs = [["mlxk-pull", "acme/no-such-model", "--retries", "1"],
            ["mlxk-clone", "acme/no-such-model", tmp_path / "clone", "--retries", "1"],
            ["mlxk-push", workspace, "acme/pushed", "--private"]]
    if where == "unreachable":
        runs.pop()  # push has no --retries: five backoffs (15 s) to say the same as pull
    for argv in runs:
        proc = subprocess.run([executable(argv[0]), *map(str, argv[1:]), *mode], capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.returncode == 1, (argv, proc.stderr)
        for text in (proc.stdout, proc.stderr):
            assert SECRET not in text and "mlxk-user" not in text, (argv, mode, text)
            assert "Traceback" not in text


# -- Ctrl-C at any moment, output nobody can take, options nobody knows ------------------------

def _project_frames(stderr: str) -> list[str]:
    """The files of a traceback's frames that are the project's own code (the
    venv's files -- console scripts, site-packages -- are not ours, even when
    the venv lies inside the checkout)."""
    from fixtures.tooling import VENV_BIN

    files = re.findall(r'File "([^"]+)"', stderr)
    return [f for f in files if ("mlxk_bin" in f or "mlxk_common" in f or f.startswith(str(REPO)))
            and not f.startswith(str(VENV_BIN.parent) + "/")]


@pytest.mark.parametrize("argv", [["mlxk-rm", "--force", "-"], ["mlxk", "show", "-", "--json"],
                                  ["mlx-run", "org/none", "-"], ["mlxk-pull", "-", "--ndjson"],
                                  ["mlxk-serve", "--port", "0"]])
def test_ctrl_c_during_start_up_exits_130_quietly(tmp_path, argv):
    """SIGINT at many moments of the first ~0.3 s, while the tool's modules
    import or once it waits on stdin: exit 130 (or death by SIGINT, which a
    shell shows as 130), and never a traceback out of the project's code.
    A server that already serves (a fast machine gets there within 0.3 s)
    stops as it always does on SIGINT: exit 0.

    A signal that lands while the interpreter itself starts (before the first
    line of the project runs) gets Python's own report; such a delay is tried
    again, and skipped after three tries."""
    env = base_env(HF_HOME=tmp_path)
    interrupted = 0
    for delay in [0.0, 0.005, 0.01, 0.02, 0.03, 0.045, 0.06, 0.08, 0.1, 0.13, 0.17, 0.22, 0.3]:
        for _ in range(3):
            proc = tool_process(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()  # a hang is this test's failure, not an orphan left to the rest of the suite
                out, err = proc.communicate()
                pytest.fail(f"{argv[0]} still ran 120 s after SIGINT at {delay} s: {err[-2000:]}")
            python_itself = "Traceback" in err or "Fatal Python error" in err or err.strip() == "KeyboardInterrupt"
            if not python_itself or _project_frames(err):
                break
        else:
            continue
        assert not _project_frames(err) and "Traceback" not in err, (delay, err)
        if argv[0] == "mlxk-serve" and "serving on" in out + err:
            # Once it serves, SIGINT is the server's ordinary stop: exit 0.
            assert proc.returncode == 0, (delay, proc.returncode, out, err)
        else:
            assert proc.returncode in (130, -signal.SIGINT), (delay, proc.returncode, out, err)
        interrupted += 1
    assert interrupted >= 5, "too few signals reached the project's code to prove anything"


def test_sigint_ignored_by_the_test_run_is_restored_for_its_children():
    """The suite passes as a background job: a shell starts ``cmd &`` and
    ``nohup cmd`` with SIGINT ignored, children inherit that, and a test's
    SIGINT would never arrive.  ``tool_process`` starts children with the
    default disposition; here the test run itself ignores SIGINT and a real
    tool is still interrupted."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        probe = tool_process([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT))"],
                             stdout=subprocess.PIPE, text=True)
        assert probe.communicate(timeout=60)[0].strip() == str(signal.default_int_handler)
        ignored = subprocess.Popen([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT))"],
                                   stdout=subprocess.PIPE, text=True)
        assert ignored.communicate(timeout=60)[0].strip() == str(signal.SIG_IGN)  # what the helper undoes
        # A tool waiting on its stdin (mlxk-rm -), interrupted as a user would.
        proc = tool_process(["mlxk-rm", "--force", "--ndjson", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=base_env())
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (out, err)
        assert '"interrupted"' in out and "Traceback" not in err
    finally:
        signal.signal(signal.SIGINT, previous)


def test_background_tools_keep_sigint_ignored():
    """Started with SIGINT ignored (a background job), a tool leaves it so."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = subprocess.Popen([executable("mlxk-rm"), "--force", "-"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=base_env())
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "SIGINT reached a tool that started with it ignored"
        out, err = proc.communicate("", timeout=60)
        assert proc.returncode == 0 and not err
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("argv", [["mlxk-list"], ["mlxk-list", "--json"], ["mlxk", "list", "--json"],
                                  ["mlxk-show", "org/a", "--json"], ["mlxk-health", "--ndjson"],
                                  ["mlxk-list", "--help"], ["mlxk", "--version", "--json"], ["mlxk", "--help"]])
def test_full_disk_on_stdout_is_one_clear_error(cache_home, argv):
    cached(cache_home, "org/a")
    with open("/dev/full", "w") as full:
        proc = subprocess.run([executable(argv[0]), *argv[1:]], stdout=full, stderr=subprocess.PIPE, text=True,
                              env=cache_home.env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert errors == [f"{argv[0]}: error: cannot write to stdout: No space left on device"] or (
        argv[0] == "mlxk" and len(argv) > 1 and argv[1] == "list"
        and errors == ["mlxk-list: error: cannot write to stdout: No space left on device"]), proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_closed_stdout_is_one_clear_error(cache_home):
    cached(cache_home, "org/a")
    proc = subprocess.run(f"{executable('mlxk-list')} --json >&-", shell=True, stderr=subprocess.PIPE, text=True,
                          env=cache_home.env, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "mlxk-list: error: cannot write to stdout: stdout is closed", proc.stderr


@pytest.mark.parametrize("argv", [["--bogus"], ["bogus"], ["completion"], ["--version", "--bogus"]])
@pytest.mark.parametrize("mode", ["--json", "--ndjson"])
def test_dispatcher_usage_errors_speak_json(cli, argv, mode):
    import json

    result = cli(["mlxk", *argv, mode])
    assert result.code == 2 and "Traceback" not in result.stderr
    if mode == "--json":
        doc = result.json()
        assert (doc["status"], doc["command"], doc["error"]["type"]) == ("error", "mlxk", "usage_error")
    else:
        (event,) = [json.loads(line) for line in result.stdout.splitlines()]
        assert event["event"] == "error" and event["error"]["type"] == "usage_error"


# -- one rule for what lies inside MLXK_WORKSPACE_HOME --------------------------------------

@pytest.mark.slow
def test_workspace_home_symlinks_one_rule_for_names_and_paths(serve, tmp_path):
    """A symlink directly in the home is the operator's: the folder it leads
    to is served by its bare name and by any path to it; a folder outside
    that nothing in the home links to is refused under every name."""
    import shutil

    from fixtures.tiny_gguf import write_tiny_llama
    from fixtures.tooling import run_cli

    write_tiny_llama(tmp_path / "tiny.gguf", "Q4_0")
    outside, home = tmp_path / "outside", tmp_path / "home"
    assert run_cli(["mlxk-convert", tmp_path / "tiny.gguf", outside / "tiny", "--from-gguf"]).code == 0
    shutil.copytree(outside / "tiny", outside / "other")
    home.mkdir()
    (home / "linked").symlink_to(outside / "tiny")
    (home / "escape").symlink_to(outside)  # not a model folder: no name reaches below it
    server = serve(env=base_env(HF_HOME=tmp_path / "hf", MLXK_WORKSPACE_HOME=home))

    def status(model: str) -> int:
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
        return server.http("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"}).status

    for model in ("linked", str(home / "linked"), str(home / "linked") + "/", str(outside / "tiny")):
        assert status(model) == 200, model
    for model in (str(outside / "other"), str(home / "escape" / "other"), str(home / "linked" / ".." / "other"),
                  "escape", "other"):
        assert status(model) == 404, model


# -- mlx-run: a piped prompt is bounded like a request body ------------------------------------

def test_piped_prompt_over_max_input_is_refused_unread(tmp_path):
    """2 MB into ``mlx-run MODEL -`` with a 1 MB limit: input_too_large before
    any model is looked at (the model does not even exist)."""
    env = base_env(HF_HOME=tmp_path)
    big = b"word " * 400_000
    for extra, environ in ((["--max-input", "1MB"], env), ([], {**env, "MLXK2_MAX_INPUT": "1MB"})):
        proc = subprocess.run([executable("mlx-run"), "org/none", "-", "--json", *extra], input=big,
                              capture_output=True, env=environ, timeout=120)
        error = __import__("json").loads(proc.stdout)["error"]
        assert proc.returncode == 1 and error["type"] == "input_too_large", proc.stderr
        assert error["limit_bytes"] == 1_000_000
    for extra, environ in ((["--max-input", "inf"], env), ([], {**env, "MLXK2_MAX_INPUT": "lots"})):
        proc = subprocess.run([executable("mlx-run"), "org/none", "-", *extra], input=b"hi", capture_output=True,
                              env=environ, timeout=120)
        assert proc.returncode == 2 and b"Traceback" not in proc.stderr, proc.stderr
    # Bytes that are not text are a usage error, not a crash.
    proc = subprocess.run([executable("mlx-run"), "org/none", "-", "--json"], input=b"ok \xff\xfe\x80",
                          capture_output=True, env=env, timeout=120)
    assert proc.returncode == 2 and b'"usage_error"' in proc.stdout, proc


def test_a_prompt_far_over_the_window_is_refused_after_encoding_about_a_window(tiny_q4, monkeypatch):
    """24 MB of words cannot fit any window: the engine says so having
    encoded about a window's worth of the text, not all of it."""
    from mlxk_common.engine import load_engine
    from mlxk_common.engine.prompting import _CHUNK_CHARS_PER_TOKEN, _WHOLE_CHARS_PER_TOKEN
    from mlxk_common.errors import MlxkError
    from mlxk_common.inventory.located import Located

    engine = load_engine(Located.folder(tiny_q4))
    window = engine.context_length
    encoded = []

    class CountingTokenizer:  # the real tokenizer, counting the characters it is given
        def __init__(self, inner):
            self.inner = inner

        def encode(self, text, *args, **kwargs):
            encoded.append(len(text))
            return self.inner.encode(text, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(engine, "tokenizer", CountingTokenizer(engine.tokenizer))
    with pytest.raises(MlxkError) as caught:
        engine.prepare(prompt="lorem ipsum dolor " * 1_400_000, max_tokens=4)
    assert caught.value.type == "context_length_exceeded"
    assert caught.value.details["prompt_tokens"] > window == caught.value.details["context_length"]
    assert sum(encoded) <= window * (_CHUNK_CHARS_PER_TOKEN + _WHOLE_CHARS_PER_TOKEN) + 4096, (sum(encoded), window)
    # A prompt that fits still goes through whole, and one just past the window is still counted exactly.
    assert engine.prepare(prompt="lorem ipsum", max_tokens=4).prompt_len > 0


@pytest.mark.slow
def test_huge_piped_prompt_is_refused_quickly_by_the_real_tool(smollm2_workspace):
    """20 MB piped into mlx-run on the real model: context_length_exceeded,
    the process never encodes (nor holds the tokens of) the whole text."""
    proc = subprocess.run([executable("mlx-run"), smollm2_workspace, "-", "--json"], input=b"lorem ipsum " * 1_700_000,
                          capture_output=True, env=base_env(), timeout=600)
    error = __import__("json").loads(proc.stdout)["error"]
    assert proc.returncode == 1 and error["type"] == "context_length_exceeded", proc.stderr[-2000:]
    assert error["context_length"] == 8192 and error["prompt_tokens"] > 8192


def test_ndjson_in_line_over_max_input_is_one_error_record(tiny_q4):
    lines = [b'{"prompt": "hi", "max_tokens": 2}', b'{"prompt": "' + b"x " * 2000 + b'", "max_tokens": 2}',
             b'{"prompt": "\xff\xfe", "max_tokens": 2}', b'{"prompt": "hello", "max_tokens": 2}']
    proc = subprocess.run([executable("mlx-run"), tiny_q4, "--ndjson-in", "--max-input", "1KB"],
                          input=b"\n".join(lines) + b"\n", capture_output=True, env=base_env(), timeout=300)
    records = [__import__("json").loads(line) for line in proc.stdout.splitlines()]
    assert [r["event"] for r in records] == ["result", "error", "error", "result"], proc.stderr
    assert records[1]["error"]["type"] == "input_too_large" and records[2]["error"]["type"] == "usage_error"
    assert proc.returncode == 1


@pytest.mark.slow
def test_one_shot_ctrl_c_error_starts_on_its_own_line(smollm2_workspace):
    """Ctrl-C while a one-shot answer streams onto a terminal: the answer's
    line is ended before the error is printed, and the exit status is 130."""
    import pexpect
    from fixtures.tooling import default_sigint

    child = pexpect.spawn(executable("mlx-run"), [str(smollm2_workspace), "Count from 1 to 200, one number per line.",
                                                  "--temperature", "0", "--max-tokens", "300"],
                          env={**base_env(), "TERM": "dumb"}, encoding="utf-8", timeout=180, preexec_fn=default_sigint)
    child.expect(r"\b4\b")  # streaming: the count has reached 4 ("4, 5" or "4. 4"; it goes on to 20 or more)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before
    assert child.exitstatus == 130, screen
    assert re.search(r"\r?\nmlx-run: error: interrupted", screen), repr(screen[-300:])
