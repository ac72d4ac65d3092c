"""mlx-run chat: history across turns, commands, and a real terminal (pty)
with Ctrl-C during an answer."""

import pexpect
import pytest

from mlxk_bin.run import main
from fixtures.tooling import base_env, default_sigint, executable

pytestmark = pytest.mark.slow

GREEDY = ["--temperature", "0"]


def test_second_turn_depends_on_the_first(inproc, smollm2_workspace):
    turns = "What is the capital of France?\nWhat is the population of that city?\n"
    result = inproc(main, [str(smollm2_workspace), "--chat", *GREEDY, "--max-tokens", "16"], stdin=turns)
    assert result.code == 0, result
    first, second = result.stdout.splitlines()
    assert "Paris" in first
    # "that city" only means Paris because the first exchange is in the prompt.
    assert "Paris" in second


def test_commands(inproc, smollm2_workspace):
    turns = "/system Answer in one word.\n/clear\n/nonsense\n/help\n/exit\nnever read\n"
    result = inproc(main, [str(smollm2_workspace), "-c"], stdin=turns)
    assert result.code == 0, result
    assert result.stdout == ""
    assert "system prompt set" in result.stderr
    assert "conversation cleared" in result.stderr
    assert "unknown command /nonsense" in result.stderr
    assert "/clear" in result.stderr  # the help text


def spawn_chat(model):
    child = pexpect.spawn(executable("mlx-run"), [str(model), *GREEDY, "--max-tokens", "300"],
                          env={**base_env(), "TERM": "dumb"}, encoding="utf-8", timeout=180,
                          preexec_fn=default_sigint)  # Ctrl-C must arrive under nohup too
    child.expect("chatting with")
    child.expect_exact(">>> ")
    return child


def test_terminal_chat_ctrl_c_stops_the_answer_and_keeps_the_session(smollm2_workspace):
    child = spawn_chat(smollm2_workspace)
    child.sendline("Count from 1 to 200, one number per line.")
    child.expect(r"\b4\b")  # the answer is streaming: the count has reached 4 (it goes on to 20 or more)
    child.sendintr()
    child.expect("answer stopped")
    child.expect_exact(">>> ")  # the session goes on
    child.sendline("What is the capital of France?")
    child.expect("Paris")
    child.expect_exact(">>> ")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_terminal_chat_ctrl_d_leaves(smollm2_workspace):
    child = spawn_chat(smollm2_workspace)
    child.sendintr()  # Ctrl-C at the prompt: a fresh prompt, not an exit
    child.expect_exact(">>> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
