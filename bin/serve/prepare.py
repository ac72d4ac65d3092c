"""A validated API request to an engine ``GenerationRequest`` (engine thread).

Chat requests go through the model's chat template; text completions use
the prompt as it is (no template, no reasoning split); a completion prompt
of token ids is used as given after a vocabulary check.  The token budget is
min(max_tokens, server ceiling, context window - prompt).
"""

from __future__ import annotations

from mlxk_bin.serve.schemas import CHAT
from mlxk_common.engine.exif import exif_block, exif_table
from mlxk_common.engine.images import decode


def token_limit(asked: int | None, ceiling: int | None) -> int | None:
    """The request's max_tokens under the server's ceiling (which is also the default)."""
    if ceiling is None:
        return asked
    return ceiling if asked is None else min(asked, ceiling)


def prepare(engine, job, ceiling: int | None):
    req = job.request
    max_tokens = token_limit(req.max_tokens, ceiling)
    if req.kind == CHAT:
        options = {}
        messages = req.messages
        if req.images:
            images = [decode(f"image {i}", data, i, exif=bool(req.exif)) for i, data in enumerate(req.images, 1)]
            options["images"] = images
            if req.exif:  # asked for: the model sees the metadata, the answer starts with its table
                messages = _with_block(messages, exif_block(images))
                options["preamble"] = exif_table(images)
        # Only when asked: the other engines (vision) take no tools or formats.
        if req.tools:
            options.update(tools=req.tools, tool_choice=req.tool_choice, parallel_tool_calls=req.parallel_tool_calls)
        if req.response_format is not None:
            options["response_format"] = req.response_format
        request = engine.prepare(messages=messages, template_args=req.template_kwargs or None,
                                 max_tokens=max_tokens, sampling=job.sampling, stop=req.stop, tag=job.rid, **options)
    else:
        prompt = {"prompt": req.prompt} if isinstance(req.prompt, str) else {"tokens": req.prompt}
        formats = {"response_format": req.response_format} if req.response_format is not None else {}
        request = engine.prepare(**prompt, chat_template=False, reasoning=False, max_tokens=max_tokens,
                                 sampling=job.sampling, stop=req.stop, tag=job.rid, **formats)
    request.logprobs = getattr(req, "logprobs", None)
    return request


def _with_block(messages: list[dict], block: str) -> list[dict]:
    """The EXIF block goes before the text of the last user message (where the images go)."""
    out = list(messages)
    for i in range(len(out) - 1, -1, -1):
        if out[i]["role"] == "user":
            out[i] = {**out[i], "content": block + out[i]["content"]}
            break
    return out
