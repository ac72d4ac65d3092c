"""Messages to prompt tokens.

The model's chat template renders the conversation (no system prompt of our
own is ever added); extra template arguments (``enable_thinking=false``)
pass straight to it.  Without a template, or with ``chat_template=False``,
the text is used as it is.  The rendered text is encoded without adding
special tokens again, exactly as ``mlx_lm.generate`` does.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError
from mlxk_common.jsonio import JSONDecodeError, loads

ROLES = ("system", "user", "assistant", "tool", "developer")


def normalize_messages(messages) -> list[dict]:
    """Validate chat messages; multi-part text content is joined, images and
    audio are refused (they belong to the vision and audio engines)."""
    if not isinstance(messages, list) or not messages:
        raise MlxkError("usage_error", "messages must be a non-empty list of {role, content} objects")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise MlxkError("usage_error", f"messages[{i}] is not an object")
        role = message.get("role")
        if role not in ROLES:
            raise MlxkError("usage_error", f"messages[{i}].role must be one of {', '.join(ROLES)}")
        content = message.get("content", "")
        if content is None:
            content = ""
        if isinstance(content, list):
            content = _join_parts(content, i)
        if not isinstance(content, str):
            raise MlxkError("usage_error", f"messages[{i}].content must be a string or a list of text parts")
        clean = {k: v for k, v in message.items() if k != "content"}
        clean["content"] = content
        out.append(clean)
    return out


def _join_parts(parts: list, i: int) -> str:
    texts = []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind in ("image", "image_url", "input_image", "input_audio", "audio"):
            raise MlxkError("capability_not_supported", f"messages[{i}] has {kind} content; this is a text model")
        else:
            raise MlxkError("usage_error", f"messages[{i}].content has a part that is not text")
    return "\n".join(texts)


def build_messages(prompt: str, system: str | None = None, history: list[dict] | None = None) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    messages += list(history or [])
    messages.append({"role": "user", "content": prompt})
    return messages


def render(tokenizer, messages: list[dict], *, chat_template: bool = True,
           template_args: dict | None = None, limit: int | None = None) -> tuple[str, list[int]]:
    """(prompt text, prompt token ids) for ``messages``.  With ``limit`` (the
    context window), a text far longer than that many tokens is refused with
    ``context_length_exceeded`` after encoding only about ``limit`` tokens of it."""
    if chat_template and getattr(tokenizer, "has_chat_template", False):
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                                 **(template_args or {}))
        except Exception as exc:  # jinja raises its own errors (raise_exception in templates)
            raise MlxkError("usage_error", f"the chat template refused the conversation: {exc}") from None
        special = False
    else:
        text = "\n\n".join(m["content"] for m in messages if m.get("content"))
        special = True
    if limit is not None:
        at_least = tokens_beyond(tokenizer, text, limit)
        if at_least is not None:
            raise MlxkError("context_length_exceeded", f"the prompt has more than {at_least} tokens; the model's "
                            f"context window is {limit}", prompt_tokens=at_least, context_length=limit)
    return text, tokenizer.encode(text, add_special_tokens=special)


# Encoding a text costs time and memory in proportion to its length (5 MB: ~10 s
# and ~1 GB with a fast tokenizer), however little of it the window can hold.
_WHOLE_CHARS_PER_TOKEN = 16  # texts up to limit x this are encoded whole, at once
_CHUNK_CHARS_PER_TOKEN = 4  # longer ones in chunks of limit x this characters...
_BOUNDARY_SLACK = 8  # ...each cut at whitespace, allowed to count this many tokens too many


def tokens_beyond(tokenizer, text: str, limit: int) -> int | None:
    """A lower bound on the number of tokens of ``text`` when it is surely
    more than ``limit``; None when the text may fit.  Long texts are encoded
    chunk by chunk and the count stops once it is past the limit, so the work
    is bounded by the window, not by the text."""
    if len(text) <= limit * _WHOLE_CHARS_PER_TOKEN:
        return None
    step = max(limit * _CHUNK_CHARS_PER_TOKEN, 4096)
    counted = chunks = start = 0
    while start < len(text):
        end = min(len(text), start + step)
        if end < len(text):  # cut at whitespace: the pieces then encode as they would in the whole text
            cut = next((i for i in range(end, min(len(text), end + 256)) if text[i].isspace()), end)
            end = cut
        counted += len(tokenizer.encode(text[start:end], add_special_tokens=False))
        chunks += 1
        start = end
        if counted - _BOUNDARY_SLACK * (chunks - 1) > limit:
            return counted - _BOUNDARY_SLACK * (chunks - 1)
    return None


def end_of_turn_ids(tokenizer) -> set[int]:
    """Special tokens that the chat template writes right after an assistant
    message (``<|im_end|>``, ``<|eot_id|>``, ``<end_of_turn>``): the model's
    turn ends there even when the tokenizer's eos is another token.  Found by
    rendering a probe conversation, so it works for any template."""
    if not getattr(tokenizer, "has_chat_template", False):
        return set()
    probe = [{"role": "user", "content": "\x02u"}, {"role": "assistant", "content": "\x02a"}]
    try:
        text = tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=False)
    except Exception:  # a template may insist on other shapes; then the eos ids must do
        return set()
    at = text.find("\x02a")
    if at < 0:
        return set()
    tail = text[at + 2:].lstrip(" ")
    if not tail:
        return set()
    try:
        ids = tokenizer.encode(tail, add_special_tokens=False)
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        special.update(i for i, t in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).items()
                       if getattr(t, "special", False))
    except Exception:
        return set()
    return {ids[0]} if ids and ids[0] in special else set()


def parse_template_args(items) -> dict:
    """``KEY=VALUE`` strings to a dict; VALUE is read as JSON when it parses
    (``true``, ``3``, ``"x"``), else kept as text."""
    args = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise MlxkError("usage_error", f"chat template argument {item!r} is not KEY=VALUE")
        try:
            args[key] = loads(raw)
        except JSONDecodeError:
            args[key] = _WORDS.get(raw.strip().lower(), raw)
    return args


_WORDS = {"true": True, "false": False, "none": None}  # Python spellings too
