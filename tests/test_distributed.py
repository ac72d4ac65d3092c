"""mlx-run --ranks/--hosts: one model across several ranks on MLX's ring backend over 127.0.0.1.

The checks before launch run in-process and fast; everything that starts
ranks is slow (real processes through mlx.launch, real MLX, real models):
the machine has few cores, so ranks, prompts and answers are kept small.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from fixtures.tooling import base_env, default_sigint, executable

from mlxk_bin.run import main

QUESTION = "What is the capital of France?"
GREEDY = ["--temperature", "0"]


def run_json(argv, **env):
    result = _run(["mlx-run", *map(str, argv), "--json"], **env)
    doc = json.loads(result.stdout) if result.stdout.strip() else None
    return result, doc


def _run(argv, timeout=600, **env):
    return subprocess.run([executable(argv[0]), *argv[1:]], check=False, capture_output=True, text=True, timeout=timeout,
                          env=base_env(**env), stdin=subprocess.DEVNULL)


# -- refused before anything starts ----------------------------------------------------

def test_two_ranks_cannot_split_smollm2_and_say_which_can(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), QUESTION, "--ranks", "2", "--json"])
    assert result.code == 1
    error = result.json()["error"]
    assert error["type"] == "capability_not_supported"
    assert error["valid_tensor_ranks"] == [3] and error["pipeline"] is False
    assert "9 attention heads do not divide by 2" in error["message"]
    assert "works with 3 ranks" in error["message"]


def test_pipeline_refused_for_an_architecture_without_it(inproc, smollm2_workspace):
    result = inproc(main, [str(smollm2_workspace), QUESTION, "--ranks", "3", "--shard", "pipeline"])
    assert result.code == 1
    assert "no pipeline support" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("argv, why", [
    (["--ranks", "5", "--shard", "pipeline"], "in pipeline mode across 5 ranks: it has 4 layers, fewer than 5 ranks"),
    (["--ranks", "3", "--shard", "tensor"], "its 4 attention heads do not divide by 3; tensor parallel works with 2 ranks"),
])
def test_a_qwen2_split_that_cannot_work_says_why(inproc, tiny_qwen2, argv, why):
    result = inproc(main, [str(tiny_qwen2()), "Hi", *argv, "--json"])
    assert result.code == 1, result
    assert why in result.json()["error"]["message"]


@pytest.mark.parametrize("content, why", [
    ("not json", "not JSON"),
    ('{"hosts": [{"ssh": "a", "ips": ["10.0.0.1"]}]}', "one host"),
    ('{"hosts": [{"ssh": "a"}, {"ssh": "b"}]}', "needs its IP address"),
    ('{"backend": "carrier-pigeon", "hosts": [{"ssh": "a", "ips": ["1.2.3.4"]}, {"ssh": "b", "ips": ["1.2.3.5"]}]}',
     "unknown backend"),
])
def test_bad_hostfile_is_a_usage_error(inproc, smollm2_workspace, tmp_path, content, why):
    hosts = tmp_path / "hosts.json"
    hosts.write_text(content)
    result = inproc(main, [str(smollm2_workspace), QUESTION, "--hosts", str(hosts), "--json"])
    assert result.code == 2, result
    error = result.json()["error"]
    assert error["type"] == "usage_error" and why in error["message"]


@pytest.mark.parametrize("argv, why", [
    (["--ranks", "3", "--chat"], "--chat does not run distributed"),
    (["--ranks", "3", "--ndjson-in"], "--ndjson-in does not run distributed"),
    (["--shard", "tensor", QUESTION], "go with --ranks"),
    (["--ranks", "1", QUESTION], "between 2 and 64"),
])
def test_flags_that_do_not_go_together(inproc, smollm2_workspace, argv, why):
    result = inproc(main, [str(smollm2_workspace), *argv, "--json"])
    assert result.code == 2, result
    assert why in result.json()["error"]["message"]


def test_show_says_how_a_model_can_be_split(inproc, smollm2_workspace):
    from mlxk_bin.show import main as show

    result = inproc(show, [str(smollm2_workspace), "--json"])
    assert result.code == 0, result
    assert result.json()["data"]["split"] == {"tensor": True, "pipeline": False, "tensor_ranks": [3]}
    human = inproc(show, [str(smollm2_workspace)])
    assert "Split: tensor parallel on 3 ranks; pipeline no" in human.stdout


def test_list_says_how_models_can_be_split(inproc, smollm2_workspace, tiny_qwen2):
    from mlxk_bin.list import main as list_models

    qwen2 = tiny_qwen2()
    result = inproc(list_models, [str(smollm2_workspace), "--json"])
    assert result.code == 0, result
    assert [m["split"] for m in result.json()["data"]["models"]] == [
        {"tensor": True, "pipeline": False, "tensor_ranks": [3]}]
    qwen = inproc(list_models, [str(qwen2), "--json"]).json()["data"]["models"][0]["split"]
    assert qwen == {"tensor": True, "pipeline": True, "tensor_ranks": [2]}  # 2 key/value heads
    human = inproc(list_models, [str(smollm2_workspace), "--verbose"])
    assert "Split" in human.stdout.splitlines()[0] and "tensor 3" in human.stdout


# -- real ranks -----------------------------------------------------------------------

@pytest.mark.slow
def test_three_ranks_tensor_parallel_give_the_single_process_answer(smollm2_workspace):
    argv = [smollm2_workspace, QUESTION, *GREEDY, "--max-tokens", "8"]
    single, one = run_json(argv)
    assert single.returncode == 0, single.stderr
    split, three = run_json([*argv, "--ranks", "3"])
    assert split.returncode == 0, split.stderr
    assert three["data"]["response"] == one["data"]["response"] and "Paris" in one["data"]["response"]
    assert three["data"]["distributed"] == {"ranks": 3, "backend": "ring", "mode": "tensor", "cast": None}
    assert "distributed" not in one["data"]
    assert "[ring]" not in split.stderr  # the backend's chatter stays out of the user's way


@pytest.mark.slow
@pytest.mark.parametrize("mixed", [False, True], ids=["uniform", "mixed-dtypes"])
def test_two_ranks_pipeline_give_the_single_process_answer(tiny_qwen2, mixed):
    """A qwen2-typed model pipelines; mixed float32/float16 weights (NaN in a pipeline
    when left as they are) are cast to float16 first, and say so.  The mixed model's
    float32 norms hold exact float16 values: cast, it is the uniform model, whose
    single-process answer is the reference."""
    options = ["Hello there", *GREEDY, "--max-tokens", "6"]
    single, one = run_json([tiny_qwen2(mixed=False), *options])
    assert single.returncode == 0, single.stderr
    split, two = run_json([tiny_qwen2(mixed=mixed), *options, "--ranks", "2", "--shard", "pipeline", "--verbose"])
    assert split.returncode == 0, split.stderr
    assert two["data"]["response"] == one["data"]["response"]
    # --verbose: each rank's load time, and what the network costs a token.
    assert "rank 1 (" in split.stderr and "its part loaded in" in split.stderr, split.stderr
    assert "network: one all-reduce of a token's hidden state takes" in split.stderr
    assert "a token needs 2 hand-overs and gathers" in split.stderr
    assert two["data"]["distributed"] == {"ranks": 2, "backend": "ring", "mode": "pipeline",
                                          "cast": "float16" if mixed else None}


def _children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        todo += kids
    return found


def _rank_pids(pid: int) -> dict[int, int]:
    ranks = {}
    for child in _children(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"mlxk_bin.run.rank" not in f.read():
                    continue
            with open(f"/proc/{child}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
            ranks[int(env[b"MLX_RANK"])] = child
        except (OSError, KeyError, ValueError):
            continue
    return ranks


@pytest.mark.slow
def test_a_killed_rank_ends_the_run_everywhere(smollm2_workspace):
    proc = subprocess.Popen([executable("mlx-run"), str(smollm2_workspace), "Count from one to a thousand.",
                             *GREEDY, "--max-tokens", "2000", "--stream", "--ranks", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env(), text=True)
    try:
        first = proc.stdout.read(1)  # rank 0 is generating: every rank is busy in its collectives
        assert first, proc.stderr.read()
        ranks = _rank_pids(proc.pid)
        assert sorted(ranks) == [0, 1, 2]
        os.kill(ranks[1], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert "error: rank 1 on" in err and "was killed (SIGKILL)" in err, err
    assert "Traceback" not in err
    time.sleep(0.5)
    assert not any(_live(pid) for pid in ranks.values())


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_mlx_run_stops_every_rank(tiny_qwen2, sig):
    proc = subprocess.Popen([executable("mlx-run"), str(tiny_qwen2()), "Hello", *GREEDY, "--max-tokens", "100000",
                             "--stream", "--ranks", "2", "--shard", "pipeline"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env(), text=True,
                            preexec_fn=default_sigint)  # noqa: PLW1509 - before any thread
    try:
        assert proc.stdout.read(1), proc.stderr.read()
        ranks = _rank_pids(proc.pid)
        assert sorted(ranks) == [0, 1]
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    assert not any(_live(pid) for pid in ranks.values())


def _live(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_a_host_that_never_comes_ends_the_run_with_a_clear_error(smollm2_workspace, tmp_path):
    """Rank 1's host does not answer (a TEST-NET address): no hang, one error naming it."""
    hosts = tmp_path / "hosts.json"
    hosts.write_text(json.dumps({"backend": "ring", "hosts": [
        {"ssh": "127.0.0.1", "ips": ["127.0.0.1"]},
        {"ssh": "192.0.2.1", "ips": ["192.0.2.1"]},
        {"ssh": "127.0.0.1", "ips": ["127.0.0.1"]}]}))
    start = time.monotonic()
    result, doc = run_json([smollm2_workspace, QUESTION, *GREEDY, "--max-tokens", "4", "--hosts", hosts,
                            "--peer-timeout", "20"], timeout=120)
    assert result.returncode == 1, result.stderr
    error = doc["error"]
    assert error["type"] in ("peer_timeout", "rank_failed"), error
    assert "192.0.2.1" in error["message"] or error.get("hosts") == ["192.0.2.1"], error
    assert time.monotonic() - start < 90


