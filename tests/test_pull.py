"""mlxk-pull against the test Hub: cache layout, resume, verification, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fixtures.hub import HUB_OTHER_TOKEN, HUB_TOKEN, run_hf_client
from fixtures.model_repo import BIG_SHARD, REPO_ID, safetensors_bytes, sha256_file, transfer_env
from fixtures.tooling import executable, run_cli, tool_process

MiB = 1 << 20


def pull(hub, hf_home, *args, token=HUB_TOKEN, **env):
    return run_cli(["mlxk-pull", *args], env=transfer_env(hub, hf_home, token, **env), timeout=120)


def repo_dir(hf_home: Path, repo_id: str = REPO_ID) -> Path:
    return Path(hf_home) / "hub" / ("models--" + repo_id.replace("/", "--"))


def layout(folder: Path) -> dict:
    """blobs (name -> sha256 of content), snapshot links (path -> target) and refs of a cached repo."""
    out = {}
    for sub in ("blobs", "snapshots", "refs"):
        for path in sorted((folder / sub).rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_file():
                out[rel] = ("file", sha256_file(path))
    return out


def blob_for(model_repo, rel: str) -> str:
    return model_repo["files"][rel]["etag"]


def spawn_pull(hub, hf_home, *args, token=HUB_TOKEN):
    return tool_process(["mlxk-pull", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                        env=transfer_env(hub, hf_home, token))


def wait_for_progress(proc, path: str, at_least: int) -> dict:
    """Read NDJSON lines until ``path`` has ``at_least`` bytes on disk."""
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("event") == "progress" and event["file"] == path and event["bytes"] >= at_least:
            return event
        assert event.get("event") == "progress", event
    raise AssertionError(f"the pull ended before {path} reached {at_least} bytes: {proc.stderr.read()}")


def kept_bytes(folder: Path, model_repo) -> int:
    """Bytes a new run need not fetch: finished blobs and partial files."""
    blobs, total = folder / "blobs", 0
    for meta in model_repo["files"].values():
        if (blobs / meta["etag"]).exists():
            total += meta["size"]
        else:
            total += sum(p.stat().st_size for p in blobs.glob(f"{meta['etag']}*.incomplete"))
    return total


def test_pull_lays_out_the_cache_like_snapshot_download(hub, model_repo, tmp_path):
    res = pull(hub, tmp_path / "mine", REPO_ID, "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["download_status"] == "success"
    assert data["hash"] == model_repo["commit"]
    assert data["files"] == len(model_repo["files"])
    assert data["downloaded_bytes"] == sum(f["size"] for f in model_repo["files"].values())
    assert data["health"] == "healthy", data["reason"]

    theirs = tmp_path / "theirs"
    run_hf_client(hub, theirs, f"""
        from huggingface_hub import snapshot_download
        print(json.dumps(snapshot_download({REPO_ID!r})))
    """, token=HUB_TOKEN)
    ours = layout(repo_dir(tmp_path / "mine"))
    assert ours == layout(repo_dir(theirs))
    assert ours[f"snapshots/{model_repo['commit']}/extra/notes.txt"][0] == "link"
    assert (repo_dir(tmp_path / "mine") / "refs" / "main").read_text() == model_repo["commit"]
    # The cache is sacred: nothing but this repo's folder and its locks.
    assert sorted(p.name for p in (tmp_path / "mine" / "hub").iterdir()) == [".locks", "models--acme--model"]
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["hub"]
    assert not list(repo_dir(tmp_path / "mine").rglob("*.incomplete"))


def test_complete_model_is_already_exists_without_downloading(hub, model_repo, tmp_path):
    assert pull(hub, tmp_path, REPO_ID).code == 0
    hub.stats.reset()
    res = pull(hub, tmp_path, REPO_ID, "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert data["download_status"] == "already_exists"
    assert data["downloaded_bytes"] == 0
    assert hub.stats.bytes_sent == 0


def test_ndjson_progress_events_and_result(hub, model_repo, tmp_path):
    res = pull(hub, tmp_path, REPO_ID, "--ndjson")
    assert res.code == 0, res
    events = res.ndjson()
    assert events[-1]["event"] == "result" and events[-1]["download_status"] == "success"
    progress = [e for e in events[:-1]]
    assert all(e["event"] == "progress" and set(e) == {"event", "file", "bytes", "total"} for e in progress)
    final = {e["file"]: e for e in progress if e["bytes"] == e["total"]}
    assert set(final) == set(model_repo["files"])
    assert final[BIG_SHARD]["total"] == model_repo["files"][BIG_SHARD]["size"]


def test_sigkill_then_rerun_fetches_only_missing_bytes(hub, model_repo, tmp_path):
    hub.throttle_bps = 40 * MiB
    proc = spawn_pull(hub, tmp_path, REPO_ID, "--ndjson")
    try:
        wait_for_progress(proc, BIG_SHARD, 12 * MiB)
    finally:
        proc.kill()  # SIGKILL: no cleanup code runs
        proc.wait()
    folder = repo_dir(tmp_path)
    partial = folder / "blobs" / (blob_for(model_repo, BIG_SHARD) + ".incomplete")
    assert partial.stat().st_size >= 12 * MiB
    kept = kept_bytes(folder, model_repo)
    total = sum(f["size"] for f in model_repo["files"].values())

    hub.reset()
    res = pull(hub, tmp_path, REPO_ID, "--json")
    assert res.code == 0, res
    data = res.json()["data"]
    assert hub.stats.bytes_sent == total - kept  # the server's counter: only the missing bytes
    assert data["downloaded_bytes"] == total - kept
    assert data["resumed_bytes"] >= 12 * MiB
    ranges = [r["range"] for r in hub.requests if r["range"]]
    assert any(r.startswith("bytes=") and int(r[6:].split("-")[0]) >= 12 * MiB for r in ranges), ranges
    blob = folder / "blobs" / blob_for(model_repo, BIG_SHARD)
    assert sha256_file(blob) == blob_for(model_repo, BIG_SHARD)
    assert data["health"] == "healthy"


def test_dropped_connection_resumes_in_process(hub, model_repo, tmp_path):
    hub.drop_after_bytes(BIG_SHARD, 20 * MiB)
    res = pull(hub, tmp_path, REPO_ID, "--json")
    assert res.code == 0, res
    size = model_repo["files"][BIG_SHARD]["size"]
    assert hub.stats.file_bytes(REPO_ID, BIG_SHARD) == size  # 20 MiB, then exactly the rest
    assert any(r["range"] == f"bytes={20 * MiB}-" for r in hub.requests)
    blob = repo_dir(tmp_path) / "blobs" / blob_for(model_repo, BIG_SHARD)
    assert sha256_file(blob) == model_repo["files"][BIG_SHARD]["sha256"]


def test_ctrl_c_stops_promptly_and_keeps_partials(hub, model_repo, tmp_path):
    """Ctrl-C does not wait for running downloads: the throttled 52 MiB shard
    would need ~13 s more.  (Typically ~0.1 s; the bound is loose because CI
    machines are noisy, bench/pull_speed.py is where speed is measured.)"""
    hub.throttle_bps = 4 * MiB
    proc = spawn_pull(hub, tmp_path, REPO_ID, "--ndjson")
    try:
        wait_for_progress(proc, BIG_SHARD, 1)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert elapsed < 5.0, f"took {elapsed:.2f}s to stop"
    last = json.loads(proc.stdout.read().strip().splitlines()[-1])
    assert last["event"] == "error" and last["error"]["type"] == "interrupted"
    partial = repo_dir(tmp_path) / "blobs" / (blob_for(model_repo, BIG_SHARD) + ".incomplete")
    assert partial.stat().st_size > 0


@pytest.mark.parametrize("flags, expected", [
    (["--include", "*.json", "--include", "extra/"],
     {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json", "extra/notes.txt"}),
    (["--exclude", "*.safetensors", "--exclude", "README.md"],
     {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors.index.json", "extra/notes.txt"}),
    (["--include", "*.safetensors", "--exclude", "model-00001*"], {"model-00002-of-00002.safetensors"}),
])
def test_include_and_exclude(hub, model_repo, tmp_path, flags, expected):
    res = pull(hub, tmp_path, REPO_ID, *flags, "--json")
    assert res.code == 0, res
    snapshot = repo_dir(tmp_path) / "snapshots" / model_repo["commit"]
    got = {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if not p.is_dir()}
    assert got == expected
    assert hub.stats.bytes_sent == sum(model_repo["files"][p]["size"] for p in expected)


def test_no_file_matches_the_filters(hub, model_repo, tmp_path):
    res = pull(hub, tmp_path, REPO_ID, "--include", "*.gguf")
    assert res.code == 2 and "--include" in res.stderr


@pytest.fixture(scope="module")
def revisions(hub_server):
    """acme/revs: v1 (tagged), then main with a new config, and a dev branch."""
    weights = safetensors_bytes("w", os.urandom(200_000))
    c1 = hub_server.add_repo("acme", "revs", {"config.json": b'{"v": 1}', "w.safetensors": weights}, tags=["v1"])
    c2 = hub_server.add_repo("acme", "revs", {"config.json": b'{"v": 2}', "w.safetensors": weights})
    c3 = hub_server.add_repo("acme", "revs", {"config.json": b'{"v": 3}', "w.safetensors": weights}, branch="dev")
    return {"c1": c1, "c2": c2, "c3": c3, "weights": len(weights)}


def test_revision_pinning_branches_and_tags(hub, revisions, tmp_path):
    folder = repo_dir(tmp_path, "acme/revs")
    res = pull(hub, tmp_path, f"acme/revs@{revisions['c1']}", "--json")
    assert res.code == 0, res
    assert res.json()["data"]["hash"] == revisions["c1"]
    assert (folder / "snapshots" / revisions["c1"] / "config.json").read_bytes() == b'{"v": 1}'
    assert not (folder / "refs").exists()  # a commit is not a ref

    hub.stats.reset()
    res = pull(hub, tmp_path, "acme/revs@v1", "--json")
    assert res.json()["data"]["download_status"] == "already_exists"
    assert (folder / "refs" / "v1").read_text() == revisions["c1"]
    assert hub.stats.bytes_sent == 0

    res = pull(hub, tmp_path, "acme/revs", "--json")
    assert res.json()["data"]["hash"] == revisions["c2"]
    assert (folder / "refs" / "main").read_text() == revisions["c2"]
    assert hub.stats.bytes_sent == len(b'{"v": 2}')  # the weights blob is shared with v1

    res = pull(hub, tmp_path, "acme/revs@dev", "--json")
    assert res.code == 0, res
    assert (folder / "refs" / "dev").read_text() == revisions["c3"]
    assert (folder / "snapshots" / revisions["c3"] / "config.json").read_bytes() == b'{"v": 3}'

    res = pull(hub, tmp_path, "acme/revs@nope", "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "repo_not_found"


def test_corrupted_bytes_are_detected_and_deleted(hub, tmp_path):
    weights = safetensors_bytes("w", os.urandom(2 * MiB))
    hub.add_repo("acme", "corrupt", {"config.json": b'{"model_type": "llama"}', "w.safetensors": weights})
    hub.corrupt("w.safetensors")
    res = pull(hub, tmp_path, "acme/corrupt", "--json")
    assert res.code == 1
    error = res.json()["error"]
    assert error["type"] == "download_failed" and error["reason"] == "checksum_mismatch"
    assert error["file"] == "w.safetensors"
    blobs = repo_dir(tmp_path, "acme/corrupt") / "blobs"
    assert not list(blobs.glob(f"{error['expected']}*"))  # neither a blob nor a partial is kept
    hub.reset_hooks()
    assert pull(hub, tmp_path, "acme/corrupt").code == 0


def test_unknown_repo_and_private_and_gated(hub, tmp_path):
    res = pull(hub, tmp_path, "acme/does-not-exist", "--json")
    assert res.code == 1 and res.json()["error"]["type"] == "repo_not_found"

    hub.add_repo("acme", "secret", {"config.json": b"{}"}, private=True)
    res = pull(hub, tmp_path, "acme/secret", "--json", token=None)
    assert res.code == 1
    assert res.json()["error"]["type"] == "repo_not_found" and "HF_TOKEN" in res.json()["error"]["message"]
    assert pull(hub, tmp_path, "acme/secret", token=HUB_TOKEN).code == 0

    hub.add_repo("acme", "gated", {"config.json": b"{}"})
    hub.set_gated("acme/gated", granted_tokens=[HUB_TOKEN])
    for token in (None, HUB_OTHER_TOKEN):
        res = pull(hub, tmp_path, "acme/gated", "--json", token=token)
        assert res.code == 1 and res.json()["error"]["type"] == "access_denied", res
        assert "gated" in res.json()["error"]["message"]
    assert pull(hub, tmp_path, "acme/gated", token=HUB_TOKEN).code == 0


def test_bad_token_is_refused_and_never_printed(hub, model_repo, tmp_path):
    bogus = "hf_not_a_valid_token_123"
    for mode in ("--json", "--ndjson", "--log-level=debug"):
        res = pull(hub, tmp_path, REPO_ID, mode, token=bogus)
        assert res.code == 1, res
        assert bogus not in res.stdout + res.stderr
        assert "access_denied" in res.stdout or "refused" in res.stderr
    res = run_cli(["mlxk-pull", REPO_ID, "--token", "secret-flag-token", "--json"],
                  env=transfer_env(hub, tmp_path, None))
    assert res.code == 1 and "secret-flag-token" not in res.stdout + res.stderr


def test_network_failures_are_retried_then_reported(hub, model_repo, tmp_path):
    hub.fail_next(2, 503, path="/api/models/*")
    hub.fail_next(2, 502, path=f"/{REPO_ID}/resolve/*")
    res = pull(hub, tmp_path / "a", REPO_ID, "--json")
    assert res.code == 0, res

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    env = transfer_env(hub, tmp_path / "b", HUB_TOKEN, HF_ENDPOINT=f"http://127.0.0.1:{closed}")
    res = run_cli(["mlxk-pull", REPO_ID, "--retries", "1", "--json"], env=env)
    assert res.code == 1 and res.json()["error"]["type"] == "network_error", res


def test_cdn_redirect_gets_no_token(hub, model_repo, tmp_path):
    hub.cdn_redirect = "lfs"
    res = pull(hub, tmp_path, REPO_ID, "--json")
    assert res.code == 0, res
    cdn = [r for r in hub.requests if r["path"].startswith("/cdn/")]
    assert cdn and not any(r["auth"] for r in cdn)
    assert all(r["auth"] for r in hub.requests if "/resolve/" in r["path"])


def test_orphans_of_other_tools_are_adopted_or_cleaned(hub, model_repo, tmp_path):
    blobs = repo_dir(tmp_path) / "blobs"
    blobs.mkdir(parents=True)
    etag = blob_for(model_repo, BIG_SHARD)
    prefix = model_repo["source"][BIG_SHARD].read_bytes()[:10 * MiB]
    (blobs / f"{etag}.0123abcd.incomplete").write_bytes(prefix)  # huggingface_hub's partial name
    stale = blobs / f"{'ab' * 32}.deadbeef.incomplete"
    stale.write_bytes(b"left by a killed hf download")
    res = pull(hub, tmp_path, REPO_ID, "--json")
    assert res.code == 0, res
    assert hub.stats.file_bytes(REPO_ID, BIG_SHARD) == model_repo["files"][BIG_SHARD]["size"] - 10 * MiB
    assert res.json()["data"]["orphans_cleaned"] == 1
    assert not list(blobs.glob("*.incomplete"))


def test_full_disk_is_a_clear_error_and_the_partial_is_kept(hub, model_repo, tmp_path):
    import resource

    limit = 16 * MiB

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([executable("mlxk-pull"), REPO_ID, "--json"], capture_output=True, text=True,
                          env=transfer_env(hub, tmp_path, HUB_TOKEN), preexec_fn=small_disk, timeout=120)
    assert proc.returncode == 1, proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["type"] == "download_failed" and error["reason"] == "disk_full"
    assert "free some space" in error["message"]
    partial = repo_dir(tmp_path) / "blobs" / (blob_for(model_repo, BIG_SHARD) + ".incomplete")
    assert partial.stat().st_size == limit
    kept = kept_bytes(repo_dir(tmp_path), model_repo)
    hub.stats.reset()
    assert pull(hub, tmp_path, REPO_ID).code == 0
    assert hub.stats.bytes_sent == sum(f["size"] for f in model_repo["files"].values()) - kept


def test_resume_prompt_on_a_terminal(hub, model_repo, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    blobs = repo_dir(tmp_path) / "blobs"
    blobs.mkdir(parents=True)
    partial = blobs / (blob_for(model_repo, BIG_SHARD) + ".incomplete")
    partial.write_bytes(model_repo["source"][BIG_SHARD].read_bytes()[:5 * MiB])
    env = transfer_env(hub, tmp_path, HUB_TOKEN)

    child = pexpect.spawn(executable("mlxk-pull"), [REPO_ID], env=env, timeout=60, encoding="utf-8")
    child.expect(r"partially downloaded .* Resume\? \[Y/n\]")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert partial.stat().st_size == 5 * MiB

    child = pexpect.spawn(executable("mlxk-pull"), [REPO_ID], env=env, timeout=60, encoding="utf-8")
    child.expect(r"Resume\? \[Y/n\]")
    child.sendline("y")
    child.expect(r"pulled acme/model")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert hub.stats.file_bytes(REPO_ID, BIG_SHARD) == model_repo["files"][BIG_SHARD]["size"] - 5 * MiB


def test_force_resume_does_not_ask(hub, model_repo, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    blobs = repo_dir(tmp_path) / "blobs"
    blobs.mkdir(parents=True)
    (blobs / (blob_for(model_repo, "config.json") + ".incomplete")).write_bytes(b"{")
    child = pexpect.spawn(executable("mlxk-pull"), [REPO_ID, "--force-resume"],
                          env=transfer_env(hub, tmp_path, HUB_TOKEN), timeout=60, encoding="utf-8")
    index = child.expect([r"Resume\?", r"pulled acme/model"])
    child.expect(pexpect.EOF)
    child.close()
    assert index == 1 and child.exitstatus == 0


def test_invalid_names_are_refused_before_any_request(hub, tmp_path):
    for name in ("../etc/passwd", "a/b/c", "acme/x@../../escape", "acme/" + "x" * 100):
        res = pull(hub, tmp_path, name, "--json")
        assert res.code != 0 and res.json()["error"]["type"] in ("invalid_reference", "usage_error"), (name, res)
    assert hub.requests == []


def test_concurrent_hf_download_shares_the_cache_safely(hub, model_repo, tmp_path):
    """Both take huggingface_hub's per-blob lock: every file crosses the wire once and
    both tools end with the same, verified cache."""
    hub.throttle_bps = 30 * MiB
    stock = subprocess.Popen([executable("hf"), "download", REPO_ID], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=hub.client_env(tmp_path, token=HUB_TOKEN))
    deadline = time.monotonic() + 60
    while hub.stats.file_bytes(REPO_ID, BIG_SHARD) < MiB and time.monotonic() < deadline:
        time.sleep(0.01)  # start while huggingface_hub is in the middle of the big file
    ours = pull(hub, tmp_path, REPO_ID, "--json")
    assert stock.wait(timeout=120) == 0, stock.stderr.read()
    assert ours.code == 0, ours
    assert hub.stats.bytes_sent == sum(f["size"] for f in model_repo["files"].values())
    assert ours.json()["data"]["reused_files"] >= 1  # at least the big file came from the other tool
    folder = repo_dir(tmp_path)
    for rel, meta in model_repo["files"].items():
        link = folder / "snapshots" / model_repo["commit"] / rel
        assert sha256_file(link) == meta["sha256"], rel
    assert not list(folder.rglob("*.incomplete"))


def test_new_revision_sharing_blobs_is_not_a_partial_download(hub, revisions, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    assert pull(hub, tmp_path, "acme/revs@v1").code == 0
    child = pexpect.spawn(executable("mlxk-pull"), ["acme/revs@dev"], env=transfer_env(hub, tmp_path, HUB_TOKEN),
                          timeout=60, encoding="utf-8")
    index = child.expect([r"Resume\?", r"pulled acme/revs"])
    child.expect(pexpect.EOF)
    child.close()
    assert index == 1 and child.exitstatus == 0


def test_several_models_and_stdin_references(hub, model_repo, revisions, tmp_path):
    env = transfer_env(hub, tmp_path, HUB_TOKEN)
    res = run_cli(["mlxk-pull", REPO_ID, "acme/missing", "acme/revs", "--json"], env=env)
    assert res.code == 1, res
    doc = res.json()
    assert [r["model"] for r in doc["data"]["results"]] == [REPO_ID, "acme/revs"]
    failure = doc["error"]["errors"][0]
    assert failure["type"] == "repo_not_found" and failure["input"] == "acme/missing"

    lines = '{"name": "acme/revs@v1"}\nnot a valid name!\nacme/model\n'
    res = run_cli(["mlxk-pull", "-", "--ndjson"], stdin=lines, env=env)
    assert res.code == 1, res
    events = [e for e in res.ndjson() if e["event"] != "progress"]
    assert [e["event"] for e in events] == ["result", "error", "result"]
    assert events[0]["hash"] == revisions["c1"] and events[0]["downloaded_bytes"] == len(b'{"v": 1}')
    assert events[1]["error"]["type"] == "invalid_reference" and events[1]["error"]["input"] == "not a valid name!"
