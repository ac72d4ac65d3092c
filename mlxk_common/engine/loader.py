"""Loading a text model with mlx-lm, and the ``TextEngine`` that holds it.

Everything that can be checked without weights is checked first (folder,
config, engine kind, architecture support), so a wrong model fails in
milliseconds with a clear error instead of a traceback after loading.
"""

from __future__ import annotations

import os
import time

from mlxk_common.engine.batch import BatchScheduler
from mlxk_common.engine.conversation import ConversationCache
from mlxk_common.engine.cpu import blas
from mlxk_common.engine.cpu.path import CpuSettings, apply
from mlxk_common.engine.generate import generate
from mlxk_common.engine.prompting import build_messages, end_of_turn_ids, normalize_messages, render
from mlxk_common.engine.reasoning import detect_markers, starts_in_reasoning
from mlxk_common.engine.request import GenerationRequest
from mlxk_common.engine.sampling import SamplingParams, model_defaults
from mlxk_common.engine.structured import output_constraint
from mlxk_common.engine.tools import ToolFormat, history_for_template
from mlxk_common.errors import MlxkError
from mlxk_common.inventory.located import TEXT, Located
from mlxk_common.inventory.runtime import MODEL_FILE_REASON, mlx_lm_supports

DEFAULT_MAX_TOKENS_NO_WINDOW = 4096  # when a model names no context window


def check_architecture(info: Located) -> None:
    """Raise ``unhealthy`` unless the installed mlx-lm can build this model."""
    if not info.architecture:
        raise MlxkError("unhealthy", f"{info.path}/config.json has no model_type", path=str(info.path),
                        reason="config.json has no model_type")
    if info.config.get("model_file") is not None:
        raise MlxkError("unhealthy", f"{os.path.basename(info.path)} {MODEL_FILE_REASON}", path=str(info.path),
                        reason=MODEL_FILE_REASON, runtime_compatible=False)
    if not mlx_lm_supports(info.config):
        raise MlxkError("unhealthy", f"model type {info.architecture!r} is not supported by the installed mlx-lm",
                        path=str(info.path), reason=f"model_type '{info.architecture}' not supported by mlx-lm",
                        runtime_compatible=False)


def load_text_engine(info: Located, cpu: CpuSettings | None = None) -> "TextEngine":
    if info.kind != TEXT:
        raise MlxkError("capability_not_supported", f"{os.path.basename(info.path)} is a {info.kind} model; "
                        "mlx-run handles text models only for now", kind=info.kind)
    check_architecture(info)
    start = time.perf_counter()
    blas.ensure()  # a no-op when the tool already did it at start-up; must precede mlx's import
    from mlx_lm.utils import load

    try:
        model, tokenizer = load(str(info.path))
    except FileNotFoundError as exc:
        raise MlxkError("unhealthy", f"cannot load {os.path.basename(info.path)}: {exc}", path=str(info.path)) from None
    except Exception as exc:  # noqa: BLE001 - whatever broken files make mlx-lm raise: a config
        # missing required fields is a TypeError, a cut-off weight file a RuntimeError, deep nesting a RecursionError
        message = " ".join(str(exc).split())[:300]
        raise MlxkError("unhealthy", f"cannot load {os.path.basename(info.path)}: {type(exc).__name__}"
                        + (f": {message}" if message else ""), path=str(info.path)) from None
    cpu_path = apply(model, cpu)
    return TextEngine(info, model, tokenizer, time.perf_counter() - start, cpu_path)


def token_budget(window: int | None, prompt_tokens: int, max_tokens: int | None) -> tuple[int, str]:
    """(token budget, "max_tokens"|"context"): min(max_tokens, window - prompt); text and vision engines."""
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)
                                   or max_tokens < 1):
        raise MlxkError("usage_error", f"max_tokens must be a positive integer, not {max_tokens!r}")
    if window is None:
        return (max_tokens or DEFAULT_MAX_TOKENS_NO_WINDOW), "max_tokens"
    room = window - prompt_tokens
    if room < 1:
        raise MlxkError("context_length_exceeded",
                        f"the prompt has {prompt_tokens} tokens; the model's context window is {window}",
                        prompt_tokens=prompt_tokens, context_length=window)
    if max_tokens is None or max_tokens > room:
        return room, "context"
    return max_tokens, "max_tokens"


