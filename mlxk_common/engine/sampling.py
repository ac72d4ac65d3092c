"""Sampling settings and their mlx-lm samplers and logits processors.

``SamplingParams`` is plain data (importable without mlx); ``make_sampler``
and ``make_logits_processors`` turn it into mlx-lm callables.  A request with
a ``seed`` gets a sampler that draws from its own PRNG key, so the same seed
gives the same text whatever else runs in the same process or batch, and the
global random state is never touched.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError

# What a request that does not say gets: the model's generation_config.json
# values for the fields in MODEL_FIELDS (model_defaults), else these, which are
# OpenAI's (temperature 1, top_p 1, no penalties).  No repetition penalty is
# ever applied unless asked for: a default one changes what greedy decoding means.
DEFAULTS = {
    "temperature": 1.0,
    "top_p": 1.0,
    "top_k": 0,
    "min_p": 0.0,
    "repetition_penalty": 1.0,
    "repetition_context_size": 20,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "logit_bias": None,
    "seed": None,
}
MODEL_FIELDS = ("temperature", "top_p", "top_k", "min_p")


def model_defaults(generation_config: dict) -> dict:
    """The sampling defaults a model's generation_config.json sets (HF's
    ``do_sample: false`` means greedy: temperature 0)."""
    config = generation_config or {}
    if config.get("do_sample") is False:
        return {"temperature": 0.0}
    out = {}
    for name in MODEL_FIELDS:
        value = config.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = int(value) if name == "top_k" else float(value)
    if out.get("top_p") is not None and not 0 < out["top_p"] <= 1:
        del out["top_p"]
    return out


class SamplingParams:
    __slots__ = (*DEFAULTS, "given")

    def __init__(self, **values):
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise MlxkError("usage_error", f"unknown sampling option(s): {', '.join(sorted(unknown))}")
        self.given = frozenset(k for k, v in values.items() if v is not None)  # what the caller set
        for name, default in DEFAULTS.items():
            value = values.get(name)
            setattr(self, name, default if value is None else value)
        if self.logit_bias is not None:
            self.logit_bias = _logit_bias(self.logit_bias)
        self._validate()

    def replace(self, **changes) -> "SamplingParams":
        values = {name: getattr(self, name) for name in DEFAULTS}
        values.update({k: v for k, v in changes.items() if v is not None})
        out = SamplingParams(**values)
        out.given = self.given | {k for k, v in changes.items() if v is not None}
        return out

    def over(self, defaults: dict) -> "SamplingParams":
        """These settings, with ``defaults`` (a model's) for the fields the caller left out."""
        missing = {k: v for k, v in (defaults or {}).items() if k not in self.given}
        if not missing:
            return self
        values = {name: getattr(self, name) for name in self.given}
        out = SamplingParams(**values, **missing)
        out.given = self.given
        return out

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in DEFAULTS}

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def _validate(self) -> None:
        def need(ok: bool, message: str):
            if not ok:
                raise MlxkError("usage_error", message)

        for name in ("temperature", "top_p", "min_p", "repetition_penalty"):
            value = getattr(self, name)
            need(isinstance(value, (int, float)) and not isinstance(value, bool),
                 f"{name} must be a number, not {value!r}")
        for name in ("top_k", "repetition_context_size"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool), f"{name} must be an integer, not {value!r}")
        need(self.seed is None or (isinstance(self.seed, int) and not isinstance(self.seed, bool)),
             f"seed must be an integer, not {self.seed!r}")
        need(0 <= self.temperature <= 100, "temperature must be between 0 and 100")
        need(0 < self.top_p <= 1, "top_p must be in (0, 1]")
        need(0 <= self.min_p <= 1, "min_p must be in [0, 1]")
        need(self.top_k >= 0, "top_k must be 0 (off) or positive")
        need(self.repetition_penalty > 0, "repetition_penalty must be positive (1.0 is off)")
        need(self.repetition_context_size > 0, "repetition_context_size must be positive")
        for name in ("presence_penalty", "frequency_penalty"):
            value = getattr(self, name)
            need(isinstance(value, (int, float)) and not isinstance(value, bool) and -2 <= value <= 2,
                 f"{name} must be a number in [-2, 2]")
        if self.seed is not None:
            need(0 <= self.seed < 2**63, "seed must be a non-negative integer below 2**63")


