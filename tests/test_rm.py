"""mlxk-rm: whole models, single revisions (shared blobs kept), confirmation
rules, locks, workspaces refused, dry runs, stdin references and real
pipelines, and that nothing outside the cache is ever touched."""

from __future__ import annotations

import fcntl
import io
import os
import subprocess

import pytest

from mlxk_bin.rm import main
from fixtures.tooling import executable
from mlxk_common.iox import IOEnv

A, B = "a" * 40, "b" * 40


def tree(path) -> list[str]:
    """Everything below ``path`` (links not followed), to prove nothing changed."""
    found = []
    for folder, dirs, files in os.walk(path):
        found += [os.path.relpath(os.path.join(folder, n), path) for n in dirs + files]
    return sorted(found)


def on_a_terminal(argv, environ, answer: str):
    """Run in-process with stdin a terminal on which the user types ``answer``."""
    out, err = io.StringIO(), io.StringIO()
    env = IOEnv(stdin=io.StringIO(answer), stdout=out, stderr=err, environ=environ, stdin_isatty=True,
                stdout_isatty=True, stderr_isatty=True)
    return main(argv, env), out.getvalue(), err.getvalue()


@pytest.fixture
def two_revisions(cache_home):
    """org/multi: revision A (refs/main) and B (refs/pr/1); they share all blobs but config.json."""
    cache_home.add("org/multi", commit=A)
    cache_home.add_revision("org/multi", B, ref="pr/1")
    return cache_home


def blob_names(cache_home, repo_id) -> set[str]:
    return set(os.listdir(cache_home.repo_dir(repo_id) / "blobs"))


# -- whole models and confirmation --------------------------------------------------

def test_no_terminal_and_no_force_deletes_nothing(inproc, two_revisions):
    before = tree(two_revisions.hub)
    result = inproc(main, ["org/multi"], environ=two_revisions.env)
    assert result.code == 1 and "without confirmation" in result.stderr and "--force" in result.stderr
    assert tree(two_revisions.hub) == before
    doc = inproc(main, ["org/multi", "--json"], environ=two_revisions.env).json()
    assert doc["error"]["type"] == "confirmation_required"


def test_force_deletes_every_revision(inproc, two_revisions):
    repo = two_revisions.repo_dir("org/multi")
    size = sum(p.stat().st_size for p in (repo / "blobs").iterdir()) + sum(
        p.stat().st_size for p in (repo / "refs").rglob("*") if p.is_file())
    result = inproc(main, ["org/multi", "--force", "--json"], environ=two_revisions.env)
    assert result.code == 0, result
    data = result.json()["data"]
    assert (data["model"], data["action"], data["scope"], data["match"]) == ("org/multi", "deleted", "model", "exact")
    assert sorted(data["revisions"]) == [A, B] and data["freed_bytes"] == size and data["count"] == 1
    assert not repo.exists() and os.listdir(two_revisions.hub) == []  # no trash left behind


def test_terminal_yes_deletes_and_no_keeps(two_revisions):
    code, out, err = on_a_terminal(["org/multi"], two_revisions.env, "n\n")
    assert code == 0 and err.endswith("? [y/N] ") and "Delete org/multi (all 2 revisions" in err
    assert out.startswith("Kept org/multi") and two_revisions.repo_dir("org/multi").exists()
    code, out, err = on_a_terminal(["org/multi"], two_revisions.env, "y\n")
    assert code == 0 and out.startswith("Deleted org/multi (all 2 revisions")
    assert not two_revisions.repo_dir("org/multi").exists()


