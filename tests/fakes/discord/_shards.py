"""Shards as Discord documents them (Topics > Gateway: "Sharding", "Identifying",
"Session Start Limit Object"; Topics > Opcodes and Status Codes: gateway close codes).

- A guild's events go to shard ``(guild_id >> 22) % num_shards``; DMs only to shard 0.
- ``GET /gateway/bot`` answers ``url``, ``shards`` (the recommended count) and
  ``session_start_limit`` {``total``, ``remaining``, ``reset_after`` (ms), ``max_concurrency``}.
  Every IDENTIFY spends one of ``remaining``; RESUME spends nothing.
- "Max Concurrency": a shard's rate limit key is ``shard_id % max_concurrency``; each key
  (bucket) may IDENTIFY once per 5 seconds, so at most ``max_concurrency`` identifies per 5 s.
  "Clients are limited by maximum concurrency when Identifying; if they exceed this limit, the
  gateway will respond with an Opcode 9 Invalid Session" (Gateway > Identify). The fake does
  that, and records each refusal in ``violations`` so that a test can assert there were none.
- A shard id outside ``[0, num_shards)`` is closed with 4010 "Invalid shard".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

#: Gateway > Session Start Limit Object: a bucket identifies once per this many seconds.
IDENTIFY_WINDOW_S = 5.0
#: Identifies a day for ordinary bots (Gateway > Identifying).
DAILY_IDENTIFIES = 1000
DAY_MS = 24 * 60 * 60 * 1000
#: Gateway close code for a shard id the count does not allow.
INVALID_SHARD = 4010


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that gets a guild's events; events without a guild (DMs) go to shard 0."""
    if guild_id is None:
        return 0
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class IdentifyViolation:
    """An IDENTIFY refused because its bucket identified less than the window ago."""

    shard_id: int
    bucket: int
    since_last_s: float


@dataclass
class IdentifyLimit:
    """Discord's identify rules for one bot token: buckets, window, daily budget.

    ``recommended_shards`` is what ``GET /gateway/bot`` recommends; ``max_concurrency``,
    ``total`` and ``remaining`` are its ``session_start_limit``. ``window_s`` is Discord's
    5 s (lower it only to test something else than identifying).
    """

    recommended_shards: int = 1
    max_concurrency: int = 1
    total: int = DAILY_IDENTIFIES
    remaining: int = DAILY_IDENTIFIES
    window_s: float = IDENTIFY_WINDOW_S
    violations: list[IdentifyViolation] = field(default_factory=list)
    #: (shard_id, time.monotonic()) of every accepted IDENTIFY, in order
    accepted: list[tuple[int, float]] = field(default_factory=list)
    _last: dict[int, float] = field(default_factory=dict)
    _first_at: float | None = None

    def bucket(self, shard_id: int) -> int:
        return shard_id % self.max_concurrency

    def admit(self, shard_id: int) -> bool:
        """Whether an IDENTIFY of ``shard_id`` is allowed now; spends the budget if so."""
        now = time.monotonic()
        bucket = self.bucket(shard_id)
        last = self._last.get(bucket)
        if last is not None and now - last < self.window_s:
            self.violations.append(IdentifyViolation(shard_id, bucket, now - last))
            return False
        self._last[bucket] = now
        self.accepted.append((shard_id, now))
        if self._first_at is None:
            self._first_at = now
        self.remaining = max(0, self.remaining - 1)
        return True

    def session_start_limit(self) -> dict[str, int]:
        """The ``session_start_limit`` object of ``GET /gateway/bot``."""
        if self._first_at is None:
            reset_after = DAY_MS
        else:
            reset_after = max(0, DAY_MS - int((time.monotonic() - self._first_at) * 1000))
        return {
            "total": self.total,
            "remaining": self.remaining,
            "reset_after": reset_after,
            "max_concurrency": self.max_concurrency,
        }
