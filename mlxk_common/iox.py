"""The injectable I/O environment of a tool run.

A tool never touches ``sys.stdin``/``sys.stdout``/``os.environ`` directly; it gets
an ``IOEnv``.  Tests build one around ``io.StringIO`` objects and a plain dict to
drive tools in-process, exactly as a subprocess would see them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds at start-up: annotations only
if TYPE_CHECKING:
    from typing import TextIO

import os
import sys
from collections.abc import Mapping

from mlxk_common.errors import MlxkError


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class IOEnv:
    """stdin/stdout/stderr, their TTY-ness and the environment of one tool run.

    (A plain class, not a dataclass: importing dataclasses costs start-up time.)
    """

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
        stdin_isatty: bool | None = None,
        stdout_isatty: bool | None = None,
        stderr_isatty: bool | None = None,
        is_process: bool = False,
    ):
        self.stdin = sys.stdin if stdin is None else stdin
        self.stdout = sys.stdout if stdout is None else stdout
        self.stderr = sys.stderr if stderr is None else stderr
        self.environ = os.environ if environ is None else environ
        self.stdin_isatty = _isatty(self.stdin) if stdin_isatty is None else stdin_isatty
        self.stdout_isatty = _isatty(self.stdout) if stdout_isatty is None else stdout_isatty
        self.stderr_isatty = _isatty(self.stderr) if stderr_isatty is None else stderr_isatty
        # True when this IOEnv wraps the real process streams (so file-descriptor
        # tricks such as pointing a closed stdout at /dev/null are allowed).
        self.is_process = is_process

    @classmethod
    def from_process(cls) -> "IOEnv":
        return cls(stdout=GuardedStdout(sys.stdout), stdout_isatty=_isatty(sys.stdout), is_process=True)

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name)
        return default if value is None or value == "" else value

    @property
    def color(self) -> bool:
        """Colour only on a TTY, never with NO_COLOR (any value) or TERM=dumb."""
        return bool(
            self.stdout_isatty
            and "NO_COLOR" not in self.environ
            and self.environ.get("TERM") != "dumb"
        )

    @property
    def stderr_color(self) -> bool:
        return bool(
            self.stderr_isatty
            and "NO_COLOR" not in self.environ
            and self.environ.get("TERM") != "dumb"
        )


UNDECODABLE, TOO_LONG = "undecodable", "too_long"
_SKIP_CHUNK = 1 << 20


def text_lines(stream, max_bytes: int | None = None):
    """``(line number, text, problem)`` for each line of ``stream``.

    ``problem`` is None, ``UNDECODABLE`` (the line is not text in the stream's
    encoding; ``text`` is None) or ``TOO_LONG`` (longer than ``max_bytes``;
    ``text`` is None and the rest of that line is skipped unread into memory).
    The binary layer is decoded line by line, so one bad line never hides the
    lines around it (a text layer decodes whole buffers and stops at the first
    bad byte).
    """
    raw = getattr(stream, "buffer", None)
    source = stream if raw is None else raw  # no binary layer: an in-memory text stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    newline = "\n" if raw is None else b"\n"
    line_no = 0
    while True:
        line = source.readline() if max_bytes is None else source.readline(max_bytes + 1)
        if not line:
            return
        line_no += 1
        if max_bytes is not None and len(line) > max_bytes and not (len(line) == max_bytes + 1
                                                                     and line.endswith(newline)):
            while line and not line.endswith(newline):
                line = source.readline(_SKIP_CHUNK)
            yield line_no, None, TOO_LONG
            continue
        if raw is None:
            yield line_no, line, None
            continue
        try:
            yield line_no, line.decode(encoding), None
        except (UnicodeDecodeError, LookupError):
            yield line_no, None, UNDECODABLE


class GuardedStdout:
    """The process's stdout, whose write failures (a full disk, a closed
    descriptor, an I/O error) come out as one ``output_error`` instead of an
    OSError from deep inside whatever was writing.  A reader that left
    (BrokenPipeError) stays what it is: a quiet end."""

    __slots__ = ("stream",)

    def __init__(self, stream):
        self.stream = stream  # None when the process started with stdout closed

    def write(self, text: str) -> int:
        return self._do(lambda: self.stream.write(text))

    def flush(self) -> None:
        self._do(lambda: self.stream.flush())

    def _do(self, act):
        try:
            return act()
        except BrokenPipeError:
            raise
        except (OSError, ValueError, AttributeError) as exc:  # AttributeError: sys.stdout is None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (
                "stdout is closed" if isinstance(exc, AttributeError) else str(exc))
            raise MlxkError("output_error", f"cannot write to stdout: {reason}") from None

    def discard(self) -> None:
        """Give up: from now on writes go nowhere (the failure was reported)."""
        self.stream = open(os.devnull, "w")

    def __getattr__(self, name):
        return getattr(self.stream, name)


def quiet_broken_pipe(env: IOEnv) -> int:
    """The reader went away (``| head``): stop quietly, exit 0.  Point the stdout
    file descriptor at /dev/null so the interpreter's final flush cannot raise."""
    if env.is_process:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1 if sys.stdout is None else sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
    return 0  # errors.EXIT_OK
