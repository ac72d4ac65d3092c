"""What the engine thread tells a request's greenlet, as named, plain-data events.

``kind`` says which event it is:

* ``Accepted``: the request holds a decoding slot (tokens in its prompt, of
  them found in the prompt cache, and its token budget);
* ``Text``: newly generated text (content, reasoning);
* ``Done``: the end (why, and the token counts for ``usage``);
* ``Failed``: the request failed (an ``MlxkError``, or a string for an
  internal error that was logged already);
* ``Loaded``: the answer to a preload;
* ``Embedded``: the vectors of an embeddings request (a float32 numpy array,
  one row per input, in the request's order) and its token count;
* ``GONE``: the client went away (posted by the HTTP side itself).

Plain classes with slots, not NamedTuples: mlxk-serve imports this before
gevent patches the standard library, and typing costs start-up time.
"""

from __future__ import annotations


class Event:
    __slots__ = ()
    kind = ""

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Accepted(Event):
    __slots__ = ("prompt_tokens", "cached_tokens", "max_tokens", "tool_format")
    kind = "accepted"

    def __init__(self, prompt_tokens: int, cached_tokens: int, max_tokens: int, tool_format=None):
        self.prompt_tokens = prompt_tokens
        self.cached_tokens = cached_tokens
        self.max_tokens = max_tokens
        self.tool_format = tool_format  # the model's tool-call markers and parser, when the request has tools


class Text(Event):
    __slots__ = ("content", "reasoning", "logprobs")
    kind = "delta"

    def __init__(self, content: str, reasoning: str, logprobs=None):
        self.content = content
        self.reasoning = reasoning
        self.logprobs = logprobs  # [engine TokenLogprob] when the request asked for them


class Done(Event):
    __slots__ = ("finish_reason", "prompt_tokens", "completion_tokens", "cached_tokens", "stop_sequence")
    kind = "done"

    def __init__(self, finish_reason: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int,
                 stop_sequence: str | None = None):
        self.finish_reason = finish_reason
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cached_tokens = cached_tokens
        self.stop_sequence = stop_sequence  # the stop string that ended the answer, if one did


class Failed(Event):
    __slots__ = ("error",)
    kind = "error"

    def __init__(self, error):
        self.error = error  # MlxkError, or str: an internal error, already logged


class Loaded(Event):
    __slots__ = ("name",)
    kind = "loaded"

    def __init__(self, name: str):
        self.name = name


class Embedded(Event):
    __slots__ = ("vectors", "prompt_tokens")
    kind = "embedded"

    def __init__(self, vectors, prompt_tokens: int):
        self.vectors = vectors
        self.prompt_tokens = prompt_tokens


class _Gone(Event):
    __slots__ = ()
    kind = "gone"


GONE = _Gone()
FINAL = ("done", "error", "embedded")  # kinds after which the engine sends nothing more
