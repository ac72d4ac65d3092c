"""POST /v1/embeddings over HTTP, with the openai package's client.embeddings.create.

A server preloads the tiny BERT of fixtures/tiny_bert.py (CLS pooling,
normalised, matryoshka) from a workspace home that also holds a mean-pooled
twin; SmolLM2 sits in the HF cache, never loaded by it.  Vectors are checked
against the NumPy forward pass of the same weights.  A second server runs
SmolLM2 with --allow-llm-embeddings.
"""

from __future__ import annotations

import base64
import concurrent.futures

import numpy as np
import pytest
from fixtures.smollm2 import SMOLLM2_REPO_ID
from fixtures.tiny_bert import numpy_embed, numpy_tokens
from fixtures.tooling import base_env

pytestmark = pytest.mark.slow

TEXTS = ["the cat sat on the mat", "hello world", "a", "embed this vector, is it a dog?"]


@pytest.fixture(scope="module")
def server(serve, tiny_bert, smollm2_hf_home):
    env = base_env(HF_HOME=smollm2_hf_home, MLXK_WORKSPACE_HOME=tiny_bert["cls"].parent)
    return serve("--model", "bert-cls", "--max-models", "2", env=env)


@pytest.fixture(scope="module")
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=120)


def test_float_vectors_match_the_numpy_forward_pass(client, tiny_bert):
    import numpy as np

    r = client.embeddings.create(model="bert-cls", input=TEXTS, encoding_format="float")
    assert r.object == "list" and r.model == "bert-cls"
    assert [d.index for d in r.data] == list(range(len(TEXTS)))
    tokens = [numpy_tokens(tiny_bert["cls"], t) for t in TEXTS]
    assert r.usage.prompt_tokens == r.usage.total_tokens == sum(len(t) for t in tokens)
    for item, ids in zip(r.data, tokens):
        assert len(item.embedding) == 32
        np.testing.assert_allclose(item.embedding, numpy_embed(tiny_bert["cls"], ids, "cls"), atol=2e-5)


def test_the_sdk_default_base64_round_trips(client, server):
    import numpy as np

    sdk = client.embeddings.create(model="bert-cls", input=TEXTS)  # the SDK asks for base64 and decodes it
    raw = server.http("POST", "/v1/embeddings", {"model": "bert-cls", "input": TEXTS, "encoding_format": "base64"})
    floats = client.embeddings.create(model="bert-cls", input=TEXTS, encoding_format="float")
    assert raw.status == 200
    for b64, sdk_item, float_item in zip(raw.json()["data"], sdk.data, floats.data):
        decoded = np.frombuffer(base64.b64decode(b64["embedding"]), dtype="<f4")
        assert decoded.tolist() == float_item.embedding == sdk_item.embedding


def test_identical_inputs_have_cosine_one_and_others_less(client):
    import numpy as np

    r = client.embeddings.create(model="bert-cls", input=["hello world", "hello world", "the dog sat"])
    a, b, c = (np.array(d.embedding) for d in r.data)
    assert abs(float(a @ b) - 1) < 1e-5 and abs(np.linalg.norm(a) - 1) < 1e-5
    assert float(a @ c) < 0.999


def test_pooling_follows_the_model_files(client, tiny_bert):
    import numpy as np

    ids = numpy_tokens(tiny_bert["mean"], "the cat")
    r = client.embeddings.create(model="bert-mean", input="the cat", encoding_format="float")
    np.testing.assert_allclose(r.data[0].embedding, numpy_embed(tiny_bert["mean"], ids, "mean"), atol=2e-5)


def test_token_id_inputs_equal_text_inputs(client, tiny_bert):
    ids = numpy_tokens(tiny_bert["cls"], "the cat sat")
    by_text = client.embeddings.create(model="bert-cls", input="the cat sat", encoding_format="float")
    one = client.embeddings.create(model="bert-cls", input=ids, encoding_format="float")
    many = client.embeddings.create(model="bert-cls", input=[ids, ids[:3]], encoding_format="float")
    assert one.data[0].embedding == by_text.data[0].embedding == many.data[0].embedding
    assert len(many.data) == 2 and many.usage.prompt_tokens == len(ids) + 3


