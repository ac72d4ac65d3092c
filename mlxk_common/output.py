"""The three output modes every tool speaks.

* human: text on stdout, diagnostics on stderr as ``TOOL: error: MESSAGE``;
* ``--json``: exactly one envelope document on stdout;
* ``--ndjson``: one JSON object per line, flushed per line.

Records (list/show/health) are plain objects; working tools emit events
``{"event": "progress"|"delta"|"result"|"error", ...}``.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError
from mlxk_common.iox import IOEnv
from mlxk_common.jsonio import dumps
from mlxk_common.logs import redact, redact_fields

HUMAN, JSON, NDJSON = "human", "json", "ndjson"


class Output:
    def __init__(self, tool: str, command: str, mode: str, env: IOEnv):
        self.tool = tool  # executable name, e.g. "mlxk-list"
        self.command = command  # envelope "command", e.g. "list"
        self.mode = mode
        self.env = env
        self.envelope_written = False

    # -- stdout -----------------------------------------------------------
    def write(self, text: str) -> None:
        self.env.stdout.write(text)

    def line(self, text: str = "") -> None:
        self.env.stdout.write(text + "\n")

    def flush(self) -> None:
        self.env.stdout.flush()

    def json_line(self, obj) -> None:
        """One NDJSON line, flushed at once so a consumer sees it now."""
        self.env.stdout.write(dumps(obj) + "\n")
        self.env.stdout.flush()

    record = json_line

    def event(self, kind: str, **fields) -> None:
        self.json_line({"event": kind, **fields})

    def envelope(self, data=None, error: MlxkError | dict | None = None, indent: bool = True) -> None:
        if isinstance(error, MlxkError):
            error = self._error_dict(error)
        doc = {
            "status": "error" if error else "success",
            "command": self.command,
            "data": data,
            "error": error,
        }
        self.env.stdout.write(dumps(doc, indent=indent) + "\n")
        self.env.stdout.flush()
        self.envelope_written = True

    def result(self, data: dict, human: str | None = None) -> None:
        """A working tool's final report: a ``result`` event (NDJSON), the
        envelope's data (JSON), or the ``human`` text on stdout."""
        if self.mode == NDJSON:
            self.event("result", **data)
        elif self.mode == JSON:
            self.envelope(data)
        elif human is not None:
            self.line(human)

    # -- stderr -----------------------------------------------------------
    def stderr(self, text: str) -> None:
        self.env.stderr.write(redact(text, self.env.environ) + "\n")
        self.env.stderr.flush()

    def warn(self, message: str) -> None:
        self.stderr(f"{self.tool}: warning: {message}")

    def info(self, message: str) -> None:
        """Human notes on stderr (never on stdout, so pipes stay clean)."""
        self.stderr(message)

    # -- failures ---------------------------------------------------------
    def _error_dict(self, error: MlxkError) -> dict:
        """The error object, every string in it redacted (a URL with credentials
        may sit in the message, a hint or any detail)."""
        info = redact_fields(error.to_dict(), self.env.environ)
        info["message"] = redact(error.message, self.env.environ)
        return info

    def fail(self, error: MlxkError) -> None:
        """Report a fatal error in the current mode."""
        if self.mode == JSON:
            if not self.envelope_written:
                self.envelope(None, error)
            else:
                self.stderr(f"{self.tool}: error: {error.message}")
        elif self.mode == NDJSON:
            self.event("error", error=self._error_dict(error))
        else:
            self.stderr(f"{self.tool}: error: {error.message}")
            hint = error.details.get("hint")
            if hint:
                self.stderr(f"{self.tool}: hint: {hint}")

    def item_error(self, error: MlxkError, top: dict | None = None, **context) -> dict:
        """A per-item failure (one bad stdin line, one missing model) that does
        not stop the tool: an NDJSON error record (``top``: fields beside
        ``error`` in it), or a stderr line.  Returns the error dict for callers
        that collect errors into a JSON envelope."""
        info = {**self._error_dict(error), **context}
        if self.mode == NDJSON:
            self.event("error", **(top or {}), error=info)
        elif self.mode == HUMAN:
            where = context.get("input")
            prefix = f"{where}: " if where else ""
            self.stderr(f"{self.tool}: error: {prefix}{error.message}")
            hint = error.details.get("hint")
            if hint:
                self.stderr(f"{self.tool}: hint: {hint}")
        return info


class ItemReport:
    """Many references in, one report out: the loop every tool that takes
    several references shares (show, health, rm, pull, mlx-run --model -).

    ``each(items, handle)`` calls ``handle(item)`` for every ``refs.RefItem``
    and yields ``(item, result)`` for those that succeed.  A bad line or a
    failed reference is reported at once as an item error (an NDJSON
    ``error`` record, or a stderr line naming the stdin line) and the loop
    goes on; interruptions end it.  ``envelope(data)`` then writes the JSON
    envelope: ``"N of M <what> failed"`` with every error listed, or the one
    error itself when a single reference was given and failed.
    """

    def __init__(self, out: Output, what: str = "references"):
        self.out = out
        self.what = what
        self.count = 0
        self.errors: list[tuple[MlxkError, dict, dict | None]] = []  # (error, its object, where)

    def each(self, items, handle, where=None):
        """``where(index, item)``: fields an NDJSON error event carries beside
        ``error`` (mlx-run --model - names the index and the stdin line)."""
        for index, item in enumerate(items):
            self.count += 1
            try:
                if item.error is not None:
                    raise item.error
                result = handle(item)
            except MlxkError as error:
                if error.type in ("interrupted", "output_error"):  # the run ends, not this item
                    raise
                self.fail(error, item, where(index, item) if where else None)
                continue
            yield item, result

    def fail(self, error: MlxkError, item, top: dict | None = None) -> dict:
        """Report one item's failure; returns its error object (with ``input``
        and ``source``) as the JSON envelope lists it."""
        context = {"input": item.ref or item.source, "source": item.source}
        if self.out.mode == JSON:
            info = {**self.out._error_dict(error), **context}
        else:
            info = self.out.item_error(error, top, **context)
        self.errors.append((error, info, top))
        return info

    @property
    def infos(self) -> list[dict]:
        return [info for _, info, _ in self.errors]

    @property
    def exit_code(self) -> int:
        """0; or, when only one reference was given, its error's own exit code; else 1."""
        if not self.errors:
            return 0
        return self.errors[0][0].exit_code if self.count == 1 else 1

    def envelope(self, data) -> int:
        """The JSON envelope of the whole run (call in JSON mode); the exit code."""
        if self.count == 1 and self.errors:
            raise self.errors[0][0]
        error = None
        if self.errors:
            infos = self.infos
            error = {"type": infos[0]["type"], "errors": infos,
                     "message": f"{len(infos)} of {self.count} {self.what} failed"}
        self.out.envelope(data, error)
        return self.exit_code
