"""The web chat page as HTTP: what mlxk-serve sends for ``/`` and ``/ui/...``
(content types, the Content-Security-Policy, ETags), that nothing but the
listed files can be fetched, that the page loads without the API key while
the API still needs it, and ``--no-ui``.  The servers here load no model;
the page in a real browser is tests/test_webui.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from fixtures.tooling import base_env

from mlxk_bin.serve import ui

REPO = Path(__file__).resolve().parents[1]
WEBUI = REPO / "bin" / "serve" / "webui"
KEY = "ui-test-key-42"


@pytest.fixture(scope="module")
def empty_home(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui-homes")
    return base_env(HF_HOME=root / "hf", MLXK_WORKSPACE_HOME=root / "ws")


@pytest.fixture(scope="module")
def server(serve, empty_home):
    return serve(env=empty_home)


@pytest.fixture(scope="module")
def keyed(serve, empty_home):
    return serve("--api-key", KEY, env=empty_home)


def csp(reply) -> dict[str, list[str]]:
    policy = {}
    for directive in reply.headers["content-security-policy"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def test_the_manifest_lists_exactly_the_shipped_files():
    shipped = {p.name for p in WEBUI.iterdir() if p.is_file() and p.name != "__init__.py"}
    assert shipped == set(ui.FILES)


def test_the_page_is_served_with_a_strict_policy(server):
    reply = server.http("GET", "/")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.body == (WEBUI / "index.html").read_bytes()
    policy = csp(reply)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]  # nothing inline
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert policy["require-trusted-types-for"] == ["'script'"] and policy["trusted-types"] == ["'none'"]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert reply.headers["cache-control"] == "no-cache"
    assert "access-control-allow-origin" not in reply.headers


def test_the_page_loads_nothing_from_elsewhere_and_nothing_inline():
    html = (WEBUI / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and " style=" not in html
    for name in ui.FILES:
        text = (WEBUI / name).read_text()
        # The only absolute URL a file may name is the SVG namespace.
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s'\"`)]*", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (name, urls)
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "eval(" not in text and "new Function" not in text, name


@pytest.mark.parametrize("name", sorted(ui.FILES))
def test_every_asset_has_its_type_an_etag_and_revalidates(server, name):
    reply = server.http("GET", f"/ui/{name}")
    assert reply.status == 200, reply
    assert reply.headers["content-type"] == ui.FILES[name]
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in reply.headers
    assert reply.body == (WEBUI / name).read_bytes()
    etag = reply.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag)
    again = server.http("GET", f"/ui/{name}", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag
    assert server.http("GET", f"/ui/{name}", headers={"If-None-Match": '"stale"'}).status == 200
    head = server.http("HEAD", f"/ui/{name}")
    assert head.status == 200 and head.body == b""


@pytest.mark.parametrize("path", [
    "/ui/", "/ui/nothing.js", "/ui/__init__.py", "/ui/../ui.py", "/ui/..%2Fui.py", "/ui/%2e%2e%2fapp.py",
    "/ui/webui/app.js", "/ui//etc/passwd", "/ui/..%2F..%2F..%2Fpyproject.toml", "/index.html", "/ui/APP.JS",
])
def test_nothing_but_the_listed_files_can_be_fetched(server, path):
    reply = server.http("GET", path)
    assert reply.status == 404, (path, reply)
    assert reply.json()["error"]["code"] == "not_found"


def test_only_get_and_head(server):
    reply = server.http("POST", "/", b"{}")
    assert reply.status == 405 and reply.json()["error"]["code"] == "method_not_allowed"


def test_the_page_needs_no_key_but_the_api_does(keyed):
    assert keyed.http("GET", "/").status == 200
    assert keyed.http("GET", "/ui/app.js").status == 200
    assert keyed.http("GET", "/ui/missing.js").status == 404
    assert keyed.http("GET", "/v1/models").status == 401
    assert keyed.http("GET", "/openapi.json").status == 401
    assert keyed.http("GET", "/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status == 200


def test_no_ui_turns_the_page_off(serve, empty_home):
    server = serve("--no-ui", env=empty_home)
    for path in ("/", "/ui/app.js", "/ui/index.html"):
        reply = server.http("GET", path)
        assert reply.status == 404 and reply.json()["error"]["code"] == "not_found", (path, reply)
    assert server.http("GET", "/v1/models").status == 200


def test_the_start_line_on_stderr_names_the_page(tmp_path, empty_home):
    from fixtures.server import _read_line
    from fixtures.tooling import executable

    for flags, expected in (([], "chat page at http://127.0.0.1:"), (["--no-ui"], None)):
        proc = subprocess.Popen([executable("mlxk-serve"), "--port", "0", *flags], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=empty_home, start_new_session=True)
        proc.stdout = proc.stderr  # the start line is a note on stderr
        try:
            line = _read_line(proc, 120)
        finally:
            proc.terminate()
            proc.wait(15)
        assert line.startswith("mlxk-serve: serving on http://127.0.0.1:"), line
        assert (expected in line) if expected else ("chat page" not in line), line


def test_a_wheel_ships_the_page_without_packaging_warnings(built_wheel):
    assert {f"mlxk_bin/serve/webui/{name}" for name in ui.FILES} <= set(built_wheel.names)
    assert "is absent from the `packages` configuration" not in built_wheel.log
