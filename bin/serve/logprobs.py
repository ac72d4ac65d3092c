"""The ``logprobs`` objects of OpenAI's chat and legacy completions responses.

The engine reports each answer token as a ``TokenLogprob`` (text, UTF-8
bytes, log-probability, the likeliest alternatives, most likely first);
this module only lays them out the way each API does.
"""

from __future__ import annotations


def chat_logprobs(entries) -> dict:
    """``choices[].logprobs`` of a chat completion (or of one stream chunk)."""
    return {"content": [e.to_openai() for e in entries], "refusal": None}


def completion_logprobs(entries, offset: int = 0) -> tuple[dict, int]:
    """``choices[].logprobs`` of a text completion: parallel lists, and
    ``text_offset`` (each token's start in the generated text, counted from
    ``offset``, the characters sent before).  Returns (object, next offset)."""
    doc = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for e in entries:
        doc["tokens"].append(e.text)
        doc["token_logprobs"].append(e.logprob)
        top: dict[str, float] = {}
        for t in e.top:
            top.setdefault(t.text, t.logprob)  # two tokens may print alike; the likelier one stays
        doc["top_logprobs"].append(top)
        doc["text_offset"].append(offset)
        offset += len(e.text)
    return doc, offset
