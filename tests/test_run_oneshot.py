"""mlx-run one-shot, pipe mode, output modes, sampling flags and limits on the
real SmolLM2 model."""

import io
import subprocess

import pytest

from mlxk_bin.run import main
from mlxk_common.iox import IOEnv
from fixtures.tooling import base_env, executable

QUESTION = "What is the capital of France?"
GREEDY = ["--temperature", "0"]

pytestmark = pytest.mark.slow


class CountingOut(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = []

    def write(self, text):
        self.writes.append(text)
        return super().write(text)


def run_counted(argv, *, tty=False, stdin=""):
    out, err = CountingOut(), io.StringIO()
    env = IOEnv(stdin=io.StringIO(stdin), stdout=out, stderr=err, environ=base_env(),
                stdin_isatty=False, stdout_isatty=tty, stderr_isatty=tty)
    code = main(list(argv), env)
    return code, out, err.getvalue()


def test_greedy_answer_is_one_write_to_a_pipe(smollm2_workspace):
    code, out, err = run_counted([str(smollm2_workspace), QUESTION, *GREEDY, "--max-tokens", "24"])
    assert code == 0, err
    assert "Paris" in out.getvalue() and out.getvalue().endswith("\n")
    assert len(out.writes) == 1
    # Streaming: forced with --stream, the default on a terminal.
    for extra, tty in ((["--stream"], False), ([], True)):
        code, streamed, _ = run_counted([str(smollm2_workspace), QUESTION, *GREEDY, "--max-tokens", "24", *extra],
                                        tty=tty)
        assert code == 0 and streamed.getvalue() == out.getvalue()
        assert len(streamed.writes) > 3


def test_json_envelope(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), "--prompt", QUESTION, *GREEDY, "--max-tokens", "24", "--json"])
    assert result.code == 0, result
    doc = result.json()
    assert doc["status"] == "success" and doc["command"] == "run"
    data = doc["data"]
    assert data["model"] == str(smollm2_workspace)
    assert data["prompt"] == QUESTION
    assert "Paris" in data["response"]
    assert data["reasoning"] is None
    assert data["finish_reason"] == "stop"
    assert data["usage"]["prompt_tokens"] > 10 and data["usage"]["completion_tokens"] > 3
    assert set(data["timing"]) - {"cpu"} == {"load_s", "ttft_s", "prompt_tps", "generation_tps"}  # cpu: on a CPU
    assert all(v > 0 for k, v in data["timing"].items() if k != "cpu")


def test_ndjson_deltas_then_result(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), QUESTION, *GREEDY, "--max-tokens", "24", "--ndjson"])
    assert result.code == 0, result
    events = result.ndjson()
    assert [e["event"] for e in events[:-1]] == ["delta"] * (len(events) - 1) and len(events) > 3
    assert events[-1]["event"] == "result"
    assert "".join(e["text"] for e in events[:-1]) == events[-1]["response"]


def test_pipe_mode_reads_stdin_and_appends_the_words(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), "-", "Answer", "briefly.", *GREEDY, "--max-tokens", "16",
                           "--json"], stdin="What is the capital of France?\n")
    assert result.code == 0, result
    data = result.json()["data"]
    assert data["prompt"] == "What is the capital of France?\n\nAnswer briefly."
    assert "Paris" in data["response"]


def test_same_seed_same_text(inproc, smollm2_workspace):
    argv = [str(smollm2_workspace), "Tell me a story.", "--temperature", "1.3", "--max-tokens", "10", "--json"]
    first = inproc(main, [*argv, "--seed", "7"]).json()["data"]["response"]
    again = inproc(main, [*argv, "--seed", "7"]).json()["data"]["response"]
    assert first and first == again


def test_stop_string_while_streaming(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), QUESTION, *GREEDY, "--max-tokens", "24", "--stream",
                           "--stop", "s Pari", "--stop", "never-there"])
    assert result.code == 0, result
    assert result.stdout == "The capital of France i\n"


def test_max_tokens_cut_is_noted(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), QUESTION, *GREEDY, "--max-tokens", "3", "--json"])
    data = result.json()["data"]
    assert data["finish_reason"] == "length" and data["usage"]["completion_tokens"] == 3
    assert "hit the token limit (3 tokens, set by --max-tokens)" in result.stderr
    # MLXK2_MAX_TOKENS is the default for --max-tokens; --verbose prints timing.
    result = inproc(main, [str(smollm2_workspace), QUESTION, *GREEDY, "--verbose"],
                    environ=base_env(MLXK2_MAX_TOKENS="2"))
    assert result.code == 0 and len(result.stdout.split()) <= 2
    assert "hit the token limit (2 tokens" in result.stderr and "tokens/s" in result.stderr


def test_cached_name_resolves(inproc, smollm2_hf_home):
    result = inproc(main, ["SmolLM2", QUESTION, *GREEDY, "--max-tokens", "2", "--json"],
                    environ=base_env(HF_HOME=str(smollm2_hf_home)))
    assert result.code == 0, result
    assert result.json()["data"]["model"] == "mlx-community/SmolLM2-135M-Instruct-Q4"


def test_model_references_from_stdin(inproc, smollm2_workspace, smollm2_hf_home):
    refs = f"{smollm2_workspace}\n" + '{"name": "SmolLM2"}\n' + "no-such-model\n"
    result = inproc(main, ["--model", "-", QUESTION, *GREEDY, "--max-tokens", "2", "--ndjson"], stdin=refs,
                    environ=base_env(HF_HOME=str(smollm2_hf_home)))
    assert result.code == 1  # one reference did not resolve
    lines = [r for r in result.ndjson() if r["event"] != "delta"]
    assert [(r["event"], r["index"], r["line"]) for r in lines] == [("result", 0, 1), ("result", 1, 2), ("error", 2, 3)]
    assert lines[0]["model"] == str(smollm2_workspace)
    assert lines[1]["model"] == "mlx-community/SmolLM2-135M-Instruct-Q4"
    assert lines[0]["response"] == lines[1]["response"] and lines[0]["response"]
    assert lines[2]["error"]["type"] == "model_not_found"


def test_thinking_template_reasoning_is_separate(inproc, thinking_workspace):
    argv = [str(thinking_workspace), QUESTION, *GREEDY, "--max-tokens", "6", "--json"]
    on = inproc(main, [*argv, "--chat-template-arg", "enable_thinking=true"]).json()["data"]
    assert on["reasoning"] and on["response"] == ""
    hidden = inproc(main, [*argv, "--chat-template-arg", "enable_thinking=true", "--hide-reasoning"]).json()["data"]
    assert hidden["reasoning"] is None
    off = inproc(main, [*argv, "--chat-template-arg", "enable_thinking=false"]).json()["data"]
    assert off["reasoning"] is None and off["response"]
    human = inproc(main, [*argv[:-1], "--chat-template-arg", "enable_thinking=true"])
    assert human.stdout == "<think>\n" + on["reasoning"] + "\n</think>\n"


def test_closed_stdout_ends_quietly(smollm2_workspace):
    proc = subprocess.Popen([executable("mlx-run"), str(smollm2_workspace), "Count from 1 to 100.", *GREEDY,
                             "--max-tokens", "200", "--stream"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
    first = proc.stdout.read(4)
    assert first
    proc.stdout.close()  # like `| head -c 4`
    code = proc.wait(timeout=300)
    stderr = proc.stderr.read().decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr
