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

Prompts waiting together are processed together, in one left-padded forward
pass (as mlx_vlm.server does): one prefill instead of one per request, and
the rows join the decoding batch at once.  Only rows of one layout share a
prefill (``_layout``: the same prompt tensors, each with one row; mlx-vlm's
merge of per-row tensors pads and stacks exactly those); a request of another
layout (text-only among images, several images in one request) waits for the
next prefill.  The scheduler hands the generator a new group only when it has
no prompt left, so a group is never mixed with a later one.
"""

from __future__ import annotations

import time

from mlxk_common.engine.request import Delta, Finished, timing
from mlxk_common.engine.sampling import make_logits_processors, make_sampler
from mlxk_common.engine.textstream import TextStream


def _layout(kwargs: dict):
    """What a prefill row must share with the others to be batched with them; None: alone."""
    import mlx.core as mx

    parts = []
    for key, value in sorted(kwargs.items()):
        if key == "inputs_embeds":
            continue
        if isinstance(value, mx.array):
            mrope = key == "position_ids" and value.ndim == 3 and value.shape[0] == 3
            rows = value.shape[1] if mrope else (value.shape[0] if value.ndim else 0)
            if rows != 1:  # e.g. image_grid_thw of two images: mlx-vlm would take its first row only
                return None
            parts.append((key, value.ndim, value.dtype))
        elif value is None or isinstance(value, (bool, int, float, str)):
            parts.append((key, value))
        else:
            return None
    return tuple(parts)


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
    __slots__ = ("kwargs", "layout", "processors", "produced", "request", "rid", "sampled", "t_first", "t_start",
                 "text", "uid")

    def __init__(self, rid, request, text, kwargs, processors):
        self.rid = rid
        self.request = request
        self.text = text
        self.kwargs = kwargs  # the prompt tensors, until the request goes to the generator
        self.layout = _layout(kwargs)
        self.processors = processors
        self.uid = None  # the generator's id, once inserted
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
        # prefill_batch_size is set per group in _feed: the generator admits prompts
        # only while completion_batch_size - decoding >= prefill_batch_size.
        self._gen = BatchGenerator(engine.model.language_model, engine.processor, stop_tokens=sorted(engine.eos_ids),
                                   completion_batch_size=max_batch, prefill_batch_size=1,
                                   prefill_step_size=prefill_step_size, compute_logprobs=False)
        self._live: dict[object, _Live] = {}  # by rid, in submission order
        self._uids: dict[int, object] = {}  # generator uid -> rid
        self._waiting: list = []  # rids not yet given to the generator, oldest first
        self._count = 0

    def submit(self, request, rid=None, **_ignored):
        engine = self.engine
        if rid is None:
            rid = self._count
        if rid in self._live:
            raise ValueError(f"request id {rid!r} is already in flight")
        self._count += 1
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
        text = TextStream(engine.detokenizer(), request.stop, request.markers, request.in_reasoning)
        self._live[rid] = _Live(rid, request, text, kwargs, processors or None)
        self._waiting.append(rid)
        return rid

    def _feed(self) -> None:
        """Give the generator the oldest waiting request and those of its layout, when it has no prompt left."""
        gen = self._gen
        if not self._waiting or gen.has_pending_prompts:
            return
        room = self.max_batch - sum(1 for live in self._live.values() if live.uid is not None)  # decoding now
        if room < 1:
            return
        first = self._live[self._waiting[0]]
        group = [first]
        if first.layout is not None:
            group += [self._live[r] for r in self._waiting[1:] if self._live[r].layout == first.layout][:room - 1]
        gen.prefill_batch_size = len(group)
        uids = gen.insert([list(live.request.prompt_tokens) for live in group],
                          max_tokens=[live.request.max_tokens for live in group],
                          prompt_kwargs=[live.kwargs for live in group],
                          logits_processors=[live.processors for live in group])
        chosen = set()
        for live, uid in zip(group, uids):
            live.uid, live.kwargs = uid, None
            self._uids[uid] = live.rid
            chosen.add(live.rid)
        self._waiting = [r for r in self._waiting if r not in chosen]

    def cancel(self, rid):
        live = self._live.get(rid)
        if live is None:
            return None
        if live.uid is None:
            self._waiting.remove(rid)
        else:
            self._gen.remove(live.uid)
        return self._finish(rid, "cancelled")

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
        self._feed()
        _, responses = self._gen.next()
        events = []
        now = time.perf_counter()
        eos = self.engine.eos_ids
        for r in responses:
            rid = self._uids.get(r.uid)
            live = self._live.get(rid) if rid is not None else None
            if live is None or live.uid != r.uid:
                continue
            if live.t_first is None:
                live.t_first = now
            live.sampled += 1
            if r.token in eos or r.finish_reason == "stop":
                events.append(self._finish(rid, "stop", events))
                continue
            live.produced += 1
            content, reasoning, stopped = live.text.add(r.token)
            if content or reasoning:
                events.append(Delta(live.rid, content, reasoning))
            if stopped:
                self._gen.remove(r.uid)
                events.append(self._finish(rid, "stop", events))
            elif r.finish_reason is not None:
                events.append(self._finish(rid, "length", events))
        return events

    def _finish(self, rid, reason: str, events=None) -> Finished:
        live = self._live.pop(rid)
        if live.uid is not None:
            self._uids.pop(live.uid, None)
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
        for live in list(self._live.values()):
            if live.uid is not None:
                self._gen.remove(live.uid)
        self._live.clear()
        self._uids.clear()
        self._waiting.clear()
        self._gen.close()
