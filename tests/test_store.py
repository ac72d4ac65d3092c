"""The model store: cache scanning, revisions of record, sizes through
symlinks, broken entries, workspaces, sentinels and path patterns."""

from __future__ import annotations

import json
import os
import time

import pytest

from mlxk_common.inventory import store as st


def _blob_sizes(snapshot) -> int:
    return sum(os.stat(p).st_size for p in snapshot.rglob("*") if p.is_file())


def test_repo_names_round_trip():
    assert st.repo_folder_name("mlx-community/Qwen3-4B") == "models--mlx-community--Qwen3-4B"
    assert st.repo_id_from_folder("models--mlx-community--Qwen3-4B") == "mlx-community/Qwen3-4B"


def test_scan_cache_keeps_only_model_folders(cache_home):
    cache_home.add("org/b-model")
    cache_home.add("mlx-community/a-model")
    (cache_home.hub / "datasets--org--data").mkdir()
    (cache_home.hub / ".locks").mkdir()
    (cache_home.hub / "models--").mkdir()
    (cache_home.hub / "models--org--file").write_text("not a folder")
    (cache_home.hub / "version.txt").write_text("1")
    assert [r.repo_id for r in st.scan_cache(str(cache_home.hub))] == ["mlx-community/a-model", "org/b-model"]


def test_missing_or_unreadable_hub_is_an_empty_cache(tmp_path):
    assert st.scan_cache(str(tmp_path / "nope")) == []
    (tmp_path / "file").write_text("x")
    assert st.scan_cache(str(tmp_path / "file")) == []
    store = st.Store.from_environ({"HF_HOME": str(tmp_path / "absent")})
    assert store.hub == str(tmp_path / "absent" / "hub") and store.repos() == [] and store.home_workspaces() == []


def test_hf_hub_cache_overrides_hf_home(tmp_path):
    store = st.Store.from_environ({"HF_HOME": str(tmp_path / "a"), "HF_HUB_CACHE": str(tmp_path / "b")})
    assert store.hub == str(tmp_path / "b")


def test_revision_of_record_is_what_refs_main_names(cache_home):
    cache_home.add("org/m", commit="a" * 40)
    cache_home.add_revision("org/m", "b" * 40, ref="other")
    repo = st.cache_repo(str(cache_home.hub), "org/m")
    old = time.time() - 1000
    os.utime(repo.path + "/snapshots/" + "a" * 40, (old, old))
    repo = st.cache_repo(str(cache_home.hub), "org/m")
    assert [r.hash for r in repo.revisions] == ["b" * 40, "a" * 40]  # newest first
    assert repo.record().hash == "a" * 40  # refs/main wins over the newer snapshot
    assert repo.refs == {"main": "a" * 40, "other": "b" * 40}
    assert repo.record().refs == ["main"]


@pytest.mark.parametrize("main_ref", [None, "c" * 40, "garbage"])
def test_without_a_usable_main_ref_the_newest_snapshot_is_of_record(cache_home, main_ref):
    cache_home.add("org/m", commit="a" * 40)
    cache_home.add_revision("org/m", "b" * 40, ref="pr/1")
    repo_dir = cache_home.repo_dir("org/m")
    old = time.time() - 1000
    os.utime(repo_dir / "snapshots" / ("a" * 40), (old, old))
    if main_ref is None:
        (repo_dir / "refs" / "main").unlink()
    else:
        (repo_dir / "refs" / "main").write_text(main_ref)  # a snapshot that is gone, or junk
    repo = st.cache_repo(str(cache_home.hub), "org/m")
    assert repo.record().hash == "b" * 40
    assert repo.refs.get("pr/1") == "b" * 40
    assert repo.refs.get("main") == (main_ref if main_ref == "c" * 40 else None)


def test_repo_without_snapshots_has_no_record(cache_home):
    (cache_home.hub / "models--org--empty" / "blobs").mkdir(parents=True)
    repo = st.cache_repo(str(cache_home.hub), "org/empty")
    assert repo.revisions == [] and repo.record() is None and repo.refs == {}


