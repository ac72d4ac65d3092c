"""``Located``: a model that a reference named, and what its folder says.

One object carries a model from the reference a user typed to the engine
that loads it: the store entry and revision (``names.resolve``), the folder
to load, its files (walked once), its parsed ``config.json`` (read once),
and the health and runtime verdicts, each worked out on first use.  mlx-run,
mlxk-serve's registry and the engine loader all pass this same object, so a
run reads the model's small files once.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # pathlib costs milliseconds at start-up: imported where it is used
if TYPE_CHECKING:
    pass

from mlxk_common.errors import MlxkError
from mlxk_common.inventory.health import check_integrity
from mlxk_common.inventory.model_files import ModelFiles
from mlxk_common.inventory.runtime import check_runtime, context_length, is_audio, is_stt, is_vision
from mlxk_common.inventory.store import CacheRepo, Revision, Workspace

TEXT, VISION, AUDIO = "text", "vision", "audio"
_NO_WINDOW = 10**7  # tokenizers use ~1e30 for "no limit"
_UNSET = object()


class Located:
    """A resolved model reference.

    ``match`` says which rule of ``names.resolve`` hit: ``path``, ``exact``,
    ``workspace``, ``expanded``, ``hash`` or ``fuzzy``.  ``path`` is the folder
    to read (the revision's snapshot, or the workspace); ``name`` is the name
    to show (``ORG/NAME`` or the workspace's name as given).
    """

    def __init__(self, ref: str, entry: CacheRepo | Workspace, revision: Revision | None, match: str,
                 name: str | None = None):
        self.ref = ref
        self.entry = entry
        self.revision = revision
        self.match = match
        self.name = name or entry.name
        self._files = self._config = self._generation = self._tokenizer = _UNSET
        self._runtime = self._integrity = None

    @classmethod
    def folder(cls, path, name: str | None = None) -> "Located":
        """A model folder given by path alone (the engine's tests, benchmarks)."""
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise MlxkError("model_not_found", f"no model folder at {path}", path=path)
        return cls(path, Workspace(path, name or path), None, "path")

    # -- where ------------------------------------------------------------------
    @property
    def is_cache(self) -> bool:
        return self.entry.kind == "cache"

    @property
    def exact(self) -> bool:
        """The user typed the name itself (no expansion, no substring)."""
        return self.match in ("path", "exact", "workspace")

    @property
    def path(self) -> str | None:
        """The folder with the model's files; None for a cached repo without snapshots."""
        if self.is_cache:
            return self.revision.path if self.revision is not None else None
        return self.entry.path

    @property
    def repo_dir(self) -> str | None:
        """The ``models--ORG--NAME`` folder of a cached model."""
        return self.entry.path if self.is_cache else None

    @property
    def repo_id(self) -> str | None:
        return self.entry.repo_id if self.is_cache else None

    # -- what the folder says (each read once) --------------------------------------
    @property
    def files(self) -> ModelFiles:
        if self._files is _UNSET:
            # A cached model's links must stay inside its repository folder.
            self._files = ModelFiles(self.path, confine=self.repo_dir)
        return self._files

    @property
    def config(self) -> dict | None:
        """config.json as a dict, or None when it is missing or not an object."""
        if self._config is _UNSET:
            config = self.files.json("config.json")[0]
            self._config = config if isinstance(config, dict) else None
        return self._config

    @property
    def generation_config(self) -> dict:
        if self._generation is _UNSET:
            self._generation = self._small_json("generation_config.json")
        return self._generation

    @property
    def tokenizer_config(self) -> dict:
        if self._tokenizer is _UNSET:
            self._tokenizer = self._small_json("tokenizer_config.json")
        return self._tokenizer

    def _small_json(self, name: str) -> dict:
        value = self.files.json(name)[0] if self.files.has(name) else None
        return value if isinstance(value, dict) else {}

    def require_config(self) -> dict:
        """config.json, or an ``unhealthy`` error saying what is wrong with it."""
        if self.path is None:
            raise MlxkError("unhealthy", f"{self.name} has no snapshot in the cache", reference=self.ref,
                            reason="no snapshot")
        config = self.config
        if config is None:
            state = "is not a JSON object" if self.files.has("config.json") else "is missing"
            raise MlxkError("unhealthy", f"{self.path}/config.json {state}", path=self.path,
                            reason=f"config.json {state}")
        return config

    @property
    def architecture(self) -> str:
        """config.json's ``model_type`` ("" when it names none)."""
        value = (self.config or {}).get("model_type")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        """Which engine runs it: text (mlx-lm), vision (mlx-vlm) or audio (mlx-audio)."""
        config = self.config
        if is_stt(config):
            return AUDIO
        if is_vision(self.path, config, self.files) or is_audio(self.path, config, self.files):
            return VISION  # mlx-vlm models, audio chat included
        return TEXT

    @property
    def context_length(self) -> int | None:
        window = context_length(self.config)
        if window is not None:
            return window
        value = self.tokenizer_config.get("model_max_length")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < _NO_WINDOW:
            return int(value)
        return None

    def eos_ids(self) -> set[int]:
        """End-of-sequence ids that config.json and generation_config.json name."""
        ids: set[int] = set()
        for source in (self.config or {}, self.generation_config):
            value = source.get("eos_token_id")
            if isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
            elif isinstance(value, list):
                ids.update(v for v in value if isinstance(v, int) and not isinstance(v, bool))
        return ids

    # -- verdicts ----------------------------------------------------------------------
    @property
    def integrity(self):
        from pathlib import Path

        if self._integrity is None:
            self._integrity = check_integrity(Path(self.path), repo_dir=self.repo_dir and Path(self.repo_dir),
                                              files=self.files)
        return self._integrity

    @property
    def runtime(self):
        from pathlib import Path

        if self._runtime is None:
            self._runtime = check_runtime(Path(self.path), repo_id=self.repo_id, config=self.config,
                                          files=self.files)
        return self._runtime

    def __repr__(self):
        rev = f"@{self.revision.hash[:7]}" if self.revision else ""
        return f"Located({self.name}{rev}, match={self.match})"
