"""A validated API request to an engine ``GenerationRequest`` (engine thread).

Chat requests go through the model's chat template; text completions use
the prompt as it is (no template, no reasoning split); a completion prompt
of token ids is used as given after a vocabulary check.  The token budget is
min(max_tokens, server ceiling, context window - prompt).
"""

from __future__ import annotations

from mlxk_bin.serve.schemas import CHAT


def token_limit(asked: int | None, ceiling: int | None) -> int | None:
    """The request's max_tokens under the server's ceiling (which is also the default)."""
    if ceiling is None:
        return asked
    return ceiling if asked is None else min(asked, ceiling)


def prepare(engine, job, ceiling: int | None):
    req = job.request
    max_tokens = token_limit(req.max_tokens, ceiling)
    if req.kind == CHAT:
        request = engine.prepare(messages=req.messages, template_args=req.template_kwargs or None,
                                 max_tokens=max_tokens, sampling=job.sampling, stop=req.stop, tag=job.rid,
                                 tools=req.tools, tool_choice=req.tool_choice,
                                 parallel_tool_calls=req.parallel_tool_calls, response_format=req.response_format)
    else:
        prompt = {"prompt": req.prompt} if isinstance(req.prompt, str) else {"tokens": req.prompt}
        request = engine.prepare(**prompt, chat_template=False, reasoning=False, max_tokens=max_tokens,
                                 sampling=job.sampling, stop=req.stop, tag=job.rid,
                                 response_format=req.response_format)
    request.logprobs = getattr(req, "logprobs", None)
    return request
