"""Watch Discord's rate-limit headers so streamed edits slow down before a bucket runs dry.

discord.py already waits when a bucket is empty, but then every edit queues behind it. The
monitor lets the streamer space its own edits instead: hand ``trace_config()`` to the client
(``commands.Bot(..., http_trace=monitor.trace_config())``) and ask ``delay_for(route)`` before
each request. A route is a method and a path whose major parameter (``channels/{id}``,
``guilds/{id}``, ``webhooks/{id}/{token}``, ``interactions/{id}/{token}``) is kept and whose
other ids read ``:id``: ``PATCH /channels/1/messages/:id``. Discord limits routes separately
(creating, editing and typing in one channel are three buckets) and says which routes share a
bucket in ``X-RateLimit-Bucket`` (Discord developer docs, Topics > Rate Limits), so a
response's headers speak for its own bucket only, never for the channel's other routes. Keys
hold webhook tokens: they are kept in memory, never logged.
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

_API_PREFIX = re.compile(r"^/api/v\d+")
_MAJOR_ROUTE = re.compile(r"/(?:(?:channels|guilds)/\d+|(?:webhooks|interactions)/\d+/[^/]+)")
_MINOR_ID = re.compile(r"/(?:\d+|@original)(?=/|$)")


def route_key(method: str, path: str) -> str | None:
    """The route of a request (``PATCH``, ``/api/v10/channels/1/messages/2`` ->
    ``PATCH /channels/1/messages/:id``); None for routes without a major parameter."""
    path = _API_PREFIX.sub("", path)
    major = _MAJOR_ROUTE.search(path)
    if major is None:
        return None
    rest = _MINOR_ID.sub("/:id", path[major.end() :])
    return f"{method.upper()} {path[: major.end()]}{rest}"


def message_create_route(channel_id: int | None) -> str:
    """Sending a message (or a reply) in a channel or thread."""
    return f"POST /channels/{channel_id}/messages"


def message_edit_route(channel_id: int | None) -> str:
    """Editing a message in a channel or thread."""
    return f"PATCH /channels/{channel_id}/messages/:id"


def webhook_edit_route(application_id: int | None, token: str) -> str:
    """Editing an interaction's original response (``@original``) or one of its follow-ups."""
    return f"PATCH /webhooks/{application_id}/{token}/messages/:id"


def followup_route(application_id: int | None, token: str) -> str:
    """Sending an interaction's follow-up."""
    return f"POST /webhooks/{application_id}/{token}"


def _major(route: str) -> str:
    found = _MAJOR_ROUTE.search(route)
    return found.group(0) if found else ""


@dataclass(slots=True)
class _Bucket:
    remaining: int | None  # None: unknown, only a 429 told us to wait
    reset_at: float  # on the monitor's clock
    blocked_until: float = 0.0  # from a 429's retry_after
    next_at: float = 0.0  # the pace: when the next request may go, set at each response


class RateLimitMonitor:
    """The latest rate-limit state per route, fed by an aiohttp trace."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        #: route -> the bucket Discord named for it (X-RateLimit-Bucket + major parameter)
        self._bucket_of: OrderedDict[str, str] = OrderedDict()

    def trace_config(self) -> aiohttp.TraceConfig:
        """A trace for discord.py's ``http_trace`` that records every response's headers."""
        config = aiohttp.TraceConfig()
        config.on_request_end.append(self._on_request_end)
        return config

    def record(self, route: str, status: int, headers: Mapping[str, str]) -> None:
        """Remember what one response on ``route`` said about that route's bucket."""
        now = self._clock()
        key = self._key(route, headers.get("X-RateLimit-Bucket"))
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        reset_after = _number(headers.get("X-RateLimit-Reset-After")) or 0.0
        bucket = self._buckets.pop(key, None) or _Bucket(None, now)
        if remaining is not None:
            bucket.remaining = int(remaining)
            bucket.reset_at = now + reset_after
            bucket.next_at = now + _spacing(bucket.remaining, reset_after)
        if status == 429:
            retry_after = _number(headers.get("Retry-After")) or reset_after
            if headers.get("X-RateLimit-Global", "").lower() == "true":
                self._store(GLOBAL_KEY, _Bucket(None, now, now + retry_after))
            else:
                bucket.blocked_until = max(bucket.blocked_until, now + retry_after)
        self._store(key, bucket)

    def delay_for(self, route: str, *, spare: int = 0) -> float:
        """Seconds to wait before the next request on ``route`` (0 when plenty remains).

        At or below ``LOW_REMAINING`` requests left, the rest of the reset window is shared
        evenly among them and the reset; with none left, the wait is the whole rest. With
        ``spare``, the last requests of a window are left to others: with that many or fewer
        left, the wait lasts until the reset.
        """
        now = self._clock()
        delay = 0.0
        for name in (self._bucket_of.get(route, route), GLOBAL_KEY):
            bucket = self._buckets.get(name)
            if bucket is not None:
                delay = max(delay, _bucket_delay(bucket, now))
                if bucket.remaining is not None and bucket.remaining <= spare:
                    delay = max(delay, bucket.reset_at - now)
        return min(delay, MAX_DELAY_S)

    def _key(self, route: str, bucket_id: str | None) -> str:
        """Where a route's state lives: its named bucket (per major parameter), else itself."""
        if not bucket_id:
            return self._bucket_of.get(route, route)
        key = f"{bucket_id} {_major(route)}"
        self._bucket_of[route] = key
        self._bucket_of.move_to_end(route)
        while len(self._bucket_of) > MAX_TRACKED_ROUTES:
            self._bucket_of.popitem(last=False)
        return key

    def _store(self, key: str, bucket: _Bucket) -> None:
        self._buckets[key] = bucket
        self._buckets.move_to_end(key)
        while len(self._buckets) > MAX_TRACKED_ROUTES:
            self._buckets.popitem(last=False)
        self._forget_spent(self._clock())

    def _forget_spent(self, now: float) -> None:
        """Drop the least recently updated buckets whose window and hold are over (they say
        nothing any more), and the routes that named them: every answer's interaction token
        is a route of its own, which would otherwise stay until MAX_TRACKED_ROUTES."""
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if bucket.reset_at > now or bucket.blocked_until > now:
                break
            del self._buckets[key]
        while self._bucket_of:
            route, key = next(iter(self._bucket_of.items()))
            if key in self._buckets:
                break
            del self._bucket_of[route]

    async def _on_request_end(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        route = route_key(params.method, params.url.path)
        if route is not None:
            self.record(route, params.response.status, params.response.headers)


def _spacing(remaining: int, reset_after: float) -> float:
    """How long after a response the next request on its bucket should wait.

    Nothing while plenty remains; with ``remaining`` requests left (``LOW_REMAINING`` or
    fewer) and the reset ``reset_after`` seconds away, ``reset_after / (remaining + 1)``: the
    requests left and the reset evenly spaced, so a steady stream never waits a whole window;
    with none left, the reset. Counted from the response, not from each new question, so
    asking again does not push the next request further away.
    """
    if remaining > LOW_REMAINING:
        return 0.0
    return reset_after / (remaining + 1) if remaining else reset_after


def _bucket_delay(bucket: _Bucket, now: float) -> float:
    if bucket.reset_at <= now:  # a new window: whatever was spent is back
        return max(0.0, bucket.blocked_until - now)
    return max(0.0, bucket.blocked_until - now, bucket.next_at - now)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
