"""Grammar-constrained sampling with llguidance: JSON objects, JSON schemas, tool calls.

A ``Constraint`` holds one compiled grammar; each generation gets its own
matcher through ``constraint.processor()``, an mlx-lm logits processor that
feeds the matcher the token sampled last and masks every token the grammar
does not allow next (an end-of-turn token only once the grammar is
complete).  The same processor serves the single-request path and each row
of the continuous batch, so every request carries its own constraint.

llguidance was picked by measurement (bench/constrained_speed.py): its mask
for the SmolLM2 vocabulary takes well under a millisecond per token, it
compiles any JSON schema lazily (no up-front automaton for the vocabulary),
and it reports the schema features it cannot enforce instead of ignoring them.
"""

from __future__ import annotations

import json

from mlxk_common.errors import MlxkError

# No whitespace between JSON tokens: small models otherwise wander into
# endless runs of spaces and newlines that the grammar allows.
_JSON_OPTIONS = {"whitespace_flexible": False}


def _llguidance():
    try:
        import llguidance
    except ImportError:  # pragma: no cover - a dependency of the package
        raise MlxkError("capability_not_supported",
                        "structured output needs the llguidance package (pip install llguidance)") from None
    return llguidance


def ll_tokenizer(engine):
    """llguidance's view of the engine's tokenizer, built once per engine (about a second)."""
    cached = getattr(engine, "_ll_tokenizer", None)
    if cached is not None:
        return cached
    import llguidance.hf

    hf = getattr(engine.tokenizer, "_tokenizer", engine.tokenizer)
    # Any of the engine's end tokens ends a finished answer; llguidance allows
    # its eos token only where the grammar is complete.
    eos = sorted(engine.eos_ids) or None
    try:
        tok = llguidance.hf.from_tokenizer(hf, n_vocab=engine.vocab_size, eos_token=eos)
    except Exception as exc:  # noqa: BLE001 - slow tokenizers and odd vocabularies
        raise MlxkError("capability_not_supported",
                        f"structured output is not available for this model's tokenizer: {exc}") from None
    engine._ll_tokenizer = tok
    return tok


def json_schema_grammar(schema) -> str:
    """The grammar of JSON text that validates against ``schema``."""
    ll = _llguidance()
    if not isinstance(schema, dict):
        raise MlxkError("usage_error", "a JSON schema must be an object", param="response_format")
    try:
        return ll.LLMatcher.grammar_from_json_schema(schema, overrides=_JSON_OPTIONS)
    except Exception as exc:  # noqa: BLE001 - whatever a hostile schema makes the compiler raise is the schema's fault
        raise MlxkError("usage_error", f"invalid JSON schema: {exc}", param="response_format") from None


def json_object_grammar() -> str:
    return json_schema_grammar({"type": "object"})


