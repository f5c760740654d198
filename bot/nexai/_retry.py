"""Retry policy for nexai calls, as small pure functions.

Bounded attempts, exponential backoff with full jitter, and `Retry-After` honoured when the
server sends one. The client decides *whether* to retry; these functions say *how long* to wait.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

from bot.nexai.constants import DEFAULT_BACKOFF_BASE_S, DEFAULT_MAX_BACKOFF_S

MS_PER_S = 1000.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date).

    `now` is a Unix time. A date in the past gives 0. Anything malformed, negative or
    not finite gives None, meaning "no hint".
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _parse_retry_after_ms(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        millis = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(millis) or millis < 0:
        return None
    return millis / MS_PER_S


def parse_reset_duration(value: str | None) -> float | None:
    """Seconds in an `x-ratelimit-reset-*` value such as "1s", "6m0s", "20ms" or "1h2m3.5s"."""
    if value is None:
        return None
    value = value.strip()
    if not value or _DURATION_RE.fullmatch(value) is None:
        return None
    return sum(float(amount) * _DURATION_UNITS_S[unit] for amount, unit in _PART_RE.findall(value))


_DURATION_UNITS_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")


def _reset_hint(headers: Mapping[str, str]) -> float | None:
    """The wait from `x-ratelimit-reset-requests` / `-tokens`: the reset of the limit whose
    remaining count is 0, else the sooner of the two (a retry learns more)."""
    resets = {}
    for limit in ("requests", "tokens"):
        reset = parse_reset_duration(_header(headers, f"x-ratelimit-reset-{limit}"))
        if reset is None:
            continue
        if (_header(headers, f"x-ratelimit-remaining-{limit}") or "").strip() == "0":
            return reset
        resets[limit] = reset
    return min(resets.values(), default=None)


def retry_after_from_headers(headers: Mapping[str, str], now: float) -> float | None:
    """The server's wait hint in seconds: `retry-after-ms` if valid, else `Retry-After`, else
    the `x-ratelimit-reset-*` headers (some gateways send only those)."""
    seconds = _parse_retry_after_ms(_header(headers, "retry-after-ms"))
    if seconds is not None:
        return seconds
    seconds = parse_retry_after(_header(headers, "retry-after"), now)
    if seconds is not None:
        return seconds
    return _reset_hint(headers)


def backoff_delay(
    attempt: int,
    rng: random.Random,
    *,
    base_s: float = DEFAULT_BACKOFF_BASE_S,
    max_s: float = DEFAULT_MAX_BACKOFF_S,
) -> float:
    """Full jitter: uniform in [0, min(max_s, base_s * 2**attempt)]. `attempt` counts from 0."""
    ceiling = min(max_s, base_s * 2 ** min(attempt, 62))
    return rng.uniform(0.0, max(0.0, ceiling))


def retry_delay(
    attempt: int,
    retry_after: float | None,
    rng: random.Random,
    *,
    base_s: float = DEFAULT_BACKOFF_BASE_S,
    max_s: float = DEFAULT_MAX_BACKOFF_S,
) -> float:
    """How long to sleep before retry number `attempt` (from 0).

    A server hint wins over backoff; the caller refuses hints it finds too long.
    """
    if retry_after is not None:
        return max(0.0, retry_after)
    return backoff_delay(attempt, rng, base_s=base_s, max_s=max_s)
