"""mlxk-push's work: check a workspace, compare it with a Hub branch, commit the difference.

Safety first: a push always states the visibility it wants (``private``), never
makes an existing public repo receive files unless ``public`` was asked for, and
never sends the token anywhere but the Hub endpoint.  ``check_only`` stays local.
"""

from __future__ import annotations

from pathlib import Path

from mlxk_bin.push.upload import diff, exact_patterns, hash_files, remote_files, workspace_files
from mlxk_common.errors import MlxkError
from mlxk_common.hub.client import HubSettings, as_mlxk_error, status_of, with_retries
from mlxk_common.inventory.health import INDEX_NAME, SHARD_RE, check_integrity, is_weight
from mlxk_common.inventory.model_files import ModelFiles


class PushRequest:
    def __init__(self, workspace: Path, repo_id: str, *, public: bool, create: bool, branch: str,
                 message: str | None, dry_run: bool):
        self.workspace = Path(workspace)
        self.repo_id = repo_id
        self.public = public
        self.create = create
        self.branch = branch
        self.message = message or "Upload with mlxk-push"
        self.dry_run = dry_run


def check_workspace(folder: Path) -> dict:
    """The local side alone (no network, no token): files, size and the
    health rules, in mlx-knife's ``workspace_health`` shape (``config`` and
    ``weights`` sections, ``anomalies`` with its codes) plus mlxk's
    ``findings`` (the same codes ``mlxk-health`` reports) and ``reasons``."""
    import re

    files, excluded = workspace_files(folder)
    model = ModelFiles(folder)
    # What is never pushed (the sentinel, .hfignore matches) cannot make the push unhealthy.
    findings = [f for f in check_integrity(folder, files=model).findings if f.file not in excluded]
    reasons = list(dict.fromkeys(f.reason for f in findings))
    codes = {f.code for f in findings}
    config_path = folder / "config.json"
    weights = sorted(n for n in model.files if is_weight(n))
    shards = [m for m in (re.match(SHARD_RE, n) for n in weights if "/" not in n) if m]
    totals = {int(m["total"]) for m in shards}
    complete = len(totals) == 1 and {int(m["index"]) for m in shards} == set(range(1, min(totals) + 1))
    return {
        "files_count": len(files),
        "total_bytes": sum(model.files.get(f, 0) for f in files),
        "excluded": excluded,
        "config": {"exists": model.has("config.json"),
                   "valid_json": model.has("config.json") and not codes & {"config_missing", "config_invalid_json"},
                   "path": str(config_path) if model.has("config.json") else None},
        "weights": {"count": len(weights),
                    "formats": sorted({n.rsplit(".", 1)[-1] for n in weights}),
                    "index": {"has_index": model.has(INDEX_NAME) or model.has("pytorch_model.bin.index.json"),
                              "missing": sorted(f.file for f in findings if f.code == "index_missing_shard")},
                    "pattern_complete": complete if shards else None},
        "anomalies": [{"severity": "error", "code": f.code, "message": f.message,
                       **({"path": f.file} if f.file else {})} for f in findings],
        "findings": [f.to_dict() for f in findings],
        "healthy": not findings,
        "reasons": reasons,
    }


def base_result(settings: HubSettings, req: PushRequest) -> dict:
    return {"repo_id": req.repo_id, "branch": req.branch, "repo_url": settings.repo_url(req.repo_id),
            "workspace": str(req.workspace), "commit_sha": None, "commit_url": None, "no_changes": None,
            "created_repo": False, "created_branch": False, "private": None, "dry_run": req.dry_run,
            "uploaded_files_count": None, "local_files_count": None, "experimental": False}


