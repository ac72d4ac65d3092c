"""A validated API request to an engine ``GenerationRequest`` (engine thread).

Chat requests go through the model's chat template; text completions use
the prompt as it is (no template, no reasoning split); a completion prompt
of token ids is used as given after a vocabulary check.  The token budget is
min(max_tokens, server ceiling, context window - prompt).
"""

from __future__ import annotations

from mlxk_bin.serve.schemas import CHAT
from mlxk_common.engine import GenerationRequest
from mlxk_common.errors import MlxkError


def token_limit(asked: int | None, ceiling: int | None) -> int | None:
    """The request's max_tokens under the server's ceiling (which is also the default)."""
    if ceiling is None:
        return asked
    return ceiling if asked is None else min(asked, ceiling)


def prepare(engine, job, ceiling: int | None):
    req = job.request
    max_tokens = token_limit(req.max_tokens, ceiling)
    if req.kind == CHAT:
        return engine.prepare(messages=req.messages, template_args=req.template_kwargs or None,
                              max_tokens=max_tokens, sampling=job.sampling, stop=req.stop, tag=job.rid)
    if isinstance(req.prompt, str):
        request = engine.prepare(prompt=req.prompt, chat_template=False, max_tokens=max_tokens,
                                 sampling=job.sampling, stop=req.stop, tag=job.rid)
        request.markers, request.in_reasoning = None, False
        return request
    tokens = req.prompt
    vocab = engine.vocab_size
    bad = next((t for t in tokens if t >= vocab), None)
    if bad is not None:
        raise MlxkError("usage_error", f"token id {bad} is outside the model's vocabulary ({vocab} tokens)",
                        param="prompt")
    budget, source = engine.budget(len(tokens), max_tokens)
    return GenerationRequest(tokens, budget, job.sampling, req.stop, None, False, None, source, job.rid)
