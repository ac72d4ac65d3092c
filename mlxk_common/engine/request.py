"""A prepared generation request and the events generation produces.

Plain data, importable without mlx.  ``TextEngine.prepare`` builds requests
(tokens, budget, sampling, stops, reasoning set-up); ``engine.generate`` and
``BatchScheduler`` turn them into ``Delta`` and ``Finished`` events.
"""

from __future__ import annotations

from mlxk_common.engine.sampling import SamplingParams, make_logits_processors


class GenerationRequest:
    """Everything generation needs; ``max_tokens`` is already the budget
    min(asked, context window - prompt tokens)."""

    __slots__ = ("prompt_tokens", "prompt_text", "max_tokens", "limit_source", "sampling", "stop",
                 "markers", "in_reasoning", "tag", "logprobs", "constraint")

    def __init__(self, prompt_tokens: list[int], max_tokens: int, sampling: SamplingParams | None = None,
                 stop=(), markers: tuple[str, str] | None = None, in_reasoning: bool = False,
                 prompt_text: str | None = None, limit_source: str = "max_tokens", tag=None,
                 logprobs: int | None = None, constraint=None):
        self.prompt_tokens = list(prompt_tokens)
        self.prompt_text = prompt_text
        self.max_tokens = int(max_tokens)
        self.limit_source = limit_source  # "max_tokens" or "context": what the budget came from
        self.sampling = sampling or SamplingParams()
        self.stop = tuple(stop)
        self.markers = markers
        self.in_reasoning = in_reasoning
        self.tag = tag  # the caller's own reference (an index, an HTTP request id, ...)
        # None: no log-probabilities; N (0-20): each token's, with its N likeliest alternatives.
        self.logprobs = logprobs
        self.constraint = constraint  # constrain.Constraint: a grammar the output must follow, or None

    def logits_processors(self) -> list:
        """mlx-lm logits processors for one generation of this request: the
        sampling penalties, then the output constraint (a fresh matcher)."""
        processors = make_logits_processors(self.sampling)
        if self.constraint is not None:
            processors.append(self.constraint.processor())
        return processors

    @property
    def prompt_len(self) -> int:
        return len(self.prompt_tokens)


class Delta:
    """New text of one request: ``content`` and/or ``reasoning`` (either may be '').

    ``logprobs``: for a request that asked for them, the ``TokenLogprob``s
    of the tokens behind this content (a token that completed no character
    yet is reported with the content it helps to complete); else None."""

    __slots__ = ("rid", "content", "reasoning", "logprobs")
    kind = "delta"

    def __init__(self, rid, content: str, reasoning: str = "", logprobs=None):
        self.rid = rid
        self.content = content
        self.reasoning = reasoning
        self.logprobs = logprobs

    def __repr__(self):
        return f"Delta({self.rid!r}, {self.content!r}, {self.reasoning!r})"


class Finished:
    """The end of one request.

    ``finish_reason``: "stop" (end-of-turn token or stop string), "length"
    (token budget; ``limit_source`` says whether max_tokens or the context
    window set it) or "cancelled".  ``content``/``reasoning`` hold the whole
    text.  ``prompt_cache``/``cache_tokens`` are set only when asked for
    (batch scheduler, for prompt-cache reuse).  ``stop_sequence``: the stop
    string that ended it, if one did.  ``logprobs``: every reported
    ``TokenLogprob`` of the answer (requests that asked for them), else None.
    """

    __slots__ = ("rid", "finish_reason", "content", "reasoning", "prompt_tokens", "completion_tokens",
                 "timing", "limit_source", "prompt_cache", "cache_tokens", "stop_sequence", "logprobs")
    kind = "finished"

    def __init__(self, rid, finish_reason: str, content: str, reasoning: str, prompt_tokens: int,
                 completion_tokens: int, timing: dict, limit_source: str = "max_tokens",
                 prompt_cache=None, cache_tokens=None):
        self.rid = rid
        self.finish_reason = finish_reason
        self.content = content
        self.reasoning = reasoning
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.timing = timing
        self.limit_source = limit_source
        self.prompt_cache = prompt_cache
        self.cache_tokens = cache_tokens
        self.stop_sequence = None
        self.logprobs = None

    @property
    def usage(self) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}

    def __repr__(self):
        return (f"Finished({self.rid!r}, {self.finish_reason!r}, {self.content[:40]!r}, "
                f"completion_tokens={self.completion_tokens})")


def timing(prompt_tokens: int, sampled: int, t_start: float, t_first: float | None, t_end: float) -> dict:
    """mlx-lm's definitions: prompt tokens/s over the time to the first token,
    generation tokens/s over the sampled tokens after the first one arrived."""
    if t_first is None:
        return {"ttft_s": None, "prompt_tps": None, "generation_tps": None}
    ttft = max(t_first - t_start, 1e-9)
    gen_time = t_end - t_first
    return {
        "ttft_s": round(ttft, 4),
        "prompt_tps": round(prompt_tokens / ttft, 2),
        "generation_tps": round(sampled / gen_time, 2) if gen_time > 0 else None,
    }
