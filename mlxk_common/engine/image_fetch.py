"""Fetch one image over http(s), for ``--allow-image-urls`` (mlxk-serve and mlx-run).

Off by default everywhere: a server that fetches URLs for its clients can be
made to reach anything it can reach (SSRF), so only an operator turns it on.
The rules, the same for both tools:

* only ``http`` and ``https``, also after a redirect, and at most
  ``MAX_REDIRECTS`` redirects;
* ``timeout`` seconds to connect and for each read, and the same again as a
  deadline for the whole body (a server that drips bytes is cut off);
* the body is read only up to ``max_bytes`` (a ``Content-Length`` above it
  is refused before reading): more is ``invalid_image`` with
  ``reason: "too_large"`` (the server answers 413);
* a non-2xx answer, or one whose ``Content-Type`` says text, HTML, JSON or
  XML, is ``invalid_image`` naming the URL and the reason.

Whether the bytes are an image is decided by the decoder, as for files.
Only the standard library is used; under gevent (mlxk-serve) its sockets are
cooperative, so a fetch waits in its greenlet without blocking the server.
"""

from __future__ import annotations

import time

from mlxk_common.errors import MlxkError
from mlxk_common.progress import human_bytes

TIMEOUT_S = 10.0
MAX_REDIRECTS = 5
NOT_IMAGES = ("text/", "application/json", "application/xml", "application/xhtml", "application/javascript")


def _invalid(url: str, why: str, **details) -> MlxkError:
    return MlxkError("invalid_image", f"{_shown(url)}: {why}", file=url, **details)


def _shown(url: str) -> str:
    return url if len(url) <= 200 else url[:197] + "..."


def fetch_image(url: str, max_bytes: int, timeout: float = TIMEOUT_S) -> bytes:
    """The body of ``url`` (an http(s) image), or ``invalid_image`` saying why not."""
    import http.client
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise _invalid(url, "is not an http(s) URL with a host", reason="url")
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                    _redirect_handler(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers={"User-Agent": "mlxk", "Accept": "image/*"})
    deadline = time.monotonic() + 2 * timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind.startswith(NOT_IMAGES):
                raise _invalid(url, f"the answer is {kind}, not an image", reason="not_image")
            length = response.headers.get("Content-Length")
            if length and length.strip().isdigit() and int(length) > max_bytes:
                raise _invalid(url, f"{human_bytes(int(length))} is over {human_bytes(max_bytes)} (--max-image)",
                               reason="too_large", limit_bytes=max_bytes)
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise _invalid(url, f"the download took longer than {2 * timeout:g} s", reason="timeout")
                chunk = response.read(min(1 << 16, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise _invalid(url, f"over {human_bytes(max_bytes)} (--max-image)", reason="too_large",
                                   limit_bytes=max_bytes)
    except MlxkError:
        raise
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise _invalid(url, f"too many redirects, or a redirect to a URL that is not http(s) ({exc.code})",
                           reason="redirect") from None
        raise _invalid(url, f"the server answered {exc.code} {exc.reason}", reason="http_status",
                       status=exc.code) from None
    except TimeoutError:
        raise _invalid(url, f"no answer within {timeout:g} s", reason="timeout") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _invalid(url, f"no answer within {timeout:g} s", reason="timeout") from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise _invalid(url, f"cannot be fetched ({text})", reason="unreachable") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise _invalid(url, f"cannot be fetched ({' '.join(text.split())[:160]})", reason="unreachable") from None
    data = b"".join(chunks)
    if not data:
        raise _invalid(url, "the answer is empty", reason="not_image")
    return data


def _redirect_handler():
    import urllib.request

    class Redirects(urllib.request.HTTPRedirectHandler):
        """At most MAX_REDIRECTS redirects, and only to http(s) URLs (urllib also follows ftp)."""

        max_redirections = MAX_REDIRECTS

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            from urllib.parse import urlsplit

            if urlsplit(newurl).scheme.lower() not in ("http", "https"):
                return None  # urllib then raises the HTTPError of the 3xx answer
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return Redirects()
