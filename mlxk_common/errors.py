"""Stable error types and exit codes shared by every mlxk tool.

Every failure a user can see is an ``MlxkError`` with a snake_case ``type`` from
``ERROR_TYPES``.  The type decides the exit code; the message is for humans; any
extra keyword arguments travel into the JSON error object unchanged.
"""

from __future__ import annotations

# Exit codes (docs/json-api.md, "Errors": 0 success, 1 failure/finding, 2 usage, 130 interrupted).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# type -> (exit code, one-line meaning).  Extend, never rename.
ERROR_TYPES: dict[str, tuple[int, str]] = {
    "usage_error": (EXIT_USAGE, "the command line or a request is malformed"),
    "model_not_found": (EXIT_FAILURE, "no model matches the reference"),
    "ambiguous_match": (EXIT_FAILURE, "the reference matches more than one model"),
    "not_cached": (EXIT_FAILURE, "the model is not in the local cache"),
    "hash_not_found": (EXIT_FAILURE, "no revision of the model starts with the given hash"),
    "invalid_reference": (EXIT_FAILURE, "the reference is not a valid model name or path"),
    "unhealthy": (EXIT_FAILURE, "the model failed an integrity or runtime check"),
    "locked": (EXIT_FAILURE, "another process holds a lock on the model"),
    "target_exists": (EXIT_FAILURE, "the target folder exists and is not empty"),
    "cache_write_refused": (EXIT_FAILURE, "the operation would write into the model cache"),
    "access_denied": (EXIT_FAILURE, "the hub refused access (gated, private or bad token)"),
    "repo_not_found": (EXIT_FAILURE, "the hub has no such repository or revision"),
    "download_failed": (EXIT_FAILURE, "a download did not complete or did not verify"),
    "network_error": (EXIT_FAILURE, "the network failed after retries"),
    "upload_failed": (EXIT_FAILURE, "an upload or commit to the hub did not complete"),
    "permission_denied": (EXIT_FAILURE, "the file system refused an operation"),
    "disk_full": (EXIT_FAILURE, "no room to write the output (disk full, quota or file size limit)"),
    "context_length_exceeded": (EXIT_FAILURE, "the prompt does not fit the model's context window"),
    "capability_not_supported": (EXIT_FAILURE, "the model cannot do what was asked"),
    "payload_too_large": (EXIT_FAILURE, "the input exceeds a size limit"),
    "input_too_large": (EXIT_FAILURE, "input read from stdin exceeds its size limit (--max-input)"),
    "output_error": (EXIT_FAILURE, "stdout could not be written (disk full, closed, I/O error)"),
    "unsupported_media": (EXIT_FAILURE, "the input's media type is not supported"),
    "unsupported_format": (EXIT_FAILURE, "the input file's format or content is not supported"),
    "invalid_image": (EXIT_FAILURE, "an image is missing, unreadable, not an image, truncated or too large"),
    "confirmation_required": (EXIT_FAILURE, "the operation needs a yes on a terminal, or --force"),
    "not_implemented": (EXIT_USAGE, "the command is not implemented yet"),
    "interrupted": (EXIT_INTERRUPTED, "the operation was interrupted (SIGINT/SIGTERM)"),
    "internal_error": (EXIT_FAILURE, "an unexpected error; rerun with MLXK2_DEBUG=1 for details"),
}


class MlxkError(Exception):
    """A failure with a stable type, a human message and optional details."""

    def __init__(self, type: str, message: str, **details):
        if type not in ERROR_TYPES:
            raise ValueError(f"unknown error type {type!r}")
        super().__init__(message)
        self.type = type
        self.message = message
        self.details = details

    @property
    def exit_code(self) -> int:
        return ERROR_TYPES[self.type][0]

    def to_dict(self) -> dict:
        """The JSON error object: ``{"type", "message", **details}``."""
        return {"type": self.type, "message": self.message, **self.details}
