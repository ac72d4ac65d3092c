"""The test cache builder lays models out as huggingface_hub itself reads them."""

from __future__ import annotations

import hashlib
import os

from fixtures.cachebuild import git_blob_sha1, lay_into_cache
from fixtures.smollm2 import SMOLLM2_REPO_ID


def test_layout_matches_huggingface_hub(smollm2_hf_home, smollm2_workspace):
    from huggingface_hub import scan_cache_dir, try_to_load_from_cache

    hub = smollm2_hf_home / "hub"
    repo = hub / "models--mlx-community--SmolLM2-135M-Instruct-Q4"
    commit = (repo / "refs" / "main").read_text()
    assert len(commit) == 40 and not commit.endswith("\n")
    snapshot = repo / "snapshots" / commit
    names = sorted(p.name for p in snapshot.iterdir())
    assert ".mlxk_workspace.json" not in names and "model.safetensors" in names and "config.json" in names
    for name in names:
        link = snapshot / name
        assert link.is_symlink() and os.readlink(link).startswith("../../blobs/")
        assert link.read_bytes() == (smollm2_workspace / name).read_bytes()
    weights = (snapshot / "model.safetensors").resolve()
    assert weights.name == hashlib.sha256(weights.read_bytes()).hexdigest()  # LFS: sha256
    config = (snapshot / "config.json").resolve()
    assert config.name == git_blob_sha1(config.read_bytes())  # plain git file: blob sha1

    info = scan_cache_dir(hub)
    assert info.warnings == []
    (cached,) = info.repos
    assert cached.repo_id == SMOLLM2_REPO_ID and set(cached.refs) == {"main"}
    (revision,) = cached.revisions
    assert revision.commit_hash == commit and {f.file_name for f in revision.files} == set(names)
    found = try_to_load_from_cache(SMOLLM2_REPO_ID, "config.json", cache_dir=hub)
    assert found is not None and os.path.samefile(found, snapshot / "config.json")


def test_second_revision_shares_blobs(tmp_path, smollm2_workspace):
    hub = tmp_path / "hub"
    first = lay_into_cache(hub, "org/tiny", smollm2_workspace)
    second = lay_into_cache(hub, "org/tiny", smollm2_workspace, commit="a" * 40)
    repo = hub / "models--org--tiny"
    assert first.name != second.name and (repo / "refs" / "main").read_text() == "a" * 40
    assert len(list((repo / "blobs").iterdir())) == len(list(first.iterdir()))
    assert (first / "model.safetensors").resolve() == (second / "model.safetensors").resolve()
