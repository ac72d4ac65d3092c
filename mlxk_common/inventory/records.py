"""The model object that list, show and health print (mlx-knife JSON API 0.2.4
field names, plus mlxk's additions; fields are added, never removed):

``name, hash, size_bytes, last_modified`` (UTC, ``Z``), ``framework,
model_type, capabilities, context_length, health, runtime_compatible, reason,
cached``, the workspace fields ``origin, content_hash, hash_modified, clean,
display_name``, and ``architecture, path, workspace, managed, source_repo,
source_revision, refs``.

A workspace's ``name`` is its absolute path (as mlx-knife: safe to pass to a
tool started elsewhere) and ``display_name`` the reference as it was given
(``./my-model``, or the folder name in ``MLXK_WORKSPACE_HOME``); a cached
model's ``name`` is ``ORG/NAME`` and its ``display_name`` null.  Values taken
from a workspace's sentinel are used only when they have the documented type.
"""

from __future__ import annotations

import os
import time

from mlxk_common.inventory.health import model_health
from mlxk_common.inventory.store import CacheRepo, Revision, TreeStats, Workspace, content_hash, tree_stats


def utc_iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _health(model_dir: str, repo_dir: str | None, repo_id: str | None, stats: TreeStats) -> dict:
    # The walk that measured the size also serves the health rules.
    return model_health(model_dir, repo_dir=repo_dir, repo_id=repo_id, stats=stats)


def _add_reasons(record: dict, health: dict, reasons: bool) -> dict:
    """With ``reasons``: every integrity reason, the runtime reason, the
    findings and the words for a healthy model too (what mlxk-health prints)."""
    if reasons:
        record["integrity_reasons"] = health["integrity_reasons"]
        record["runtime_reason"] = health["runtime_reason"]
        record["findings"] = health["findings"]
        record["healthy_reason"] = health["healthy_reason"]
    return record


def _base(name: str, hash: str | None, stats: TreeStats, health: dict, cached: bool, path: str) -> dict:
    return {
        "name": name,
        "hash": hash,
        "size_bytes": stats.size,
        "last_modified": utc_iso(stats.mtime),
        "framework": health["framework"],
        "model_type": health["model_type"],
        "capabilities": health["capabilities"],
        "context_length": health["context_length"],
        "health": health["health"],
        "runtime_compatible": health["runtime_compatible"],
        "reason": health["reason"],
        "cached": cached,
        "architecture": health.get("architecture"),
        "path": path,
        "workspace": not cached,
    }


def cache_record(repo: CacheRepo, revision: Revision | None = None, *, name: str | None = None,
                 reasons: bool = False) -> dict:
    """The record of one cached revision (default: the revision of record)."""
    revision = revision if revision is not None else repo.record()
    path = revision.path if revision is not None else repo.path
    stats = tree_stats(path, keep_files=True) if revision is not None else TreeStats()
    if revision is None:
        health = _no_snapshot(repo)
    else:
        health = _health(path, repo.path, repo.repo_id, stats)
    record = _base(name or repo.repo_id, revision.hash if revision else None, stats, health, True, path)
    record.update({
        "managed": None,
        "source_repo": None,
        "source_revision": None,
        "origin": None,
        "content_hash": None,
        "hash_modified": None,
        "clean": None,
        "refs": list(revision.refs) if revision is not None else [],
        "display_name": None,
    })
    return _add_reasons(record, health, reasons)


def _no_snapshot(repo: CacheRepo) -> dict:
    reason = "No snapshots in the cache (interrupted download?)"
    return {"health": "unhealthy", "runtime_compatible": False, "reason": reason, "framework": "Unknown",
            "model_type": "base", "architecture": None, "capabilities": [], "context_length": None,
            "integrity_reasons": [reason], "runtime_reason": None, "healthy_reason": None,
            "findings": [{"code": "no_snapshot", "file": None, "message": reason}]}


_UTC = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"


def _text(sentinel: dict, key: str, pattern: str | None = None) -> str | None:
    value = sentinel.get(key)
    if not isinstance(value, str):
        return None
    if pattern is not None:
        import re

        return value if re.fullmatch(pattern, value) else None
    return value


def workspace_record(workspace: Workspace, *, reasons: bool = False) -> dict:
    sentinel = workspace.sentinel or {}
    managed = workspace.managed
    source_repo = _text(sentinel, "source_repo")
    stats = workspace.stats()
    health = _health(workspace.path, None, source_repo if managed else None, stats)
    record = _base(workspace.path, None, stats, health, False, workspace.path)
    record.update({
        "managed": managed,
        "source_repo": source_repo,
        "source_revision": _text(sentinel, "source_revision"),
        "origin": source_repo,
        "content_hash": content_hash(sentinel),
        "hash_modified": _text(sentinel, "created_at", _UTC),
        "clean": workspace.clean(),
        "refs": [],
        "display_name": workspace.name,
    })
    return _add_reasons(record, health, reasons)


def record_for(entry: CacheRepo | Workspace, revision: Revision | None = None, *, reasons: bool = False) -> dict:
    """The record of a cached repo (``revision``, default the revision of
    record) or of a workspace; ``reasons`` as in ``cache_record``."""
    if entry.kind == "cache":
        return cache_record(entry, revision, reasons=reasons)
    return workspace_record(entry, reasons=reasons)


def build_records(entries: list, build=record_for, workers: int | None = None) -> list[dict]:
    """``[build(e) for e in entries]``, spread over forked worker processes
    when there are many (the checks are CPU-bound Python; threads would
    share one core).  Records travel back through a pipe with ``marshal``;
    a worker that fails has its share built here instead."""
    count = len(entries)
    workers = _worker_count(count) if workers is None else max(1, min(workers, count))
    if workers <= 1 or not hasattr(os, "fork"):
        return [build(e) for e in entries]
    import marshal

    children = []
    for share in range(1, workers):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: build its share, send it, vanish without cleanup
            code = 1
            try:
                os.close(read_fd)
                data = marshal.dumps([build(e) for e in entries[share::workers]])
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        children.append((share, pid, read_fd))
    results: list = [None] * count
    results[0::workers] = [build(e) for e in entries[0::workers]]
    for share, pid, read_fd in children:
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        part = marshal.loads(data) if status == 0 and data else None
        results[share::workers] = part if part is not None else [build(e) for e in entries[share::workers]]
    return results


def _worker_count(count: int) -> int:
    if count < 64:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8, count // 32))


def runnable(record: dict) -> bool:
    """What the human list shows by default (and the server offers)."""
    return record.get("health") == "healthy" and record.get("runtime_compatible") is True
