"""The embedding engine on a tiny BERT built at test time, checked against a
NumPy forward pass of the same weights (fixtures/tiny_bert.py)."""

from __future__ import annotations

import pytest
from fixtures.tiny_bert import numpy_embed, numpy_tokens

from mlxk_common.engine.embed import check_tokens, load_embed_engine, pooling_of
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.locate import check_runnable
from mlxk_common.inventory.located import Located

TEXTS = ["the cat sat on the mat", "hello world", "a", "embed this vector, is it a dog?"]


@pytest.fixture(scope="module")
def engines(tiny_bert):
    return {kind: load_embed_engine(Located.folder(folder)) for kind, folder in tiny_bert.items()}


def test_tiny_bert_is_a_healthy_runnable_embedding_model(tiny_bert):
    located = Located.folder(tiny_bert["cls"])
    runtime = check_runnable(located, kinds=("embedding",))
    assert (runtime.model_type, runtime.backend, runtime.runtime_compatible) == ("embedding", "mlx_embeddings", True)
    with pytest.raises(MlxkError) as err:
        check_runnable(located)  # asked for a text model
    assert err.value.type == "capability_not_supported"


def test_pooling_comes_from_the_sentence_transformers_files(tiny_bert):
    assert pooling_of(Located.folder(tiny_bert["cls"])) == (("cls",), True)
    assert pooling_of(Located.folder(tiny_bert["mean"])) == (("mean",), True)


def test_tokens_are_the_wordpiece_ids_with_cls_and_sep(engines):
    ids = engines["cls"].tokenize(["the cat"])[0]
    vocab = engines["cls"].tokenizer.tok.get_vocab()
    assert ids == [vocab["[CLS]"], vocab["the"], vocab["cat"], vocab["[SEP]"]]


@pytest.mark.parametrize("kind", ["cls", "mean"])
def test_batched_vectors_match_a_numpy_forward_pass(engines, tiny_bert, kind):
    import numpy as np

    engine = engines[kind]
    tokens = engine.tokenize(TEXTS)
    assert tokens == [numpy_tokens(tiny_bert[kind], t) for t in TEXTS]
    vectors = engine.embed(tokens)  # one padded batch of different lengths
    assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
    for row, ids in enumerate(tokens):
        expected = numpy_embed(tiny_bert[kind], ids, kind)
        np.testing.assert_allclose(vectors[row], expected, atol=2e-5)
        assert abs(np.linalg.norm(vectors[row]) - 1) < 1e-5
    # Padding changes nothing: each input alone gives the same vector.
    for row, ids in enumerate(tokens):
        np.testing.assert_allclose(engine.embed([ids])[0], vectors[row], atol=2e-5)
    # Different inputs, different vectors.
    assert float(vectors[0] @ vectors[1]) < 0.999


def test_bad_token_lists_are_refused(engines):
    engine = engines["mean"]
    for tokens, kind in (([[]], "usage_error"), ([[5, 10**6]], "usage_error"), ([[5] * 65], "context_length_exceeded")):
        with pytest.raises(MlxkError) as err:
            check_tokens(engine, tokens)
        assert err.value.type == kind
