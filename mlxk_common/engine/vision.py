"""Vision-language models with mlx-vlm: the ``VisionEngine``, shaped like the text engine.

``prepare(prompt=|messages=, images=[ImageInput...])`` renders the chat template
with one image slot per image (mlx-vlm's own ``apply_chat_template``), runs the
model's processor (pixels, grid sizes) and fixes the token budget;
``generate`` streams one request through ``mlx_vlm.generate.generate_step``
(mlx-vlm's own loop, its own greedy sampler when temperature is 0, so greedy
tokens match ``python -m mlx_vlm generate``); ``batch`` runs many through
mlx-vlm's continuous-batching ``BatchGenerator`` (vision_batch.py).
Text-only prompts work too: no images, no pixels.

mlx-vlm is imported only here, and only when a vision model loads.
"""

from __future__ import annotations

import copy
import os
import time

from mlxk_common.engine.cpu import blas
from mlxk_common.engine.cpu.path import CpuSettings, apply
from mlxk_common.engine.loader import token_budget
from mlxk_common.engine.prompting import ROLES
from mlxk_common.engine.reasoning import detect_markers, starts_in_reasoning
from mlxk_common.engine.request import Delta, Finished, GenerationRequest, timing
from mlxk_common.engine.sampling import SamplingParams, make_logits_processors, make_sampler
from mlxk_common.engine.textstream import TextStream
from mlxk_common.engine.vision_batch import VisionBatchScheduler
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import VISION, Located
from mlxk_common.inventory.runtime import backend_installed, mlx_vlm_supports

INSTALL_HINT = "pip install 'mlxk[vision]'"
IMAGE_PARTS = ("image", "image_url", "input_image")


