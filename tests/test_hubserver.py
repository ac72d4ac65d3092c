"""The test Hub server against the real huggingface_hub client (run in subprocesses)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fixtures.hub import HUB_OTHER_TOKEN, HUB_TOKEN
from hubkit.store import Store, commit_id, git_blob_sha1

MiB = 1 << 20
BIG_SIZE = 12 * MiB  # over the Hub's 10 MB LFS threshold and over one 10 MiB client chunk


def make_model_folder(root: Path, salt: str) -> Path:
    """A model folder with a >10 MB binary, an LFS-by-name file and nested files; contents
    depend on ``salt`` (the store keeps each content once, so uploads need fresh bytes)."""
    noise = hashlib.sha256(salt.encode()).digest()
    files = {
        "config.json": b'{"model_type": "llama", "hidden_size": 64}\n',
        "tokenizer.json": json.dumps({"version": "1.0", "salt": salt}).encode(),
        "README.md": b"---\nlibrary_name: mlx\n---\n# tiny\n",
        "model.safetensors": bytes(range(256)) * 64 + noise,
        "nested/deeper/notes.txt": b"nested file\n",
        "big.bin": noise * (BIG_SIZE // 32),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return make_model_folder(tmp_path_factory.mktemp("hub-source"), "seed")


def source_files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def seeded(hub_server, source):
    """acme/tiny: main (all source files, tag v1), branch dev with a different config."""
    repo = "acme/tiny"
    main = hub_server.add_repo("acme", "tiny", source_files(source), tags=["v1"])
    dev = hub_server.add_repo("acme", "tiny", {**source_files(source), "config.json": b'{"dev": true}\n'},
                              branch="dev", message="dev config")
    return {"repo": repo, "main": main, "dev": dev}


def raw_request(hub, method, path, headers=None, data=None, host=None):
    req = urllib.request.Request(f"{host or hub.url}{path}", method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# ---- download side -----------------------------------------------------------------------

def test_snapshot_download_matches_source_and_cache_layout(hf_client, hub, seeded, source):
    out = hf_client("""
        from huggingface_hub import snapshot_download
        print(json.dumps({"path": snapshot_download("acme/tiny")}))
    """)
    snap = Path(out["path"])
    repo_dir = snap.parent.parent
    assert snap.name == seeded["main"]
    assert repo_dir.name == "models--acme--tiny"
    assert (repo_dir / "refs" / "main").read_text() == seeded["main"]
    assert (repo_dir / "trees" / f"{seeded['main']}.json").is_file()
    expected = source_files(source)
    got = {p.relative_to(snap).as_posix(): p for p in snap.rglob("*") if p.is_symlink()}
    assert sorted(got) == sorted(expected)
    lfs = {"model.safetensors", "big.bin"}
    for rel, link in got.items():
        data = expected[rel].read_bytes()
        assert link.read_bytes() == data, rel
        target = os.readlink(link)
        assert not os.path.isabs(target) and target.startswith("../../" + "../" * rel.count("/") + "blobs/")
        want_name = hashlib.sha256(data).hexdigest() if rel in lfs else git_blob_sha1(data)
        assert Path(target).name == want_name, rel
    assert hub.stats.file_bytes("acme/tiny", "big.bin") == BIG_SIZE


def test_hf_hub_download_by_branch_tag_and_commit(hf_client, seeded):
    out = hf_client(f"""
        from huggingface_hub import hf_hub_download
        read = lambda **kw: Path(hf_hub_download("acme/tiny", "config.json", **kw)).read_text()
        print(json.dumps({{"dev": read(revision="dev"), "tag": read(revision="v1"),
                           "commit": read(revision={seeded['dev']!r}), "main": read()}}))
    """)
    assert out == {"dev": '{"dev": true}\n', "tag": out["main"], "commit": '{"dev": true}\n',
                   "main": '{"model_type": "llama", "hidden_size": 64}\n'}


def test_missing_repo_entry_and_revision_raise_typed_errors(hf_client, hub, seeded, tmp_path):
    out = hf_client("""
        from huggingface_hub import hf_hub_download, snapshot_download
        print(json.dumps({
            "repo": attempt(lambda: snapshot_download("acme/no-such-repo")),
            "entry": attempt(lambda: hf_hub_download("acme/tiny", "missing.txt")),
            "revision": attempt(lambda: hf_hub_download("acme/tiny", "config.json", revision="nope")),
        }))
    """)
    assert out["repo"]["error"] == "RepositoryNotFoundError"
    assert out["entry"]["error"] in ("RemoteEntryNotFoundError", "EntryNotFoundError")
    assert out["revision"]["error"] == "RevisionNotFoundError"
    # the 404 for the missing file carried X-Repo-Commit, so the client cached the miss
    no_exist = tmp_path / "hf-home" / "hub" / "models--acme--tiny" / ".no_exist" / seeded["main"] / "missing.txt"
    assert no_exist.exists()


def test_dropped_connection_resumes_in_process_with_range(hf_client, hub, seeded, source, capfd):
    cut = 10 * MiB + MiB // 2
    hub.drop_after_bytes("big.bin", cut, once=True)
    out = hf_client("""
        import hashlib
        from huggingface_hub import hf_hub_download
        p = hf_hub_download("acme/tiny", "big.bin")
        print(json.dumps({"sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()}))
    """)
    assert out["sha256"] == hashlib.sha256((source / "big.bin").read_bytes()).hexdigest()
    gets = [r for r in hub.requests if r["method"] == "GET" and r["path"].endswith("/big.bin")]
    # the client keeps whole 10 MiB chunks it received, and asks for the rest
    assert [r["range"] for r in gets] == [None, f"bytes={10 * MiB}-"]
    assert hub.stats.file_bytes("acme/tiny", "big.bin") == cut + BIG_SIZE - 10 * MiB
    assert hub.wait_idle() and capfd.readouterr().err == ""  # the cut connection left no traceback


def test_private_repo_needs_a_valid_token(hf_client, hub):
    hub.add_repo("acme", "secret", {"config.json": b"{}"}, private=True)
    code = """
        from huggingface_hub import snapshot_download
        print(json.dumps(attempt(lambda: sorted(os.listdir(snapshot_download("acme/secret"))))))
    """
    assert hf_client(code)["error"] == "RepositoryNotFoundError"
    assert hf_client(code, token="hf_wrong")["error"] == "HfHubHTTPError"
    assert hf_client(code, token=HUB_TOKEN) == {"ok": ["config.json"]}


def test_gated_repo_needs_a_granted_token(hf_client, hub):
    hub.add_repo("acme", "gated", {"config.json": b"{}"})
    hub.set_gated("acme/gated", granted_tokens=[HUB_TOKEN])
    code = """
        from huggingface_hub import hf_hub_download
        print(json.dumps(attempt(lambda: Path(hf_hub_download("acme/gated", "config.json")).read_text())))
    """
    assert hf_client(code)["error"] == "GatedRepoError"
    assert hf_client(code, token=HUB_OTHER_TOKEN)["error"] == "GatedRepoError"
    assert hf_client(code, token=HUB_TOKEN) == {"ok": "{}"}
    statuses = [r["status"] for r in hub.requests if r["method"] == "HEAD"]
    assert statuses[:2] == [401, 403]


def test_cdn_redirect_does_not_forward_the_token(hf_client, hub, seeded, source):
    hub.add_repo("acme", "cdn-private", {"model.safetensors": (source / "model.safetensors").read_bytes(),
                                          "config.json": b"{}"}, private=True)
    hub.cdn_redirect = "lfs"
    out = hf_client("""
        import hashlib
        from huggingface_hub import hf_hub_download
        p = hf_hub_download("acme/cdn-private", "model.safetensors")
        print(json.dumps({"sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()}))
    """, token=HUB_TOKEN)
    assert out["sha256"] == hashlib.sha256((source / "model.safetensors").read_bytes()).hexdigest()
    head = [r for r in hub.requests if r["method"] == "HEAD"]
    cdn = [r for r in hub.requests if r["path"].startswith("/cdn/")]
    assert [(r["status"], r["auth"]) for r in head] == [(302, True)]
    assert [(r["method"], r["status"], r["auth"], r["host"].split(":")[0]) for r in cdn] == \
        [("GET", 200, False, "localhost")]


def test_listing_endpoints(hf_client, hub, seeded):
    hub.tree_page_size = 2
    hub.commits_page_size = 1
    out = hf_client("""
        from huggingface_hub import HfApi
        api = HfApi()
        info = api.model_info("acme/tiny", files_metadata=True)
        refs = api.list_repo_refs("acme/tiny")
        print(json.dumps({
            "sha": info.sha,
            "siblings": {s.rfilename: [s.size, s.lfs.sha256 if s.lfs else None] for s in info.siblings},
            "files": sorted(api.list_repo_files("acme/tiny")),
            "top": sorted((e.path, type(e).__name__) for e in api.list_repo_tree("acme/tiny", expand=True)),
            "branches": sorted((b.name, b.target_commit) for b in refs.branches),
            "tags": [(t.name, t.target_commit) for t in refs.tags],
            "commits": [c.commit_id for c in api.list_repo_commits("acme/tiny", revision="dev")],
            "paths": sorted((e.path, type(e).__name__) for e in
                            api.get_paths_info("acme/tiny", ["config.json", "nested", "nope"], revision="v1")),
        }))
    """)
    assert out["sha"] == seeded["main"]
    assert out["siblings"]["big.bin"] == [BIG_SIZE, hub.files("acme/tiny")["big.bin"]["sha256"]]
    assert out["siblings"]["config.json"][1] is None
    assert out["files"] == sorted(hub.files("acme/tiny"))
    assert out["top"] == [["README.md", "RepoFile"], ["big.bin", "RepoFile"], ["config.json", "RepoFile"],
                          ["model.safetensors", "RepoFile"], ["nested", "RepoFolder"],
                          ["tokenizer.json", "RepoFile"]]
    assert out["branches"] == [["dev", seeded["dev"]], ["main", seeded["main"]]]
    assert out["tags"] == [["v1", seeded["main"]]]
    assert out["commits"] == [seeded["dev"], seeded["main"]]
    assert out["paths"] == [["config.json", "RepoFile"], ["nested", "RepoFolder"]]
    tree_pages = [r["path"] for r in hub.requests if "/tree/" in r["path"] and "recursive=true" in r["path"]]
    assert len(tree_pages) > 2 and any("cursor=" in p for p in tree_pages)  # followed absolute Links


# ---- upload side -------------------------------------------------------------------------

UPLOAD = """
    from huggingface_hub import HfApi
    api = HfApi()
    url = api.create_repo({repo!r}, exist_ok=True)
    info = api.upload_folder(folder_path={folder!r}, repo_id={repo!r}, commit_message="upload")
    print(json.dumps({{"url": str(url), "oid": info.oid}}))
"""

ROUNDTRIP = """
    import hashlib
    from huggingface_hub import snapshot_download
    p = Path(snapshot_download({repo!r}))
    print(json.dumps({{f.relative_to(p).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
                      for f in p.rglob("*") if f.is_file()}}))
"""


def _upload_and_check(hf_client, hub, source, repo, *, disable_xet):
    out = hf_client(UPLOAD.format(repo=repo, folder=str(source)), token=HUB_TOKEN, disable_xet=disable_xet)
    assert out["url"] == f"{hub.url}/{repo}"
    assert out["oid"] == hub.head(repo)
    back = hf_client(ROUNDTRIP.format(repo=repo))
    want = {rel: hashlib.sha256(p.read_bytes()).hexdigest() for rel, p in source_files(source).items()}
    assert {k: v for k, v in back.items() if k != ".gitattributes"} == want
    assert ".gitattributes" in back  # create_repo seeds it, like the Hub
    return out


def test_upload_folder_over_lfs(hf_client, hub, tmp_path):
    source = make_model_folder(tmp_path / "model", "lfs")
    _upload_and_check(hf_client, hub, source, "tester/up-lfs", disable_xet=True)
    assert [r["status"] for r in hub.requests if r["path"] == "/tester/up-lfs.git/info/lfs/objects/batch"] == [200]
    puts = [r for r in hub.requests if r["method"] == "PUT" and r["path"].startswith("/lfs-upload/")]
    assert len(puts) == 2 and not any(r["auth"] for r in puts)  # big.bin + model.safetensors
    assert not [r for r in hub.requests if "xet" in r["path"]]
    files = hub.files("tester/up-lfs")
    assert files["big.bin"]["lfs"] and files["model.safetensors"]["lfs"] and not files["config.json"]["lfs"]


def test_upload_folder_inline_with_xet_client(hf_client, hub, tmp_path):
    source = make_model_folder(tmp_path / "model", "inline")
    hub.inline_uploads = True
    _upload_and_check(hf_client, hub, source, "tester/up-inline", disable_xet=False)
    paths = [r["path"] for r in hub.requests]
    assert not [p for p in paths if "lfs" in p or "xet" in p]
    assert hub.stats.bytes_received > BIG_SIZE  # big.bin travelled base64 inside the commit


def test_xet_upload_is_refused_with_a_hint(hf_client, hub, source):
    out = hf_client(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("tester/up-xet")
        print(json.dumps(attempt(lambda: api.upload_folder(folder_path={str(source)!r}, repo_id="tester/up-xet"))))
    """, token=HUB_TOKEN, disable_xet=False)
    assert "error" in out
    refused = [r for r in hub.requests if "/xet-write-token/" in r["path"]]
    assert refused and refused[0]["status"] == 501
    status, headers, _ = raw_request(hub, "GET", "/api/models/tester/up-xet/xet-write-token/main",
                              {"Authorization": f"Bearer {HUB_TOKEN}"})
    assert status == 501 and "HF_HUB_DISABLE_XET=1" in headers["X-Error-Message"]


@pytest.mark.parametrize("inline", [False, True], ids=["lfs", "inline"])
def test_unchanged_upload_is_a_no_op(hf_client, hub, tmp_path, inline):
    hub.inline_uploads = inline
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "weights.safetensors").write_bytes(b"w" * 4096)
    repo = f"tester/noop-{'inline' if inline else 'lfs'}"
    first = hf_client(UPLOAD.format(repo=repo, folder=str(folder)), token=HUB_TOKEN)
    hub.stats.reset()
    second = hf_client(UPLOAD.format(repo=repo, folder=str(folder)), token=HUB_TOKEN)
    assert second["oid"] == first["oid"] == hub.head(repo)
    assert not [r for r in hub.requests if "/commit/" in r["path"] or r["method"] == "PUT"]


def test_create_repo_exist_ok_and_conflict(hf_client, hub):
    out = hf_client("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({"first": str(api.create_repo("tester/created", private=True)),
                          "again": str(api.create_repo("tester/created", exist_ok=True)),
                          "conflict": attempt(lambda: api.create_repo("tester/created"))}))
    """, token=HUB_TOKEN)
    assert out["first"] == out["again"] == f"{hub.url}/tester/created"
    assert out["conflict"]["error"] == "HfHubHTTPError" and "409" in out["conflict"]["message"]
    assert hub.repo_info("tester/created")["private"] is True
    assert [r["status"] for r in hub.requests if r["path"] == "/api/repos/create"] == [200, 409, 409]


def test_create_branch_then_upload_to_it(hf_client, hub, tmp_path):
    out = hf_client("""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("tester/branchy")
        api.upload_file(path_or_fileobj=b"main\\n", path_in_repo="which.txt", repo_id="tester/branchy")
        api.create_branch("tester/branchy", branch="feature/x")
        api.create_branch("tester/branchy", branch="feature/x", exist_ok=True)
        info = api.upload_file(path_or_fileobj=b"x\\n", path_in_repo="which.txt", repo_id="tester/branchy",
                               revision="feature/x")
        api.create_tag("tester/branchy", tag="t1", revision="feature/x")
        refs = api.list_repo_refs("tester/branchy")
        api.create_branch("tester/branchy", branch="short-lived")
        api.delete_branch("tester/branchy", branch="short-lived")
        api.create_tag("tester/branchy", tag="t2")
        api.delete_tag("tester/branchy", tag="t2")
        after = api.list_repo_refs("tester/branchy")
        print(json.dumps({"oid": info.oid, "branches": sorted(b.name for b in refs.branches),
                          "tags": [t.name for t in refs.tags],
                          "after": [sorted(b.name for b in after.branches), [t.name for t in after.tags]]}))
    """, token=HUB_TOKEN)
    assert out["branches"] == ["feature/x", "main"] and out["tags"] == ["t1"]
    assert out["after"] == [out["branches"], out["tags"]]
    assert hub.head("tester/branchy", "feature/x") == out["oid"] == hub.head("tester/branchy", "t1")
    assert hub.read_file("tester/branchy", "which.txt") == b"main\n"
    assert hub.read_file("tester/branchy", "which.txt", "feature/x") == b"x\n"
    parent = hub.store.get_commit("model", "tester/branchy", out["oid"])["parent"]
    assert parent == hub.head("tester/branchy", "main")


def test_multipart_lfs_upload(hf_client, hub, tmp_path):
    hub.multipart_chunk_size = 1 * MiB
    blob = os.urandom(2 * MiB + 123)
    (tmp_path / "w.safetensors").write_bytes(blob)
    hf_client(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("tester/multipart")
        api.upload_file(path_or_fileobj={str(tmp_path / 'w.safetensors')!r}, path_in_repo="w.safetensors",
                        repo_id="tester/multipart")
        print("{{}}")
    """, token=HUB_TOKEN)
    assert hub.read_file("tester/multipart", "w.safetensors") == blob
    parts = [r for r in hub.requests if r["method"] == "PUT" and "/part/" in r["path"]]
    assert len(parts) == 3


# ---- raw protocol details and hooks (no client library needed) ----------------------------

def test_range_requests_and_headers(hub, seeded, source):
    hub.throttle_bps = 64 * MiB  # the paced send path must deliver the same bytes
    data = (source / "model.safetensors").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    path = "/acme/tiny/resolve/main/model.safetensors"
    status, headers, body = raw_request(hub, "GET", path, {"Range": "bytes=10-19"})
    assert (status, body, headers["Content-Range"]) == (206, data[10:20], f"bytes 10-19/{len(data)}")
    assert headers["X-Repo-Commit"] == seeded["main"] and headers["X-Linked-Etag"] == f'"{sha}"'
    assert "Content-Encoding" not in headers
    assert raw_request(hub, "GET", path, {"Range": "bytes=-5"})[2] == data[-5:]
    assert raw_request(hub, "GET", path, {"Range": f"bytes={len(data)}-"})[0] == 416
    status, headers, _ = raw_request(hub, "HEAD", "/acme/tiny/resolve/main/config.json")
    cfg = (source / "config.json").read_bytes()
    assert headers["ETag"] == f'"{git_blob_sha1(cfg)}"' and int(headers["Content-Length"]) == len(cfg)
    assert "X-Linked-Etag" not in headers
    status, headers, _ = raw_request(hub, "HEAD", "/acme/tiny/resolve/main/nope.txt")
    assert (status, headers["X-Error-Code"], headers["X-Repo-Commit"]) == (404, "EntryNotFound", seeded["main"])


def test_corrupt_files_keep_headers_but_change_bytes(hub, seeded, source):
    hub.corrupt("config.json")
    data = (source / "config.json").read_bytes()
    status, headers, body = raw_request(hub, "GET", "/acme/tiny/resolve/main/config.json")
    assert status == 200 and len(body) == len(data) and body != data
    assert headers["ETag"] == f'"{git_blob_sha1(data)}"'


def test_drop_after_bytes_every_time(hub, seeded):
    from http.client import IncompleteRead

    hub.drop_after_bytes("acme/tiny/config.json", 5, once=False)
    for _ in range(2):
        with pytest.raises(IncompleteRead) as cut:
            raw_request(hub, "GET", "/acme/tiny/resolve/main/config.json")
        assert len(cut.value.partial) == 5
    assert hub.stats.file_bytes("acme/tiny", "config.json") == 10


def test_fail_next_injects_transient_errors(hub, seeded):
    hub.fail_next(2, 503, path="*/revision/*")
    statuses = [raw_request(hub, "GET", "/api/models/acme/tiny/revision/main")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_chunked_upload_bodies_are_decoded(hub):
    """A raw chunked PUT, as httpx sends file objects, lands as the right blob."""
    blob = b"chunked-body-" * 1000
    oid = hashlib.sha256(blob).hexdigest()
    hub.add_repo("tester", "chunky", {"a.txt": b"a"})
    status, _, body = raw_request(hub, "POST", "/tester/chunky.git/info/lfs/objects/batch",
                           {"Authorization": f"Bearer {HUB_TOKEN}", "Content-Type": "application/json"},
                           json.dumps({"operation": "upload", "transfers": ["basic"],
                                       "objects": [{"oid": oid, "size": len(blob)}]}).encode())
    href = json.loads(body)["objects"][0]["actions"]["upload"]["href"]
    target = href[len(hub.url):]
    with socket.create_connection(("127.0.0.1", hub.port)) as s:
        head = f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        pieces = [blob[i:i + 3000] for i in range(0, len(blob), 3000)]
        s.sendall(head + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 200")
    assert hub.store.has_blob(oid, len(blob))


def test_commit_ids_are_content_addressed(tmp_path):
    store = Store(tmp_path)
    store.create_repo("model", "o/a", seed_gitattributes=None)
    store.create_repo("model", "o/b", seed_gitattributes=None)
    a = store.commit_snapshot("model", "o/a", {"x.txt": b"1", "y.bin": b"2"})
    b = store.commit_snapshot("model", "o/b", {"y.bin": b"2", "x.txt": b"1"})
    assert a == b and len(a) == 40 and a == a.lower()
    assert a == commit_id(None, store.get_commit("model", "o/a", a)["files"])
    assert store.commit_snapshot("model", "o/b", {"x.txt": b"1", "y.bin": b"2"}) == b  # re-seeding: no-op
    c = store.commit_snapshot("model", "o/b", {"y.bin": b"2", "x.txt": b"changed"})
    assert c != b and store.get_commit("model", "o/b", c)["parent"] == b
    blobs = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file() and p.suffix != ".sha1"]
    assert len(blobs) == 3  # b"1", b"2", b"changed": shared contents stored once


def test_client_hangup_mid_download_is_quiet(hub, seeded, capfd):
    with socket.create_connection(("127.0.0.1", hub.port)) as s:
        s.sendall(b"GET /acme/tiny/resolve/main/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert s.recv(65536)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    assert hub.wait_idle()
    assert hub.stats.file_bytes("acme/tiny", "big.bin") < BIG_SIZE
    assert [r["status"] for r in hub.requests] == [200]
    assert capfd.readouterr().err == ""


def test_settings_visibility_whoami_and_delete(hf_client, hub):
    out = hf_client("""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("tester/vis")
        api.update_repo_settings("tester/vis", private=True)
        private = api.model_info("tester/vis").private
        anonymous = attempt(lambda: HfApi(token=False).model_info("tester/vis"))
        api.delete_repo("tester/vis")
        print(json.dumps({"me": api.whoami()["name"], "private": private, "anonymous": anonymous,
                          "gone": attempt(lambda: api.model_info("tester/vis")),
                          "delete_again": attempt(lambda: api.delete_repo("tester/vis"))}))
    """, token=HUB_TOKEN)
    assert out["me"] == hub.user and out["private"] is True
    assert out["anonymous"]["error"] == "RepositoryNotFoundError"
    assert out["gone"]["error"] == out["delete_again"]["error"] == "RepositoryNotFoundError"
    anonymous_whoami = hf_client("""
        from huggingface_hub import HfApi
        print(json.dumps(attempt(lambda: HfApi().whoami())))
    """)
    assert anonymous_whoami["error"] in ("LocalTokenNotFoundError", "HfHubHTTPError")


def test_standalone_server_process(tmp_path):
    """`python tests/hubserver.py --root DIR` prints its URL, serves, and exits 0 on SIGTERM."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("hubserver.py")), "--root",
                             str(tmp_path / "root"), "--throttle", "1000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/api/agent-harnesses") as r:
            assert json.load(r) == {"standardEnvVars": [], "harnesses": {}}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and err == ""
