"""Limits per server and the check against the ledger (the rules are in `bot.quota.rules`).

The ledger (`bot.quota.ledger.Ledger.reserve`) calls `Quotas.refusal` inside the same transaction as
the reservation it guards, so concurrent calls can never overspend a limit. What was used comes
from `usage_counters`, which triggers keep equal to the ledger's counted rows per window
(migration 5): a check reads one row per applicable limit, however long the ledger.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.quota.rules import (
    PERIODS,
    Caller,
    Feature,
    Limit,
    LimitSpec,
    LimitStatus,
    Period,
    QuotaExceeded,
    applicable_limits,
    to_ledger_units,
    window_at,
)
from bot.storage.cache import LoadingCache
from bot.storage.store import Queries, Store

#: Slack for float sums of ledger units (seconds of audio).
EPSILON = 1e-9
#: The change notices of a server's limits and exempt roles (`Store.changed`).
TOPIC = "limits"


#: Counters read per query: SQLite allows 500 terms in a compound SELECT by default.
COUNTER_READ_BATCH = 400

#: A row of `usage_counters`: guild_key, user_key, feature, period, window_start.
_CounterKey = tuple[int, int, str, str, int]


@dataclass(frozen=True)
class Ask:
    """One reservation to decide: who, what, how much, and when (unix seconds)."""

    caller: Caller
    feature: Feature
    units: float
    now: float


def _counter_key(caller: Caller, limit: Limit, start: dt.datetime) -> _CounterKey:
    guild_key = caller.guild_id if caller.guild_id is not None else 0
    user_key = caller.user_id if limit.per_member else 0
    return (guild_key, user_key, limit.feature, limit.period, int(start.timestamp()))


def _keys_counting(ask: Ask) -> list[_CounterKey]:
    """The counters a ledger row for `ask` adds to (migration 5's triggers): its hour, day and
    month windows, for the member and for the server total (user 0)."""
    guild_key = ask.caller.guild_id if ask.caller.guild_id is not None else 0
    keys: list[_CounterKey] = []
    for period in PERIODS:
        start = int(window_at(period, ask.now)[0].timestamp())
        for user_key in (ask.caller.user_id, 0):
            keys.append((guild_key, user_key, ask.feature, period, start))
    return keys


@dataclass(frozen=True)
class _GuildRules:
    limits: tuple[Limit, ...]
    exempt_role_ids: frozenset[int]


class Quotas:
    """Limits and exempt roles per guild (cached; every change goes through here)."""

    def __init__(self, store: Store, dm_limits: Sequence[LimitSpec] = ()) -> None:
        self._store = store
        self._dm_limits = tuple(
            Limit(s.feature, s.period, to_ledger_units(s.feature, s.amount), "dm")
            for s in dm_limits
        )
        # Read before an interaction is acknowledged: one load per guild however many miss.
        self._cache: LoadingCache[int, _GuildRules] = LoadingCache(self._load_rules)
        store.on_change(TOPIC, self._cache.forget)

    # -- checking ---------------------------------------------------------------------------

    async def refusal(
        self, caller: Caller, feature: Feature, units: float, now: float
    ) -> QuotaExceeded | None:
        """Why `caller` may not use `units` more of `feature` now, or None if they may.

        Of several broken limits it names the one that resets last (the real wait). Inside
        `Store.transaction` this is exact; outside, a cheap early check.
        """
        limits = await self.applicable(caller, feature)
        worst: QuotaExceeded | None = None
        for limit, (used, end) in zip(limits, await self._used(caller, limits, now), strict=True):
            if used + units > limit.amount + EPSILON and (worst is None or end > worst.resets_at):
                worst = QuotaExceeded(limit, used, units, end)
        return worst

    async def refusals(self, asks: Sequence[Ask], db: Queries) -> list[QuotaExceeded | None]:
        """Decide several reservations together, each as if the ones granted before it in
        `asks` were already in the ledger: None where one may go ahead, else its refusal.

        One read (on `db`) of every counter the asks touch, then the decisions in order in
        memory. Inside `Store.transaction`, with the asks' servers locked and the granted rows
        inserted before it ends, this is exact against every limit, however many asks (or
        processes) share a limit.
        """
        plans: list[list[tuple[Limit, _CounterKey, dt.datetime]]] = []
        keys: dict[_CounterKey, None] = {}
        for ask in asks:
            plan = []
            for limit in await self.applicable(ask.caller, ask.feature):
                start, end = window_at(limit.period, ask.now)
                key = _counter_key(ask.caller, limit, start)
                plan.append((limit, key, end))
                keys[key] = None
            plans.append(plan)
        used = await self._read_counters(list(keys), db)
        decided: list[QuotaExceeded | None] = []
        for ask, plan in zip(asks, plans, strict=True):
            worst: QuotaExceeded | None = None
            for limit, key, end in plan:
                spent = used[key]
                if spent + ask.units > limit.amount + EPSILON and (
                    worst is None or end > worst.resets_at
                ):
                    worst = QuotaExceeded(limit, spent, ask.units, end)
            decided.append(worst)
            if worst is None:  # what the ledger's triggers will count for the granted row
                for key in _keys_counting(ask):
                    if key in used:
                        used[key] += ask.units
        return decided

    async def _read_counters(
        self, keys: Sequence[_CounterKey], db: Queries
    ) -> dict[_CounterKey, float]:
        """The units of each counter (0 for one not written yet), COUNTER_READ_BATCH a query."""
        used = dict.fromkeys(keys, 0.0)
        for first in range(0, len(keys), COUNTER_READ_BATCH):
            chunk = keys[first : first + COUNTER_READ_BATCH]
            sql = " UNION ALL ".join(
                f"SELECT {i}, units FROM usage_counters WHERE guild_key = ? AND user_key = ?"
                " AND feature = ? AND period = ? AND window_start = ?"
                for i in range(len(chunk))
            )
            args = [value for key in chunk for value in key]
            for i, units in await db.fetch_all(sql, args):
                used[chunk[i]] = float(units)
        return used

    async def status(self, caller: Caller, now: float | None = None) -> list[LimitStatus]:
        """Every limit that applies to `caller`, with what was used of it so far."""
        limits = await self.applicable(caller)
        used = await self._used(caller, limits, time.time() if now is None else now)
        return [LimitStatus(limit, *spent) for limit, spent in zip(limits, used, strict=True)]

    async def used(
        self, caller: Caller, feature: Feature, period: Period, now: float | None = None
    ) -> float:
        """What `caller` used of `feature` in the current `period` (ledger units)."""
        limit = Limit(feature, period, 0, "member")
        [(used, _)] = await self._used(caller, [limit], time.time() if now is None else now)
        return used

    async def applicable(self, caller: Caller, feature: Feature | None = None) -> list[Limit]:
        if caller.guild_id is None:
            limits: Iterable[Limit] = self._dm_limits
            exempt: frozenset[int] = frozenset()
        else:
            rules = await self._rules(caller.guild_id)
            limits, exempt = rules.limits, rules.exempt_role_ids
        if feature is not None:
            limits = [limit for limit in limits if limit.feature == feature]
        return applicable_limits(limits, caller.user_id, caller.role_ids, exempt)

    async def _used(
        self, caller: Caller, limits: Sequence[Limit], now: float
    ) -> list[tuple[float, dt.datetime]]:
        """Per limit, what was counted against it in its window holding `now`, and when that
        window ends: one primary-key read of `usage_counters` per limit, all in one query."""
        if not limits:
            return []
        guild_key = caller.guild_id if caller.guild_id is not None else 0
        windows = [window_at(limit.period, now) for limit in limits]
        sql = " UNION ALL ".join(
            f"SELECT {i}, units FROM usage_counters WHERE guild_key = ? AND user_key = ?"
            " AND feature = ? AND period = ? AND window_start = ?"
            for i in range(len(limits))
        )
        args: list[object] = []
        for limit, (start, _) in zip(limits, windows, strict=True):
            user_key = caller.user_id if limit.per_member else 0
            args += (guild_key, user_key, limit.feature, limit.period, int(start.timestamp()))
        used = [0.0] * len(limits)
        for i, units in await self._store.fetch_all(sql, args):
            used[i] = float(units)
        return [(spent, end) for spent, (_, end) in zip(used, windows, strict=True)]

    # -- moderators' changes ----------------------------------------------------------------

    async def guild_limits(self, guild_id: int) -> tuple[Limit, ...]:
        return (await self._rules(guild_id)).limits

    async def exempt_roles(self, guild_id: int) -> frozenset[int]:
        return (await self._rules(guild_id)).exempt_role_ids

    async def set_limit(self, guild_id: int, limit: Limit, set_by: int) -> Limit | None:
        """Add or replace a limit (not "dm"); returns the one it replaced, if any."""
        if limit.scope == "dm":
            raise ValueError("DM limits come from the DM_LIMITS setting")
        async with self._store.transaction() as db:
            previous = await self._find(db, guild_id, limit)
            await db.execute(
                "INSERT INTO limits (guild_id, feature, period, scope, target_id, amount, set_by,"
                " set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
                " (guild_id, feature, period, scope, target_id) DO UPDATE SET"
                " amount = excluded.amount, set_by = excluded.set_by, set_at = excluded.set_at",
                (
                    guild_id,
                    limit.feature,
                    limit.period,
                    limit.scope,
                    limit.target_id,
                    limit.amount,
                    set_by,
                    time.time(),
                ),
            )
        await self._changed(guild_id)
        return previous

    async def remove_limit(self, guild_id: int, limit: Limit) -> Limit | None:
        """Remove the limit with `limit`'s feature, period, scope and target (amount ignored);
        returns it, or None if there was none."""
        async with self._store.transaction() as db:
            previous = await self._find(db, guild_id, limit)
            if previous is not None:
                await db.execute(
                    "DELETE FROM limits WHERE guild_id = ? AND feature = ? AND period = ?"
                    " AND scope = ? AND target_id = ?",
                    (guild_id, limit.feature, limit.period, limit.scope, limit.target_id),
                )
        await self._changed(guild_id)
        return previous

    async def set_exempt(self, guild_id: int, role_id: int, exempt: bool, by: int) -> bool:
        """Make a role exempt (or not); returns whether anything changed."""
        if exempt:
            changed = await self._store.execute(
                "INSERT INTO exempt_roles (guild_id, role_id, added_by, added_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, role_id) DO NOTHING",
                (guild_id, role_id, by, time.time()),
            )
        else:
            changed = await self._store.execute(
                "DELETE FROM exempt_roles WHERE guild_id = ? AND role_id = ?", (guild_id, role_id)
            )
        await self._changed(guild_id)
        return changed > 0

    async def _changed(self, guild_id: int) -> None:
        await self._store.changed(TOPIC, guild_id)

    async def _find(self, db: Queries, guild_id: int, limit: Limit) -> Limit | None:
        amount = await db.fetch_value(
            "SELECT amount FROM limits WHERE guild_id = ? AND feature = ? AND period = ?"
            " AND scope = ? AND target_id = ?",
            (guild_id, limit.feature, limit.period, limit.scope, limit.target_id),
        )
        if amount is None:
            return None
        return Limit(limit.feature, limit.period, float(amount), limit.scope, limit.target_id)

    async def _rules(self, guild_id: int) -> _GuildRules:
        return await self._cache.get(guild_id)

    async def _load_rules(self, guild_id: int) -> _GuildRules:
        rows = await self._store.fetch_all(
            "SELECT feature, period, amount, scope, target_id FROM limits WHERE guild_id = ?"
            " ORDER BY feature, period, scope, target_id",
            (guild_id,),
        )
        limits = tuple(
            Limit(feature, period, float(amount), scope, int(target_id))
            for feature, period, amount, scope, target_id in rows
        )
        exempt = frozenset(
            int(row[0])
            for row in await self._store.fetch_all(
                "SELECT role_id FROM exempt_roles WHERE guild_id = ?", (guild_id,)
            )
        )
        return _GuildRules(limits, exempt)
