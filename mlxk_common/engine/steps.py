"""The token loop of one request: mlx-lm's ``generate_step``, first token sooner.

``mlx_lm.generate.generate_step`` processes every prompt token but the last
in steps, runs the last one as a forward pass of its own, and queues the
second token's step before it hands out the first.  On a CPU device each of
those is a full pass over the weights, and ``async_eval`` there runs nearly
in step with the caller (MLX's CPU scheduler lets it get only a few ops
ahead), so the first token waited for two whole decode steps after the
prompt: for SmolLM2 on the float32 path a third of the time to the first
token (docs/cpu.md).  Here the last prompt chunk includes the last token,
the output layer runs on that token's row only (``head_on_last_row``; the
other rows' logits are never read), and the first token is handed out
before the next step is queued.  Later tokens are pipelined as in mlx-lm:
the next step is queued before the current token is read back.  The tokens
are the same; only float sums over a different number of rows may round
differently.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache

PREFILL_STEP = 2048  # mlx-lm's default: the most prompt tokens one forward pass takes


@contextmanager
def head_on_last_row(model):
    """While building one forward pass, compute logits for the last position
    only: the model's ``lm_head`` or, with tied embeddings, its
    ``model.embed_tokens.as_linear``.  A model built otherwise computes every
    row (the caller slices the last; only slower).  Lazy graphs only: the
    model is restored as soon as the pass is built, before it is evaluated."""
    from mlx import nn

    head = getattr(model, "lm_head", None) if isinstance(model, nn.Module) else None
    inner = getattr(model, "model", None)
    embed = getattr(inner, "embed_tokens", None) if isinstance(inner, nn.Module) else None
    patched_head = isinstance(head, nn.Module) and callable(head)
    patched_embed = isinstance(embed, nn.Module) and hasattr(embed, "as_linear") and "as_linear" not in vars(embed)
    if patched_head:
        model["lm_head"] = _last_row_module()(head)
    if patched_embed:
        bound = embed.as_linear
        embed.as_linear = lambda x: bound(x[:, -1:, :])
    try:
        yield
    finally:
        if patched_head:
            model["lm_head"] = head
        if patched_embed:
            del embed.as_linear


@cache
def _last_row_module():
    """An nn.Module class (a model keeps its modules in its dict) that applies
    an output layer to the last row of its input only."""
    from mlx import nn

    class LastRow(nn.Module):
        def __init__(self, head):
            super().__init__()
            self.head = head

        def __call__(self, x):
            return self.head(x[:, -1:, :])

    return LastRow


def token_steps(
    model, prompt, cache, *, max_tokens: int, sampler, logits_processors=None, prefill_step: int = PREFILL_STEP
):
    """Yield ``(token id, log-probabilities)`` like ``generate_step``.

    ``prompt``: an mx.array of the token ids still to process (at least one);
    ``cache``: the KV cache (a fresh one, or one that holds what comes before
    ``prompt``); ``max_tokens``: how many tokens at most (-1: no limit).
    ``logits_processors`` see the prompt given here and the tokens so far.
    """
    import mlx.core as mx
    from mlx_lm.generate import generation_stream

    if max_tokens == 0:
        return
    processors = logits_processors or ()
    seen = prompt if processors else None

    def sample(logits):
        for processor in processors:
            logits = processor(seen, logits)
        logprobs = logits - mx.logsumexp(logits, keepdims=True)
        return sampler(logprobs), logprobs.squeeze(0)

    def step(y):
        nonlocal seen
        if seen is not None:
            seen = mx.concatenate([seen, y])
        return sample(model(y[None], cache=cache)[:, -1, :])

    with mx.stream(generation_stream):
        start, total = 0, len(prompt)
        while total - start > prefill_step:
            model(prompt[start : start + prefill_step][None], cache=cache)
            mx.eval([c.state for c in cache])
            start += prefill_step
            mx.clear_cache()
        with head_on_last_row(model):
            logits = model(prompt[start:][None], cache=cache)
        y, logprobs = sample(logits[:, -1, :])
        mx.eval(y, logprobs)
        yield y.item(), logprobs
        # The next step is queued only now: on a CPU the first token would
        # otherwise wait for it.  From here on, as mlx-lm: step n+1 is queued
        # before token n is read back.
        n = 1
        queued = None
        if n != max_tokens:
            queued = step(y)
            mx.async_eval(*queued)
        while queued is not None:
            y, logprobs = queued
            n += 1
            queued = None
            if n != max_tokens:
                queued = step(y)
                mx.async_eval(*queued)
            yield y.item(), logprobs
            if n % 256 == 0:
                mx.clear_cache()
