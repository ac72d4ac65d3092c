"""Pull one revision of a Hub repo into the cache: plan, confirm, download, check.

Used by mlxk-pull, and by mlxk-clone when the model is not cached yet.  Writes only
inside ``models--ORG--NAME`` and its ``.locks`` folder.  ``refs/<branch>`` moves to
the new commit only once every file of it is in place, so an interrupted pull never
makes a complete older revision lose its place as the revision of record.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from mlxk_common.errors import MlxkError
from mlxk_common.hub.cache_write import RepoCache, clean_orphans
from mlxk_common.hub.client import HubSettings, RemoteFile, parse_repo_ref, remote_revision
from mlxk_common.hub.download import Downloader, Task
from mlxk_common.hub.transfer_progress import TransferProgress
from mlxk_common.inventory.health import model_health
from mlxk_common.options import ask_yes_no
from mlxk_common.output import HUMAN
from mlxk_common.progress import human_bytes


class PullRequest:
    """What to pull and how."""

    def __init__(self, repo_id: str, revision: str | None = None, include=None, exclude=None, workers: int = 8,
                 force_resume: bool = False, expanded_name: str | None = None):
        self.repo_id = repo_id
        self.revision = revision or "main"
        self.include = list(include or []) or None
        self.exclude = list(exclude or []) or None
        self.workers = workers
        self.force_resume = force_resume
        self.expanded_name = expanded_name


def select(files: list[RemoteFile], include, exclude) -> list[RemoteFile]:
    """--include/--exclude with huggingface_hub's own glob rules (``dir/`` means ``dir/*``)."""
    if not include and not exclude:
        return files
    from huggingface_hub.utils import filter_repo_objects

    return list(filter_repo_objects(files, allow_patterns=include, ignore_patterns=exclude, key=lambda f: f.path))


def pull(settings: HubSettings, req: PullRequest, out, env, confirm=None) -> dict:
    """Bring ``req`` into the cache; returns the result record.  ``confirm(text)``
    is asked before resuming a partial download (None: resume without asking)."""
    started = time.monotonic()
    stop = threading.Event()
    cache = RepoCache(settings.cache, req.repo_id)
    commit, files = remote_revision(settings, req.repo_id, req.revision, stop)
    files = select(files, req.include, req.exclude)
    if not files:
        raise MlxkError("usage_error", f"no file of {req.repo_id}@{req.revision} matches --include/--exclude",
                        include=req.include, exclude=req.exclude)
    missing = [f for f in files if not cache.has_file(commit, f)]
    total = sum(f.size for f in files)
    result = {
        "model": req.repo_id, "expanded_name": req.expanded_name, "revision": req.revision, "hash": commit,
        "files": len(files), "size_bytes": total, "downloaded_bytes": 0, "resumed_bytes": 0,
        "reused_files": len(files) - len(missing),
    }
    if missing:
        have = {f.path: _bytes_in_cache(cache, f) for f in missing}
        partial = any(min(cache.partial_size(f.etag), f.size) for f in missing)
        if (result["reused_files"] or partial) and confirm is not None and not req.force_resume:
            done = total - sum(f.size for f in missing) + sum(have.values())
            if not confirm(f"{req.repo_id} is partially downloaded ({_mb(done)} of {_mb(total)}). Resume?"):
                raise MlxkError("interrupted", "pull cancelled; the partial download is kept",
                                hint="run again, or pass --force-resume to resume without asking")
        _warn_if_short_of_space(out, settings.cache, sum(f.size - have[f.path] for f in missing))
        tasks = _download(settings, cache, commit, missing, req, out, env, stop, sum(have.values()))
        result["downloaded_bytes"] = sum(t.fetched for t in tasks)
        result["resumed_bytes"] = sum(t.resumed for t in tasks)
        result["reused_files"] += sum(1 for t in tasks if t.state == "reused")
    if req.revision != commit:  # a branch or tag: remember where it pointed (as huggingface_hub does)
        cache.write_ref(req.revision, commit)

    result["orphans_cleaned"] = clean_orphans(cache, stop)
    status = "success" if missing else "already_exists"
    result["download_status"] = status
    result["message"] = (f"Downloaded {req.repo_id}@{commit[:8]}" if missing else
                         f"Model {req.repo_id} already exists in cache")
    result["elapsed_s"] = round(time.monotonic() - started, 3)
    result.update(health_fields(cache.snapshot(commit), cache.root, req.repo_id))
    return result


def _download(settings, cache, commit, missing, req, out, env, stop, have_bytes):
    tasks = [Task(f) for f in missing]
    progress = TransferProgress(out, env, f"pulling {req.repo_id}", sum(f.size for f in missing) - have_bytes)
    try:
        Downloader(settings, cache, commit, progress, stop, req.workers).run(tasks)
    except KeyboardInterrupt:
        progress.close()
        kept = sum(_bytes_in_cache(cache, t.file) for t in tasks if t.state not in ("done", "reused"))
        raise MlxkError("interrupted", f"interrupted; {_mb(kept)} of partial downloads kept, run the same "
                        "command again to resume", kept_bytes=kept) from None
    finally:
        progress.close()
    return tasks


def _bytes_in_cache(cache, f: RemoteFile) -> int:
    if cache.blob_ok(f):
        return f.size
    return min(cache.partial_size(f.etag), f.size)


def health_fields(snapshot: Path, repo_dir: Path | None, repo_id: str | None) -> dict:
    health = model_health(snapshot, repo_dir=repo_dir, repo_id=repo_id)
    return {"health": health["health"], "runtime_compatible": health["runtime_compatible"],
            "reason": health["reason"]}


def _warn_if_short_of_space(out, folder: Path, needed: int) -> None:
    import shutil

    probe = Path(folder)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return
    if free < needed:
        out.warn(f"{_mb(needed)} to download but only {_mb(free)} free under {folder}; the pull will stop "
                 "when the disk is full and can be resumed after freeing space")


def _mb(n: int) -> str:
    return human_bytes(n)


# -- the command-line side that mlxk-pull and mlxk-clone share -----------------------

def confirmer(mode: str, env):
    """Ask on the terminal (human mode, stdin and stderr a TTY); None elsewhere:
    scripts and pipes resume without asking."""
    if mode != HUMAN or not (env.stdin_isatty and env.stderr_isatty):
        return None
    return lambda question: ask_yes_no(env, question, default=True)


def settings_from_args(args, environ, out=None) -> HubSettings:
    """Hub settings from the transfer flags; retries are announced with ``out.warn``."""
    return HubSettings.from_environ(environ, token=args.token, retries=args.retries,
                                    notify=out.warn if out is not None else None)


def request_from_args(args, reference: str, include=None, exclude=None) -> PullRequest:
    repo_id, revision, expanded = parse_repo_ref(reference)
    return PullRequest(repo_id, revision, include, exclude, workers=args.workers,
                       force_resume=args.force_resume, expanded_name=expanded)
