"""Talking to a Hugging Face Hub: settings, the client, and its failures as mlxk errors.

Shared by mlxk-pull, mlxk-clone and mlxk-push.  Every setting comes from the tool's
own environment (``IOEnv.environ``) and is handed to huggingface_hub explicitly
(endpoint, token), so a run never depends on what the library read from
``os.environ`` when it was imported.  huggingface_hub itself is imported inside the
functions that use it: list/show/health never pay for it.
"""

from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from mlxk_common import __version__
from mlxk_common.config import env_flag, hf_home, hub_dir
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.names import validate_repo_id
from mlxk_common.logs import get_logger

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_ORG = "mlx-community"
DEFAULT_RETRIES = 5
_REVISION_RE = r"[A-Za-z0-9._/-]{1,200}"
_HEX40 = r"[0-9a-f]{40}"


class HubSettings:
    """Where the Hub is, who we are there, and where the cache lies, for one run."""

    def __init__(self, endpoint: str, token: str | None, cache: Path, offline: bool = False,
                 timeout: float = 10.0, retries: int = DEFAULT_RETRIES, notify=None):
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.cache = Path(cache)
        self.offline = offline
        self.timeout = timeout
        self.retries = retries
        self.notify = notify  # notify(text): a human note on stderr (a retry), or None
        self._client = None

    @classmethod
    def from_environ(cls, environ, token: str | None = None, retries: int | None = None,
                     notify=None) -> "HubSettings":
        token = token or environ.get("HF_TOKEN") or environ.get("HUGGINGFACE_HUB_TOKEN") or _stored_token(environ)
        try:
            timeout = float(environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 10)
        except ValueError:
            raise MlxkError("usage_error", "HF_HUB_DOWNLOAD_TIMEOUT must be a number of seconds") from None
        return cls(environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT, token or None, hub_dir(environ),
                   offline=env_flag(environ, "HF_HUB_OFFLINE"), timeout=max(timeout, 1.0),
                   retries=DEFAULT_RETRIES if retries is None else max(0, retries), notify=notify)

    def scrub(self, text: str) -> str:
        """``text`` without the token in it (a ``--token`` value is not in the
        environment, so the generic log redaction cannot know it)."""
        if self.token and len(self.token) >= 4:
            text = text.replace(self.token, "***")
        return text

    def retrying(self, what: str, exc: BaseException, attempt: int, delay: float) -> None:
        """Say that a request failed and is tried again (the backoff can add up
        to many seconds of silence otherwise)."""
        detail = self.scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        text = f"{what} failed ({detail}); retry {attempt} of {self.retries} in {delay:.1f} s"
        _log().info("%s", text)
        if self.notify is not None:
            self.notify(text)

    def repo_url(self, repo_id: str) -> str:
        return f"{self.endpoint}/{repo_id}"

    def resolve_url(self, repo_id: str, commit: str, path: str) -> str:
        from urllib.parse import quote

        return f"{self.endpoint}/{repo_id}/resolve/{quote(commit, safe='')}/{quote(path)}"

    def headers(self) -> dict:
        """Request headers: user agent, and the token when there is one."""
        from huggingface_hub.utils import build_hf_headers

        _quiet_library()
        return build_hf_headers(token=self.token or False, library_name="mlxk", library_version=__version__)

    def client(self):
        """One HTTP client for this run (connection reuse across requests and workers)."""
        if self._client is None:
            import httpx2

            self._client = httpx2.Client(follow_redirects=False,
                                         timeout=httpx2.Timeout(self.timeout, connect=self.timeout),
                                         limits=httpx2.Limits(max_connections=64, max_keepalive_connections=32))
        return self._client

    def api(self):
        from huggingface_hub import HfApi

        _quiet_library()
        return HfApi(endpoint=self.endpoint, token=self.token or False, library_name="mlxk",
                     library_version=__version__)


def _quiet_library() -> None:
    """No telemetry: its agent detection would fetch a registry from the import-time
    endpoint and write ``$HF_HOME/.agent_harnesses.json``, outside the model's folder."""
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True


