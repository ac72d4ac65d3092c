"""The inference engines shared by mlx-run and mlxk-serve.

Importing this package is cheap; mlx and mlx-lm load with the first model.

API::

    from mlxk_common.engine import load_engine, SamplingParams
    from mlxk_common.inventory.locate import locate, check_runnable

    located = locate("SmolLM2", environ)      # names.resolve: path, ORG/NAME, substring, @hash
    check_runnable(located)                  # health rules; unhealthy / capability_not_supported
    engine = load_engine(located)            # picks text/vision/audio from config.json (read once)
    engine.context_length, engine.eos_ids, engine.markers, engine.load_s
    engine.cpu_path                          # CPU device: {path, reason, blas, shim, ...}; else None

    req = engine.prepare(prompt="Hi", system=None,          # or messages=[{role, content}, ...]
                         chat_template=True, template_args={"enable_thinking": False},
                         max_tokens=256,                     # None: up to the context window
                         sampling=SamplingParams(temperature=0.7, seed=1),
                         stop=["\\n\\n"])
    # -> GenerationRequest (tokens, budget); raises MlxkError context_length_exceeded,
    #    usage_error, capability_not_supported (image/audio parts)

    for event in engine.generate(req):       # one request, streamed, raw mlx-lm speed
        if event.kind == "delta":            # Delta: .content, .reasoning (new text)
            ...
        else:                                # Finished: .finish_reason "stop"|"length"|"cancelled",
            ...                              #   .content, .reasoning, .usage, .timing, .limit_source

    chat = engine.conversation()             # KV cache kept across the turns of one chat:
    engine.generate(req, conversation=chat)  #   each turn processes only its new tokens

    sched = engine.batch(max_batch=8)        # continuous batching (mlx-lm BatchGenerator)
    rid = sched.submit(req, rid="a")         # at any time, also while others run
    events = sched.step()                    # Delta/Finished events of one step; same thread always
    sched.cancel("a"); sched.close()

Embedding models (``runtime.model_type == "embedding"``) have their own engine,
``embed.load_embed_engine(located)``: ``tokenize(texts)``, ``embed(token_lists)``
-> float32 vectors; ``embed.LlmEmbedder(text_engine)`` gives a text model's
mean-pooled hidden state the same way.

The model arrives as an ``inventory.located.Located`` (its config, kind and
context window already read); a plain folder path works too.

Speech to text (Whisper through mlx-audio): ``load_engine(located)`` of an
audio model gives a ``speech.SpeechEngine``; ``audio.decode(bytes, name)``
turns a file into its samples; ``subtitles`` writes SRT and WebVTT.

Modules: loader (TextEngine), speech (SpeechEngine), audio (decoding),
subtitles,
prompting (chat template, end-of-turn token), sampling (SamplingParams, seeded
samplers), stops (incremental stop strings), reasoning (thinking markers and the
reasoning/content split), textstream (detokenizer + stops + reasoning per
request), generate (single request), conversation (chat KV cache), batch
(BatchScheduler), tools (the family's tool-call format, splitting and
parsing calls), structured (response_format / tool_choice -> a constraint),
constrain (llguidance grammars as a per-request logits processor).

    req = engine.prepare(messages=..., tools=[...], tool_choice="required",   # or "auto", "none", a name
                         response_format={"type": "json_schema", "schema": {...}})
    engine.tool_format                   # ToolFormat (markers, mlx-lm parser) or None: no tools in the template
    engine.sampling_defaults             # generation_config.json's temperature/top_p/top_k/min_p

Errors are ``MlxkError``: model_not_found, unhealthy (unreadable folder,
unsupported architecture), capability_not_supported (vision/audio for now),
context_length_exceeded (details prompt_tokens, context_length), usage_error.
"""

from __future__ import annotations

import os

from mlxk_common.engine.cpu.path import CpuSettings
from mlxk_common.engine.loader import load_text_engine
from mlxk_common.engine.request import Delta, Finished, GenerationRequest
from mlxk_common.engine.sampling import SamplingParams
from mlxk_common.engine.vision import load_vision_engine
from mlxk_common.engine.speech import load_speech_engine
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import AUDIO, TEXT, VISION, Located

__all__ = ["load_engine", "as_located", "CpuSettings", "SamplingParams", "GenerationRequest", "Delta",
           "Finished", "TEXT", "VISION", "AUDIO"]


def as_located(model) -> Located:
    """A ``Located`` as it is; a folder path as a ``Located`` of that folder."""
    return model if isinstance(model, Located) else Located.folder(model)


def load_engine(model, kind: str | None = None, cpu: CpuSettings | None = None):
    """Load the engine for ``model`` (a ``Located``, or a model folder's path).

    The kind comes from the model's config unless ``kind`` asks for one: text
    models load with mlx-lm, vision models with mlx-vlm (vision.py; they answer
    text-only requests too), speech-to-text models (audio) with mlx-audio
    (speech.py).  ``cpu`` (``--cpu-dtype`` and the memory budget) matters for
    text and vision models on a CPU device only (Whisper always runs in float32 on a CPU).
    """
    located = as_located(model)
    located.require_config()
    actual = located.kind
    wanted = kind or actual
    name = os.path.basename(located.path)
    if wanted != actual and not (wanted == TEXT and actual == VISION):
        raise MlxkError("capability_not_supported", f"{name} is a {actual} model, not {wanted}",
                        kind=actual, requested=wanted)
    if actual == VISION:
        return load_vision_engine(located, cpu)  # text-only prompts run on it too
    if wanted == AUDIO and actual == AUDIO:
        return load_speech_engine(located)  # mlx-audio loads here, only for audio
    if wanted != TEXT or actual != TEXT:
        raise MlxkError("capability_not_supported",
                        f"{name} is a {actual} model; {actual} generation is not available yet",
                        kind=actual, requested=wanted)
    return load_text_engine(located, cpu)