class VisionRequest(GenerationRequest):
    """A ``GenerationRequest`` plus the processor's tensors (``inputs``) and the image count."""

    __slots__ = ("image_count", "inputs", "preamble")

    def __init__(self, *args, inputs=None, image_count: int = 0, preamble: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.inputs = inputs or {}
        self.image_count = image_count
        self.preamble = preamble  # text the answer starts with (the server's EXIF table), not generated


def load_vision_engine(info: Located, cpu: CpuSettings | None = None) -> VisionEngine:
    """Load with mlx-vlm; on a CPU device the whole model (language model and vision
    tower) then takes the text engine's CPU path (cpu/path.py: float32, OpenBLAS)."""
    name = os.path.basename(info.path)
    if not backend_installed("mlx_vlm"):
        raise MlxkError("capability_not_supported", f"{name} is a vision model and mlx-vlm is not installed",
                        kind=VISION, hint=INSTALL_HINT)
    if not mlx_vlm_supports(info.config or {}):
        raise MlxkError("unhealthy", f"model type {info.architecture!r} is not supported by the installed mlx-vlm",
                        path=str(info.path), reason=f"model_type '{info.architecture}' not supported by mlx-vlm",
                        runtime_compatible=False)
    start = time.perf_counter()
    blas.ensure()  # a no-op when the tool already did it at start-up; must precede mlx's import
    try:
        from mlx_vlm.utils import load

        model, processor = load(str(info.path))
    except Exception as exc:  # noqa: BLE001 - broken files make mlx-vlm/transformers raise anything
        message = " ".join(str(exc).split())[:300]
        raise MlxkError("unhealthy", f"cannot load {name}: {type(exc).__name__}" + (f": {message}" if message else ""),
                        path=str(info.path)) from None
    # The vision tower casts the pixel values to its own weights' dtype (float32 on the CPU path).
    cpu_path = apply(model, cpu)
    return VisionEngine(info, model, processor, time.perf_counter() - start, cpu_path)


class VisionEngine:
    """A loaded vision model: ``prepare`` requests (with images), ``generate`` one, ``batch`` many."""

    kind = VISION

    def __init__(self, info: Located, model, processor, load_s: float = 0.0, cpu_path: dict | None = None):
        self.info = info
        self.model = model
        self.processor = processor
        self.tokenizer = processor.tokenizer if hasattr(processor, "tokenizer") else processor
        self.load_s = load_s
        self.cpu_path = cpu_path  # on a CPU device: which path runs and why (cpu/path.py); else None
        self.context_length = info.context_length
        eos = set(info.eos_ids())
        if getattr(self.tokenizer, "eos_token_id", None) is not None:
            eos.add(self.tokenizer.eos_token_id)
        self.eos_ids = frozenset(eos)
        try:
            self.markers = detect_markers(self.tokenizer)
        except Exception:  # noqa: BLE001 - a processor's template may be of any shape
            self.markers = None
        self.vocab_size = len(self.tokenizer)
        self.config = model.config

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.processor, "chat_template", None) or getattr(self.tokenizer, "chat_template", None))

    def detokenizer(self):
        """A fresh streaming detokenizer (the processor holds one shared instance)."""
        detok = copy.copy(self.processor.detokenizer)
        detok.reset()
        return detok

    # -- requests ----------------------------------------------------------------------
    def prepare(self, *, prompt: str | None = None, messages: list[dict] | None = None, images=(),
                system: str | None = None, chat_template: bool = True, template_args: dict | None = None,
                max_tokens: int | None = None, sampling: SamplingParams | None = None, stop=(),
                reasoning: bool = True, tag=None, tokens=None, preamble: str = "") -> VisionRequest:
        """Render, tokenize and process one request with its images (``ImageInput``s, in order).

        Image slots go where the messages' image parts are; images beyond those
        (and all images of a plain ``prompt``) go to the last user message.
        """
        from mlx_vlm.prompt_utils import apply_chat_template
        from mlx_vlm.utils import prepare_inputs, should_add_special_tokens

        if tokens is not None:
            raise MlxkError("usage_error", "token-id prompts are not supported by vision models", param="prompt")
        if (prompt is None) == (messages is None):
            raise MlxkError("usage_error", "give one of a prompt or messages")
        if isinstance(stop, str):
            stop = (stop,)
        if not all(isinstance(s, str) for s in stop):
            raise MlxkError("usage_error", "stop must be a string or a list of strings")
        if prompt is not None:
            if not isinstance(prompt, str):
                raise MlxkError("usage_error", "prompt must be a string")
            messages = [{"role": "user", "content": prompt}]
        else:
            messages = _normalize(messages)
        if system:
            messages = [{"role": "system", "content": system}] + [m for m in messages if m["role"] != "system"]
        images = list(images)
        if chat_template and self.has_chat_template:
            try:
                text = apply_chat_template(self.processor, self.config, messages, num_images=len(images),
                                           **(template_args or {}))
            except MlxkError:
                raise
            except Exception as exc:  # noqa: BLE001 - a template error is the request's problem
                raise MlxkError("usage_error", f"the chat template failed: {' '.join(str(exc).split())[:200]}") \
                    from None
        else:
            if images:
                raise MlxkError("usage_error", "images need the model's chat template (no --no-chat-template)")
            text = "\n".join(m["content"] if isinstance(m["content"], str) else _text_of(m["content"])
                             for m in messages)
        if not text:
            raise MlxkError("usage_error", "the prompt is empty")
        try:
            inputs = prepare_inputs(self.processor, images=[i.image for i in images] or None, prompts=text,
                                    image_token_index=getattr(self.config, "image_token_index", None),
                                    add_special_tokens=should_add_special_tokens(self.config.model_type,
                                                                                 self.processor))
        except Exception as exc:  # noqa: BLE001 - the processor refuses odd sizes, too many images...
            raise MlxkError("usage_error", f"the model's processor refused the request: "
                            f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None
        input_ids = inputs["input_ids"]
        ids = input_ids.reshape(-1).tolist()
        budget, source = self.budget(len(ids), max_tokens)
        markers = self.markers if reasoning else None
        return VisionRequest(ids, budget, sampling or SamplingParams(), stop, markers,
                             reasoning and starts_in_reasoning(text, markers), text, source, tag,
                             inputs=dict(inputs), image_count=len(images), preamble=preamble)

    def budget(self, prompt_tokens: int, max_tokens: int | None) -> tuple[int, str]:
        return token_budget(self.context_length, prompt_tokens, max_tokens)

    # -- generation --------------------------------------------------------------------
    def generate(self, request: VisionRequest, rid=None, prompt_cache=None, conversation=None):
        """Yield ``Delta`` events, then one ``Finished``; each call a fresh KV cache."""
        from mlx_lm.generate import wired_limit
        from mlx_vlm.generate.ar import generate_step, generation_stream

        inputs = dict(request.inputs)
        input_ids = inputs.pop("input_ids")
        pixel_values = inputs.pop("pixel_values", None)
        mask = inputs.pop("attention_mask", None)
        params = request.sampling
        # Greedy: mlx-vlm's own argmax path (the same tokens as mlx_vlm generate); else our seeded sampler.
        sampler = None if params.greedy else make_sampler(params, self.vocab_size)
        processors = make_logits_processors(params) or None
        stream = TextStream(self.detokenizer(), request.stop, request.markers, request.in_reasoning)
        eos = self.eos_ids
        finish, sampled, produced, t_first, t_last = "length", 0, 0, None, None
        t_start = time.perf_counter()
        with wired_limit(self.model, [generation_stream]):
            steps = generate_step(input_ids, self.model, pixel_values, mask, max_tokens=request.max_tokens,
                                  temperature=0.0, top_p=1.0, top_k=0, sampler=sampler,
                                  logits_processors=processors, **inputs)
            try:
                for token, _ in steps:
                    token = int(token)
                    t_last = time.perf_counter()
                    if t_first is None:
                        t_first = t_last
                    sampled += 1
                    if token in eos:
                        finish = "stop"
                        break
                    produced += 1
                    content, reasoning, stopped = stream.add(token)
                    if content or reasoning:
                        yield Delta(rid, content, reasoning)
                    if stopped:
                        finish = "stop"
                        break
            finally:
                steps.close()
        # The rates end at the last token's arrival, as mlx-vlm's and mlx-lm's do: closing the
        # loop waits for the step generate_step had already started past it, which no one uses.
        t_end = t_last if sampled > 1 else time.perf_counter()
        content, reasoning = stream.finish()
        if content or reasoning:
            yield Delta(rid, content, reasoning)
        info = timing(request.prompt_len, sampled, t_start, t_first, t_end)
        yield Finished(rid, finish, stream.text, stream.reasoning_text, request.prompt_len, produced, info,
                       request.limit_source)

    def conversation(self):
        """Chats on a vision model re-process the whole conversation each turn (no KV reuse)."""
        return

    def batch(self, **options):
        return VisionBatchScheduler(self, **options)


def _normalize(messages) -> list[dict]:
    """Chat messages with text and image parts; image parts become mlx-vlm's ``{"type": "image"}``."""
    if not isinstance(messages, list) or not messages:
        raise MlxkError("usage_error", "messages must be a non-empty list of {role, content} objects")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise MlxkError("usage_error", f"messages[{i}] must be an object with a role of {', '.join(ROLES)}")
        content = message.get("content") or ""
        if isinstance(content, list):
            parts = []
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    parts.append({"type": "text", "text": part["text"]})
                elif kind in IMAGE_PARTS:
                    parts.append({"type": "image"})
                else:
                    raise MlxkError("usage_error", f"messages[{i}].content has a part that is neither text nor image")
            content = parts if any(p["type"] == "image" for p in parts) else _text_of(parts)
        elif not isinstance(content, str):
            raise MlxkError("usage_error", f"messages[{i}].content must be a string or a list of parts")
        out.append({"role": message["role"], "content": content})
    return out


def _text_of(parts) -> str:
    return "\n".join(p["text"] for p in parts if p.get("type") == "text")
