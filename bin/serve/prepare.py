"""A validated API request to engine ``GenerationRequest``s (engine thread).

Chat requests go through the model's chat template; text completions use
the prompt as it is (no template, no reasoning split); a completion prompt
of token ids is used as given after a vocabulary check.  The token budget is
min(max_tokens, server ceiling, context window - prompt).

Images go into the turn whose parts they came in (the messages' ``parts``
become the engine's text and image parts, which mlx-vlm's prompt building
places where they are).  With the ``chunk`` extension the images are answered
``chunk`` at a time, as ``mlx-run --chunk`` does: one request per chunk, each
a fresh session that sees the conversation with only its own images; each
chunk's answer starts (``preamble``) with a ``Chunk 2/5: images 3–4`` header
and, when asked for, the chunk's EXIF table.
"""

from __future__ import annotations

from mlxk_bin.serve.schemas import CHAT
from mlxk_common.engine.exif import exif_block, exif_table
from mlxk_common.engine.images import chunk_header, chunks_of, decode


def token_limit(asked: int | None, ceiling: int | None) -> int | None:
    """The request's max_tokens under the server's ceiling (which is also the default)."""
    if ceiling is None:
        return asked
    return ceiling if asked is None else min(asked, ceiling)


def prepare(engine, job, ceiling: int | None) -> list:
    """The engine requests of one job, in order: one, or one per chunk of images."""
    req = job.request
    max_tokens = token_limit(req.max_tokens, ceiling)
    if req.kind != CHAT:
        prompt = {"prompt": req.prompt} if isinstance(req.prompt, str) else {"tokens": req.prompt}
        formats = {"response_format": req.response_format} if req.response_format is not None else {}
        request = engine.prepare(**prompt, chat_template=False, reasoning=False, max_tokens=max_tokens,
                                 sampling=job.sampling, stop=req.stop, tag=job.rid, **formats)
        request.logprobs = getattr(req, "logprobs", None)
        return [request]
    options = {}
    # Only when asked: the other engines (vision) take no tools or formats.
    if req.tools:
        options.update(tools=req.tools, tool_choice=req.tool_choice, parallel_tool_calls=req.parallel_tool_calls)
    if req.response_format is not None:
        options["response_format"] = req.response_format
    chunks = [None]
    if req.images:
        urls = getattr(req, "image_urls", {})
        images = [decode(urls[i - 1][0] if i - 1 in urls else f"image {i}", data, i, exif=bool(req.exif))
                  for i, data in enumerate(req.images, 1)]
        chunks = chunks_of(images, getattr(req, "chunk", None))
    requests = []
    for number, chunk in enumerate(chunks, 1):
        messages = engine_messages(req.messages, chunk)
        preamble = ""
        if len(chunks) > 1:
            preamble = ("\n\n" if number > 1 else "") + chunk_header(number, len(chunks), chunk) + "\n\n"
        if chunk:
            options["images"] = in_prompt_order(req.messages, chunk)
            if req.exif:  # asked for: the model sees the metadata, the answer starts with its table
                messages = _with_block(messages, exif_block(chunk))
                preamble += exif_table(chunk)
        if preamble:
            options["preamble"] = preamble
        request = engine.prepare(messages=messages, template_args=req.template_kwargs or None,
                                 max_tokens=max_tokens, sampling=job.sampling, stop=req.stop, tag=job.rid, **options)
        request.logprobs = getattr(req, "logprobs", None)
        requests.append(request)
    return requests


def in_prompt_order(messages: list[dict], images) -> list:
    """The images in the order their slots come in the prompt (an Anthropic tool result's
    image comes before the images of the user turn that carried it, as its tool message does)."""
    where = {p["image"]: n for n, p in enumerate(p for m in messages for p in m.get("parts", ())
                                                  if p["type"] == "image")}
    return sorted(images, key=lambda image: where.get(image.index, len(where) + image.index))


def engine_messages(messages: list[dict], images) -> list[dict]:
    """The messages as the engine takes them: a message with images gets its text and
    image parts in order, keeping only the parts of ``images`` (one chunk's)."""
    keep = {image.index for image in images or ()}
    out = []
    for message in messages:
        parts = message.get("parts")
        entry = {k: v for k, v in message.items() if k != "parts"}
        if parts is not None and any(p["type"] == "image" and p["image"] in keep for p in parts):
            entry["content"] = [{"type": "text", "text": p["text"]} if p["type"] == "text" else {"type": "image"}
                                for p in parts if p["type"] == "text" or p["image"] in keep]
        out.append(entry)
    return out


def _with_block(messages: list[dict], block: str) -> list[dict]:
    """The EXIF block goes before the text of the last user message."""
    out = list(messages)
    for i in range(len(out) - 1, -1, -1):
        if out[i]["role"] == "user":
            content = out[i]["content"]
            content = [{"type": "text", "text": block}, *content] if isinstance(content, list) else block + content
            out[i] = {**out[i], "content": content}
            break
    return out
