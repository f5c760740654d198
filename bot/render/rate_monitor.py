"""Watch Discord's rate-limit headers so streamed edits slow down before a bucket runs dry.

discord.py already waits when a bucket is empty, but then every edit queues behind it. The
monitor lets the streamer space its own edits instead: hand ``trace_config()`` to the client
(``commands.Bot(..., http_trace=monitor.trace_config())``) and ask ``delay_for(route_key)``
before each edit. Routes are keyed by their major parameter, the part of the path Discord
buckets by: ``channels/{id}``, ``guilds/{id}``, ``webhooks/{id}/{token}`` or
``interactions/{id}/{token}``. Keys hold webhook tokens: they are kept in memory, never logged.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp

MAX_DELAY_S = 60.0  # never hold an edit longer than this, whatever a header says
LOW_REMAINING = 3  # at or below this many requests left, spread them over the reset window
MAX_TRACKED_ROUTES = 4096  # least recently updated routes are forgotten beyond this
GLOBAL_KEY = "*"  # a global 429 holds back every route

_MAJOR_ROUTE = re.compile(r"/(?:(channels|guilds)/(\d+)|(webhooks|interactions)/(\d+)/([^/]+))")


def route_key(path: str) -> str | None:
    """The bucket key of a URL path (``/api/v10/channels/1/messages/2`` -> ``channels/1``)."""
    match = _MAJOR_ROUTE.search(path)
    if match is None:
        return None
    if match[1]:
        return f"{match[1]}/{match[2]}"
    return f"{match[3]}/{match[4]}/{match[5]}"


@dataclass(slots=True)
class _Bucket:
    remaining: int | None  # None: unknown, only a 429 told us to wait
    reset_at: float  # on the monitor's clock
    blocked_until: float = 0.0  # from a 429's retry_after


class RateLimitMonitor:
    """The latest rate-limit state per route, fed by an aiohttp trace."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def trace_config(self) -> aiohttp.TraceConfig:
        """A trace for discord.py's ``http_trace`` that records every response's headers."""
        config = aiohttp.TraceConfig()
        config.on_request_end.append(self._on_request_end)
        return config

    def record(self, key: str, status: int, headers: Mapping[str, str]) -> None:
        """Remember what one response on route ``key`` said about its bucket."""
        now = self._clock()
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        reset_after = _number(headers.get("X-RateLimit-Reset-After")) or 0.0
        bucket = self._buckets.pop(key, None) or _Bucket(None, now)
        if remaining is not None:
            bucket.remaining = int(remaining)
            bucket.reset_at = now + reset_after
        if status == 429:
            retry_after = _number(headers.get("Retry-After")) or reset_after
            if headers.get("X-RateLimit-Global", "").lower() == "true":
                self._store(GLOBAL_KEY, _Bucket(None, now, now + retry_after))
            else:
                bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
        self._store(key, bucket)

    def delay_for(self, key: str) -> float:
        """Seconds to wait before the next request on route ``key`` (0 when plenty remains).

        With ``remaining`` at or below 1 the wait is the rest of the reset window; at or below
        ``LOW_REMAINING`` it is that window shared among the requests left.
        """
        now = self._clock()
        delay = 0.0
        for name in (key, GLOBAL_KEY):
            bucket = self._buckets.get(name)
            if bucket is not None:
                delay = max(delay, _bucket_delay(bucket, now))
        return min(delay, MAX_DELAY_S)

    def _store(self, key: str, bucket: _Bucket) -> None:
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        while len(self._buckets) > MAX_TRACKED_ROUTES:
            self._buckets.popitem(last=False)

    async def _on_request_end(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        key = route_key(params.url.path)
        if key is not None:
            self.record(key, params.response.status, params.response.headers)


def _bucket_delay(bucket: _Bucket, now: float) -> float:
    delay = max(0.0, bucket.blocked_until - now)
    to_reset = bucket.reset_at - now
    if bucket.remaining is None or to_reset <= 0 or bucket.remaining > LOW_REMAINING:
        return delay
    if bucket.remaining <= 1:
        return max(delay, to_reset)
    return max(delay, to_reset / bucket.remaining)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