def _stored_token(environ) -> str | None:
    """The token ``hf auth login`` saved, unless implicit tokens are disabled."""
    if env_flag(environ, "HF_HUB_DISABLE_IMPLICIT_TOKEN"):
        return None
    path = environ.get("HF_TOKEN_PATH") or str(hf_home(environ) / "token")
    try:
        return Path(os.path.expanduser(path)).read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


# -- names ---------------------------------------------------------------------

def parse_repo_ref(text: str) -> tuple[str, str | None, str | None]:
    """``ORG/NAME[@REV]`` (or ``NAME[@REV]`` for ``mlx-community/NAME``) ->
    ``(repo_id, revision or None, expanded_name or None)``."""
    name, revision = text.strip(), None
    if "@" in name:
        name, _, revision = name.rpartition("@")
        revision = validate_revision(revision)
    expanded = None
    if "/" not in name and name:
        expanded = name = f"{DEFAULT_ORG}/{name}"
    return validate_repo_id(name), revision, expanded


def validate_revision(revision: str) -> str:
    """A branch, tag or commit name that is safe to keep under ``refs/``."""
    parts = revision.split("/")
    if (not re.fullmatch(_REVISION_RE, revision) or any(p in ("", ".", "..") for p in parts)
            or revision.endswith(".lock")):
        raise MlxkError("invalid_reference", f"{revision!r} is not a revision (a branch, tag or commit hash)")
    return revision


def is_commit(text: str | None) -> bool:
    return bool(text) and re.fullmatch(_HEX40, text) is not None


def check_repo_path(path: str) -> str:
    """A file path the Hub listed, checked before it is joined into a local folder."""
    parts = path.split("/")
    if (not path or path.startswith("/") or "\\" in path or "\x00" in path
            or any(p in ("", ".", "..") for p in parts)):
        raise MlxkError("download_failed", f"the Hub listed an unsafe file path {path!r}; refusing it")
    return path


# -- failures ------------------------------------------------------------------

def transient(exc: BaseException) -> bool:
    """Worth a retry: the network, a timeout, a 5xx or a 429."""
    import httpx2

    if isinstance(exc, (httpx2.TransportError, ConnectionError, TimeoutError)):
        return not _is_offline(exc)
    status = status_of(exc)
    return status is not None and (status >= 500 and status not in (501, 505) or status in (408, 429))


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _is_offline(exc: BaseException) -> bool:
    try:
        from huggingface_hub.errors import OfflineModeIsEnabled
    except ImportError:  # pragma: no cover - very old huggingface_hub
        return False
    return isinstance(exc, OfflineModeIsEnabled)


def as_mlxk_error(exc: BaseException, settings: HubSettings, repo_id: str, revision: str | None = None) -> MlxkError:
    """One stable mlxk error for a huggingface_hub/httpx failure."""
    if isinstance(exc, MlxkError):
        return exc
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    detail = settings.scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if isinstance(exc, GatedRepoError):
        return MlxkError("access_denied", f"{repo_id} is gated: accept its terms on the Hub and use a token "
                         "that was granted access (HF_TOKEN or --token)", repo=repo_id)
    if isinstance(exc, RepositoryNotFoundError):
        hint = ("the token has no access to it, or it does not exist" if settings.token else
                "if it is private or gated, set HF_TOKEN or pass --token")
        return MlxkError("repo_not_found", f"repository {repo_id} not found on {settings.endpoint} ({hint})",
                         repo=repo_id)
    if isinstance(exc, RevisionNotFoundError):
        return MlxkError("repo_not_found", f"{repo_id} has no revision {revision!r}", repo=repo_id,
                         revision=revision)
    if isinstance(exc, RemoteEntryNotFoundError):
        return MlxkError("repo_not_found", f"{repo_id}: file not found ({detail})", repo=repo_id)
    status = status_of(exc)
    if status in (401, 403):
        why = "the token was refused" if settings.token else "this needs a token (HF_TOKEN or --token)"
        return MlxkError("access_denied", f"{settings.endpoint} refused access to {repo_id}: {why}",
                         repo=repo_id, status=status)
    if _is_offline(exc):
        return MlxkError("network_error", "offline mode is on (HF_HUB_OFFLINE=1); the Hub cannot be reached")
    if transient(exc):
        return MlxkError("network_error", f"cannot reach {settings.endpoint}: {detail}", repo=repo_id)
    if isinstance(exc, HfHubHTTPError):
        return MlxkError("download_failed", f"the Hub answered HTTP {status}: {detail}", repo=repo_id, status=status)
    return MlxkError("download_failed", f"{type(exc).__name__}: {detail}", repo=repo_id)


