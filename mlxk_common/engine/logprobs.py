"""Per-token log-probabilities, as OpenAI reports them.

The batch generator already returns, with every sampled token, the
log-softmax of the logits after the logits processors (repetition penalty)
and before temperature, top-p and friends: the distribution the sampler
drew from, which is what OpenAI's ``logprobs`` show.  ``LogprobPicker``
reads the sampled token's entry and the ``top`` likeliest alternatives from
that vector, and names each token by its own UTF-8 bytes (a byte-level BPE
token may hold half a character: its ``text`` then shows the bytes escaped,
``"\\xe2\\x80"``, and ``bytes`` has them exactly).

``TokenLogprob`` is plain data (importable without mlx).
"""

from __future__ import annotations

import math

MAX_TOP = 20  # OpenAI's limit for top_logprobs
FLOOR = -9999.0  # OpenAI's stand-in for a log-probability of minus infinity


class TokenLogprob:
    """One token: ``token_id``, ``text``, ``bytes`` (a list of ints), ``logprob``,
    and ``top`` (``TokenLogprob``s of the likeliest tokens, most likely first;
    their own ``top`` is empty)."""

    __slots__ = ("token_id", "text", "bytes", "logprob", "top")

    def __init__(self, token_id: int, text: str, raw: bytes, logprob: float, top=()):
        self.token_id = token_id
        self.text = text
        self.bytes = list(raw)
        self.logprob = logprob
        self.top = list(top)

    def to_openai(self, with_top: bool = True) -> dict:
        doc = {"token": self.text, "logprob": self.logprob, "bytes": self.bytes}
        if with_top:
            doc["top_logprobs"] = [t.to_openai(False) for t in self.top]
        return doc

    def __repr__(self):
        return f"TokenLogprob({self.token_id}, {self.text!r}, {self.logprob:.4f}, top={len(self.top)})"


class TokenBytes:
    """Token id -> the exact bytes it stands for, read once per id."""

    def __init__(self, tokenizer):
        from mlx_lm.tokenizer_utils import BPEStreamingDetokenizer, SPMStreamingDetokenizer

        self._tok = tokenizer
        detok = tokenizer.detokenizer
        self._kind = "bpe" if isinstance(detok, BPEStreamingDetokenizer) else \
            "spm" if isinstance(detok, SPMStreamingDetokenizer) else "naive"
        self._cache: dict[int, bytes] = {}
        if self._kind == "bpe":
            from mlx_lm.tokenizer_utils import _byte_decoder

            self._decoder = _byte_decoder()

    def __call__(self, token_id: int) -> bytes:
        raw = self._cache.get(token_id)
        if raw is None:
            raw = self._cache[token_id] = self._read(token_id)
        return raw

    def _read(self, token_id: int) -> bytes:
        tok = self._tok
        piece = tok.convert_ids_to_tokens(int(token_id))
        if piece is None:
            return b""
        if self._kind == "bpe":
            decoder = self._decoder
            # Added tokens (<|im_end|>) are plain text, not byte-mapped characters.
            if all(c in decoder for c in piece):
                return bytes(decoder[c] for c in piece)
            return piece.encode("utf-8")
        if self._kind == "spm":
            if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
                try:
                    return bytes([int(piece[3:5], 16)])
                except ValueError:
                    pass
            return piece.replace("\u2581", " ").encode("utf-8")
        return tok.decode([int(token_id)]).encode("utf-8")


def token_text(raw: bytes) -> str:
    """The token's text; bytes that are not whole UTF-8 characters are shown escaped."""
    return raw.decode("utf-8", errors="backslashreplace")


class LogprobPicker:
    """Builds ``TokenLogprob``s from the generator's log-probability vectors."""

    def __init__(self, tokenizer):
        self.bytes_of = TokenBytes(tokenizer)

    def entry(self, token_id: int, raw: bytes, logprob: float) -> TokenLogprob:
        if math.isnan(logprob) or logprob < FLOOR:  # nan or -inf: a token the processors ruled out
            logprob = FLOOR
        return TokenLogprob(int(token_id), token_text(raw), raw, float(logprob))

    def pick(self, logprobs, token: int, top: int) -> TokenLogprob:
        """``logprobs``: the vocabulary-sized log-probability vector the
        token was sampled from; ``top``: how many alternatives (0-20)."""
        import mlx.core as mx

        token = int(token)
        chosen = logprobs[token]
        if top > 0:
            top = min(top, logprobs.shape[-1])
            ids = mx.argpartition(-logprobs, top - 1)[:top]
            values = logprobs[ids]
            mx.eval(chosen, ids, values)
            pairs = sorted(zip(values.tolist(), ids.tolist()), key=lambda p: (-p[0], p[1]))
            alternatives = [self.entry(i, self.bytes_of(i), v) for v, i in pairs]
        else:
            alternatives = []
        main = self.entry(token, self.bytes_of(token), chosen.item())
        main.top = alternatives
        return main


class Trail:
    """The log-probabilities of one request's tokens on their way to the text.

    A token's entry waits until text comes out (a token can hold half a
    character, or be held back by a possible stop string) and goes with the
    content it helped make; tokens that only made reasoning are not reported
    (OpenAI reports the answer's tokens)."""

    __slots__ = ("picker", "top", "pending", "reported")

    def __init__(self, picker: LogprobPicker, top: int):
        self.picker = picker
        self.top = top
        self.pending: list[TokenLogprob] = []
        self.reported: list[TokenLogprob] = []

    def add(self, logprobs, token: int) -> None:
        self.pending.append(self.picker.pick(logprobs, token, self.top))

    def attach(self, content: str, reasoning: str = ""):
        """The entries that go with a delta of this content (None without content)."""
        if not content:
            if reasoning:
                self.pending.clear()
            return None
        out, self.pending = self.pending, []
        self.reported.extend(out)
        return out
