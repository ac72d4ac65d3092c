"""``--allow-image-urls``: fetch a request's http(s) images in its own greenlet, before queueing.

The URLs of one request are fetched together (one greenlet each; gevent's
sockets are cooperative), so neither the server loop nor the engine thread
waits for them, and a request's wait is the slowest of its URLs, at most
``2 × --image-url-timeout``.  The rules (http/https only, redirects, timeouts, the
``--max-image`` cut-off) are ``engine.image_fetch``'s; failures become the
request's 400 ``invalid_image`` (413 ``payload_too_large`` for a too-large
image) naming the URL, before anything is queued.
"""

from __future__ import annotations

from mlxk_bin.serve.errors import ApiError
from mlxk_bin.serve.schemas import check_images_total
from mlxk_common.engine.image_fetch import fetch_image
from mlxk_common.errors import MlxkError


def fetch_images(req, settings) -> None:
    """Fill ``req.images`` where ``req.image_urls`` says a URL is still to be fetched."""
    if not req.image_urls:
        return
    import gevent

    wanted = sorted(req.image_urls.items())
    tasks = [gevent.spawn(_fetch, url, settings.max_image, settings.image_url_timeout) for _, (url, _) in wanted]
    try:
        gevent.joinall(tasks)
    finally:
        gevent.killall([t for t in tasks if not t.dead], block=False)
    for (index, (_, param)), task in zip(wanted, tasks):
        data, error = task.value or (None, MlxkError("invalid_image", "the image could not be fetched"))  # killed
        if error is not None:
            if error.details.get("reason") == "too_large":
                raise ApiError(413, error.message, param=param, code="payload_too_large",
                               limit_bytes=error.details.get("limit_bytes"))
            raise ApiError(400, error.message, param=param, code="invalid_image")
        req.images[index] = data
    check_images_total(req, settings.max_images_total)


def _fetch(url: str, max_bytes: int, timeout: float):
    """(bytes, None) or (None, MlxkError): a greenlet that raises would have its traceback printed."""
    try:
        return fetch_image(url, max_bytes, timeout), None
    except MlxkError as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - a bug here must still be this request's clear error
        return None, MlxkError("invalid_image", f"{url[:200]}: cannot be fetched ({type(exc).__name__})")