def push(settings: HubSettings, req: PushRequest, progress_bars: bool) -> dict:
    """Compare and commit; returns the result record."""
    if not req.dry_run and not settings.token:
        raise MlxkError("access_denied", "mlxk-push needs a Hub token with write access: set HF_TOKEN or pass --token")
    result = base_result(settings, req)
    api = settings.api()
    repo_id, branch = req.repo_id, req.branch
    info = _repo_info(api, settings, repo_id)
    if info is None and not req.create:
        raise MlxkError("repo_not_found", f"{repo_id} does not exist on {settings.endpoint} (or the token cannot "
                        "see it); add --create to create it", repo=repo_id)
    if info is not None and not getattr(info, "private", False) and not req.public:
        raise MlxkError("usage_error", f"{repo_id} is a public repository; mlxk-push refuses to publish into it "
                        "unless you pass --public", repo=repo_id)
    result["private"] = bool(info.private) if info is not None else not req.public
    branches = _branches(api, settings, repo_id) if info is not None else set()
    branch_exists = branch in branches
    base = branch if branch_exists else "main"  # a new branch starts from main
    remote = {}
    if base in branches:
        remote = with_retries(lambda: remote_files(api, repo_id, base), settings, repo_id, base, what="file list")
    files, excluded = workspace_files(req.workspace)
    local = hash_files(req.workspace, files)
    changes = diff(local, remote)
    changed = changes["added"] + changes["modified"]
    result.update(local_files_count=len(files), excluded=excluded,
                  change_summary={k: len(v) for k, v in changes.items()},
                  **changes, uploaded_files_count=len(changed) if not req.dry_run else 0)
    nothing = not changed and not changes["deleted"]
    result["no_changes"] = nothing and info is not None and branch_exists
    if req.dry_run:
        result.update(would_create_repo=info is None, would_create_branch=not branch_exists,
                      message="Dry run: nothing was uploaded.")
        return result
    if info is None:
        _create_repo(api, settings, repo_id, private=not req.public)
        result["created_repo"] = True
    if not branch_exists and branch != "main":
        with_retries(lambda: api.create_branch(repo_id, branch=branch, exist_ok=True), settings, repo_id,
                     what="create branch")
        result["created_branch"] = True
    if result["no_changes"] or nothing:
        result.update(no_changes=True, uploaded_files_count=0, message="No files changed; skipped empty commit.")
        return result
    commit = _commit(api, settings, req, changed, changes["deleted"], progress_bars)
    result.update(commit_sha=commit.oid, commit_url=commit.commit_url, no_changes=False,
                  message=f"Pushed {len(changed)} file(s), deleted {len(changes['deleted'])} on {branch}")
    return result


def _repo_info(api, settings, repo_id):
    """The repo's info, or None when it does not exist (for this token)."""
    try:
        return with_retries(lambda: api.repo_info(repo_id), settings, repo_id, what="repo info")
    except MlxkError as exc:
        if exc.type == "repo_not_found":
            return None
        raise


def _branches(api, settings, repo_id: str) -> set[str]:
    refs = with_retries(lambda: api.list_repo_refs(repo_id), settings, repo_id, what="refs")
    return {b.name for b in refs.branches}


def _create_repo(api, settings, repo_id: str, private: bool) -> None:
    try:
        api.create_repo(repo_id, private=private, exist_ok=False)
    except Exception as exc:  # noqa: BLE001 - mapped below
        raise _upload_error(exc, settings, repo_id) from None


def _commit(api, settings, req: PushRequest, changed: list[str], deleted: list[str], progress_bars: bool):
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    (enable_progress_bars if progress_bars else disable_progress_bars)()
    try:
        return api.upload_folder(repo_id=req.repo_id, folder_path=req.workspace, revision=req.branch,
                                 commit_message=req.message, allow_patterns=exact_patterns(changed),
                                 delete_patterns=exact_patterns(deleted) or None)
    except (MlxkError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - mapped below
        raise _upload_error(exc, settings, req.repo_id) from None


def _upload_error(exc: BaseException, settings: HubSettings, repo_id: str) -> MlxkError:
    text = settings.scrub(str(exc))
    if "xet" in text.lower() and status_of(exc) is None:  # hf_xet reports every failure as ConnectionError
        return MlxkError("upload_failed", f"the Xet upload to {settings.endpoint} failed: {text}",
                         repo=repo_id, hint="set HF_HUB_DISABLE_XET=1 to upload over Git LFS instead")
    error = as_mlxk_error(exc, settings, repo_id)
    if error.type == "download_failed":  # the generic failure type of the download side
        error = MlxkError("upload_failed", error.message.replace("download", "upload"), **error.details)
    return error
