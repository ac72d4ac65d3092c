"""A conversion's target is complete or absent: staging folders, interrupted
runs (SIGTERM, SIGKILL), stale partial folders, and targets in the cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from fixtures.cachebuild import lay_into_cache
from fixtures.tooling import base_env, run_inprocess, tool_process
from mlxk_bin.convert import main as convert_main
from mlxk_common.inventory.atomic import clean_stale_partials, staging_folder
from mlxk_common.errors import MlxkError


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# -- staging_folder --------------------------------------------------------------

def test_success_renames_into_place(tmp_path):
    with staging_folder(tmp_path / "a" / "out", {}) as tmp:
        assert tmp.parent == tmp_path / "a" and tmp.name.startswith(".out.partial-")
        (tmp / "f").write_text("x")
    assert _names(tmp_path / "a") == ["out"] and (tmp_path / "a" / "out" / "f").read_text() == "x"


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_leaves_nothing(exc, tmp_path):
    (tmp_path / "out").mkdir()  # an empty target folder is allowed and stays
    with pytest.raises(type(exc)):
        with staging_folder(tmp_path / "out", {}) as tmp:
            (tmp / "f").write_text("x")
            raise exc
    assert _names(tmp_path) == ["out"] and _names(tmp_path / "out") == []


def test_target_must_be_free(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("mine")
    (tmp_path / "file").write_text("x")
    for dest in (tmp_path / "out", tmp_path / "file"):
        with pytest.raises(MlxkError) as err:
            with staging_folder(dest, {}):
                pass
        assert err.value.type == "target_exists"
    assert _names(tmp_path) == ["file", "out"]


def test_target_filled_meanwhile_is_not_overwritten(tmp_path):
    with pytest.raises(MlxkError) as err:
        with staging_folder(tmp_path / "out", {}) as tmp:
            (tmp / "f").write_text("ours")
            (tmp_path / "out").mkdir()
            (tmp_path / "out" / "g").write_text("theirs")
    assert err.value.type == "target_exists"
    assert _names(tmp_path) == ["out"] and _names(tmp_path / "out") == ["g"]


def test_cache_targets_are_refused(tmp_path):
    home, hub = tmp_path / "hf", tmp_path / "elsewhere" / "hub"
    hub.mkdir(parents=True)
    (tmp_path / "link").symlink_to(hub)
    cases = [({"HF_HOME": str(home)}, home / "x"), ({"HF_HOME": str(home)}, home / "hub" / "models--a--b"),
             ({"HF_HUB_CACHE": str(hub)}, hub / "x"), ({"HF_HUB_CACHE": str(hub)}, tmp_path / "link" / "x")]
    for environ, dest in cases:
        with pytest.raises(MlxkError) as err:
            with staging_folder(dest, environ):
                pass
        assert err.value.type == "cache_write_refused", dest
    assert not home.exists() and _names(hub) == []


def test_stale_partials_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / f".out.partial-{_dead_pid()}-0123abcd"
    live = tmp_path / f".out.partial-{os.getppid()}-0123abcd"
    other = tmp_path / f".other.partial-{_dead_pid()}-0123abcd"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    assert clean_stale_partials(tmp_path / "out") == [dead.name]
    assert _names(tmp_path) == sorted([live.name, other.name])


# -- the command -----------------------------------------------------------------

def test_cli_refuses_a_target_in_the_cache(smollm2_workspace, tmp_path):
    home = tmp_path / "hf"
    lay_into_cache(home / "hub", "mlx-community/SmolLM2-135M-Instruct-Q4", smollm2_workspace)
    before = sorted(str(p) for p in home.rglob("*"))
    environ = base_env(HF_HOME=home)
    for dest in (home / "hub" / "mine", home / "workspaces" / "mine"):
        result = run_inprocess(convert_main, ["mlx-community/SmolLM2-135M-Instruct-Q4", str(dest), "--quantize", "8",
                                              "--json"], environ=environ)
        assert result.code == 1
        assert result.json()["error"]["type"] == "cache_write_refused"
    assert sorted(str(p) for p in home.rglob("*")) == before


def _start(args: list, **popen) -> subprocess.Popen:
    return tool_process(["mlxk-convert", *args, "--ndjson"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        env=base_env(), **popen)


def _signal_mid_way(proc: subprocess.Popen, sig: int) -> list[dict]:
    """Read events until the first converted batch, then signal: the process
    is then in the middle of converting, with its staging folder written to."""
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1].get("stage") == "convert":
            proc.send_signal(sig)
            break
    events += [json.loads(line) for line in proc.stdout.read().splitlines()]
    proc.wait(timeout=60)
    return events


def test_sigterm_mid_way_leaves_nothing(smollm2_f16, tmp_path):
    proc = _start([smollm2_f16, tmp_path / "out", "--quantize", "8"])
    events = _signal_mid_way(proc, signal.SIGTERM)
    assert proc.returncode == 130, proc.stderr.read()
    assert events[-1] == {"event": "error", "error": {"type": "interrupted", "message": "interrupted"}}
    assert events[-2]["stage"] == "convert" and events[-2]["done"] < events[-2]["total"]
    assert _names(tmp_path) == []


def test_sigkill_mid_way_leaves_no_target_and_the_next_run_cleans_up(smollm2_f16, tiny_q4, tmp_path):
    proc = _start([smollm2_f16, tmp_path / "out", "--quantize", "8"])
    events = _signal_mid_way(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert events[-1]["event"] == "progress"  # no result, no error: it died
    leftovers = _names(tmp_path)
    assert leftovers == [n for n in leftovers if n.startswith(f".out.partial-{proc.pid}-")] and len(leftovers) == 1
    assert not (tmp_path / leftovers[0] / "config.json").exists()  # it died before writing the config
    # the next run for the same target removes it (its process is gone) and succeeds
    result = run_inprocess(convert_main, [str(tiny_q4), str(tmp_path / "out"), "--dequantize", "--json"])
    assert result.code == 0, result
    assert _names(tmp_path) == ["out"]


def test_gguf_from_a_cached_repo(tmp_path):
    from fixtures.tiny_gguf import write_tiny_llama

    repo = tmp_path / "repo"
    repo.mkdir()
    write_tiny_llama(repo / "tiny.Q8_0.gguf", "Q8_0")
    write_tiny_llama(repo / "tiny.Q4_0.gguf", "Q4_0")
    home = tmp_path / "hf"
    snapshot = lay_into_cache(home / "hub", "someone/Tiny-GGUF", repo)
    environ = base_env(HF_HOME=home)

    result = run_inprocess(convert_main, ["someone/Tiny-GGUF", str(tmp_path / "a"), "--from-gguf", "--json"],
                           environ=environ)
    assert result.code == 1 and result.json()["error"]["type"] == "ambiguous_match"
    assert result.json()["error"]["candidates"] == ["tiny.Q4_0.gguf", "tiny.Q8_0.gguf"]

    result = run_inprocess(convert_main, ["Tiny-GGUF", str(tmp_path / "a"), "--from-gguf", "--file", "tiny.Q8_0.gguf",
                                          "--json"], environ=environ)
    assert result.code == 0, result
    data = result.json()["data"]
    assert data["source"] == "someone/Tiny-GGUF/tiny.Q8_0.gguf" and data["health"] == "healthy"
    assert data["quantization"]["bits"] == 8
    sentinel = json.loads((tmp_path / "a" / ".mlxk_workspace.json").read_text())
    assert (sentinel["operation"], sentinel["source_repo"], sentinel["source_revision"]) == (
        "convert-from-gguf", "someone/Tiny-GGUF", snapshot.name)
    # a path to the file works as before, and a quantize mode on a GGUF repo points to --from-gguf
    result = run_inprocess(convert_main, [str(snapshot / "tiny.Q4_0.gguf"), str(tmp_path / "b"), "--from-gguf"],
                           environ=environ)
    assert result.code == 0, result
    result = run_inprocess(convert_main, ["someone/Tiny-GGUF", str(tmp_path / "c"), "--quantize", "4", "--json"],
                           environ=environ)
    assert result.code == 1 and "--from-gguf" in result.json()["error"]["hint"]
