"""Name validation and resolution: every rule of mlxk_common/inventory/names.py, in order."""

from __future__ import annotations

import os

import pytest

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.names import is_repo_id, resolve, validate_reference, validate_repo_id
from mlxk_common.inventory.store import Store

A, B, C = "a" * 40, "abc1" + "0" * 36, "abc2" + "0" * 36


def error_of(ref, store) -> MlxkError:
    with pytest.raises(MlxkError) as info:
        resolve(ref, store)
    return info.value


@pytest.fixture
def store(cache_home):
    """mlx-community/Qwen3-4B (+ its -Instruct sibling), Qwen/Qwen3-4B, org/multi
    with two revisions whose hashes share a prefix, and a workspace home."""
    cache_home.add("mlx-community/Qwen3-4B", commit=A)
    cache_home.add("mlx-community/Qwen3-4B-Instruct")
    cache_home.add("Qwen/Qwen3-4B")
    cache_home.add("org/multi", commit=B)
    cache_home.add_revision("org/multi", C, ref="pr/1")
    cache_home.workspace("my-ws")
    cache_home.workspace("Qwen3-4B-ws")
    return Store(str(cache_home.hub), str(cache_home.workspaces))


# -- validation -------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["", "   ", "a\x00b", "org/na\nme", "x" * 97, "org/../etc", "x/..//y",
                                 "a/b/c", "org\\name"])
def test_invalid_references(ref):
    with pytest.raises(MlxkError) as info:
        validate_reference(ref)
    assert info.value.type == "invalid_reference"


def test_paths_are_valid_references():
    for ref in ("..", ".", "../x/../y", "/" + "p" * 200):
        assert validate_reference(ref) == ref


def test_length_limit_is_96():
    assert validate_reference("o/" + "x" * 94) == "o/" + "x" * 94
    with pytest.raises(MlxkError):
        validate_reference("o/" + "x" * 95)


@pytest.mark.parametrize("name, ok", [
    ("mlx-community/Qwen3-4B", True), ("org/name.v2_b", True), ("org/name", True),
    ("name", False), ("/abs/x", False), ("org/", False), ("../x", False), ("org/..", False),
    ("org/.hidden", False), ("-org/x", False), ("a--b/c", False), ("org/x.", False), ("org/a..b", False),
    ("org/x/y", False), ("o/" + "x" * 95, False),
])
def test_repo_id_shape(name, ok):
    assert is_repo_id(name) is ok
    if ok:
        assert validate_repo_id(name) == name
    else:
        with pytest.raises(MlxkError) as info:
            validate_repo_id(name)
        assert info.value.type == "invalid_reference"


# -- resolution: the rules in order ------------------------------------------------------

def test_exact_org_name(store):
    r = resolve("Qwen/Qwen3-4B", store)
    assert (r.name, r.match, r.exact, r.is_cache) == ("Qwen/Qwen3-4B", "exact", True, True)
    assert r.revision.refs == ["main"]


def test_bare_name_expands_to_mlx_community(store):
    r = resolve("Qwen3-4B", store)  # also a substring of three others: the expansion wins
    assert (r.name, r.match, r.exact) == ("mlx-community/Qwen3-4B", "expanded", False)
    assert r.revision.hash == A


def test_workspace_home_name(store, cache_home):
    r = resolve("my-ws", store)
    assert (r.name, r.match, r.is_cache) == ("my-ws", "workspace", False)
    assert r.entry.path == str(cache_home.workspaces / "my-ws") and r.revision is None


def test_substring_is_case_insensitive(store):
    r = resolve("MULTI", store)
    assert (r.name, r.match, r.exact) == ("org/multi", "fuzzy", False)
    assert r.revision.hash == B  # refs/main


def test_ambiguous_names_list_sorted_candidates_from_cache_and_workspaces(store):
    error = error_of("qwen3", store)
    assert error.type == "ambiguous_match"
    assert error.details["candidates"] == ["Qwen/Qwen3-4B", "Qwen3-4B-ws", "mlx-community/Qwen3-4B",
                                           "mlx-community/Qwen3-4B-Instruct"]
    assert error.details["matches"] == error.details["candidates"]
    assert "matches 4 models" in error.message


def test_not_found(store):
    error = error_of("no-such-model", store)
    assert error.type == "model_not_found" and error.exit_code == 1