def test_find_revisions_by_prefix_and_by_ref(cache_home):
    cache_home.add("org/m", commit="abc1" + "0" * 36)
    cache_home.add_revision("org/m", "abc2" + "0" * 36, ref="pr/7")
    repo = st.cache_repo(str(cache_home.hub), "org/m")
    assert [r.hash[:4] for r in repo.find_revisions("abc")] == ["abc1", "abc2"]
    assert [r.hash[:4] for r in repo.find_revisions("ABC2")] == ["abc2"]
    assert [r.hash[:4] for r in repo.find_revisions("pr/7")] == ["abc2"]
    assert [r.hash[:4] for r in repo.find_revisions("main")] == ["abc1"]
    assert repo.find_revisions("ffff") == []


def test_exact_repo_lookup_is_case_exact(cache_home):
    cache_home.add("Org/Model")
    assert st.cache_repo(str(cache_home.hub), "Org/Model").repo_id == "Org/Model"
    assert st.cache_repo(str(cache_home.hub), "org/model") is None


def test_sizes_follow_symlinks_into_blobs(cache_home):
    snapshot = cache_home.add("org/m")
    stats = st.tree_stats(str(snapshot), keep_files=True)
    assert stats.size == _blob_sizes(snapshot) > 5000
    assert stats.links == set(stats.files) and "model.safetensors" in stats.files
    assert stats.dangling == [] and stats.unreadable == []


def test_dangling_symlink_is_a_finding_not_a_crash(cache_home):
    snapshot = cache_home.add("org/m")
    weights = (snapshot / "model.safetensors").resolve()
    expected = _blob_sizes(snapshot) - weights.stat().st_size
    weights.unlink()
    stats = st.tree_stats(str(snapshot))
    assert stats.dangling == ["model.safetensors"] and stats.size == expected


def test_symlinked_folders_are_not_followed(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.bin").write_bytes(b"x" * 10)
    os.symlink("..", tmp_path / "m" / "loop")  # would recurse forever if followed
    os.symlink("/", tmp_path / "m" / "root")
    stats = st.tree_stats(str(tmp_path / "m"), keep_files=True)
    assert stats.size == 10 and set(stats.files) == {"a.bin"}


def test_unlistable_folder_is_reported(tmp_path):
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "m" / "sub" / "x").write_bytes(b"12345")
    os.chmod(tmp_path / "m" / "sub", 0)
    try:
        stats = st.tree_stats(str(tmp_path / "m"))
        if os.geteuid() == 0:  # root reads anyway
            assert stats.size == 5
        else:
            assert stats.unreadable == ["sub"] and stats.size == 0
    finally:
        os.chmod(tmp_path / "m" / "sub", 0o755)


def test_snapshot_blobs_maps_files_to_their_blobs(cache_home):
    snapshot = cache_home.add("org/m")
    (snapshot / "stray.txt").write_text("not a link")
    os.symlink("/etc/hostname", snapshot / "outside")
    blobs = st.snapshot_blobs(str(snapshot))
    assert set(blobs) == {"README.md", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}
    for name, blob in blobs.items():
        assert (snapshot / name).resolve() == cache_home.repo_dir("org/m") / "blobs" / blob


# -- workspaces ---------------------------------------------------------------

def test_workspace_home_lists_model_folders_only(cache_home):
    cache_home.workspace("b-ws")
    cache_home.workspace("a-ws")
    (cache_home.workspaces / "not-a-model").mkdir()
    (cache_home.workspaces / ".hidden").mkdir()
    (cache_home.workspaces / ".hidden" / "config.json").write_text("{}")
    found = st.scan_workspace_home(str(cache_home.workspaces))
    assert [w.name for w in found] == ["a-ws", "b-ws"]
    assert found[0].path == str(cache_home.workspaces / "a-ws")