class TextEngine:
    """A loaded text model: ``prepare`` requests, ``generate`` one, or batch many."""

    kind = TEXT
    check_nan = False  # a sharded model checks its logits (a broken split gives NaN, not an error)

    def __init__(self, info: Located, model, tokenizer, load_s: float = 0.0, cpu_path: dict | None = None):
        self.info = info
        self.cpu_path = cpu_path  # on a CPU device: which path runs and why (cpu/path.py); else None
        self.model = model
        self.tokenizer = tokenizer
        self.load_s = load_s
        self.context_length = info.context_length
        # Generation ends at any of these: the tokenizer's eos, the config's and
        # generation_config's eos ids, and the chat template's end-of-turn token.
        eos = set(tokenizer.eos_token_ids) | info.eos_ids() | end_of_turn_ids(tokenizer)
        tokenizer.eos_token_ids = eos
        self.eos_ids = frozenset(eos)
        self.markers = detect_markers(tokenizer)
        self.vocab_size = len(tokenizer)
        self.tool_format = ToolFormat.of(tokenizer)  # None: the template has no tool calls
        # generation_config.json's sampling values: the defaults of every request that leaves them out.
        self.sampling_defaults = model_defaults(info.generation_config)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "has_chat_template", False))

    def prepare(self, *, prompt: str | None = None, messages: list[dict] | None = None,
                tokens: list[int] | None = None, system: str | None = None, chat_template: bool = True,
                template_args: dict | None = None, max_tokens: int | None = None,
                sampling: SamplingParams | None = None, stop=(), reasoning: bool = True, tag=None,
                tools: list | None = None, tool_choice: str = "auto", parallel_tool_calls: bool = True,
                response_format: dict | None = None) -> GenerationRequest:
        """Render and tokenize a request and fix its token budget.

        Give one of ``prompt`` (one user turn, with optional ``system``),
        ``messages``, or ``tokens`` (token ids used as they are, after a
        vocabulary check).  ``max_tokens=None`` means "up to the context
        window".  ``reasoning=False`` leaves the output whole: no split into
        reasoning and content by the template's thinking markers (text
        completions).  Raises ``context_length_exceeded`` (details
        ``prompt_tokens``, ``context_length``) when the prompt leaves no room
        to answer.

        ``tools`` (OpenAI function tools, checked by ``tools.check_tools``) go
        to the chat template; a template without tool support refuses them.
        ``tool_choice`` "required" or a function name and ``response_format``
        (``{"type": "json_object"}``, ``{"type": "json_schema", "schema": ...}``)
        constrain the output with a grammar (structured.output_constraint).
        """

        if sum(x is not None for x in (prompt, messages, tokens)) != 1:
            raise MlxkError("usage_error", "give one of a prompt, messages or tokens")
        sampling = self.sampling_for(sampling)
        if isinstance(stop, str):
            stop = (stop,)
        if not all(isinstance(s, str) for s in stop):
            raise MlxkError("usage_error", "stop must be a string or a list of strings")
        if tokens is not None:
            bad = next((t for t in tokens if not 0 <= t < self.vocab_size), None)
            if bad is not None:
                raise MlxkError("usage_error", f"token id {bad} is outside the model's vocabulary "
                                f"({self.vocab_size} tokens)", param="prompt")
            budget, source = self.budget(len(tokens), max_tokens)
            return GenerationRequest(list(tokens), budget, sampling or SamplingParams(), stop, None, False, None,
                                     source, tag=tag,
                                     constraint=output_constraint(self, None, "auto", True, response_format))
        if prompt is not None:
            if not isinstance(prompt, str):
                raise MlxkError("usage_error", "prompt must be a string")
            messages = build_messages(prompt, system)
        else:
            messages = history_for_template(normalize_messages(messages))
            if system:
                messages = [{"role": "system", "content": system}] + [m for m in messages if m["role"] != "system"]
        constraint = output_constraint(self, tools, tool_choice, parallel_tool_calls, response_format)
        if tools and tool_choice != "none":
            template_args = {**(template_args or {}), "tools": tools}
        text, tokens = render(self.tokenizer, messages, chat_template=chat_template, template_args=template_args,
                              limit=self.context_length)
        if not tokens:
            raise MlxkError("usage_error", "the prompt is empty")
        budget, source = self.budget(len(tokens), max_tokens)
        markers = self.markers if reasoning else None
        return GenerationRequest(tokens, budget, sampling or SamplingParams(), stop, markers,
                                 reasoning and starts_in_reasoning(text, markers), text, source, tag,
                                 constraint=constraint)

    def sampling_for(self, sampling: SamplingParams | None) -> SamplingParams:
        """The request's sampling settings over the model's defaults; logit_bias ids checked."""
        sampling = (sampling or SamplingParams()).over(self.sampling_defaults)
        bad = next((t for t in (sampling.logit_bias or ()) if t >= self.vocab_size), None)
        if bad is not None:
            raise MlxkError("usage_error", f"logit_bias names token {bad}, outside the model's vocabulary "
                            f"({self.vocab_size} tokens)", param="logit_bias")
        return sampling

    def budget(self, prompt_tokens: int, max_tokens: int | None) -> tuple[int, str]:
        """(token budget, "max_tokens"|"context"): min(max_tokens, window - prompt)."""
        return token_budget(self.context_length, prompt_tokens, max_tokens)

    def generate(self, request: GenerationRequest, rid=None, prompt_cache=None, conversation=None):
        """Stream one request: ``Delta`` events, then one ``Finished`` (see generate.py)."""
        return generate(self, request, rid=rid, prompt_cache=prompt_cache, conversation=conversation)

    def conversation(self):
        """A ``ConversationCache``: pass it to every ``generate`` of one chat."""
        return ConversationCache(self)

    def batch(self, **options):
        """A ``BatchScheduler`` over this model (see batch.py for options)."""
        return BatchScheduler(self, **options)
