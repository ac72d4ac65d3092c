"""OpenAI-shaped API errors: ``{"error": {"message", "type", "param", "code"}}``.

An ``ApiError`` carries its HTTP status.  ``from_mlxk`` maps the project's
stable error types (docs/json-api.md, "Errors") to a status and an OpenAI error ``type``; the
stable mlxk type travels as ``code`` so clients can branch on it.
"""

from __future__ import annotations

from mlxk_common.errors import MlxkError

INVALID = "invalid_request_error"

# mlxk error type -> (HTTP status, OpenAI error type)
_STATUS: dict[str, tuple[int, str]] = {
    "usage_error": (400, INVALID),
    "invalid_reference": (400, INVALID),
    "ambiguous_match": (400, INVALID),
    "context_length_exceeded": (400, INVALID),
    "unsupported_media": (400, INVALID),
    "unsupported_format": (400, INVALID),
    "invalid_image": (400, INVALID),
    "invalid_audio": (400, INVALID),
    "model_not_found": (404, INVALID),
    "not_cached": (404, INVALID),
    "hash_not_found": (404, INVALID),
    "access_denied": (403, "permission_error"),
    "payload_too_large": (413, INVALID),
    "capability_not_supported": (422, INVALID),
    "unhealthy": (422, INVALID),
    "interrupted": (503, "service_unavailable"),
    "rank_failed": (503, "service_unavailable"),  # a distributed server lost a rank: it stops, a supervisor restarts it
    "internal_error": (500, "server_error"),
}
# Codes clients know from OpenAI for the same situations.
_CODE = {"not_cached": "model_not_found", "hash_not_found": "model_not_found", "usage_error": "invalid_value"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, type: str = INVALID, param: str | None = None,
                 code: str | None = None, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.extra = extra  # more fields for the error object (e.g. context sizes)

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code,
                          **self.extra}}

    def __repr__(self):
        return f"ApiError({self.status}, {self.message!r}, code={self.code!r})"


def bad_request(message: str, param: str | None = None, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, INVALID, param, code)


def from_mlxk(error: MlxkError, param: str | None = None) -> ApiError:
    status, kind = _STATUS.get(error.type, (500, "server_error"))
    extra = {k: v for k, v in error.details.items()
             if k in ("candidates", "prompt_tokens", "context_length", "max_tokens", "limit_bytes")}
    return ApiError(status, error.message, kind, error.details.get("param", param),
                    _CODE.get(error.type, error.type), **extra)


def unavailable(message: str, code: str) -> ApiError:
    # Retry-After tells well-behaved clients (the openai package does) when to try again.
    return ApiError(503, message, "service_unavailable", None, code, headers={"Retry-After": "1"})


def internal(request_id: str) -> ApiError:
    return ApiError(500, f"internal server error (request id {request_id})", "server_error", None, "internal_error")