def test_unmanaged_workspace_has_unknown_clean_state(cache_home):
    ws = st.Workspace(str(cache_home.workspace("plain")), "plain")
    assert ws.sentinel is None and ws.managed is False and ws.clean() is None
    assert st.content_hash(ws.sentinel) is None


def test_managed_workspace_clean_until_files_change(cache_home):
    folder = cache_home.workspace("managed", managed=True)

    def state():
        return st.Workspace(str(folder), "managed").clean()

    ws = st.Workspace(str(folder), "managed")
    assert ws.managed and ws.sentinel["source_repo"] == "org/source"
    assert ws.clean() is True
    assert st.content_hash(ws.sentinel).startswith("sha256:")
    # Touched but identical: the hash comparison keeps it clean.
    later = time.time() + 5
    os.utime(folder / "config.json", (later, later))
    assert state() is True
    # Same size, other content.
    data = (folder / "config.json").read_bytes()
    (folder / "config.json").write_bytes(data.replace(b"llama", b"LLAMA"))
    os.utime(folder / "config.json", (later, later))
    assert state() is False
    (folder / "config.json").write_bytes(data)
    assert state() is True
    (folder / "extra.txt").write_text("new")
    assert state() is False
    (folder / "extra.txt").unlink()
    (folder / "README.md").unlink()
    assert state() is False


def test_corrupt_sentinel_reads_as_none(cache_home):
    folder = cache_home.workspace("odd")
    (folder / st.SENTINEL_NAME).write_text("[1, 2]")
    assert st.Workspace(str(folder), "odd").sentinel is None
    (folder / st.SENTINEL_NAME).write_text("{not json")
    assert st.Workspace(str(folder), "odd").clean() is None
    (folder / st.SENTINEL_NAME).write_text(json.dumps({"managed": True, "files": "nope"}))
    ws = st.Workspace(str(folder), "odd")
    assert ws.managed and ws.clean() is None


# -- path patterns --------------------------------------------------------------

@pytest.fixture
def folder_of_workspaces(cache_home, monkeypatch):
    parent = cache_home.root / "here"
    for name in ("gemma-2b", "gemma-7b", "llama-1b"):
        cache_home.workspace(name, parent=parent)
    (parent / "gemma-notes").mkdir()
    monkeypatch.chdir(parent)
    return parent


@pytest.mark.parametrize("pattern, names", [
    (".", ["./gemma-2b", "./gemma-7b", "./llama-1b"]),
    ("./", ["./gemma-2b", "./gemma-7b", "./llama-1b"]),
    ("./gemma-", ["./gemma-2b", "./gemma-7b"]),
    ("./llama-1b", ["./llama-1b"]),
    ("./llama-1b/", ["./llama-1b"]),
    ("../here/gemma-7", ["../here/gemma-7b"]),
    ("./nothing-", []),
    ("./gemma-notes", []),
])
def test_path_patterns_mirror_the_input_style(folder_of_workspaces, pattern, names):
    found = st.match_path_pattern(pattern)
    assert [w.name for w in found] == names
    for ws in found:
        assert os.path.isabs(ws.path) and os.path.isfile(os.path.join(ws.path, "config.json"))


def test_absolute_patterns_stay_absolute(folder_of_workspaces):
    parent = str(folder_of_workspaces)
    assert [w.name for w in st.match_path_pattern(parent + "/gemma-")] == [parent + "/gemma-2b", parent + "/gemma-7b"]
    assert [w.name for w in st.match_path_pattern(parent)] == [parent + "/" + n for n in ("gemma-2b", "gemma-7b",
                                                                                          "llama-1b")]


def test_explicit_paths():
    for ref in (".", "..", "~", "./x", "../x", "/x", "~/x"):
        assert st.is_explicit_path(ref), ref
    for ref in ("x", "org/x", "x/./y", ".x", "..x"):
        assert not st.is_explicit_path(ref), ref
