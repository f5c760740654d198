"""The nexai error tree, and the one function that turns an HTTP error answer into an error.

Every message is redacted before it is stored, so neither `str()` nor `repr()` of an error
can carry an API key, even when the server echoes the `Authorization` header back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import UserFacingError
from bot.nexai._retry import retry_after_from_headers
from bot.nexai.constants import MAX_ERROR_TEXT_CHARS

REDACTED = "[REDACTED]"

_BEARER_RE = re.compile(r"(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)
_KEY_RE = re.compile(r"sk-[A-Za-z0-9_\-]{4,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the given secrets, bearer tokens and anything shaped like an `sk-` key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _BEARER_RE.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_RE.sub(REDACTED, text)


class NexaiError(UserFacingError):
    """Base of every error the nexai client raises; `model` is the call's model, if any."""

    model: str | None = None

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)


class NexaiStatusError(NexaiError):
    """The API answered with an HTTP error status, or an error event inside a 2xx stream
    (`in_stream`; its status is the one its type or code stands for).

    `retry_after` is the server's wait hint in seconds (429 and 503 may carry one)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        kind: str | None = None,
        retry_after: float | None = None,
        in_stream: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = redact(code) if code is not None else None
        self.kind = redact(kind) if kind is not None else None
        self.retry_after = retry_after
        self.in_stream = in_stream

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}"


class AuthenticationError(NexaiStatusError):
    """401: the key is invalid or missing."""


class PaymentRequiredError(NexaiStatusError):
    """402: the account is out of credits."""


class PermissionDeniedError(NexaiStatusError):
    """403: the key is suspended, revoked or expired."""


class RateLimitError(NexaiStatusError):
    """429 `rate_limit_exceeded`: too many requests for now (429 `insufficient_quota` is a
    `PaymentRequiredError`: out of credits, so waiting does not help)."""


class ServerError(NexaiStatusError):
    """5xx: the upstream failed."""


class BadRequestError(NexaiStatusError):
    """Any other 4xx (400, 404, 413, 422...): the request itself is wrong."""


class ModelNotFoundError(BadRequestError):
    """404 `model_not_found`: the API does not serve the model (any more, or to this key)."""


class NexaiTimeoutError(NexaiError):
    """The API did not answer in time."""


class AnswerDeadlineError(NexaiTimeoutError):
    """No text of an answer arrived within the model's wait limit (`wait_s`), retries and
    silent reasoning included."""

    def __init__(self, message: str, *, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class NexaiConnectionError(NexaiError):
    """The connection failed or broke; `answered` once the API had begun a 2xx answer."""

    def __init__(self, message: str, *, answered: bool = False) -> None:
        super().__init__(message)
        self.answered = answered


class MalformedResponseError(NexaiError):
    """The API answered 200 with a body this client cannot understand."""


class StreamInterruptedError(NexaiError):
    """A stream broke after text had reached the caller; `delivered`: how many characters."""

    def __init__(self, message: str, *, delivered: int) -> None:
        super().__init__(message)
        self.delivered = delivered


_STATUS_CLASSES: dict[int, type[NexaiStatusError]] = {
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    429: RateLimitError,
}
#: Error codes that decide the class whatever the status (OpenAI's error codes).
OUT_OF_CREDITS_CODE = "insufficient_quota"
MODEL_NOT_FOUND_CODE = "model_not_found"
#: The status an error event inside a stream stands for, by its `code`, else its `type`
#: (chat: `data: {"error": {...}}`; Responses: the `error` event, `response.failed`).
STREAM_ERROR_STATUSES: dict[str, int] = {
    "invalid_api_key": 401,
    "authentication_error": 401,
    "insufficient_quota": 429,
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "tokens": 429,
    "requests": 429,
    "model_not_found": 404,
    "invalid_request_error": 400,
    "invalid_prompt": 400,
    "context_length_exceeded": 400,
    "permission_error": 403,
    "server_error": 500,
    "api_error": 500,
    "overloaded_error": 503,
    "service_unavailable": 503,
}
#: An error event that names nothing known is taken as the upstream failing.
UNKNOWN_STREAM_ERROR_STATUS = 500


@dataclass(frozen=True)
class ErrorFields:
    """What an OpenAI-shaped error body says: `{"error": {"message", "type", "code"}}`."""

    message: str | None = None
    kind: str | None = None
    code: str | None = None


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def error_fields(error: Any) -> ErrorFields:
    """The fields of an error object (the value under `"error"`, or a Responses error event)."""
    if isinstance(error, str):
        return ErrorFields(message=error)
    if not isinstance(error, dict):
        return ErrorFields()
    message = error.get("message") or error.get("detail")
    return ErrorFields(_text(message), _text(error.get("type")), _text(error.get("code")))


def _body_fields(body: bytes) -> ErrorFields:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ErrorFields()
    if not isinstance(data, dict):
        return ErrorFields()
    return error_fields(data.get("error", data))


def make_status_error(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
) -> NexaiStatusError:
    """The one place that maps an HTTP status and error body to an exception class."""
    fields = _body_fields(body)
    if fields.message is None:
        text = body.decode("utf-8", errors="replace").strip()[:MAX_ERROR_TEXT_CHARS]
        fields = ErrorFields(text or f"HTTP {status} without a message", fields.kind, fields.code)
    retry_after = retry_after_from_headers(headers, now=time.time())
    return _status_error(status, fields, secrets, retry_after=retry_after)


def make_stream_error(error: Any, *, secrets: Iterable[str] = ()) -> NexaiStatusError:
    """The error an error event inside a 2xx stream stands for, by its code or type."""
    fields = error_fields(error)
    status = STREAM_ERROR_STATUSES.get(fields.code or "") or STREAM_ERROR_STATUSES.get(
        fields.kind or "", UNKNOWN_STREAM_ERROR_STATUS
    )
    if fields.message is None:
        fields = ErrorFields("error event without a message", fields.kind, fields.code)
    return _status_error(status, fields, secrets, in_stream=True)


def _status_error(
    status: int,
    fields: ErrorFields,
    secrets: Iterable[str],
    *,
    retry_after: float | None = None,
    in_stream: bool = False,
) -> NexaiStatusError:
    assert fields.message is not None
    cls = _STATUS_CLASSES.get(status)
    if OUT_OF_CREDITS_CODE in (fields.code, fields.kind):
        cls = PaymentRequiredError
    elif fields.code == MODEL_NOT_FOUND_CODE:
        cls = ModelNotFoundError
    elif cls is None:
        cls = ServerError if status >= 500 else BadRequestError
    return cls(
        redact(fields.message, secrets),
        status=status,
        code=redact(fields.code, secrets) if fields.code is not None else None,
        kind=redact(fields.kind, secrets) if fields.kind is not None else None,
        retry_after=retry_after,
        in_stream=in_stream,
    )