def closed(schema):
    """OpenAI's strict mode: an object schema that does not say otherwise
    allows no properties beyond those it names (plain JSON Schema allows any)."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: closed(value) if key not in ("const", "enum", "default", "examples") else value
           for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out and "patternProperties" not in out:
        out["additionalProperties"] = False
    return out


def tool_call_schema(tools: list[dict], name: str | None = None) -> dict:
    """The JSON of one call, ``{"name": ..., "arguments": {...}}``, for any of
    ``tools`` (or only the one named)."""
    options = []
    for tool in tools:
        fn = tool["function"]
        if name is not None and fn["name"] != name:
            continue
        # Arguments the function does not declare would break the call: objects are closed.
        params = closed(fn.get("parameters") or {"type": "object", "properties": {}})
        options.append({"type": "object", "properties": {"name": {"const": fn["name"]}, "arguments": params},
                        "required": ["name", "arguments"], "additionalProperties": False})
    if not options:
        raise MlxkError("usage_error", f"tool_choice names {name!r}, which is not among the tools",
                        param="tool_choice")
    return options[0] if len(options) == 1 else {"anyOf": options}


def tool_call_grammar(tools: list[dict], start: str, end: str, name: str | None = None,
                      parallel: bool = True) -> str:
    """A Lark grammar for one (or, with ``parallel``, one or more) tool calls in
    the JSON-in-markers format (Hermes, Qwen: ``<tool_call>{...}</tool_call>``)."""
    try:
        schema = json.dumps({**tool_call_schema(tools, name), "x-guidance": _JSON_OPTIONS})
    except (TypeError, ValueError, RecursionError) as exc:
        raise MlxkError("usage_error", f"the tools' parameters cannot be read: {exc}", param="tools") from None
    repeat = "+" if parallel and name is None else ""
    lark = (f"start: (call){repeat}\n"
            f"call: {json.dumps(start + chr(10))} body {json.dumps(chr(10) + end)} \"\\n\"?\n"
            f"body: %json {schema}\n")
    return _llguidance().LLMatcher.grammar_from_lark(lark)


class Constraint:
    """A grammar checked against one engine's tokenizer; ``processor()`` per generation."""

    __slots__ = ("eos", "grammar", "tokenizer", "vocab")

    def __init__(self, engine, grammar: str, param: str = "response_format"):
        ll = _llguidance()
        self.tokenizer = ll_tokenizer(engine)
        try:
            is_error, messages = ll.LLMatcher.validate_grammar_with_warnings(grammar, self.tokenizer)
        except Exception as exc:  # noqa: BLE001 - a grammar the compiler chokes on is refused, not a 500
            is_error, messages = True, [str(exc)]
        if is_error or messages:
            # Warnings name schema features the grammar would not enforce: refuse, never ignore them.
            detail = "; ".join(m.removeprefix("WARNING: ") for m in messages)
            raise MlxkError("usage_error", f"the schema cannot be enforced: {detail}", param=param)
        self.grammar = grammar
        self.vocab = engine.vocab_size
        self.eos = sorted(engine.eos_ids)

    def processor(self):
        return _Processor(self)


class _Processor:
    """An mlx-lm logits processor: ``(tokens so far, logits) -> masked logits``.

    mlx-lm calls it once per sampled position; the first call comes before
    any token of the answer exists, every later one has the token sampled
    last at the end of ``tokens``.
    """

    __slots__ = ("eos", "mask", "matcher", "started", "vocab")

    def __init__(self, constraint: Constraint):
        import llguidance
        import llguidance.numpy as lnp

        self.matcher = llguidance.LLMatcher(constraint.tokenizer, constraint.grammar, log_level=0)
        self.started = False
        self.vocab = constraint.vocab
        self.eos = constraint.eos
        self.mask = lnp.allocate_token_bitmask(1, constraint.tokenizer.vocab_size)

    def __call__(self, tokens, logits):
        import mlx.core as mx
        from llguidance.numpy import fill_next_token_bitmask

        matcher = self.matcher
        if self.started and not matcher.is_error():
            matcher.consume_token(int(tokens[-1].item()))
        self.started = True
        if matcher.is_error():
            # Only a sampler that ignores the mask gets here (no token was left to draw
            # from): end this answer, never the batch it decodes in.
            import numpy as np

            ends = np.zeros(logits.shape[-1], dtype=bool)
            ends[[t for t in self.eos if t < ends.shape[0]]] = True
            allowed = mx.array(ends if ends.any() else ~ends)
            return mx.where(allowed, logits, mx.array(-float("inf"), dtype=logits.dtype))
        fill_next_token_bitmask(matcher, self.mask)
        allowed = _unpack(mx, self.mask[0], logits.shape[-1])
        return mx.where(allowed, logits, mx.array(-float("inf"), dtype=logits.dtype))


def _unpack(mx, words, width: int):
    """A bitmask of 32-bit words to ``width`` booleans (tokens past the mask: not allowed)."""
    bits = (mx.array(words.view("uint32"))[:, None] >> mx.arange(32, dtype=mx.uint32)) & 1
    flat = bits.reshape(-1).astype(mx.bool_)
    if flat.shape[0] >= width:
        return flat[:width]
    return mx.concatenate([flat, mx.zeros((width - flat.shape[0],), dtype=mx.bool_)])
