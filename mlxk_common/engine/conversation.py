"""A KV cache carried across the turns of one conversation (single-request path).

Chat re-renders the whole history every turn, but all of it up to the new
user message was already processed last turn: keeping that turn's KV cache
and feeding only the tokens after the longest shared prefix makes a turn's
prompt cost its new tokens only.  A cache that cannot be cut back (some
recurrent layers) is simply started afresh when the prefix changes.
"""

from __future__ import annotations


class ConversationCache:
    def __init__(self, engine):
        from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache

        self._make = lambda: make_prompt_cache(engine.model)
        self.kv = self._make()
        self.tokens: list[int] = []  # what the cache holds, in order
        self._trimmable = can_trim_prompt_cache(self.kv) and all(hasattr(c, "offset") for c in self.kv)

    def reset(self) -> None:
        self.kv = self._make()
        self.tokens = []

    def suffix(self, prompt: list[int]) -> list[int]:
        """Cut the cache back to the prefix it shares with ``prompt``; return
        the prompt tokens still to process (at least one: the last prompt
        token's logits start the answer)."""
        from mlx_lm.models.cache import trim_prompt_cache

        shared = 0
        for held, new in zip(self.tokens, prompt):
            if held != new:
                break
            shared += 1
        shared = min(shared, len(prompt) - 1)
        if shared < len(self.tokens):
            if not self._trimmable or shared == 0:
                self.reset()
                return list(prompt)
            trim_prompt_cache(self.kv, len(self.tokens) - shared)
            self.tokens = self.tokens[:shared]
        return list(prompt[shared:])

    def commit(self, prompt: list[int], generated: list[int]) -> None:
        """After a generation: record what the cache now holds (the prompt and
        every token fed back), or start afresh if that cannot be known."""
        if not self._trimmable:
            self.reset()
            return
        held = self.kv[0].offset
        sequence = list(prompt) + list(generated)
        if held > len(sequence):  # stopped between feeding a token and seeing it
            self.reset()
        else:
            self.tokens = sequence[:held]