def make_sampler(params: SamplingParams, vocab_size: int | None = None):
    """A sampler (logprobs -> token ids) for ``params``; greedy when temperature is 0."""
    from mlx_lm.sample_utils import make_sampler as mlx_make_sampler

    top_k = params.top_k
    if vocab_size is not None and top_k >= vocab_size:
        top_k = 0  # keeping every token is no filter at all
    if params.top_p < 1e-6:
        # mlx-lm's top-p keeps no token at all for a mass this small (1 - p rounds to 1):
        # it means "only the likeliest token", which top-k 1 says exactly.
        params, top_k = params.replace(top_p=1.0), 1
    if params.greedy or params.seed is None:
        return mlx_make_sampler(params.temperature, params.top_p, params.min_p, top_k=top_k)
    return _SeededSampler(params, top_k)


class _SeededSampler:
    """The filters of mlx-lm's sampler, then a categorical draw with a private key."""

    def __init__(self, params: SamplingParams, top_k: int):
        import mlx.core as mx
        from mlx_lm.sample_utils import apply_min_p, apply_top_k, apply_top_p

        self._mx = mx
        self._key = mx.random.key(params.seed)
        self._scale = 1.0 / params.temperature
        filters = []
        if 0 < params.top_p < 1.0:
            filters.append(lambda x, p=params.top_p: apply_top_p(x, p))
        if params.min_p != 0.0:
            filters.append(lambda x, p=params.min_p: apply_min_p(x, p, 1))
        if top_k > 0:
            filters.append(lambda x, k=top_k: apply_top_k(x, k))
        self._filters = filters

    def __call__(self, logprobs):
        mx = self._mx
        keys = mx.random.split(self._key)
        self._key = keys[0]
        for f in self._filters:
            logprobs = f(logprobs)
        return mx.random.categorical(logprobs * self._scale, key=keys[1])


def _logit_bias(value) -> dict:
    """OpenAI's ``{"token id": bias}`` (ids as strings in JSON) -> ``{int: float}``."""
    if not isinstance(value, dict):
        raise MlxkError("usage_error", "logit_bias must be an object of token id -> bias", param="logit_bias")
    out = {}
    for key, bias in value.items():
        try:
            token = int(key)
        except (TypeError, ValueError):
            raise MlxkError("usage_error", f"logit_bias key {str(key)[:20]!r} is not a token id",
                            param="logit_bias") from None
        if not isinstance(bias, (int, float)) or isinstance(bias, bool) or not -100 <= bias <= 100 or token < 0:
            raise MlxkError("usage_error", f"logit_bias[{key}] must be a number in [-100, 100]",
                            param="logit_bias")
        out[token] = float(bias)
    return out


def make_logits_processors(params: SamplingParams) -> list:
    """mlx-lm's repetition penalty and logit bias, and OpenAI's presence and
    frequency penalties over the tokens generated so far."""
    from mlx_lm.sample_utils import make_logits_processors as mlx_make

    penalty = params.repetition_penalty
    bias = params.logit_bias
    processors = mlx_make(logit_bias=bias or None, repetition_penalty=None if penalty == 1.0 else penalty,
                          repetition_context_size=params.repetition_context_size)
    if params.presence_penalty or params.frequency_penalty:
        processors.append(_GeneratedPenalty(params.presence_penalty, params.frequency_penalty))
    return processors


class _GeneratedPenalty:
    """OpenAI's penalties: logit -= presence x [token appeared] + frequency x count,
    counted over the answer's tokens only (never the prompt's).  mlx-lm calls
    a processor once per sampled position; from the second call on, the token
    sampled last is at the end of ``tokens``."""

    __slots__ = ("counts", "frequency", "presence", "started")

    def __init__(self, presence: float, frequency: float):
        self.presence = presence
        self.frequency = frequency
        self.counts = None
        self.started = False

    def __call__(self, tokens, logits):
        import mlx.core as mx

        if self.counts is None:
            self.counts = mx.zeros((logits.shape[-1],), dtype=mx.float32)
        if self.started:
            self.counts = self.counts.at[tokens[-1:]].add(1.0)
        self.started = True
        penalty = self.presence * (self.counts > 0) + self.frequency * self.counts
        return logits - penalty.astype(logits.dtype)
