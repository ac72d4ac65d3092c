"""Single-request streaming generation at mlx-lm's own speed.

Drives ``steps.token_steps`` (mlx-lm's ``generate_step``, the loop inside
``stream_generate``, with the first token handed out sooner) and adds per
token only what ``stream_generate`` does anyway: one detokenizer step.
Stop strings and the reasoning split run only for requests that have them,
and only on tokens that produced text.
"""

from __future__ import annotations

import time

from mlxk_common.engine.logprobs import LogprobPicker, Trail
from mlxk_common.engine.request import Delta, Finished, GenerationRequest, timing
from mlxk_common.engine.sampling import make_sampler
from mlxk_common.engine.steps import token_steps
from mlxk_common.engine.textstream import TextStream
from mlxk_common.errors import MlxkError


def generate(engine, request: GenerationRequest, rid=None, prompt_cache=None, conversation=None):
    """Yield ``Delta`` events as text arrives, then one ``Finished``.

    ``conversation``: a ``ConversationCache`` whose KV cache is reused for
    the prompt prefix it already holds (chat turns).  ``prompt_cache``: a
    plain mlx-lm KV cache that already holds everything before
    ``request.prompt_tokens``.  Closing the generator early (a client went
    away, Ctrl-C) stops the computation after the step in flight.
    """
    import mlx.core as mx
    from mlx_lm.generate import generation_stream, wired_limit
    from mlx_lm.models.cache import make_prompt_cache

    model, tokenizer = engine.model, engine.tokenizer
    eos = engine.eos_ids
    stream = TextStream(tokenizer.detokenizer, request.stop, request.markers, request.in_reasoning)
    add = stream.add
    todo = request.prompt_tokens
    generated = None
    if conversation is not None:
        todo = conversation.suffix(request.prompt_tokens)
        prompt_cache, generated = conversation.kv, []
    prompt = mx.array(todo)
    sampler = make_sampler(request.sampling, engine.vocab_size)
    processors = request.logits_processors()
    trail = Trail(LogprobPicker(tokenizer), request.logprobs) if request.logprobs is not None else None
    finish = "length"
    sampled = produced = 0
    t_first = None
    t_start = time.perf_counter()
    with wired_limit(model, [generation_stream]):
        if prompt_cache is None:
            prompt_cache = make_prompt_cache(model)
        steps = token_steps(model, prompt, prompt_cache, max_tokens=request.max_tokens, sampler=sampler,
                            logits_processors=processors or None)
        try:
            check_nan = engine.check_nan
            for token, logprobs in steps:
                if check_nan and mx.isnan(logprobs).any().item():
                    raise MlxkError("unhealthy", "the model produced NaN logits (a split with mixed dtypes, "
                                    "or broken weights); no text was made up from them", reason="nan_logits")
                if t_first is None:
                    t_first = time.perf_counter()
                sampled += 1
                if generated is not None:
                    generated.append(token)
                if token in eos:
                    finish = "stop"
                    break
                produced += 1
                content, reasoning, stopped = add(token)
                if trail is not None:
                    trail.add(logprobs, token)
                if content or reasoning:
                    yield Delta(rid, content, reasoning,
                                trail.attach(content, reasoning) if trail is not None else None)
                if stopped:
                    finish = "stop"
                    break
        finally:
            steps.close()
            if conversation is not None:
                conversation.commit(request.prompt_tokens, generated)
    t_end = time.perf_counter()
    content, reasoning = stream.finish()
    if content or reasoning:
        yield Delta(rid, content, reasoning, trail.attach(content, reasoning) if trail is not None else None)
    info = timing(len(todo), sampled, t_start, t_first, t_end)  # the prompt tokens processed now
    done = Finished(rid, finish, stream.text, stream.reasoning_text, request.prompt_len, produced, info,
                    request.limit_source)
    done.stop_sequence = stream.stop_sequence
    if trail is not None:
        done.logprobs = trail.reported
    yield done
