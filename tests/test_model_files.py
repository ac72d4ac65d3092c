"""One walk serves the size, the integrity rules and the runtime check: the
shared listing (ModelFiles) must answer exactly as the disk does, and the
rules must come out the same with or without it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fixtures.oddcaches import ODDITIES, SHARDED_ODDITIES, write_safetensors

from mlxk_common.inventory import rawio
from mlxk_common.inventory.health import check_integrity, model_health
from mlxk_common.inventory.model_files import ModelFiles
from mlxk_common.inventory.runtime import check_runtime
from mlxk_common.inventory.safetensors_header import read_header
from mlxk_common.inventory.store import tree_stats

ALL_KINDS = ["healthy", "sharded", *sorted(ODDITIES), *sorted(SHARDED_ODDITIES)]


def _odd_entries(folder: Path) -> Path:
    """Entries a plain model folder rarely has: a sub-folder with files, a
    symlinked folder, a dangling link, a folder named like a weight file."""
    (folder / "sub").mkdir()
    (folder / "sub" / "x.gguf").write_bytes(b"GGUF" + bytes(20))
    (folder / "sub" / "a.partial").write_bytes(b"x")
    os.symlink("sub", folder / "linked")
    os.symlink("nowhere", folder / "gone.bin")
    (folder / "dir.safetensors").mkdir()
    (folder / "video_preprocessor_config.json").mkdir()
    return folder


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_shared_listing_gives_the_same_verdicts(odd_model, kind):
    folder = odd_model(kind)
    stats = tree_stats(str(folder), keep_files=True)
    alone = model_health(folder)
    shared = model_health(folder, stats=stats)
    assert shared == alone
    assert check_integrity(folder, files=ModelFiles(folder, stats)).reasons == check_integrity(folder).reasons
    assert alone["integrity_reasons"] == check_integrity(folder).reasons


def test_odd_entries_same_verdicts_and_listing(odd_model):
    folder = _odd_entries(odd_model("healthy"))
    files = ModelFiles(folder)
    listed = sorted(os.listdir(folder))
    assert files.top_names("") == listed
    assert files.top_names(".safetensors") == sorted(n for n in listed if n.endswith(".safetensors"))
    # What a recursive glob finds (symlinked folders are not entered).
    assert files.any_name("", ".gguf") == bool(list(folder.glob("**/*.gguf"))) is True
    assert files.any_name("", ".partial") is True and files.any_name("nope", "") is False
    for name in (*listed, "config.json", "CONFIG.JSON", "missing.json", "sub/x.gguf", "Sub/X.gguf"):
        assert files.is_file(name) == (folder / name).is_file(), name
        assert files.exists(name) == (folder / name).exists(), name
    assert files.dangling == {"gone.bin"} and "sub/a.partial" in files.files
    assert model_health(folder) == model_health(folder, stats=tree_stats(str(folder), keep_files=True))
    reasons = check_integrity(folder).reasons
    assert any("Dangling symlinks (missing blobs): gone.bin" in r for r in reasons)
    assert any("sub/a.partial" in r for r in reasons)


def test_reads_once_and_reports_errors_as_open_would(odd_model):
    folder = odd_model("healthy")
    files = ModelFiles(folder)
    config = files.json("config.json")
    assert config[1] is None and config[0]["model_type"] == "llama"
    assert files.json("config.json")[0] is config[0]  # kept, not read again
    assert files.read("missing.json") is None
    assert isinstance(files.read_error("missing.json"), FileNotFoundError)
    (folder / "dir.json").mkdir()
    files = ModelFiles(folder)
    assert files.json("dir.json") == (None, "unreadable (Is a directory)")
    (folder / "bad.json").write_text("{")
    assert ModelFiles(folder).json("bad.json") == (None, "invalid JSON")
    assert files.head("tokenizer.json", 1) == b"{"
    assert files.head("model.safetensors", 8) == (folder / "model.safetensors").read_bytes()[:8]


def test_runtime_answers_alike_with_listing(odd_model):
    for kind in ("healthy", "gguf_repo", "pytorch_repo", "vision_with_processor", "model_file_config"):
        folder = odd_model(kind)
        (folder / "README.md").unlink(missing_ok=True)  # so detection looks at the files
        assert (check_runtime(folder).to_dict()
                == check_runtime(folder, files=ModelFiles(folder, tree_stats(str(folder), keep_files=True))).to_dict())


@pytest.mark.parametrize("size", [0, 1, 41, 1024, 1025, 70_000, 200_000])
def test_raw_reads(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    for hint in (0, size, size // 2, size * 2 + 1):
        assert rawio.read_all(path, hint) == data
    for n in (0, 8, 4096, size, size + 5):
        assert rawio.read_head(path, n) == data[:n]
    with pytest.raises(IsADirectoryError):
        rawio.read_all(tmp_path)
    with pytest.raises(FileNotFoundError):
        rawio.read_head(tmp_path / "nope", 8)


def test_long_header_is_read_whole(tmp_path):
    """A header longer than the first read (real models: tens of KB)."""
    import numpy as np

    tensors = {f"model.layers.{i}.weight.with.a.long.name": np.zeros(2, np.float16) for i in range(400)}
    path = write_safetensors(tmp_path / "m.safetensors", tensors, {"format": "mlx"})
    header = read_header(path)
    assert header["header_size"] > 3 * 4096
    assert set(header["tensors"]) == set(tensors) and header["metadata"] == {"format": "mlx"}
    assert header["data_size"] == 400 * 4 == header["file_size"] - 8 - header["header_size"]
    raw = json.loads(path.read_bytes()[8:8 + header["header_size"]])
    assert raw.pop("__metadata__") == {"format": "mlx"} and raw == header["tensors"]
