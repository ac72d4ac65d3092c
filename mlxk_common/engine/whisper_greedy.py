"""Whisper's greedy decoding of one 30-second window, in place of mlx-audio's
``DecodingTask`` (which ``Model.generate`` calls once per window through
``model.decode``).

Same rules, same tokens; what it saves, per token:

* the cross-attention keys and values: mlx-audio keeps them cached but
  reshapes, transposes and rescales all 1500 of them at every token and
  layer; here they are laid out once per window;
* the logit filters (blank and token suppression, the timestamp rules) and
  the greedy pick run in NumPy on the one row of logits fetched per token
  (the only host sync), instead of a full-vocabulary mask built in NumPy,
  copied to MLX and combined there with two scalar-``exp`` logsumexps;
* the per-window setup: the tokenizer's suppress list and special ids are
  computed once per language and task (mlx-audio rebuilt them per window,
  about 0.1 s each time).

Anything this loop does not do (sampling at a temperature, beams, language
detection inside the window, a batch of windows) goes to mlx-audio's own
``decode``.

mlx-audio's timestamp rule "timestamps shouldn't decrease" compares token
*positions* with timestamp ids, so it never masks anything; this loop keeps
that behaviour (``MONOTONIC_TIMESTAMPS``) so that the transcript stays the
one mlx-audio gives.
"""

from __future__ import annotations

from dataclasses import dataclass

MONOTONIC_TIMESTAMPS = False  # OpenAI Whisper's rule; mlx-audio 0.6's (a no-op) when False


@dataclass
class _Rules:
    """What the filters need from the tokenizer, for one language and task."""

    tokenizer: object
    eot: int
    sot: int
    sot_prev: int
    timestamp_begin: int
    no_timestamps: int | None
    no_speech: int | None
    blank: list
    suppress: object  # NumPy int array


def _no_speech_id(tok):
    """mlx-audio's ``tokenizer.no_speech`` (``<|nospeech|>``, ``<|nocaptions|>`` before
    large-v3, or None) from the added tokens: its property reads the whole
    51,865-token vocabulary each time (35 ms; three times in a window's first set-up)."""
    added = tok.hf_tokenizer.get_added_vocab()
    return next((added[name] for name in ("<|nospeech|>", "<|nocaptions|>") if name in added), None)


def _suppress_tokens(tok, spec, no_speech) -> tuple:
    """mlx-audio's ``get_suppress_tokens`` with the no-speech id looked up once."""
    ids = [int(t) for t in spec.split(",")] if isinstance(spec, str) else list(spec or ())
    if -1 in ids:
        ids = [t for t in ids if t >= 0] + list(tok.non_speech_tokens)
    ids += [tok.transcribe, tok.translate, tok.sot, tok.sot_prev, tok.sot_lm]
    if no_speech is not None:
        ids.append(no_speech)
    return tuple(sorted(set(ids)))


