"""The engine's token loop (mlxk_common/engine/steps.py) against mlx-lm's own, on the real SmolLM2.

``token_steps`` computes the last prompt token with the rest of the prompt
and the output layer on that row only; the tokens must be mlx-lm's
``generate_step``'s, with and without logits processors, in the count
asked for, and the model must come back unchanged.
"""

import pytest

from mlxk_common.engine import SamplingParams, load_engine
from mlxk_common.engine.steps import head_on_last_row, token_steps

PROMPT = "Write a short poem about the sea and a lighthouse."


@pytest.fixture(scope="module")
def engine(smollm2_workspace):
    return load_engine(smollm2_workspace)


def both(engine, prompt_tokens, max_tokens, processors=None, prefill_step=None):
    import mlx.core as mx
    from mlx_lm.generate import generate_step
    from mlx_lm.models.cache import make_prompt_cache
    from mlx_lm.sample_utils import make_sampler

    greedy = make_sampler(0.0)
    prompt = mx.array(prompt_tokens)
    theirs = [t for t, _ in generate_step(prompt, engine.model, max_tokens=max_tokens, sampler=greedy,
                                          logits_processors=processors)]
    options = {"prefill_step": prefill_step} if prefill_step else {}
    ours = [(t, lp) for t, lp in token_steps(engine.model, prompt, make_prompt_cache(engine.model),
                                             max_tokens=max_tokens, sampler=greedy, logits_processors=processors,
                                             **options)]
    return [t for t, _ in ours], theirs, [lp for _, lp in ours]


@pytest.mark.slow
def test_greedy_tokens_are_mlx_lm_s(engine):
    request = engine.prepare(prompt=PROMPT, max_tokens=20)
    import mlx.core as mx

    ours, theirs, logprobs = both(engine, request.prompt_tokens, 20)
    assert ours == theirs and len(ours) == 20
    vocab = engine.model(mx.array([[1]])).shape[-1]
    assert all(lp.shape == (vocab,) for lp in logprobs)
    # log-probabilities: they sum to one, and the chosen token is the most likely
    assert abs(mx.exp(logprobs[0]).sum().item() - 1) < 1e-3
    assert mx.argmax(logprobs[0]).item() == ours[0]


@pytest.mark.slow
def test_logits_processors_see_the_same_history(engine):
    request = engine.prepare(prompt=PROMPT, max_tokens=16,
                             sampling=SamplingParams(temperature=0, repetition_penalty=1.5))
    ours, theirs, _ = both(engine, request.prompt_tokens, 16, request.logits_processors())
    assert ours == theirs


@pytest.mark.slow
def test_a_prompt_longer_than_a_step_and_short_budgets(engine):
    tokens = engine.prepare(prompt=PROMPT).prompt_tokens
    ours, theirs, _ = both(engine, tokens, 6, prefill_step=8)  # several prefill steps, then the rest
    assert ours == theirs[:6]
    assert both(engine, tokens, 1)[0] == theirs[:1]
    assert both(engine, tokens[:1], 2)[0] == both(engine, tokens[:1], 2)[1]  # a one-token prompt


def test_the_output_layer_is_restored(engine):
    import mlx.core as mx

    model = engine.model
    before = {name for name, _ in model.named_modules()}
    with head_on_last_row(model):
        logits = model(mx.array([[1, 2, 3, 4]]))
    assert logits.shape[:2] == (1, 1)  # only the last row went through the output layer
    assert {name for name, _ in model.named_modules()} == before
    assert "as_linear" not in vars(model.model.embed_tokens)
    assert model(mx.array([[1, 2, 3, 4]])).shape[:2] == (1, 4)
