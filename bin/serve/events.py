"""What the engine thread tells a request's greenlet, as named, plain-data events.

Each event is a small tuple with names; ``kind`` says which one it is:

* ``Accepted``: the request holds a decoding slot (tokens in its prompt, of
  them found in the prompt cache, and its token budget);
* ``Text``: newly generated text (content, reasoning);
* ``Done``: the end (why, and the token counts for ``usage``);
* ``Failed``: the request failed (an ``MlxkError``, or a string for an
  internal error that was logged already);
* ``Loaded``: the answer to a preload;
* ``Gone``: the client went away (posted by the HTTP side itself).
"""

from __future__ import annotations

from typing import NamedTuple


class Accepted(NamedTuple):
    prompt_tokens: int
    cached_tokens: int
    max_tokens: int
    kind = "accepted"


class Text(NamedTuple):
    content: str
    reasoning: str
    kind = "delta"


class Done(NamedTuple):
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    kind = "done"


class Failed(NamedTuple):
    error: object  # MlxkError, or str: an internal error, already logged
    kind = "error"


class Loaded(NamedTuple):
    name: str
    kind = "loaded"


class Gone(NamedTuple):
    kind = "gone"


GONE = Gone()
FINAL = ("done", "error")  # kinds after which the engine sends nothing more
