"""The response objects of OpenAI's chat and text completion APIs.

One ``Shaper`` per request knows the request's id, model name, creation time
and fingerprint, and builds the full response or each stream chunk from
plain strings and counts.
"""

from __future__ import annotations

import time

from mlxk_bin.serve.schemas import CHAT


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens},
    }


class Shaper:
    def __init__(self, kind: str, completion_id: str, model: str, fingerprint: str):
        self.kind = kind
        self.id = completion_id
        self.model = model
        self.fingerprint = fingerprint
        self.created = int(time.time())
        self.object = "chat.completion" if kind == CHAT else "text_completion"
        self.chunk_object = "chat.completion.chunk" if kind == CHAT else "text_completion"

    def _head(self, obj: str) -> dict:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": self.fingerprint}

    def choice(self, index: int, text: str, reasoning: str, finish_reason: str, logprobs=None,
               tool_calls: list | None = None) -> dict:
        """One choice of a whole response; ``logprobs`` as ``serve.logprobs`` shapes them."""
        if self.kind == CHAT:
            message = {"role": "assistant", "content": text}
            if reasoning:
                message["reasoning_content"] = reasoning
            if tool_calls:
                message["content"] = text or None  # OpenAI: null content beside calls
                message["tool_calls"] = tool_calls
            return {"index": index, "message": message, "logprobs": logprobs, "finish_reason": finish_reason}
        return {"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish_reason}

    def response(self, choices: list[dict], usage_: dict) -> dict:
        doc = self._head(self.object)
        doc["choices"] = choices
        doc["usage"] = usage_
        return doc

    def chunk(self, text: str = "", reasoning: str = "", finish_reason: str | None = None,
              first: bool = False, include_usage: bool = False, index: int = 0, logprobs=None,
              tool_calls: list | None = None) -> dict:
        doc = self._head(self.chunk_object)
        if self.kind == CHAT:
            delta = {"role": "assistant"} if first else {}
            if text or first:
                delta["content"] = text
            if reasoning:
                delta["reasoning_content"] = reasoning
            if tool_calls:
                delta["tool_calls"] = tool_calls
            choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        else:
            choice = {"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish_reason}
        doc["choices"] = [choice]
        if include_usage:
            doc["usage"] = None  # OpenAI: null on every chunk but the last
        return doc

    def usage_chunk(self, usage_: dict) -> dict:
        doc = self._head(self.chunk_object)
        doc["choices"] = []
        doc["usage"] = usage_
        return doc
