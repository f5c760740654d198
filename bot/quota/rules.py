"""The rules of limits, with no storage: scopes, fixed UTC windows, which limits bind whom.

A limit caps one feature (ask, imagine, tts, transcribe) per period (hour, day, month) for a
scope: the server default for every member, a role, one member, or the server total (all
members together). In DMs the operator's defaults (`DM_LIMITS`) apply. For each feature and
period the most specific per-member limit applies (member > role > server default; among
several limited roles the most generous one); the server total applies on top. Members with
an exempt role skip the per-member limits, never the server total.

Amounts are in ledger units (`UNIT_NAMES`); people set and read them in limit
units: only transcribe differs (minutes, against ledger seconds).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

from bot.errors import UserFacingError

#: What the bot charges for, each in its own unit (UNIT_NAMES).
Feature = Literal["ask", "imagine", "tts", "transcribe"]
FEATURES: tuple[Feature, ...] = get_args(Feature)
#: What one unit of each feature is, as the ledger counts it.
UNIT_NAMES: dict[Feature, str] = {
    "ask": "requests",
    "imagine": "images",
    "tts": "characters",
    "transcribe": "seconds of audio",
}


@dataclass(frozen=True)
class Caller:
    """Who is charged: a member of a guild (guild_id None in DMs)."""

    user_id: int
    guild_id: int | None = None
    channel_id: int | None = None
    role_ids: tuple[int, ...] = ()


Period = Literal["hour", "day", "month"]
PERIODS: tuple[Period, ...] = get_args(Period)
#: "server", "role" and "member" are per-member limits in a guild; "dm" is the operator's
#: per-member default in DMs; "total" caps a guild's members together.
Scope = Literal["server", "role", "member", "total", "dm"]
PER_MEMBER_SCOPES: frozenset[Scope] = frozenset({"server", "role", "member", "dm"})
#: Ledger units per limit unit.
LEDGER_UNITS_PER_LIMIT_UNIT: dict[Feature, int] = {
    "ask": 1,
    "imagine": 1,
    "tts": 1,
    "transcribe": 60,
}


def to_ledger_units(feature: Feature, amount: float) -> float:
    return amount * LEDGER_UNITS_PER_LIMIT_UNIT[feature]


def to_limit_units(feature: Feature, units: float) -> float:
    return units / LEDGER_UNITS_PER_LIMIT_UNIT[feature]


@dataclass(frozen=True)
class Limit:
    """One limit; `amount` is in ledger units, `target_id` the member's or role's id (else 0)."""

    feature: Feature
    period: Period
    amount: float
    scope: Scope
    target_id: int = 0

    @property
    def per_member(self) -> bool:
        return self.scope in PER_MEMBER_SCOPES


class LimitSpec(NamedTuple):
    """A limit as the operator writes it: `feature:period:amount` (amount in limit units)."""

    feature: Feature
    period: Period
    amount: float


def parse_limit_specs(text: str) -> list[LimitSpec]:
    """`"ask:day:50, imagine:day:5"` -> specs; raises ValueError naming the bad item."""
    specs: list[LimitSpec] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        parts = [p.strip().lower() for p in item.split(":")]
        if len(parts) != 3:
            raise ValueError(f"{item!r} is not feature:period:amount (e.g. ask:day:50)")
        feature, period, raw = parts
        if feature not in FEATURES:
            raise ValueError(f"{item!r}: the feature must be one of {', '.join(FEATURES)}")
        if period not in PERIODS:
            raise ValueError(f"{item!r}: the period must be one of {', '.join(PERIODS)}")
        try:
            amount = float(raw)
        except ValueError:
            raise ValueError(f"{item!r}: the amount must be a number") from None
        if not amount >= 0:
            raise ValueError(f"{item!r}: the amount must be 0 or more")
        specs.append(LimitSpec(feature, period, amount))
    return specs


def window(period: Period, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The fixed UTC window holding `now`: [start, end); `end` is when the limit resets."""
    now = now.astimezone(dt.UTC)
    if period == "hour":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + dt.timedelta(hours=1)
    if period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + dt.timedelta(days=1)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


def window_at(period: Period, timestamp: float) -> tuple[dt.datetime, dt.datetime]:
    """The window holding unix `timestamp`, as the usage counters key it (migration 5): by the
    whole second, so a timestamp a hair before a boundary never rounds into the next window."""
    return window(period, dt.datetime.fromtimestamp(math.floor(timestamp), dt.UTC))


def earlier_window(period: Period, now: dt.datetime, back: int) -> tuple[dt.datetime, dt.datetime]:
    """The window `back` periods before the one holding `now` (0: that one)."""
    start, end = window(period, now)
    for _ in range(back):
        start, end = window(period, start - dt.timedelta(microseconds=1))
    return start, end


def applicable_limits(
    limits: Iterable[Limit],
    user_id: int,
    role_ids: Iterable[int],
    exempt_role_ids: Iterable[int] = (),
) -> list[Limit]:
    """The limits that bind one member: per feature and period, the most specific per-member
    limit (member > most generous role > server default, or the DM default), unless a role is
    exempt; plus every server total."""
    roles = set(role_ids)
    exempt = bool(roles & set(exempt_role_ids))
    chosen: dict[tuple[Feature, Period], Limit] = {}
    rank = {"member": 3, "role": 2, "server": 1, "dm": 1}
    totals: list[Limit] = []
    for limit in limits:
        if limit.scope == "total":
            totals.append(limit)
            continue
        if exempt:
            continue
        if limit.scope == "member" and limit.target_id != user_id:
            continue
        if limit.scope == "role" and limit.target_id not in roles:
            continue
        key = (limit.feature, limit.period)
        current = chosen.get(key)
        if current is None or _beats(limit, current, rank):
            chosen[key] = limit
    return [*chosen.values(), *totals]


def _beats(limit: Limit, current: Limit, rank: dict[str, int]) -> bool:
    if rank[limit.scope] != rank[current.scope]:
        return rank[limit.scope] > rank[current.scope]
    # Two limited roles: the more generous wins (ties: the lower role id, to be stable).
    return (limit.amount, -limit.target_id) > (current.amount, -current.target_id)


class QuotaExceeded(UserFacingError):
    """A call would break `limit`: `used` units were already counted in the window that ends
    at `resets_at` (UTC), and the call asked for `requested` more. Raised before any API call."""

    def __init__(self, limit: Limit, used: float, requested: float, resets_at: dt.datetime) -> None:
        self.limit = limit
        self.used = used
        self.requested = requested
        self.resets_at = resets_at
        super().__init__(
            f"{limit.feature} {limit.period} limit of {limit.amount:g} ({limit.scope}"
            f"{f' {limit.target_id}' if limit.target_id else ''}) reached: {used:g} used,"
            f" {requested:g} requested; resets {resets_at.isoformat()}"
        )

    @property
    def remaining(self) -> float:
        return max(self.limit.amount - self.used, 0.0)


@dataclass(frozen=True)
class LimitStatus:
    """How much of one applicable limit a caller (or their server) has used."""

    limit: Limit
    used: float
    resets_at: dt.datetime

    @property
    def remaining(self) -> float:
        return max(self.limit.amount - self.used, 0.0)