class GreedyWhisper:
    """Installed on a loaded mlx-audio Whisper: ``model.decode`` becomes ``self.decode``."""

    def __init__(self, model, encode=None, decoder_state=None):
        from mlx_audio.stt.models.whisper.decoding import decode as mlx_audio_decode

        self.model = model
        self.encode = encode or model.encoder
        self.decoder_state = decoder_state or _DecoderState
        self.fallback = mlx_audio_decode
        self._rules: dict = {}
        self._last = None  # (mel as NumPy, its features): word timestamps re-read the window just decoded

    def install(self) -> None:
        self.model.decode = self.decode
        self.model.forward_with_cross_qk = self.forward_with_cross_qk
        self.model.detect_language = self.detect_language

    def detect_language(self, mel, tokenizer=None):
        """mlx-audio's ``detect_language`` on this engine's encoder (mlx-audio ran
        its own, several times slower on a CPU) for a multilingual model given no
        language."""
        from mlx_audio.stt.models.whisper.decoding import detect_language

        dims = self.model.dims
        if mel.shape[-2:] == (dims.n_audio_ctx, dims.n_audio_state) or (mel.ndim == 3 and mel.shape[0] != 1):
            return detect_language(self.model, mel, tokenizer)
        features = self.features(mel if mel.ndim == 3 else mel[None])
        return detect_language(self.model, features[0] if mel.ndim == 2 else features, tokenizer)

    def features(self, mel):
        """The encoder's output for ``mel`` (1, frames, n_mels); the last window's again if it is the same."""
        import numpy as np

        key = np.array(mel)
        last = self._last
        if last is not None and last[0].shape == key.shape and np.array_equal(last[0], key):
            return last[1]
        features = self.encode(mel)
        self._last = (key, features)
        return features

    def forward_with_cross_qk(self, mel, tokens):
        """mlx-audio's ``Model.forward_with_cross_qk`` (word timestamps' alignment), on this encoder."""
        logits, _, cross_qk = self.model.decoder(tokens, self.features(mel))
        return logits, cross_qk

    def handles(self, mel, options) -> bool:
        return (
            mel.ndim == 2
            and options.temperature == 0
            and options.beam_size is None
            and options.best_of is None
            and options.language is not None
            and options.task in ("transcribe", "translate")
            and options.repetition_penalty is None
        )

    def rules(self, options) -> _Rules:
        import numpy as np

        key = (options.language, options.task, str(options.suppress_tokens))
        if key not in self._rules:
            tok = self.model.get_tokenizer(language=options.language, task=options.task)
            no_speech = _no_speech_id(tok)
            suppress = _suppress_tokens(tok, options.suppress_tokens, no_speech) if options.suppress_tokens else ()
            self._rules[key] = _Rules(
                tokenizer=tok,
                eot=tok.eot,
                sot=tok.sot,
                sot_prev=tok.sot_prev,
                timestamp_begin=tok.timestamp_begin,
                no_timestamps=tok.no_timestamps,
                no_speech=no_speech,
                blank=tok.encode(" ") + [tok.eot],
                suppress=np.array(sorted(suppress), dtype=np.int64),
            )
        return self._rules[key]

    def initial_tokens(self, rules: _Rules, options) -> list[int]:
        """mlx-audio's ``DecodingTask._get_initial_tokens``."""
        tok = rules.tokenizer
        n_ctx = self.model.dims.n_text_ctx
        sample_len = options.sample_len or n_ctx // 2
        tokens = list(tok.sot_sequence_including_notimestamps if options.without_timestamps else tok.sot_sequence)
        if prefix := options.prefix:
            prefix_tokens = tok.encode(" " + prefix.strip()) if isinstance(prefix, str) else list(prefix)
            tokens += prefix_tokens[-(n_ctx // 2 - sample_len) :]
        if prompt := options.prompt:
            prompt_tokens = tok.encode(" " + prompt.strip()) if isinstance(prompt, str) else list(prompt)
            tokens = [rules.sot_prev] + prompt_tokens[-(n_ctx // 2 - 1) :] + tokens
        return tokens

    def decode(self, mel, options=None, **kwargs):
        from dataclasses import replace

        from mlx_audio.stt.models.whisper.decoding import DecodingOptions

        options = options or DecodingOptions()
        if kwargs:
            options = replace(options, **kwargs)
        if not self.handles(mel, options):
            return self.fallback(self.model, mel, options)
        return self._decode(mel, options)

    def _decode(self, mel, options):
        import mlx.core as mx
        import numpy as np
        from mlx_audio.stt.models.whisper.decoding import CHUNK_LENGTH, DecodingResult, compression_ratio

        model = self.model
        rules = self.rules(options)
        dims = model.dims
        dtype = mx.float16 if options.fp16 else mx.float32
        features = self.features(mel[None].astype(dtype))
        if features.dtype != dtype:
            raise TypeError(f"audio_features has an incorrect dtype: {features.dtype}")
        state = self.decoder_state(model.decoder, features)

        tokens = self.initial_tokens(rules, options)
        sample_begin = len(tokens)
        sot_index = tokens.index(rules.sot)
        sample_len = options.sample_len or dims.n_text_ctx // 2
        max_initial = None
        if not options.without_timestamps and options.max_initial_timestamp:
            max_initial = round(options.max_initial_timestamp / (CHUNK_LENGTH / dims.n_audio_ctx))

        first = state.step(tokens, rows=(sot_index, len(tokens) - 1))
        if rules.no_speech is not None:
            at_sot = first[0].astype(np.float64)
            at_sot = np.exp(at_sot - at_sot.max())
            no_speech_prob = float(at_sot[rules.no_speech] / at_sot.sum())
        else:
            no_speech_prob = float("nan")
        logits = first[-1]
        sum_logprob = 0.0
        while True:
            token, logprob = self._pick(logits, tokens, sample_begin, rules, options, max_initial)
            tokens.append(token)
            sum_logprob += logprob
            if token == rules.eot or len(tokens) - sample_begin >= sample_len or len(tokens) > dims.n_text_ctx:
                break
            logits = state.step([token])[-1]

        sampled = tokens[sample_begin:]
        if rules.eot in sampled:
            sampled = sampled[: sampled.index(rules.eot)]
        text = rules.tokenizer.decode(sampled).strip()
        return DecodingResult(
            audio_features=features[0],
            language=options.language,
            tokens=sampled,
            text=text,
            avg_logprob=sum_logprob / (len(sampled) + 1),
            no_speech_prob=no_speech_prob,
            temperature=options.temperature,
            compression_ratio=compression_ratio(text),
        )

    @staticmethod
    def _pick(row, tokens, sample_begin, rules: _Rules, options, max_initial) -> tuple[int, float]:
        """mlx-audio's logit filters (SuppressBlank, SuppressTokens, ApplyTimestampRules)
        and GreedyDecoder on one row of logits: (token, its log-probability)."""
        import numpy as np

        neg = -np.inf
        logits = np.array(row, dtype=np.float32)  # a copy: the filters write into it
        if options.suppress_blank and len(tokens) == sample_begin:
            logits[rules.blank] = neg
        if rules.suppress.size:
            logits[rules.suppress] = neg
        if not options.without_timestamps:
            tb = rules.timestamp_begin
            # "if the probability of all timestamps together is above any text token, sample a timestamp":
            # decided on the logits before this rule's own mask
            text_max = float(logits[:tb].max())
            stamps = logits[tb:].astype(np.float64)
            top = stamps.max()
            force_timestamp = bool(top > neg and top + np.log(np.exp(stamps - top).sum()) > text_max)
            if rules.no_timestamps is not None:
                logits[rules.no_timestamps] = neg
            seq = tokens[sample_begin:]
            last_was_timestamp = len(seq) >= 1 and seq[-1] >= tb
            penultimate_was_timestamp = len(seq) < 2 or seq[-2] >= tb
            if last_was_timestamp:
                if penultimate_was_timestamp:
                    logits[tb:] = neg
                else:
                    logits[: rules.eot] = neg
            if MONOTONIC_TIMESTAMPS:
                stamps_so_far = [t for t in seq if t > tb]
                if stamps_so_far:
                    last = stamps_so_far[-1] + (1 if penultimate_was_timestamp else 0)
                    logits[tb:last] = neg
            if len(tokens) == sample_begin:
                logits[:tb] = neg
                if max_initial is not None:
                    logits[tb + max_initial + 1 :] = neg
            if force_timestamp:
                logits[:tb] = neg
        token = int(np.argmax(logits))
        finite = logits.astype(np.float64)
        top = finite[token]
        logprob = 0.0 - np.log(np.exp(finite - top).sum())
        return token, float(logprob)


class _DecoderState:
    """mlx-audio's ``TextDecoder`` run token by token over one window, with the
    cross-attention keys and values laid out once and a self-attention cache
    that grows by one position per step."""

    def __init__(self, decoder, features):
        import mlx.core as mx

        self.decoder = decoder
        self.offset = 0
        block = decoder.blocks[0]
        self.heads = block.attn.n_head
        state = features.shape[-1]
        self.size = state // self.heads
        self.scale = self.size**-0.25
        n, ctx = features.shape[0], features.shape[1]
        self.cross = []
        for block in decoder.blocks:
            k = block.cross_attn.key(features).reshape(n, ctx, self.heads, -1).transpose(0, 2, 3, 1) * self.scale
            v = block.cross_attn.value(features).reshape(n, ctx, self.heads, -1).transpose(0, 2, 1, 3)
            # contiguous: an elementwise op keeps its input's transposed strides, and MLX's
            # matmul would copy them back at every token (10x the product itself)
            self.cross.append((mx.contiguous(k), mx.contiguous(v)))
        mx.eval(self.cross)
        self.keys = [None] * len(decoder.blocks)
        self.values = [None] * len(decoder.blocks)

    def _heads(self, x):
        n, length, _ = x.shape
        return x.reshape(n, length, self.heads, -1).transpose(0, 2, 1, 3)

    def _merge(self, x):
        n, _, length, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(n, length, -1)

    def step(self, tokens, rows=None):
        """Feed ``tokens`` (a list of ids) at the current offset; the NumPy rows of
        logits at ``rows`` (positions in ``tokens``; default the last)."""
        import mlx.core as mx
        import numpy as np

        dec = self.decoder
        length = len(tokens)
        ids = mx.array([tokens])
        x = dec.token_embedding(ids) + dec.positional_embedding[self.offset : self.offset + length]
        mask = dec._mask[:length, :length] if length > 1 else None
        for i, block in enumerate(dec.blocks):
            attn = block.attn
            h = block.attn_ln(x)
            q = self._heads(attn.query(h)) * self.scale
            k = self._heads(attn.key(h)) * self.scale
            v = self._heads(attn.value(h))
            if self.keys[i] is not None:
                k = mx.concatenate([self.keys[i], k], axis=2)
                v = mx.concatenate([self.values[i], v], axis=2)
            self.keys[i], self.values[i] = k, v
            qk = q @ k.swapaxes(-1, -2)
            if mask is not None:
                qk = qk + mask
            x = x + attn.out(self._merge(mx.softmax(qk, axis=-1, precise=True) @ v))
            cross = block.cross_attn
            q = self._heads(cross.query(block.cross_attn_ln(x))) * self.scale
            ck, cv = self.cross[i]
            x = x + cross.out(self._merge(mx.softmax(q @ ck, axis=-1, precise=True) @ cv))
            x = x + block.mlp2(_gelu(block.mlp1(block.mlp_ln(x))))
        self.offset += length
        x = dec.ln(x)
        picked = x[:, list(rows) if rows is not None else [length - 1]]
        logits = dec.token_embedding.as_linear(picked).astype(mx.float32)
        mx.eval(logits, self.keys, self.values)
        return np.array(logits[0])


def _gelu(x):
    from mlx import nn

    return nn.gelu(x)
