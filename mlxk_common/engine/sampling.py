"""Sampling settings and their mlx-lm samplers and logits processors.

``SamplingParams`` is plain data (importable without mlx); ``make_sampler``
and ``make_logits_processors`` turn it into mlx-lm callables.  A request with
a ``seed`` gets a sampler that draws from its own PRNG key, so the same seed
gives the same text whatever else runs in the same process or batch, and the
global random state is never touched.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError

# mlx-knife's defaults for mlx-run.
DEFAULTS = {
    "temperature": 0.7,
    "top_p": 0.9,
    "top_k": 0,
    "min_p": 0.0,
    "repetition_penalty": 1.1,
    "repetition_context_size": 20,
    "seed": None,
}


class SamplingParams:
    __slots__ = tuple(DEFAULTS)

    def __init__(self, **values):
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise MlxkError("usage_error", f"unknown sampling option(s): {', '.join(sorted(unknown))}")
        for name, default in DEFAULTS.items():
            value = values.get(name)
            setattr(self, name, default if value is None else value)
        self._validate()

    def replace(self, **changes) -> "SamplingParams":
        values = {name: getattr(self, name) for name in DEFAULTS}
        values.update({k: v for k, v in changes.items() if v is not None})
        return SamplingParams(**values)

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
        if self.seed is not None:
            need(0 <= self.seed < 2**63, "seed must be a non-negative integer below 2**63")


def make_sampler(params: SamplingParams, vocab_size: int | None = None):
    """A sampler (logprobs -> token ids) for ``params``; greedy when temperature is 0."""
    from mlx_lm.sample_utils import make_sampler as mlx_make_sampler

    top_k = params.top_k
    if vocab_size is not None and top_k >= vocab_size:
        top_k = 0  # keeping every token is no filter at all
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


def make_logits_processors(params: SamplingParams) -> list:
    from mlx_lm.sample_utils import make_logits_processors as mlx_make

    penalty = params.repetition_penalty
    return mlx_make(repetition_penalty=None if penalty == 1.0 else penalty,
                    repetition_context_size=params.repetition_context_size)