def test_hash_prefix_selects_a_revision(store):
    r = resolve("org/multi@abc2", store)
    assert (r.name, r.revision.hash, r.match) == ("org/multi", C, "exact")
    assert resolve("multi@ABC1", store).revision.hash == B
    assert resolve("org/multi@pr/1", store).revision.hash == C
    assert resolve("org/multi@main", store).revision.hash == B


def test_ambiguous_hash_prefix_lists_revisions(store):
    error = error_of("org/multi@abc", store)
    assert error.type == "ambiguous_match"
    assert error.details["candidates"] == [f"org/multi@{B}", f"org/multi@{C}"]
    assert "2 revisions" in error.message


def test_unknown_hash(store):
    error = error_of("org/multi@ffff", store)
    assert error.type == "hash_not_found"
    assert sorted(error.details["available_hashes"]) == [B[:7], C[:7]]


def test_hash_disambiguates_a_fuzzy_name(store):
    # "qwen3-4b" matches three cached models, but only one has revision aaaa…
    r = resolve("qwen3-4b@aaaa", store)
    assert (r.name, r.revision.hash, r.match) == ("mlx-community/Qwen3-4B", A, "fuzzy")


def test_bare_hash_searches_every_model(store):
    r = resolve("@aaaa", store)
    assert (r.name, r.revision.hash, r.match) == ("mlx-community/Qwen3-4B", A, "hash")
    assert error_of("@abc", store).details["candidates"] == [f"org/multi@{B}", f"org/multi@{C}"]
    assert error_of("@ffff", store).type == "hash_not_found"


def test_workspace_has_no_revisions(store):
    assert error_of("my-ws@abc", store).type == "invalid_reference"


@pytest.mark.parametrize("ref", ["org/multi@../../x", "org/multi@a b", "org/multi@"])
def test_bad_revisions(store, ref):
    assert error_of(ref, store).type == "invalid_reference"


# -- paths -------------------------------------------------------------------------

def test_explicit_paths_are_workspaces(store, cache_home, monkeypatch):
    monkeypatch.chdir(cache_home.workspaces)
    r = resolve("./my-ws", store)
    assert (r.name, r.match, r.exact, r.is_cache) == ("./my-ws", "path", True, False)
    assert resolve(str(cache_home.workspaces / "my-ws"), store).name == str(cache_home.workspaces / "my-ws")
    monkeypatch.chdir(cache_home.workspaces / "my-ws")
    assert resolve(".", store).entry.path == str(cache_home.workspaces / "my-ws")
    assert resolve("../my-ws/", store).name == "../my-ws"


def test_path_prefix_resolution(store, cache_home, monkeypatch):
    monkeypatch.chdir(cache_home.workspaces)
    assert resolve("./my-", store).name == "./my-ws"
    assert error_of("./nope-", store).type == "model_not_found"
    cache_home.workspace("my-other")
    error = error_of("./my-", store)
    assert error.type == "ambiguous_match" and error.details["candidates"] == ["./my-other", "./my-ws"]


def test_path_that_is_no_model_folder(store, cache_home, monkeypatch):
    monkeypatch.chdir(cache_home.root)
    assert "no config.json" in error_of("./workspaces", store).message
    (cache_home.root / "file.txt").write_text("x")
    assert error_of("./file.txt", store).type == "model_not_found"


def test_explicit_path_never_falls_back_to_the_cache(store, cache_home, monkeypatch):
    monkeypatch.chdir(cache_home.root)
    assert error_of("./Qwen3-4B", store).type == "model_not_found"


def test_names_cannot_reach_outside_the_cache(store, cache_home):
    # A model folder sitting next to the hub: no name may resolve to it.
    outside = cache_home.home / "models--evil--x"
    cache_home.workspace("x", parent=outside.parent)
    (cache_home.home / "x").rename(outside)
    for ref in ("../models--evil--x", "evil/x", "hub/../models--evil--x", "..%2fevil"):
        try:
            r = resolve(ref, store)
        except MlxkError as error:
            assert error.type in ("invalid_reference", "model_not_found"), ref
            continue
        # An explicit path is the user's own folder; anything else must be in the hub.
        assert ref.startswith("../") or os.path.realpath(r.entry.path).startswith(str(cache_home.hub)), ref


def test_ambiguity_is_stable_for_a_fresh_store(cache_home):
    for name in ("z-model", "a-model", "m-model"):
        cache_home.add(f"org/{name}")
    store = Store(str(cache_home.hub))
    assert error_of("model", store).details["candidates"] == ["org/a-model", "org/m-model", "org/z-model"]
