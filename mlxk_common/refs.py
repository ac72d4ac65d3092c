"""Model references from the command line and from stdin.

``-`` among a tool's references means "read references from stdin": each
non-empty line is a bare name/path, or a JSON object whose ``name`` (or
``path``, or ``model``) field is the reference.  So the output of
``mlxk-list --ndjson`` feeds straight into ``mlxk-health -`` or ``mlxk-rm -``.
A bad line (not JSON, not text, a NUL byte) becomes an error item and the
tool goes on.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds at start-up: annotations only
if TYPE_CHECKING:
    from typing import TextIO

from collections.abc import Iterable, Iterator

from mlxk_common.errors import MlxkError
from mlxk_common.iox import UNDECODABLE, text_lines
from mlxk_common.jsonio import JSONDecodeError, loads

REFERENCE_FIELDS = ("name", "path", "model")
# A line of mlxk-list --ndjson is a few hundred bytes; anything near this is not a reference.
REFERENCE_LINE_MAX = 1 << 20


class RefItem:
    """One reference to process, or the error that its input line caused."""

    __slots__ = ("ref", "error", "source", "record")

    def __init__(self, ref: str | None, source: str, error: MlxkError | None = None, record: dict | None = None):
        self.ref = ref
        self.source = source  # "argv" or "stdin:N"
        self.error = error
        self.record = record  # the JSON object the line held, if any

    def __repr__(self):
        return f"RefItem({self.ref!r}, {self.source!r}, error={self.error and self.error.type!r})"


def parse_reference_line(line: str, line_no: int) -> RefItem:
    source = f"stdin:{line_no}"
    text = line.strip()
    if text.startswith(("{", "[")):
        try:
            obj = loads(text)
        except JSONDecodeError as exc:
            return RefItem(None, source, MlxkError("invalid_reference", f"line {line_no}: not valid JSON ({exc})", line=line_no))
        if not isinstance(obj, dict):
            return RefItem(None, source, MlxkError("invalid_reference", f"line {line_no}: JSON line is not an object", line=line_no))
        for key in REFERENCE_FIELDS:
            value = obj.get(key)
            if isinstance(value, str) and value.strip():
                return RefItem(value.strip(), source, record=obj)
        return RefItem(None, source, MlxkError(
            "invalid_reference", f"line {line_no}: JSON object has no 'name', 'path' or 'model' string", line=line_no))
    if "\x00" in text:
        return RefItem(None, source, MlxkError("invalid_reference", f"line {line_no}: NUL byte in reference", line=line_no))
    return RefItem(text, source)


def read_stdin_references(stdin: TextIO) -> Iterator[RefItem]:
    for line_no, line, problem in text_lines(stdin, REFERENCE_LINE_MAX):
        if problem is not None:
            what = "is not valid text" if problem == UNDECODABLE else f"is longer than {REFERENCE_LINE_MAX} bytes"
            yield RefItem(None, f"stdin:{line_no}", MlxkError("invalid_reference", f"line {line_no} {what}",
                                                               line=line_no))
        elif line.strip():
            yield parse_reference_line(line, line_no)


def expand_references(args: Iterable[str], stdin: TextIO) -> Iterator[RefItem]:
    """Command-line references in order, with ``-`` replaced by stdin's lines
    (read once, however often ``-`` appears)."""
    used_stdin = False
    for arg in args:
        if arg == "-":
            if not used_stdin:
                used_stdin = True
                yield from read_stdin_references(stdin)
        else:
            yield RefItem(arg, "argv")
