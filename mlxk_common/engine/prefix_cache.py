"""A prompt cache for one loaded model: KV caches of finished requests, found
again by the longest shared token prefix and bounded in bytes.

A multi-turn chat resends its whole history each turn; the KV cache of the
previous turn (prompt + answer) already holds all of it, so only the new
user message is processed.  Built on mlx-lm's ``LRUPromptCache`` (a token
trie with LRU eviction); used with ``BatchScheduler.submit(cache=...,
cache_tokens=...)`` and ``Finished.prompt_cache``/``cache_tokens``.

Same thread rule as the scheduler: MLX objects stay on the engine thread.
"""

from __future__ import annotations

_KEY = "model"  # one cache per model, so the trie needs no model key of its own


class PrefixCache:
    def __init__(self, max_bytes: int, max_entries: int = 64):
        from mlx_lm.models.cache import LRUPromptCache

        self.max_bytes = max_bytes
        self._lru = LRUPromptCache(max_size=max_entries, max_bytes=max_bytes)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def nbytes(self) -> int:
        return self._lru.nbytes

    def __len__(self):
        return len(self._lru)

    def lookup(self, tokens: list[int]):
        """(a copy of the nearest KV cache, how many leading prompt tokens it
        holds), or (None, 0).  At least one prompt token is always left to
        process, since generation starts from the last prompt token's logits."""
        if not self.enabled or len(tokens) < 2:
            return None, 0
        from mlx_lm.models.cache import can_trim_prompt_cache, trim_prompt_cache

        cache, rest = self._lru.fetch_nearest_cache(_KEY, list(tokens))
        if cache is None:
            return None, 0
        cached = len(tokens) - len(rest)
        if cached >= len(tokens):
            if not can_trim_prompt_cache(cache):
                return None, 0
            trim_prompt_cache(cache, 1)
            cached = len(tokens) - 1
        if cached <= 0:
            return None, 0
        return cache, cached

    def reusable(self, tokens: list[int]) -> int:
        """How many leading tokens of ``tokens`` ``lookup`` would serve from
        the cache, found without copying anything."""
        trie = getattr(self._lru, "_trie", None)  # mlx-lm's token trie; without it, assume nothing
        if not self.enabled or trie is None or len(tokens) < 2:
            return 0
        found = trie.search(_KEY, list(tokens))
        if found.exact is not None:
            return len(tokens) - 1
        n = len(found.shorter) if found.shorter else 0
        if found.longer is not None and found.common_prefix > n:
            n = found.common_prefix
        return min(n, len(tokens) - 1)

    def warm(self, model, tokens: list[int]) -> "Warmup | None":
        """Make the cache hold ``tokens`` (a prefix several requests are about
        to need), processing only what the nearest cached entry lacks: a
        ``Warmup`` to advance in bounded steps, or None when nothing is left
        to do."""
        if not self.enabled or not tokens:
            return None
        from mlx_lm.models.cache import make_prompt_cache

        cache, rest = self._lru.fetch_nearest_cache(_KEY, list(tokens))
        if cache is not None and not rest:
            return None
        return Warmup(self, list(tokens), cache if cache is not None else make_prompt_cache(model), rest, model)

    def store(self, tokens: list[int], cache) -> None:
        if not self.enabled or cache is None or not tokens:
            return
        self._lru.insert_cache(_KEY, list(tokens), cache)

    def clear(self) -> None:
        self._lru.trim_to(n_sequences=0)


class Warmup:
    """Prompt processing of one shared prefix into a ``PrefixCache``, a
    bounded chunk per ``step`` (the engine thread stays free in between)."""

    def __init__(self, owner: PrefixCache, tokens: list[int], cache, rest: list[int], model):
        self.owner = owner
        self.tokens = tokens
        self.cache = cache
        self.rest = list(rest)
        self.model = model
        self.done = 0  # tokens of ``rest`` processed so far

    @property
    def left(self) -> int:
        return len(self.rest) - self.done

    def abandon(self) -> None:
        """Stop here; nothing goes into the prompt cache."""
        self.cache = None
        self.rest = []
        self.done = 0

    def step(self, n: int) -> int:
        """Process up to ``n`` more tokens; once all are, the cache holds the
        prefix.  Returns the tokens processed."""
        import mlx.core as mx
        from mlx_lm.generate import generation_stream

        chunk = self.rest[self.done:self.done + max(1, n)]
        if chunk:
            with mx.stream(generation_stream):
                self.model(mx.array(chunk)[None], cache=self.cache)
                mx.eval([c.state for c in self.cache])
            self.done += len(chunk)
        if not self.left and self.cache is not None:
            self.owner.store(self.tokens, self.cache)
            self.cache = None
        return len(chunk)