def with_retries(fn, settings: HubSettings, repo_id: str, revision: str | None = None,
                 stop: threading.Event | None = None, what: str = "request"):
    """``fn()`` with exponential backoff on transient failures; any failure
    comes out as an MlxkError."""

    attempt = 0
    while True:
        try:
            return fn()
        except MlxkError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped below
            if not transient(exc) or attempt >= settings.retries:
                raise as_mlxk_error(exc, settings, repo_id, revision) from None
            delay = backoff(attempt)
            attempt += 1
            settings.retrying(f"{what} for {repo_id}", exc, attempt, delay)
            if stop is not None:
                if stop.wait(delay):
                    raise KeyboardInterrupt from None
            else:
                time.sleep(delay)


def backoff(attempt: int) -> float:
    return min(0.5 * (2 ** attempt), 8.0)


def _log():
    return get_logger("hub")


# -- what a revision holds -------------------------------------------------------

class RemoteFile:
    """One file of a Hub revision: its path, size and the etag the cache names its blob by
    (sha256 for LFS files, the git blob sha1 otherwise)."""
    __slots__ = ("path", "size", "etag", "lfs")

    def __init__(self, path: str, size: int, etag: str, lfs: bool):
        self.path = path
        self.size = size
        self.etag = etag
        self.lfs = lfs

    def __repr__(self):
        return f"RemoteFile({self.path!r}, {self.size}, {self.etag[:8]})"


def remote_revision(settings: HubSettings, repo_id: str, revision: str | None,
                    stop: threading.Event | None = None) -> tuple[str, list[RemoteFile]]:
    """``(commit, files)`` of ``repo_id`` at ``revision`` (default branch if None),
    from one repo-info request with file metadata (the request ``HfApi.model_info(...,
    files_metadata=True)`` makes, without importing HfApi: that import alone costs
    more than a small pull)."""
    from urllib.parse import quote

    if settings.offline:
        raise MlxkError("network_error", "offline mode is on (HF_HUB_OFFLINE=1); the Hub cannot be reached")
    from huggingface_hub.utils import hf_raise_for_status

    url = f"{settings.endpoint}/api/models/{repo_id}"
    if revision is not None:
        url += f"/revision/{quote(revision, safe='')}"

    def fetch():
        resp = settings.client().get(url, params={"blobs": "true"}, headers=settings.headers())
        hf_raise_for_status(resp)
        return resp.json()

    info = with_retries(fetch, settings, repo_id, revision, stop, "repo info")
    commit = info.get("sha") if isinstance(info, dict) else None
    if not is_commit(commit):
        raise MlxkError("download_failed", f"the Hub gave no usable commit id for {repo_id}", repo=repo_id)
    return commit, [_remote_file(sibling, repo_id) for sibling in info.get("siblings") or []]


def _remote_file(sibling: dict, repo_id: str) -> RemoteFile:
    path = check_repo_path(str(sibling.get("rfilename") or ""))
    lfs = sibling.get("lfs")
    try:
        if lfs:
            return RemoteFile(path, int(lfs["size"]), str(lfs["sha256"]), True)
        return RemoteFile(path, int(sibling["size"]), str(sibling["blobId"]), False)
    except (KeyError, TypeError, ValueError):
        raise MlxkError("download_failed", f"the Hub gave no size or hash for {path}", repo=repo_id) from None


@contextmanager
def hub_errors(settings: HubSettings, repo_id: str, revision: str | None = None):
    """Map whatever huggingface_hub raises inside the block onto an MlxkError."""
    try:
        yield
    except (MlxkError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - mapped to a stable type
        raise as_mlxk_error(exc, settings, repo_id, revision) from None
