"""The web chat page: static files shipped in ``mlxk_bin/serve/webui/``.

Only the files named in ``FILES`` are served, looked up by exact name, so
no request path can reach any other file.  Every answer carries a strict
Content-Security-Policy (the page loads nothing but its own files and talks
only to this server), ``nosniff``, and an ETag: browsers revalidate on each
load (``Cache-Control: no-cache``) and get a bodiless 304 while the files
are unchanged, and the new files at once after an upgrade.
"""

from __future__ import annotations

import hashlib

PAGE = "index.html"
FILES = {  # name -> Content-Type
    "index.html": "text/html; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "chat.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "markdown.js": "text/javascript; charset=utf-8",
    "store.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}

# Nothing inline, nothing from elsewhere; images only from the page itself
# or from data:/blob: URLs (attachments); no framing; and, through Trusted
# Types, no HTML string can ever become markup (the page builds DOM nodes).
CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
))

HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-cache"),
)


def is_public(path: str) -> bool:
    """The page and its files load without the API key: the page must load to ask for it."""
    return path == "/" or path.startswith("/ui/")


class Asset:
    __slots__ = ("body", "content_type", "etag")

    def __init__(self, body: bytes, content_type: str):
        self.body = body
        self.content_type = content_type
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


_cache: dict[str, Asset] = {}


def asset(name: str) -> Asset | None:
    """The packaged file ``name`` if it is one of ``FILES``, else None."""
    content_type = FILES.get(name)
    if content_type is None:
        return None
    found = _cache.get(name)
    if found is None:
        from importlib.resources import files

        found = _cache[name] = Asset((files("mlxk_bin.serve.webui") / name).read_bytes(), content_type)
    return found


def respond(found: Asset, environ, set_header) -> tuple[int, bytes]:
    """(status, body) for a GET of ``found``; headers go through ``set_header(name, value)``."""
    for key, value in HEADERS:
        set_header(key, value)
    set_header("ETag", found.etag)
    set_header("Content-Type", found.content_type)
    tags = environ.get("HTTP_IF_NONE_MATCH", "")
    if found.etag in (t.strip().removeprefix("W/") for t in tags.split(",")) or tags.strip() == "*":
        return 304, b""
    return 200, found.body
