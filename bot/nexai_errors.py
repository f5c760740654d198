"""The nexai error tree, and the one function that turns an HTTP error answer into an error.

Every message is redacted before it is stored, so neither `str()` nor `repr()` of an error
can carry an API key, even when the server echoes the `Authorization` header back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from bot.failures import UserFacingError
from bot.retry import retry_after_from_headers

#: How much of a non-JSON error body is kept as the message.
MAX_ERROR_TEXT_CHARS = 300
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
    """Base of every error the nexai client raises."""

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)


class NexaiStatusError(NexaiError):
    """The API answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = redact(code) if code is not None else None

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.message}"


class AuthenticationError(NexaiStatusError):
    """401: the key is invalid or missing."""


class PaymentRequiredError(NexaiStatusError):
    """402: the account is out of credits."""


class PermissionDeniedError(NexaiStatusError):
    """403: the key is suspended, revoked or expired."""


class RateLimitError(NexaiStatusError):
    """429: too many requests. `retry_after` is the server's hint in seconds, if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ServerError(NexaiStatusError):
    """5xx: the upstream failed."""


class BadRequestError(NexaiStatusError):
    """Any other 4xx (400, 404, 413, 422...): the request itself is wrong."""


class NexaiTimeoutError(NexaiError):
    """The API did not answer in time."""


class NexaiConnectionError(NexaiError):
    """The connection failed or broke."""


class MalformedResponseError(NexaiError):
    """The API answered 200 with a body this client cannot understand."""


class StreamInterruptedError(NexaiError):
    """A stream broke after text had reached the caller; `partial` is what arrived."""

    def __init__(self, message: str, *, partial: str) -> None:
        super().__init__(message)
        self.partial = partial


_STATUS_CLASSES: dict[int, type[NexaiStatusError]] = {
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
}


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """(message, code) from an OpenAI-shaped error body, or (None, None)."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error", data)
    if isinstance(error, str):
        return error, None
    if not isinstance(error, dict):
        return None, None
    message = error.get("message") or error.get("detail")
    code = error.get("code")
    return (
        str(message) if message is not None else None,
        str(code) if code is not None else None,
    )


def make_status_error(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
) -> NexaiStatusError:
    """The one place that maps an HTTP status and error body to an exception class."""
    message, code = _error_fields(body)
    if message is None:
        text = body.decode("utf-8", errors="replace").strip()[:MAX_ERROR_TEXT_CHARS]
        message = text or f"HTTP {status} without a message"
    message = redact(message, secrets)
    if code is not None:
        code = redact(code, secrets)
    if status == 429:
        retry_after = retry_after_from_headers(headers, now=time.time())
        return RateLimitError(message, status=status, code=code, retry_after=retry_after)
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else BadRequestError
    return cls(message, status=status, code=code)
