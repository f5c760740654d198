"""The retry policy's pure functions, and the status-to-error mapping they feed."""

from __future__ import annotations

import json
import random
from email.utils import formatdate

import pytest

from bot.nexai import retry_reason
from bot.nexai._errors import (
    AuthenticationError,
    BadRequestError,
    NexaiConnectionError,
    NexaiError,
    NexaiStatusError,
    NexaiTimeoutError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    make_status_error,
    make_stream_error,
    redact,
)
from bot.nexai._retry import (
    backoff_delay,
    parse_reset_duration,
    parse_retry_after,
    retry_after_from_headers,
    retry_delay,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("  7  ", 7.0),
        ("86400", 86400.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),
        (formatdate(NOW - 30, usegmt=True), 0.0),  # a date in the past: go now
        (formatdate(NOW + 30), 30.0),  # "-0000" zone
        (None, None),
        ("", None),
        ("   ", None),
        ("-1", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("1e999", None),
        ("5 seconds", None),
        ("Wed, 99 Foo 2015 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    result = parse_retry_after(value, NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "250", "Retry-After": "3"}, 0.25),
        ({"retry-after-ms": "junk", "Retry-After": "3"}, 3.0),
        ({"retry-after-ms": "-5"}, None),
        ({}, None),
    ],
)
def test_retry_after_from_headers(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_from_headers(headers, NOW) == expected


def _error(status: int, code: str | None = None, **headers: str) -> NexaiError:
    body = json.dumps({"error": {"message": "m", "type": code, "code": code}}).encode()
    return make_status_error(status, body, headers)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (_error(429, "rate_limit_exceeded"), "rate limited (rate_limit_exceeded)"),
        (_error(429, "insufficient_quota"), None),  # out of credits: waiting does not help
        (_error(500), "HTTP 500"),
        (_error(503), "HTTP 503"),
        *[(_error(status), None) for status in (400, 401, 402, 403, 404, 408, 413)],
        (make_stream_error({"code": "rate_limit_exceeded"}), "rate limited (rate_limit_exceeded)"),
        (make_stream_error({"code": "server_error"}), None),  # a begun answer may be billed
        (make_stream_error({"type": "invalid_request_error"}), None),
        (NexaiConnectionError("refused"), "connection failed"),
        (NexaiConnectionError("broke mid-answer", answered=True), None),
        (NexaiTimeoutError("slow"), None),  # the work may be under way, and billed
    ],
)
def test_only_what_cannot_bill_twice_is_retried(error: NexaiError, reason: str | None) -> None:
    assert retry_reason(error) == reason


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0s", 0.0),
     ("", None), ("5", None), ("1x", None), (None, None)],
)  # fmt: skip
def test_parse_reset_duration(value: str | None, seconds: float | None) -> None:
    assert parse_reset_duration(value) == seconds


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}, 1.0),
        (
            {
                "x-ratelimit-reset-requests": "1s",
                "x-ratelimit-reset-tokens": "6m0s",
                "x-ratelimit-remaining-tokens": "0",
            },
            360.0,
        ),
        ({"x-ratelimit-reset-tokens": "250ms"}, 0.25),
        ({"Retry-After": "3", "x-ratelimit-reset-tokens": "6m0s"}, 3.0),
    ],
)
def test_x_ratelimit_reset_headers_are_a_hint_when_retry_after_is_missing(
    headers: dict[str, str], expected: float
) -> None:
    assert retry_after_from_headers(headers, NOW) == expected


def test_in_stream_errors_take_the_status_their_code_stands_for() -> None:
    assert isinstance(make_stream_error({"code": "rate_limit_exceeded"}), RateLimitError)
    assert isinstance(make_stream_error({"code": "insufficient_quota"}), PaymentRequiredError)
    assert isinstance(make_stream_error({"type": "invalid_request_error"}), BadRequestError)
    unknown = make_stream_error({"message": "??"})
    assert isinstance(unknown, ServerError) and unknown.in_stream


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 10, 100])
def test_backoff_is_full_jitter_under_an_exponential_ceiling(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(8.0, 0.5 * 2**attempt)
    delays = [backoff_delay(attempt, rng, base_s=0.5, max_s=8.0) for _ in range(200)]
    assert all(0.0 <= delay <= ceiling for delay in delays)
    assert max(delays) > ceiling / 2  # jitter spreads over the range, not pinned at 0


def test_backoff_never_exceeds_the_cap_for_huge_attempts() -> None:
    assert backoff_delay(10_000, random.Random(1), base_s=1.0, max_s=3.0) <= 3.0


@pytest.mark.parametrize(("retry_after", "expected"), [(2.5, 2.5), (0.0, 0.0), (-1.0, 0.0)])
def test_server_hint_wins_over_backoff(retry_after: float, expected: float) -> None:
    assert retry_delay(0, retry_after, random.Random(0)) == expected


def test_no_hint_means_jittered_backoff() -> None:
    rng, twin = random.Random(7), random.Random(7)
    assert retry_delay(2, None, rng, base_s=0.1, max_s=1.0) == backoff_delay(
        2, twin, base_s=0.1, max_s=1.0
    )


# -- make_status_error -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (504, ServerError),
    ],
)
def test_make_status_error_picks_one_class_per_status(
    status: int, error_class: type[NexaiStatusError]
) -> None:
    error = make_status_error(status, b"{}", {})
    assert type(error) is error_class
    assert error.status == status


def test_make_status_error_reads_the_openai_error_shape() -> None:
    body = b'{"error": {"message": "Rate limit exceeded", "type": "requests", "code": 1015}}'
    error = make_status_error(429, body, {"Retry-After": "4"})
    assert isinstance(error, RateLimitError)
    assert (error.message, error.code, error.retry_after) == ("Rate limit exceeded", "1015", 4.0)


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[1, 2]", b"\xff\xfe", b'{"error": 5}', b"<html>busy</html>"],
)
def test_make_status_error_tolerates_odd_bodies(body: bytes) -> None:
    error = make_status_error(503, body, {})
    assert isinstance(error, ServerError)
    assert error.message


def test_make_status_error_redacts_the_given_secret_and_bearer_tokens() -> None:
    body = (
        b'{"error": {"message": "got Bearer abc.def and key hunter2-key", "code": "hunter2-key"}}'
    )
    error = make_status_error(401, body, {}, secrets=["hunter2-key"])
    assert "hunter2" not in str(error)
    assert "abc.def" not in str(error)
    assert error.code is not None
    assert "hunter2" not in error.code


def test_every_error_redacts_sk_keys_in_its_message() -> None:
    error = NexaiError("upstream said sk-billing-0123456789abcdef")
    assert "0123456789abcdef" not in str(error)
    assert "0123456789abcdef" not in repr(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer sk-x", "Authorization: Bearer [REDACTED]"),
        ("key sk-billing-abc123 bad", "key [REDACTED] bad"),
        ("nothing secret here", "nothing secret here"),
        ("sk-a is too short to be a key", "sk-a is too short to be a key"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