def test_dimensions_cut_and_normalise_a_matryoshka_model(client):
    import numpy as np

    full = client.embeddings.create(model="bert-cls", input="hello world", encoding_format="float").data[0].embedding
    cut = client.embeddings.create(model="bert-cls", input="hello world", dimensions=8,
                                   encoding_format="float").data[0].embedding
    assert len(cut) == 8
    expected = np.array(full[:8]) / np.linalg.norm(full[:8])
    np.testing.assert_allclose(cut, expected, atol=1e-6)


def test_a_long_batched_request_equals_one_by_one(client):
    texts = [f"the cat {'sat ' * (i % 7)}on mat {i}" for i in range(70)]  # more than one engine batch
    together = client.embeddings.create(model="bert-cls", input=texts, encoding_format="float")
    assert [d.index for d in together.data] == list(range(70))
    for i in (0, 33, 69):
        alone = client.embeddings.create(model="bert-cls", input=texts[i], encoding_format="float")
        assert max(abs(x - y) for x, y in zip(alone.data[0].embedding, together.data[i].embedding)) < 1e-5


def test_concurrent_requests_get_their_own_vectors(client):
    texts = [f"vector {i} is a {'dog' if i % 2 else 'cat'}" for i in range(12)]

    def one(text):
        return client.embeddings.create(model="bert-cls", input=text, encoding_format="float").data[0].embedding

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        together = list(pool.map(one, texts))
    alone = [one(t) for t in texts]
    # Batched with others or alone: the same vector, up to the summation order of a bigger matmul.
    assert np.allclose(together, alone, rtol=1e-4, atol=1e-6)
    for i, vector in enumerate(together):  # and each its own: nearer its own text than any other's
        assert int(np.argmin(np.abs(np.asarray(alone) - vector).sum(axis=1))) == i


@pytest.mark.parametrize(("body", "param"), [
    ({"input": ""}, "input[0]"),
    ({"input": []}, "input"),
    ({"input": 3}, "input"),
    ({"input": ["a", 1]}, "input"),
    ({"input": [[1, -2]]}, "input[0][1]"),
    ({"input": "a", "encoding_format": "int8"}, "encoding_format"),
    ({"input": "a", "dimensions": 0}, "dimensions"),
    ({"input": "a", "dimensions": 33}, "dimensions"),
    ({"input": "a", "dimensions": "8"}, "dimensions"),
    ({"input": [[5] * 65]}, "input"),
    ({"input": [[10**6]]}, "input"),
    ({}, "input"),
])
def test_bad_requests_are_400_with_the_param(server, body, param):
    reply = server.http("POST", "/v1/embeddings", {"model": "bert-cls", **body})
    assert reply.status == 400, reply
    assert reply.json()["error"]["param"] == param


def test_a_chat_model_is_refused_without_the_flag(server):
    reply = server.http("POST", "/v1/embeddings", {"model": SMOLLM2_REPO_ID, "input": "hi"})
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "model_not_embedding"
    assert SMOLLM2_REPO_ID not in server.health()["loaded"]


def test_an_embedding_model_cannot_chat(client):
    from openai import UnprocessableEntityError

    with pytest.raises(UnprocessableEntityError) as err:
        client.chat.completions.create(model="bert-cls", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert err.value.body["code"] == "capability_not_supported"


def test_llm_embeddings_when_allowed(serve, smollm2_workspace):
    import mlx.core as mx
    import numpy as np
    from mlx_lm import load
    from openai import OpenAI

    srv = serve("--model", smollm2_workspace, "--allow-llm-embeddings",
                env=base_env(MLXK_WORKSPACE_HOME=smollm2_workspace.parent))
    client = OpenAI(base_url=srv.base_url, api_key="unused", max_retries=0, timeout=300)
    r = client.embeddings.create(model=srv.data["model"], input=["The capital of France", "hi"],
                                 encoding_format="float")
    model, tokenizer = load(str(smollm2_workspace))
    for item, text in zip(r.data, ["The capital of France", "hi"]):
        hidden = model.model(mx.array([tokenizer.encode(text)])).astype(mx.float32)
        expected = np.array(hidden.mean(axis=1)[0])
        expected /= np.linalg.norm(expected)
        # The server may run the CPU path (dequantized float32 weights, another BLAS): the same vector
        # up to rounding, not bit for bit.
        np.testing.assert_allclose(item.embedding, expected, atol=1e-3)
        assert float(np.dot(item.embedding, expected)) > 0.9999
