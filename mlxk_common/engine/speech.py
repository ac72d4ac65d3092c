"""Speech to text: Whisper through mlx-audio, shared by mlx-run --audio and
mlxk-serve's /v1/audio routes.

    engine = load_speech_engine(located)        # mlx-audio loads here, not before
    result = engine.transcribe(samples, language=None, task="transcribe", prompt=None,
                               word_timestamps=False, on_segment=callback, on_progress=callback)
    # -> {"text", "language", "duration_s", "segments": [{id, start, end, text, ...}], "timing"}

Samples are 16 kHz mono float32 (``engine.audio.decode``).  Decoding is greedy
(temperature 0, no fallback loop) unless a temperature is asked for; audio of
any length runs in Whisper's 30-second windows, each conditioned on the text
before it.

The CPU path: MLX's Linux CPU backend computes float16 matmuls in scalar code
and sends float32 ones to BLAS, so on a CPU device the model runs in float32
(the same transcript, many times faster, more so with the fast BLAS that
``engine.cpu.blas`` loads before mlx.core).  On Metal or CUDA it stays float16.

mlx-audio's ``Model.generate`` runs the windows (seeking, segments, word
timestamps); on the CPU each window's greedy decoding is the engine's own
(``engine.whisper_greedy``: the same rules and tokens, without mlx-audio's
per-token waste), with the encoder and the decoder's token steps
in ``engine.whisper_cpu`` (NumPy for what MLX's CPU backend computes one
element at a time, BLAS for the products).  docs/cpu.md has the numbers.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from functools import partial
from pathlib import Path

from mlxk_common.engine import whisper_cpu
from mlxk_common.engine.audio import SAMPLE_RATE
from mlxk_common.engine.cpu import blas
from mlxk_common.engine.whisper_greedy import GreedyWhisper
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import AUDIO

TASKS = ("transcribe", "translate")
_local = threading.local()  # the transcription running on this thread: its callbacks


def cpu_blas() -> dict:
    """The fast BLAS (``engine.cpu.blas``), loaded before mlx.core: what it did."""
    return blas.ensure()


def load_speech_engine(located) -> SpeechEngine:
    path = Path(located.path)
    cpu_blas()
    start = time.perf_counter()
    try:
        import mlx.core as mx
        from mlx_audio.stt import load
    except ImportError:
        raise MlxkError("capability_not_supported", "speech to text needs mlx-audio",
                        hint="pip install 'mlxk[audio]'") from None
    try:
        with _quiet():
            model = load(path, strict=True)  # a Path: mlx-audio never asks the Hub
    except (ValueError, OSError, KeyError, TypeError) as exc:
        raise MlxkError("unhealthy", f"{path.name}: mlx-audio could not load it ({str(exc)[:300]})",
                        path=str(path)) from None
    if getattr(model, "_processor", None) is None or not hasattr(model, "generate"):
        raise MlxkError("unhealthy", f"{path.name}: no Whisper processor (preprocessor_config.json and "
                        "tokenizer files)", path=str(path))
    on_cpu = mx.default_device() == mx.cpu
    if on_cpu:
        whisper_cpu.keep_half_weights(model)
        _to_float32(model)
        _numpy_softmax(model)
    mx.eval(model.parameters())
    if on_cpu:
        # The engine's own window loop; on Metal/CUDA (untested there) mlx-audio's stays.
        GreedyWhisper(model, partial(whisper_cpu.encode, model), whisper_cpu.DecoderState).install()
    _hook_progress()
    return SpeechEngine(located, model, time.perf_counter() - start)


def _to_float32(model) -> None:
    """Whisper in float32: the weights, and what mlx-audio builds in its model
    dtype beside them (encoder positions, the decoder's causal mask)."""
    import mlx.core as mx

    if model.dtype == mx.float32:
        return
    model.set_dtype(mx.float32)
    model.dtype = mx.float32
    model.encoder._positional_embedding = model.encoder._positional_embedding.astype(mx.float32)
    model.decoder._mask = model.decoder._mask.astype(mx.float32)


# Above this many scores the softmax goes through NumPy (the encoder's
# 6 x 1500 x 1500 self-attention); the decoder's small ones stay in MLX, where
# a round trip would cost more than it saves.
NUMPY_SOFTMAX_MIN = 1 << 20


def _numpy_softmax(model) -> None:
    """MLX's CPU backend computes ``exp`` one element at a time: the encoder's
    attention softmax was a third of a 30-second window's CPU time.  NumPy's
    is vectorised (about 3x faster here, equal to 4e-6).  Set on this model's
    attention modules only, not on mlx-audio's class."""
    import types

    for side in (model.encoder, model.decoder):
        for block in side.blocks:
            for attn in (block.attn, getattr(block, "cross_attn", None)):
                if attn is not None:
                    attn.qkv_attention = types.MethodType(_qkv_attention, attn)


def _qkv_attention(self, q, k, v, mask=None):
    """mlx-audio's Whisper ``qkv_attention``, with the large softmaxes in NumPy."""
    import mlx.core as mx
    import numpy as np

    n_batch, n_ctx, n_state = q.shape
    scale = (n_state // self.n_head) ** -0.25
    q = q.reshape(*q.shape[:2], self.n_head, -1).transpose(0, 2, 1, 3) * scale
    k = k.reshape(*k.shape[:2], self.n_head, -1).transpose(0, 2, 3, 1) * scale
    v = v.reshape(*v.shape[:2], self.n_head, -1).transpose(0, 2, 1, 3)
    qk = q @ k
    if mask is not None:
        qk = qk + mask[:n_ctx, :n_ctx]
    if qk.size >= NUMPY_SOFTMAX_MIN and qk.dtype == mx.float32:
        scores = np.array(qk)
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        w = mx.array(scores)
    else:
        w = mx.softmax(qk, axis=-1, precise=True)
    out = (w @ v).transpose(0, 2, 1, 3)
    return out.reshape(n_batch, n_ctx, n_state), qk


class SpeechEngine:
    kind = AUDIO

    def __init__(self, located, model, load_s: float):
        import mlx.core as mx

        self.located = located
        self.name = os.path.basename(str(located.path))
        self.model = model
        self.load_s = load_s
        self.multilingual = bool(model.is_multilingual)
        self.float16 = model.dtype == mx.float16
        self.dtype = str(model.dtype).rsplit(".", 1)[-1]
        self.markers = None

    def check(self, *, language: str | None = None, task: str = "transcribe") -> str | None:
        """Validate the options before any audio is read; the language code or None."""
        from mlx_audio.stt.models.whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

        if task not in TASKS:
            raise MlxkError("usage_error", f"task must be transcribe or translate, not {task!r}")
        if language is not None:
            code = language.strip().lower()
            code = TO_LANGUAGE_CODE.get(code, code)
            if code not in LANGUAGES:
                raise MlxkError("usage_error", f"unknown language {language!r} (give a code such as en, de, fr)")
            language = code
        if not self.multilingual:
            if language not in (None, "en"):
                raise MlxkError("capability_not_supported", f"{self.name} is English-only: no language {language!r}")
            if task == "translate":
                raise MlxkError("capability_not_supported", f"{self.name} is English-only: it cannot translate")
        return language

    def transcribe(self, samples, *, language: str | None = None, task: str = "transcribe",
                   prompt: str | None = None, temperature: float = 0.0, word_timestamps: bool = False,
                   on_segment=None, on_progress=None) -> dict:
        language = self.check(language=language, task=task)
        duration = len(samples) / SAMPLE_RATE
        options = {"language": language, "task": task, "initial_prompt": prompt or None,
                   "word_timestamps": word_timestamps, "verbose": False,
                   # A float: a tuple (mlx-audio's default) runs Whisper's temperature-fallback loop.
                   "temperature": float(temperature), "fp16": self.float16}
        _local.watch = _Watch(on_segment, on_progress)
        start = time.perf_counter()
        try:
            with _quiet():
                output = self.model.generate(samples, **options)
        finally:
            watch, _local.watch = _local.watch, None
        elapsed = time.perf_counter() - start
        segments = [shape_segment(s) for s in (output.segments or [])]
        watch.flush(segments)
        return {"text": (output.text or "").strip(), "language": output.language or language or "en",
                "duration_s": round(duration, 3), "segments": segments,
                "timing": {"load_s": round(self.load_s, 3), "audio_s": round(elapsed, 3),
                           "rtf": round(elapsed / duration, 4) if duration else None}}


def shape_segment(segment: dict) -> dict:
    out = {"id": int(segment.get("id", 0)), "start": round(float(segment["start"]), 2),
           "end": round(float(segment["end"]), 2), "text": str(segment.get("text", "")).strip()}
    for key in ("avg_logprob", "compression_ratio", "no_speech_prob", "temperature"):
        if key in segment:
            out[key] = round(float(segment[key]), 4)
    if "seek" in segment:
        out["seek"] = int(segment["seek"])
    if "tokens" in segment:
        out["tokens"] = [int(t) for t in segment["tokens"]]
    if segment.get("words") is not None and "words" in segment:
        out["words"] = [{"word": w["word"].strip(), "start": round(float(w["start"]), 2),
                         "end": round(float(w["end"]), 2), "probability": round(float(w["probability"]), 4)}
                        for w in segment["words"]]
    return out


# -- segments and progress as the windows are decoded ---------------------------------

class _Watch:
    """The callbacks of one transcription; segments are handed out once each."""

    def __init__(self, on_segment, on_progress):
        self.on_segment, self.on_progress = on_segment, on_progress
        self.sent = 0

    def window(self, segments: list | None, done: int, total: int) -> None:
        if segments is not None and self.on_segment is not None:
            self.flush([shape_segment(s) for s in segments[self.sent:]], offset=self.sent)
        if self.on_progress is not None:
            self.on_progress(done, total)

    def flush(self, segments: list, offset: int = 0) -> None:
        """Hand out the segments not yet sent (all of them after the last window)."""
        if self.on_segment is None:
            return
        for segment in segments[self.sent - offset:]:
            self.on_segment(segment)
            self.sent += 1


class _Bar:
    """Stands in for tqdm inside mlx-audio's Whisper loop: that loop calls
    ``update`` once per 30-second window, right after adding the window's
    segments to its ``all_segments`` list, which is read from the caller's
    frame (mlx-audio is pinned below 0.7, where the loop has this shape; if
    the name is missing, segments arrive at the end instead)."""

    def __init__(self, total=None, **_):
        self.total, self.done = total or 0, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        self.done += n
        watch = getattr(_local, "watch", None)
        if watch is not None:
            segments = sys._getframe(1).f_locals.get("all_segments")
            watch.window(segments if isinstance(segments, list) else None, self.done, self.total)


class _TqdmShim:
    tqdm = _Bar


def _hook_progress() -> None:
    from mlx_audio.stt.models.whisper import whisper

    whisper.tqdm = _TqdmShim


class _quiet:
    """mlx-audio warns and prints on stdout/stderr at load and decode; stdout
    belongs to the tool's output, so both are silenced around its calls."""

    def __enter__(self):
        import warnings

        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        self._warnings.__exit__(*exc)
        return False
