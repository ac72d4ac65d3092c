"""mlx-run --image on a tiny random Qwen2-VL built at test time (tests/fixtures/tiny_vlm.py).

Random weights give garbage text: these tests assert types, token counts,
determinism, image-dependence, chunk bookkeeping and exact EXIF values.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from fixtures.tiny_vlm import EXIF_EXPECTED
from fixtures.tooling import base_env, executable, run_inprocess

from mlxk_bin.run import main

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]
GREEDY = ["--temperature", "0", "--max-tokens", "6"]


def run_json(model, *args, environ=None):
    result = run_inprocess(main, [str(model), *map(str, args), *GREEDY, "--json"], environ=environ)
    return result, result.json()


def test_one_image_json_record_and_exif(tiny_vlm, vision_images):
    result, doc = run_json(tiny_vlm, "--image", vision_images["blue.jpg"])
    assert result.code == 0, result
    data = doc["data"]
    assert data["prompt"] == "Describe the image."  # the default prompt
    assert isinstance(data["response"], str) and data["usage"]["completion_tokens"] == 6
    [image] = data["images"]
    assert image["index"] == 1 and image["file"] == "blue.jpg" and (image["width"], image["height"]) == (64, 48)
    assert len(image["sha256"]) == 64
    assert image["exif"] == EXIF_EXPECTED
    [chunk] = data["chunks"]
    assert chunk["images"] == [1] and chunk["files"] == ["blue.jpg"]
    # The model saw the EXIF block: without it the prompt is shorter.
    _, off = run_json(tiny_vlm, "--image", vision_images["blue.jpg"], "--no-exif")
    assert off["data"]["images"][0]["exif"] is None
    assert off["data"]["usage"]["prompt_tokens"] < data["usage"]["prompt_tokens"]
    _, env_off = run_json(tiny_vlm, "--image", vision_images["blue.jpg"],
                          environ=base_env(MLXK2_EXIF_METADATA="0"))
    assert env_off["data"]["usage"]["prompt_tokens"] == off["data"]["usage"]["prompt_tokens"]


def test_greedy_is_deterministic_and_depends_on_the_image(tiny_vlm, vision_images):
    outputs = {}
    for name in ("red.png", "noise.bmp"):
        _, doc = run_json(tiny_vlm, "--image", vision_images[name], "--no-exif", "--max-tokens", "12")
        _, again = run_json(tiny_vlm, "--image", vision_images[name], "--no-exif", "--max-tokens", "12")
        assert doc["data"]["response"] == again["data"]["response"]
        outputs[name] = doc["data"]
    assert outputs["red.png"]["response"] != outputs["noise.bmp"]["response"]
    # Image tokens: a 200x150 image is more tokens than a 70x70 one (min/max pixels 56²..112²).
    assert outputs["red.png"]["usage"]["prompt_tokens"] > outputs["noise.bmp"]["usage"]["prompt_tokens"]


@pytest.mark.parametrize("name", ["green.webp", "gray.gif", "tile.tiff"])
def test_formats(tiny_vlm, vision_images, name):
    result, doc = run_json(tiny_vlm, "--image", vision_images[name], "What is this?")
    assert result.code == 0, result
    assert doc["data"]["prompt"] == "What is this?" and doc["data"]["images"][0]["exif"] is None


@pytest.mark.parametrize("chunk, expect", [(1, [[1], [2], [3]]), (2, [[1, 2], [3]])])
def test_chunks(tiny_vlm, vision_images, chunk, expect):
    files = [vision_images[n] for n in ("blue.jpg", "red.png", "noise.bmp")]
    result, doc = run_json(tiny_vlm, "--image", *files, "--chunk", chunk)
    assert result.code == 0, result
    chunks = doc["data"]["chunks"]
    assert [c["images"] for c in chunks] == expect
    assert [c["chunk"] for c in chunks] == list(range(1, len(expect) + 1))
    assert all(c["usage"]["completion_tokens"] == 6 for c in chunks)
    assert doc["data"]["usage"]["completion_tokens"] == 6 * len(expect)
    # Each chunk a fresh session: chunk 1 of a --chunk 1 run is the one-image run exactly.
    if chunk == 1:
        _, alone = run_json(tiny_vlm, "--image", files[0])
        assert chunks[0]["response"] == alone["data"]["response"]
        assert chunks[0]["usage"] == alone["data"]["usage"]


def test_chunk_from_environment_and_human_output(tiny_vlm, vision_images):
    files = [vision_images[n] for n in ("blue.jpg", "red.png", "noise.bmp", "green.webp")]
    result = run_inprocess(main, [str(tiny_vlm), "--image", *map(str, files), *GREEDY],
                           environ=base_env(MLXK2_VISION_CHUNK_SIZE="2"))
    assert result.code == 0, result
    out = result.stdout
    assert "Chunk 1/2: images 1–2" in out and "Chunk 2/2: images 3–4" in out
    assert out.count("<details>") == 1  # only chunk 1 has a photo with EXIF
    sha = hashlib.sha256(files[0].read_bytes()).hexdigest()[:8]
    assert "<summary>📸 Image Metadata (2 images)</summary>" in out
    assert f"| 1 | image_{sha}.jpeg | blue.jpg | 📍 48.8584°N, 2.2945°E | 📅 2024-06-01 | Canon EOS R5 |" in out
    assert f"| 2 | image_{hashlib.sha256(files[1].read_bytes()).hexdigest()[:8]}.png | red.png | - | - | - |" in out
    assert out.index("<details>") < out.index("</details>") < out.index("Chunk 2/2")


def test_ndjson_chunk_events(tiny_vlm, vision_images):
    result = run_inprocess(main, [str(tiny_vlm), "--image", str(vision_images["red.png"]),
                                  str(vision_images["noise.bmp"]), *GREEDY, "--ndjson"])
    assert result.code == 0, result
    events = result.ndjson()
    assert [e["chunk"] for e in events if e["event"] == "chunk"] == [1, 2]
    assert {e["chunk"] for e in events if e["event"] == "delta"} <= {1, 2}
    assert events[-1]["event"] == "result" and len(events[-1]["images"]) == 2


def test_text_only_prompt_on_a_vision_model(tiny_vlm):
    result, doc = run_json(tiny_vlm, "Hello")
    assert result.code == 0, result
    assert "images" not in doc["data"] and doc["data"]["usage"]["completion_tokens"] == 6


def test_image_on_stdin(tiny_vlm, vision_images):
    data = vision_images["blue.jpg"].read_bytes()
    proc = subprocess.run([executable("mlx-run"), str(tiny_vlm), "--image", "-", *GREEDY, "--json"],
                          input=data, capture_output=True, env=base_env(), timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    import json

    image = json.loads(proc.stdout)["data"]["images"][0]
    assert image["file"] == "-" and image["exif"] == EXIF_EXPECTED


NOT_LOADED = """
import sys
from mlxk_bin.run import main
code = main(sys.argv[1:])
print("LOADED" if any(m in sys.modules for m in ("mlx_vlm", "mlx.core", "transformers")) else "NOTHING-LOADED")
sys.exit(code)
"""


@pytest.mark.parametrize("name, extra, reason", [
    ("not_image.png", [], "not_image"),
    ("truncated.jpg", [], "corrupt"),
    ("noise.bmp", ["--max-image", "10KB"], "too_large"),
    ("noise.bmp", ["--max-images-total", "10KB"], "request_too_large"),
    ("missing.jpg", [], "not_found"),
    ("https://example.com/cat.jpg", [], "url"),
])
def test_bad_images_fail_before_any_weights_load(tiny_vlm, vision_images, name, extra, reason):
    path = vision_images.get(name, name if "://" in name else vision_images["red.png"].parent / name)
    proc = subprocess.run([sys.executable, "-c", NOT_LOADED, str(tiny_vlm), "--image", str(path), *extra, "--json"],
                          capture_output=True, text=True, env=base_env(), timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    import json

    first, _, marker = proc.stdout.rpartition("}")
    error = json.loads(first + "}")["error"]
    assert error["type"] == "invalid_image" and error["reason"] == reason
    assert str(path) in error["message"] and error["file"] == str(path)
    assert marker.strip() == "NOTHING-LOADED"


def test_images_for_a_text_model_are_refused_before_loading(smollm2_workspace, vision_images):
    result = run_inprocess(main, [str(smollm2_workspace), "--image", str(vision_images["red.png"]), "--json"])
    assert result.code == 1
    assert result.json()["error"]["type"] == "capability_not_supported"


def test_ndjson_in_with_images_and_a_bad_line(tiny_vlm, vision_images):
    import json

    blue, red, bad = (str(vision_images[n]) for n in ("blue.jpg", "red.png", "not_image.png"))
    lines = [
        {"id": "a", "prompt": "Describe the image.", "images": [blue], "max_tokens": 6, "temperature": 0},
        {"id": "b", "prompt": "Hello", "max_tokens": 6, "temperature": 0},
        {"id": "c", "prompt": "x", "images": [bad]},
        {"id": "d", "messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi"}]}],
         "images": [red], "max_tokens": 6, "temperature": 0, "seed": 3},
        {"id": "e", "prompt": "Describe the image.", "images": [red, blue], "max_tokens": 6, "temperature": 0.9,
         "seed": 5},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\n"
    result = run_inprocess(main, [str(tiny_vlm), "--ndjson-in", "--batch-size", "4"], stdin=stdin)
    assert result.code == 1  # one bad line
    out = {rec["id"]: rec for rec in result.ndjson()}
    assert [rec["index"] for rec in result.ndjson()] == [0, 1, 2, 3, 4]
    assert out["c"]["event"] == "error" and out["c"]["error"]["type"] == "invalid_image"
    assert out["a"]["images"][0]["exif"] == EXIF_EXPECTED and "images" not in out["b"]
    assert [i["file"] for i in out["e"]["images"]] == ["red.png", "blue.jpg"]
    assert all(out[k]["usage"]["completion_tokens"] == 6 for k in "abde")
    # Batched greedy = the one-shot answer (same EXIF block, same image).
    _, alone = run_json(tiny_vlm, "--image", blue)
    assert out["a"]["response"] == alone["data"]["response"]
    assert out["a"]["usage"] == alone["data"]["usage"]
    # Seeded sampling in a batch is the request's own: the same line alone gives the same text.
    again = run_inprocess(main, [str(tiny_vlm), "--ndjson-in"], stdin=json.dumps(lines[4]) + "\n")
    assert again.ndjson()[0]["response"] == out["e"]["response"]


def test_images_with_models_from_stdin(tiny_vlm, smollm2_workspace, vision_images):
    stdin = f"{tiny_vlm}\n{smollm2_workspace}\n"
    result = run_inprocess(main, ["--model", "-", "--image", str(vision_images["blue.jpg"]), *GREEDY, "--ndjson"],
                           stdin=stdin)
    assert result.code == 1  # the text model cannot read images
    events = [e for e in result.ndjson() if e["event"] in ("result", "error")]
    assert events[0]["event"] == "result" and events[0]["images"][0]["exif"] == EXIF_EXPECTED
    assert events[1]["event"] == "error" and events[1]["error"]["type"] == "capability_not_supported"


def test_image_urls_only_with_allow_image_urls(tiny_vlm, vision_images, image_http):
    url = image_http.url("/blue.jpg")
    refused = run_inprocess(main, [str(tiny_vlm), "--image", url, *GREEDY, "--json"])
    assert refused.code == 1 and refused.json()["error"]["reason"] == "url"
    assert "--allow-image-urls" in refused.json()["error"]["message"]
    assert "/blue.jpg" not in image_http.hits  # nothing was fetched
    result, fetched = run_json(tiny_vlm, "--image", url, "--allow-image-urls")
    assert result.code == 0, result
    _, local = run_json(tiny_vlm, "--image", vision_images["blue.jpg"])
    assert fetched["data"]["response"] == local["data"]["response"]
    assert fetched["data"]["usage"] == local["data"]["usage"]
    [image] = fetched["data"]["images"]
    assert image["file"] == "blue.jpg" and image["exif"] == EXIF_EXPECTED
    assert image["sha256"] == local["data"]["images"][0]["sha256"]
    # The environment turns it on too; a URL that fails names itself and why.
    missing = image_http.url("/missing.png")
    result = run_inprocess(main, [str(tiny_vlm), "--image", missing, *GREEDY, "--json"],
                           environ=base_env(MLXK2_ALLOW_IMAGE_URLS="1"))
    error = result.json()["error"]
    assert result.code == 1 and error["type"] == "invalid_image" and error["reason"] == "http_status"
    assert missing in error["message"] and "404" in error["message"]