def test_real_terminal_prompt(two_revisions):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(executable("mlxk-rm"), ["multi"], env=two_revisions.env, timeout=60, encoding="utf-8")
    child.expect_exact("'multi' matches org/multi. Delete org/multi (all 2 revisions")
    child.expect_exact("[y/N] ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and not two_revisions.repo_dir("org/multi").exists()


def test_fuzzy_match_needs_confirmation_or_force(inproc, cache_home):
    cache_home.add("org/some-model")
    result = inproc(main, ["some", "--json"], environ=cache_home.env)
    assert result.json()["error"]["type"] == "confirmation_required" and cache_home.repo_dir("org/some-model").exists()
    code, out, err = on_a_terminal(["some"], cache_home.env, "\n")  # Enter means no
    assert code == 0 and "'some' matches org/some-model." in err and cache_home.repo_dir("org/some-model").exists()
    data = inproc(main, ["some", "-f", "--json"], environ=cache_home.env).json()["data"]
    assert (data["model"], data["match"], data["action"]) == ("org/some-model", "fuzzy", "deleted")


def test_mlx_community_expansion_deletes_that_model_only(inproc, cache_home):
    cache_home.add("mlx-community/Tiny")
    cache_home.add("mlx-community/Tiny-Instruct")
    data = inproc(main, ["Tiny", "--force", "--json"], environ=cache_home.env).json()["data"]
    assert (data["model"], data["match"]) == ("mlx-community/Tiny", "expanded")
    assert os.listdir(cache_home.hub) == ["models--mlx-community--Tiny-Instruct"]


def test_ambiguous_and_missing(inproc, cache_home):
    cache_home.add("org/a-tiny")
    cache_home.add("org/b-tiny")
    doc = inproc(main, ["tiny", "-f", "--json"], environ=cache_home.env).json()
    assert doc["error"]["type"] == "ambiguous_match" and doc["error"]["candidates"] == ["org/a-tiny", "org/b-tiny"]
    assert inproc(main, ["nothing", "-f", "--json"], environ=cache_home.env).json()["error"]["type"] == "model_not_found"
    assert inproc(main, ["org/a-tiny@ffff", "-f", "--json"], environ=cache_home.env).json()["error"]["type"] == (
        "hash_not_found")
    assert len(os.listdir(cache_home.hub)) == 2


# -- single revisions -----------------------------------------------------------------

def test_revision_delete_keeps_shared_blobs_and_fixes_refs(inproc, two_revisions):
    hub = two_revisions.hub
    repo = two_revisions.repo_dir("org/multi")
    blobs_before = blob_names(two_revisions, "org/multi")
    config_blob_a = os.path.basename(os.readlink(repo / "snapshots" / A / "config.json"))
    config_size = (repo / "blobs" / config_blob_a).stat().st_size
    result = inproc(main, ["org/multi@aaaa", "--force", "--json"], environ=two_revisions.env)
    assert result.code == 0, result
    data = result.json()["data"]
    assert (data["scope"], data["hash"], data["refs_removed"], data["blobs"]) == ("revision", A, ["main"], 1)
    assert data["freed_bytes"] == config_size
    assert blob_names(two_revisions, "org/multi") == blobs_before - {config_blob_a}
    assert os.listdir(repo / "snapshots") == [B]
    assert not (repo / "refs" / "main").exists() and (repo / "refs" / "pr" / "1").read_text() == B
    # Every link of the remaining revision still resolves, and it is now the revision of record.
    assert all((repo / "snapshots" / B / name).resolve().exists() for name in os.listdir(repo / "snapshots" / B))
    from mlxk_bin.list import main as list_main

    model = inproc(list_main, ["--json"], environ=two_revisions.env).json()["data"]["models"][0]
    assert (model["hash"], model["health"]) == (B, "healthy")
    assert ".mlxk-trash" not in os.listdir(hub)


def test_revision_delete_leaves_a_cache_huggingface_hub_accepts(inproc, two_revisions):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    assert inproc(main, ["org/multi@bbbb", "-f"], environ=two_revisions.env).code == 0
    info = huggingface_hub.scan_cache_dir(two_revisions.hub)
    assert info.warnings == []
    (repo,) = info.repos
    assert [r.commit_hash for r in repo.revisions] == [A] and repo.refs.keys() == {"main"}


def test_freed_bytes_count_only_unshared_blobs(inproc, two_revisions):
    repo = two_revisions.repo_dir("org/multi")
    unique = (repo / "snapshots" / B / "config.json").resolve()
    data = inproc(main, ["org/multi@pr/1", "--dry-run", "--json"], environ=two_revisions.env).json()["data"]
    assert (data["action"], data["hash"], data["freed_bytes"]) == ("would_delete", B, unique.stat().st_size)


def test_last_revision_takes_the_model_with_it(inproc, cache_home):
    cache_home.add("org/single", commit=A)
    data = inproc(main, ["org/single@aaa", "-f", "--json"], environ=cache_home.env).json()["data"]
    assert data["scope"] == "model" and not cache_home.repo_dir("org/single").exists()


# -- dry runs, locks, workspaces ------------------------------------------------------------

def test_dry_run_changes_nothing(inproc, two_revisions):
    before = tree(two_revisions.hub)
    result = inproc(main, ["multi", "--dry-run"], environ=two_revisions.env)
    assert result.code == 0 and result.stdout.startswith("Would delete org/multi (all 2 revisions, ")
    assert A[:7] in result.stdout and B[:7] in result.stdout
    assert tree(two_revisions.hub) == before


def test_held_lock_refuses_unless_forced(inproc, two_revisions):
    lock = two_revisions.lock("org/multi", "abc.lock")
    with open(lock, "r+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # a download in progress
        doc = inproc(main, ["org/multi", "--json"], environ=two_revisions.env).json()
        assert doc["error"]["type"] == "locked"
        code, _, err = on_a_terminal(["org/multi"], two_revisions.env, "y\n")  # a yes does not override a lock
        assert code == 1 and "locked by another process" in err and "[y/N]" not in err
        assert doc["error"]["lock_files"] == [".locks/models--org--multi/abc.lock"]
        assert two_revisions.repo_dir("org/multi").exists()
        dry = inproc(main, ["org/multi", "-n"], environ=two_revisions.env)
        assert "[locked: .locks/models--org--multi/abc.lock]" in dry.stdout
        # forced: the model goes, the lock someone holds stays
        assert inproc(main, ["org/multi", "--force"], environ=two_revisions.env).code == 0
        assert not two_revisions.repo_dir("org/multi").exists() and lock.exists()


def test_stale_locks_are_cleaned(inproc, cache_home):
    cache_home.add("org/m")
    lock = cache_home.lock("org/m", "sub/x.lock")
    data = inproc(main, ["org/m", "-f", "--json"], environ=cache_home.env).json()["data"]
    assert data["lock_files_cleaned"] == 1 and not lock.exists()
    assert not (cache_home.hub / ".locks" / "models--org--m").exists()


def test_workspaces_are_refused_with_a_hint(inproc, cache_home, monkeypatch):
    folder = cache_home.workspace("my-ws")
    before = tree(folder)
    monkeypatch.chdir(cache_home.workspaces)
    for ref in ("./my-ws", "my-ws", str(folder)):
        result = inproc(main, [ref, "--force"], environ=cache_home.env)
        assert result.code == 1 and "not a cached model" in result.stderr, ref
        assert f"hint: delete the folder yourself: rm -r {folder}" in result.stderr
    assert inproc(main, ["my-ws", "-f", "--json"], environ=cache_home.env).json()["error"]["type"] == "not_cached"
    assert tree(folder) == before


# -- never outside the cache ----------------------------------------------------------

def test_symlinked_model_folder_is_not_followed(inproc, cache_home):
    elsewhere = cache_home.root / "elsewhere"
    snapshot = cache_home.add("org/real")
    os.rename(cache_home.repo_dir("org/real"), elsewhere)
    os.symlink(elsewhere, cache_home.repo_dir("org/linked"))
    before = tree(elsewhere)
    doc = inproc(main, ["org/linked", "-f", "--json"], environ=cache_home.env).json()
    assert doc["error"]["type"] == "cache_write_refused"
    assert tree(elsewhere) == before and snapshot.name in os.listdir(elsewhere / "snapshots")


def test_links_out_of_the_cache_are_removed_not_followed(inproc, two_revisions):
    outside = two_revisions.root / "precious.bin"
    outside.write_bytes(b"keep me")
    repo = two_revisions.repo_dir("org/multi")
    os.symlink(outside, repo / "snapshots" / B / "extra.bin")  # a snapshot file pointing out
    os.symlink(outside, repo / "blobs" / "linked-blob")
    os.symlink("../../blobs/linked-blob", repo / "snapshots" / B / "odd.bin")  # a blob that is a link
    assert inproc(main, ["org/multi@bbb", "-f"], environ=two_revisions.env).code == 0
    assert outside.read_bytes() == b"keep me" and not (repo / "blobs" / "linked-blob").is_symlink()
    assert inproc(main, ["org/multi", "-f"], environ=two_revisions.env).code == 0
    assert outside.read_bytes() == b"keep me"


def test_read_only_cache_is_permission_denied(cache_home):
    from fixtures.caches import as_unprivileged

    cache_home.add("org/a")
    before = tree(cache_home.hub)
    os.chmod(cache_home.hub, 0o555)
    try:
        proc = subprocess.run(as_unprivileged([executable("mlxk-rm"), "org/a", "--force", "--json"]),
                              capture_output=True, text=True, env=cache_home.env, timeout=60)
    finally:
        os.chmod(cache_home.hub, 0o755)
    assert proc.returncode == 1 and '"permission_denied"' in proc.stdout, proc
    assert tree(cache_home.hub) == before


def test_leftovers_of_a_killed_run_are_cleared(inproc, cache_home):
    cache_home.add("org/m")
    dead = cache_home.hub / ".mlxk-trash" / "999999999-xyz" / "repo"
    dead.mkdir(parents=True)
    (dead / "blob").write_bytes(b"x" * 100)
    alive = cache_home.hub / ".mlxk-trash" / f"{os.getppid()}-abc"  # a live process: not ours to clear
    alive.mkdir()
    assert inproc(main, ["org/m", "-f"], environ=cache_home.env).code == 0
    assert os.listdir(cache_home.hub / ".mlxk-trash") == [alive.name]


def snapshots_intact(repo) -> bool:
    """Every link of every remaining snapshot resolves; every ref names a snapshot."""
    snapshots = repo / "snapshots"
    for snapshot in (snapshots.iterdir() if snapshots.exists() else ()):
        if not all(p.exists() for p in snapshot.rglob("*")):
            return False
    refs = repo / "refs"
    return all((snapshots / p.read_text()).is_dir() for p in (refs.rglob("*") if refs.exists() else ()) if p.is_file())


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.15, 0.2, 0.3])
def test_killed_at_any_moment_the_cache_stays_consistent(two_revisions, delay):
    import signal
    import time

    repo = two_revisions.repo_dir("org/multi")
    proc = subprocess.Popen([executable("mlxk-rm"), "org/multi@bbb", "--force"], env=two_revisions.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert snapshots_intact(repo)
    assert (repo / "snapshots" / A).is_dir() and (repo / "refs" / "main").read_text() == A
    # The next run finishes the job (a killed run's trash is cleared) and leaves nothing behind.
    assert subprocess.run([executable("mlxk-rm"), "org/multi", "--force"], env=two_revisions.env,
                          capture_output=True, timeout=60).returncode == 0
    assert os.listdir(two_revisions.hub) == []


def test_missing_cache(inproc, tmp_path):
    from fixtures.tooling import base_env

    result = inproc(main, ["org/m", "-f", "--json"], environ=base_env(HF_HOME=tmp_path / "none"))
    assert result.code == 1 and result.json()["error"]["type"] == "model_not_found"
    assert not (tmp_path / "none").exists()


# -- several references, stdin, output modes ---------------------------------------------

def test_several_references_and_ndjson_events(inproc, cache_home):
    for name in ("a", "b"):
        cache_home.add(f"org/{name}")
    result = inproc(main, ["org/a", "org/missing", "org/b", "-f", "--ndjson"], environ=cache_home.env)
    assert result.code == 1
    events = result.ndjson()
    assert [e["event"] for e in events] == ["result", "error", "result"]
    assert events[0]["model"] == "org/a" and events[0]["action"] == "deleted"
    assert events[1]["error"]["type"] == "model_not_found"
    assert os.listdir(cache_home.hub) == []


def test_json_with_partial_failure(inproc, cache_home):
    cache_home.add("org/a")
    doc = inproc(main, ["org/a", "org/missing", "-f", "--json"], environ=cache_home.env).json()
    assert doc["status"] == "error" and doc["data"]["count"] == 1 and doc["data"]["results"][0]["model"] == "org/a"
    assert doc["error"]["errors"][0]["type"] == "model_not_found"


def test_stdin_without_force_is_refused(inproc, cache_home):
    cache_home.add("org/a")
    result = inproc(main, ["-"], stdin="org/a\n", environ=cache_home.env)
    assert result.code == 1 and "pass --force" in result.stderr and cache_home.repo_dir("org/a").exists()
    # not even a terminal may confirm: stdin holds the references
    out, err = io.StringIO(), io.StringIO()
    env = IOEnv(stdin=io.StringIO("org/a\n"), stdout=out, stderr=err, environ=cache_home.env, stdin_isatty=True)
    assert main(["-"], env) == 1 and cache_home.repo_dir("org/a").exists()


def test_stdin_records_from_list(inproc, cache_home):
    cache_home.add("org/a")
    cache_home.add("org/b")
    stdin = '{"name": "org/a", "hash": "ignored"}\n\norg/b\n{"oops": 1}\n'
    result = inproc(main, ["-", "--force", "--ndjson"], stdin=stdin, environ=cache_home.env)
    events = result.ndjson()
    assert [e["event"] for e in events] == ["result", "result", "error"] and result.code == 1
    assert events[2]["error"]["source"] == "stdin:4" and os.listdir(cache_home.hub) == []


def test_real_pipeline_from_list(cache_home):
    cache_home.add("org/healthy-one")
    cache_home.add("org/broken-one", kind="truncated")
    cache_home.add("org/broken-two", kind="no_weights")
    env = {k: v for k, v in cache_home.env.items() if k != "MLXK_WORKSPACE_HOME"}
    list_, rm = executable("mlxk-list"), executable("mlxk-rm")
    proc = subprocess.run(f"{list_} --ndjson | grep '\"unhealthy\"' | {rm} --force -", shell=True,
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    deleted = proc.stdout.splitlines()
    assert len(deleted) == 2 and all(line.startswith("Deleted org/broken-") for line in deleted), deleted
    assert os.listdir(cache_home.hub) == ["models--org--healthy-one"]
    proc = subprocess.run(f"{list_} --ndjson | {rm} --force --ndjson -", shell=True, capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0 and os.listdir(cache_home.hub) == []
    assert '"event":"result"' in proc.stdout.replace(" ", "")


def test_executable_refuses_without_terminal(cli, cache_home):
    cache_home.add("org/a")
    result = cli(["mlxk-rm", "org/a"], env=cache_home.env)
    assert result.code == 1 and cache_home.repo_dir("org/a").exists()
    assert cli(["mlxk-rm", "org/a", "--force"], env=cache_home.env).code == 0
    assert not cache_home.repo_dir("org/a").exists()
