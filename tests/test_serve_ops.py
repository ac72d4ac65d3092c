"""Operating mlxk-serve: /health while the model loads, the start/ready/stop
lines on stderr, GET /metrics read with prometheus_client's parser."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from fixtures.server import wait_for
from fixtures.tooling import base_env, executable

pytestmark = pytest.mark.slow

KEY = "sekrit-metrics-key"


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class _Lines:
    """A child's stderr lines, collected by a thread as they come."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def find(self, prefix: str):
        return next((line for line in self.lines if line.startswith(prefix)), None)


def test_health_says_loading_until_the_preloaded_model_is_in(smollm2_workspace):
    proc = subprocess.Popen([executable("mlxk-serve"), "--port", "0", "--model", str(smollm2_workspace)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env=base_env(MLXK_WORKSPACE_HOME=smollm2_workspace.parent))
    err = _Lines(proc.stderr)
    try:
        serving = wait_for(lambda: err.find("mlxk-serve: serving on http://"), timeout=120, every=0.02)
        assert serving and serving.endswith(f"; loading {smollm2_workspace}"), err.lines
        url = serving.split("serving on ", 1)[1].split(" ", 1)[0]
        seen = []  # (status, body) of every /health until it says ok
        while not seen or seen[-1][0] != 200:
            status, _, body = _get(url + "/health")
            seen.append((status, json.loads(body)))
            assert proc.poll() is None, err.lines
            time.sleep(0.02)
        loading = [doc for status, doc in seen if status == 503]
        # The model takes seconds to load (mlx and mlx-lm are imported then): polls meet it loading.
        assert loading and all(doc["status"] == "loading" for doc in loading), seen
        assert loading[0]["loading"] == [str(smollm2_workspace)] and loading[0]["loaded"] == []
        ok = seen[-1][1]
        assert ok["status"] == "ok" and ok["loading"] == [] and ok["loaded"] == [str(smollm2_workspace)]
        ready = wait_for(lambda: err.find("mlxk-serve: ready ("), timeout=30)
        assert ready and f"{smollm2_workspace} loaded in" in ready
        assert err.lines.index(serving) < err.lines.index(ready)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err.thread.join(10)
    stopped = err.find("mlxk-serve: stopped; served ")
    assert stopped and "(0 failed)" in stopped and "tokens in" in stopped, err.lines


@pytest.fixture(scope="module")
def metered(serve, smollm2_workspace):
    env = base_env(MLXK_WORKSPACE_HOME=smollm2_workspace.parent, MLXK2_API_KEY=KEY)
    return serve("--model", smollm2_workspace, "--metrics", env=env)


def _families(server):
    from prometheus_client.parser import text_string_to_metric_families

    status, headers, body = _get(server.url + "/metrics", {"Authorization": f"Bearer {KEY}"})
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def _value(families, name, suffix="", **labels):
    for sample in families[name].samples:
        if sample.name == name + suffix and all(sample.labels.get(k) == v for k, v in labels.items()):
            return sample.value
    return None


def test_metrics_count_requests_tokens_and_latency(metered):
    from openai import OpenAI

    client = OpenAI(base_url=metered.base_url, api_key=KEY, max_retries=0, timeout=300)
    before = _families(metered)
    r = client.chat.completions.create(model=metered.data["model"], max_tokens=4, temperature=0,
                                       messages=[{"role": "user", "content": "Say hi"}])
    bad = metered.http("POST", "/v1/embeddings", {"input": "hi"}, headers={"Authorization": f"Bearer {KEY}"})
    assert bad.status == 400
    after = _families(metered)

    def delta(name, suffix="", **labels):
        return (_value(after, name, suffix, **labels) or 0) - (_value(before, name, suffix, **labels) or 0)

    assert delta("mlxk_requests", "_total", endpoint="/v1/chat/completions", status="200") == 1
    assert delta("mlxk_requests", "_total", endpoint="/v1/embeddings", status="400") == 1
    assert delta("mlxk_completion_tokens", "_total") == r.usage.completion_tokens
    assert delta("mlxk_prompt_tokens", "_total") == r.usage.prompt_tokens
    assert delta("mlxk_time_to_first_token_seconds", "_count") == 1
    assert delta("mlxk_time_per_output_token_seconds", "_count") == (1 if r.usage.completion_tokens > 1 else 0)
    assert _value(after, "mlxk_model_loaded", model=metered.data["model"]) == 1
    assert _value(after, "mlxk_models_loaded") == 1
    assert _value(after, "mlxk_queue_depth") == 0
    assert _value(after, "mlxk_prompt_cache_bytes") >= 0
    assert after["mlxk_info"].samples[0].value == 1 and after["mlxk_info"].samples[0].labels["version"]


def test_metrics_need_the_api_key(metered):
    status, _, body = _get(metered.url + "/metrics")
    assert status == 401, body


@pytest.fixture(scope="module")
def allowing(serve, tiny_bert, tmp_path_factory):
    """The tiny BERT preloaded from the home, and a copy outside it admitted by --allow."""
    import shutil

    outside = tmp_path_factory.mktemp("elsewhere") / "bert-outside"
    shutil.copytree(tiny_bert["cls"], outside)
    server = serve("--model", "bert-mean", "--allow", str(outside),
                   env=base_env(MLXK_WORKSPACE_HOME=tiny_bert["mean"].parent))
    server.outside = str(outside)
    return server


def test_metrics_are_off_without_the_flag(allowing):
    reply = allowing.http("GET", "/metrics")
    assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"


def test_models_list_what_allow_admits_outside_the_home(allowing):
    from openai import OpenAI

    client = OpenAI(base_url=allowing.base_url, api_key="unused", max_retries=0, timeout=60)
    ids = [m.id for m in client.models.list().data]
    assert ids == ["bert-mean", allowing.outside]  # bert-cls lies in the home but is not allowed
    found = client.models.retrieve(allowing.outside)
    assert found.id == allowing.outside and found.model_extra["capabilities"] == ["embeddings"]
    r = client.embeddings.create(model=allowing.outside, input="hello", encoding_format="float")
    assert len(r.data[0].embedding) == 32
    refused = allowing.http("POST", "/v1/embeddings", {"model": "bert-cls", "input": "hi"})
    assert refused.status == 403