def _rank_alone(model, job_changes, tmp_path, ranks=2):
    """Start only rank 0 of a job, as mlx.launch would (MLX_HOSTFILE, MLX_RANK, the job on stdin)."""
    from mlxk_common.engine.distributed import fingerprint
    from mlxk_common.engine.launcher import free_ports

    port = free_ports(ranks)
    ring = tmp_path / "ring.json"
    ring.write_text(json.dumps([[f"127.0.0.1:{port + i}"] for i in range(ranks)]))
    job = {"argv": [str(model), QUESTION, *GREEDY, "--max-tokens", "4"], "prompt": QUESTION, "ranks": ranks,
           "backend": "ring", "mode": "tensor", "cast": None, "fingerprint": fingerprint(str(model)),
           "peer_timeout": 3, "stdout_isatty": False, "stderr_isatty": False, **job_changes}
    env = base_env(MLX_HOSTFILE=ring, MLX_RANK=0)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "mlxk_bin.run.rank"], input=json.dumps(job) + "\n", check=False,
                          capture_output=True, text=True, env=env, timeout=120)
    return proc, time.monotonic() - start


@pytest.mark.slow
def test_a_rank_whose_peer_never_starts_gives_up(smollm2_workspace, tmp_path):
    """Without the launcher watching, a lone rank still ends: the start-up timeout
    (plus its margin) stops the wait inside MLX's connect."""
    proc, took = _rank_alone(smollm2_workspace, {"ranks": 3}, tmp_path, ranks=3)
    assert proc.returncode != 0
    assert "ready" not in proc.stderr
    assert took < 60


@pytest.mark.slow
def test_a_different_model_revision_is_refused_before_loading(smollm2_workspace, tmp_path):
    proc, _ = _rank_alone(smollm2_workspace, {"fingerprint": "0" * 16, "peer_timeout": 30}, tmp_path, ranks=3)
    assert proc.returncode == 1
    status = json.loads(proc.stderr[proc.stderr.index("\x1fmlxk-rank ") + 11:].splitlines()[0])
    assert status["event"] == "exit" and status["error"]["type"] == "model_mismatch"
    assert "different revision" in status["error"]["message"] and status["error"]["host"]
