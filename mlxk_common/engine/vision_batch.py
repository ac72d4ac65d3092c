"""Continuous batching of vision requests over mlx-vlm's ``BatchGenerator``.

The same interface as ``batch.BatchScheduler`` (``submit``, ``step``,
``cancel``, ``active``, ``prefilling``, ``close``), so mlx-run --ndjson-in
and mlxk-serve's engine thread drive either one.  Each request's image
features are computed at ``submit`` (``model.get_input_embeddings``, as
mlx-vlm's own server does) and inserted as prompt embeddings; mixed image and
text-only requests decode together.

Per-request sampling: mlx-vlm's generator takes one sampler for the whole
batch, but per-row logits processors.  So the generator keeps its argmax
sampler and each request's own sampling (seeded or not, temperature, top-p,
min-p, top-k) runs as its last logits processor, which returns logits that
put all the mass on the token it drew; argmax then takes exactly that token.
Prompts are processed one at a time (``prefill_batch_size=1``): rows with
different image layouts never share a prefill.
"""

from __future__ import annotations

import time

from mlxk_common.engine.request import Delta, Finished, timing
from mlxk_common.engine.sampling import make_logits_processors, make_sampler
from mlxk_common.engine.textstream import TextStream


class _Chosen:
    """The last logits processor of a sampled request: draws the token, returns one-hot logits."""

    def __init__(self, sampler):
        self.sampler = sampler

    def __call__(self, tokens, logits):
        import mlx.core as mx

        logprobs = logits - mx.logsumexp(logits, axis=-1, keepdims=True)
        token = self.sampler(logprobs)
        hot = mx.arange(logits.shape[-1]) == token.reshape(-1, 1)
        return mx.where(hot, mx.array(0.0, logits.dtype), mx.array(-mx.inf, logits.dtype))


class _Live:
    __slots__ = ("produced", "request", "rid", "sampled", "t_first", "t_start", "text")

    def __init__(self, rid, request, text):
        self.rid = rid
        self.request = request
        self.text = text
        self.t_start = time.perf_counter()
        self.t_first = None
        self.sampled = 0
        self.produced = 0


class VisionBatchScheduler:
    def __init__(self, engine, *, max_batch: int = 8, prefill_step_size: int = 2048, **_ignored):
        from mlx_vlm.generate.ar import BatchGenerator

        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.engine = engine
        self.max_batch = max_batch
        self._gen = BatchGenerator(engine.model.language_model, engine.processor, stop_tokens=sorted(engine.eos_ids),
                                   completion_batch_size=max_batch, prefill_batch_size=1,
                                   prefill_step_size=prefill_step_size, compute_logprobs=False)
        self._live: dict[int, _Live] = {}
        self._rids: dict[object, int] = {}

    def submit(self, request, rid=None, **_ignored):
        engine = self.engine
        inputs = dict(request.inputs)
        input_ids = inputs.pop("input_ids")
        pixel_values = inputs.pop("pixel_values", None)
        mask = inputs.pop("attention_mask", None)
        embed = engine.model.get_input_embeddings(input_ids, pixel_values, mask=mask, **inputs)
        kwargs = {**inputs, **{k: v for k, v in embed.to_dict().items() if v is not None}}
        params = request.sampling
        processors = list(make_logits_processors(params))
        if not params.greedy:
            processors.append(_Chosen(make_sampler(params, engine.vocab_size)))
        uid = self._gen.insert([list(request.prompt_tokens)], max_tokens=[request.max_tokens],
                               prompt_kwargs=[kwargs], logits_processors=[processors or None])[0]
        if rid is None:
            rid = uid
        if rid in self._rids:
            self._gen.remove(uid)
            raise ValueError(f"request id {rid!r} is already in flight")
        text = TextStream(engine.detokenizer(), request.stop, request.markers, request.in_reasoning)
        self._live[uid] = _Live(rid, request, text)
        self._rids[rid] = uid
        return rid

    def cancel(self, rid):
        uid = self._rids.get(rid)
        if uid is None:
            return None
        self._gen.remove(uid)
        return self._finish(uid, "cancelled")

    @property
    def active(self) -> int:
        return len(self._live)

    @property
    def prefilling(self) -> int:
        return sum(1 for live in self._live.values() if live.t_first is None)

    def __len__(self):
        return len(self._live)

    def step(self) -> list:
        if not self._live:
            return []
        _, responses = self._gen.next()
        events = []
        now = time.perf_counter()
        eos = self.engine.eos_ids
        for r in responses:
            live = self._live.get(r.uid)
            if live is None:
                continue
            if live.t_first is None:
                live.t_first = now
            live.sampled += 1
            if r.token in eos or r.finish_reason == "stop":
                events.append(self._finish(r.uid, "stop", events))
                continue
            live.produced += 1
            content, reasoning, stopped = live.text.add(r.token)
            if content or reasoning:
                events.append(Delta(live.rid, content, reasoning))
            if stopped:
                self._gen.remove(r.uid)
                events.append(self._finish(r.uid, "stop", events))
            elif r.finish_reason is not None:
                events.append(self._finish(r.uid, "length", events))
        return events

    def _finish(self, uid, reason: str, events=None) -> Finished:
        live = self._live.pop(uid)
        del self._rids[live.rid]
        content, reasoning = live.text.finish()
        if events is not None and (content or reasoning):
            events.append(Delta(live.rid, content, reasoning))
        request = live.request
        info = timing(request.prompt_len, live.sampled, live.t_start, live.t_first, time.perf_counter())
        return Finished(live.rid, reason, live.text.text, live.text.reasoning_text, request.prompt_len,
                        live.produced, info, request.limit_source)

    def run(self):
        while self._live:
            yield from self.step()

    def close(self) -> None:
        for uid in list(self._live):
            self._gen.remove(uid)
        self._live.clear()
        self._rids.clear()
        self._gen.close()
