"""Usage counters (migration 5): always equal to the ledger's counted rows per window."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import FEATURES, PERIODS, Caller, Limit, QuotaExceeded, window, window_at
from bot.storage import migrations_pg
from bot.storage.migrations import MIGRATIONS
from bot.storage.store import Store
from tests.databases import Database

GUILD = 1000
Key = tuple[int, int, str, str, int]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def counters(store: Store) -> dict[Key, float]:
    rows = await store.fetch_all(
        "SELECT guild_key, user_key, feature, period, window_start, units FROM usage_counters"
    )
    return {(g, u, f, p, int(w)): float(units) for g, u, f, p, w, units in rows}


async def ledger_sums(store: Store) -> dict[Key, float]:
    """The counters as they should be: the counted rows summed per window (windows by Python)."""
    rows = await store.fetch_all(
        "SELECT guild_id, user_id, feature, units, created_at FROM usage"
        " WHERE outcome IN ('reserved', 'ok')"
    )
    sums: defaultdict[Key, float] = defaultdict(float)
    for guild_id, user_id, feature, units, created_at in rows:
        for period in PERIODS:
            start = int(
                window(period, dt.datetime.fromtimestamp(created_at, dt.UTC))[0].timestamp()
            )
            # window() rounds to the microsecond; a row a hair before a boundary is before it.
            if start > created_at:
                start = int(window_at(period, start - 1)[0].timestamp())
            for user_key in (user_id, 0):
                sums[(guild_id or 0, user_key, feature, period, start)] += units
    return dict(sums)


async def assert_counters_match_ledger(store: Store) -> None:
    actual, expected = await counters(store), await ledger_sums(store)
    for key in actual.keys() | expected.keys():
        assert actual.get(key, 0.0) == pytest.approx(expected.get(key, 0.0), abs=1e-6), key


async def ledger_sum(store: Store, caller: Caller, feature: str, period: str, now: float) -> float:
    """What the quota check summed over the ledger before migration 5 (the reference)."""
    start, end = window(period, dt.datetime.fromtimestamp(now, dt.UTC))  # type: ignore[arg-type]
    rows = await store.fetch_all(
        "SELECT COALESCE(SUM(units), 0) FROM usage WHERE guild_id IS NOT DISTINCT FROM ?"
        " AND user_id = ? AND feature = ? AND created_at >= ? AND created_at < ?"
        " AND outcome IN ('reserved', 'ok')",
        (caller.guild_id, caller.user_id, feature, start.timestamp(), end.timestamp()),
    )
    return float(next(iter(rows))[0])


#: Moments where an hour, a day and a month (and a year, and a leap February) end together.
BOUNDARIES = [utc(2025, 2, 1), utc(2024, 3, 1), utc(2026, 1, 1), utc(2025, 6, 15, 13)]


@pytest.mark.parametrize("seed", range(6))
async def test_counters_equal_the_ledger_after_any_mix_of_changes(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    boundary = BOUNDARIES[seed % len(BOUNDARIES)].timestamp()
    clock = Clock(boundary - 4)
    quotas = Quotas(store)
    ledger = Ledger(store, quotas, clock=clock)
    callers = [Caller(7, GUILD), Caller(8, GUILD), Caller(7, None), Caller(9, GUILD + 1)]
    open_ids: list[int] = []
    for step in range(300):
        # Cross the boundary back and forth in time order: hairs before it, on it, after it.
        clock.now = rng.choice(
            [clock.now + rng.uniform(0, 0.05), boundary - 1e-6, boundary, boundary - 0.5]
        )
        action = rng.random()
        if action < 0.5 or not open_ids:
            units = rng.choice([1.0, 2.0, rng.uniform(0.1, 90)])
            feature = rng.choice(FEATURES)
            open_ids.append(await ledger.reserve(rng.choice(callers), feature, units, None))
        elif action < 0.75:
            await ledger.settle(open_ids.pop(rng.randrange(len(open_ids))), rng.uniform(0, 60))
        elif action < 0.95:
            await ledger.refund(open_ids.pop(rng.randrange(len(open_ids))))
        else:
            await ledger.refund_orphans()
            open_ids.clear()
        if step % 50 == 0:
            await assert_counters_match_ledger(store)
    await assert_counters_match_ledger(store)
    for caller in callers:
        for feature in FEATURES:
            for period in PERIODS:
                for now in (boundary - 1e-6, boundary):
                    assert await quotas.used(caller, feature, period, now) == pytest.approx(
                        await ledger_sum(store, caller, feature, period, now), abs=1e-6
                    )


async def test_a_refund_in_the_next_window_gives_back_to_the_window_it_was_taken_from(
    store: Store,
) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "hour", 1, "total"), set_by=1)
    member = Caller(7, GUILD)
    clock = Clock(utc(2025, 3, 4, 10, 59).timestamp())
    ledger = Ledger(store, quotas, clock=clock)
    reservation = await ledger.reserve(member, "ask", 1, None)
    clock.now = utc(2025, 3, 4, 11, 0).timestamp()
    fresh = await ledger.reserve(member, "ask", 1, None)  # a new hour: the limit is full again
    await ledger.refund(reservation)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(member, "ask", 1, None)
    assert await quotas.used(member, "ask", "hour", utc(2025, 3, 4, 10, 30).timestamp()) == 0
    await ledger.settle(fresh, 1)
    await assert_counters_match_ledger(store)


async def test_moving_or_deleting_ledger_rows_moves_or_forgives_their_units(store: Store) -> None:
    quotas = Quotas(store)
    member = Caller(7, GUILD)
    now = utc(2025, 3, 4, 10, 30).timestamp()
    ledger = Ledger(store, quotas, clock=Clock(now))
    first = await ledger.reserve(member, "tts", 100, None)
    await ledger.reserve(member, "tts", 50, None)
    await store.execute("UPDATE usage SET created_at = created_at - 86400 WHERE id = ?", (first,))
    await assert_counters_match_ledger(store)
    assert await quotas.used(member, "tts", "day", now) == 50
    assert await quotas.used(member, "tts", "month", now) == 150
    await store.execute("UPDATE usage SET user_id = 8, guild_id = NULL WHERE id = ?", (first,))
    await store.execute("DELETE FROM usage WHERE id != ?", (first,))
    await assert_counters_match_ledger(store)
    assert await quotas.used(member, "tts", "month", now) == 0
    assert await quotas.used(Caller(8), "tts", "month", now) == 100


async def test_pruning_drops_counters_of_ended_windows_and_keeps_current_ones(
    store: Store,
) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "month", 2, "total"), set_by=1)
    member = Caller(7, GUILD)
    clock = Clock(utc(2025, 1, 10).timestamp())
    ledger = Ledger(store, quotas, clock=clock)
    await ledger.reserve(member, "ask", 1, None)  # left open: pruning keeps the row
    for moment in (utc(2025, 6, 18, 10), utc(2025, 6, 19, 6)):
        clock.now = moment.timestamp()
        await ledger.settle(await ledger.reserve(member, "ask", 1, None), 1)
    clock.now = utc(2025, 6, 20).timestamp()
    assert await ledger.prune(1) == 1  # June 18's row
    starts = {(period, start) for _, _, _, period, start in await counters(store)}
    assert starts == {
        ("hour", int(utc(2025, 6, 19, 6).timestamp())),
        ("day", int(utc(2025, 6, 19).timestamp())),
        ("month", int(utc(2025, 6, 1).timestamp())),
    }
    assert await quotas.used(member, "ask", "month", clock.now) == 1
    await ledger.reserve(member, "ask", 1, None)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(member, "ask", 1, None)


async def test_migration_5_backfills_counters_from_an_existing_ledger(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, known = (
        ("bot.storage.postgres", migrations_pg.MIGRATIONS)
        if database.url
        else ("bot.storage.sqlite", MIGRATIONS)
    )
    monkeypatch.setattr(f"{module}.MIGRATIONS", known[:4])
    old = await database.open()
    rng = random.Random(5)
    rows = []
    for _ in range(2000):
        boundary = rng.choice(BOUNDARIES).timestamp()
        at = rng.choice([boundary - 1e-6, boundary, boundary + rng.uniform(-7200, 7200)])
        rows.append(
            (
                rng.choice([GUILD, GUILD + 1, None]),
                rng.choice([7, 8, 9]),
                rng.choice(FEATURES),
                rng.choice([1.0, rng.uniform(0.1, 90)]),
                rng.choice(["reserved", "ok", "ok", "refunded"]),
                at,
            )
        )
    await old.execute_many(
        "INSERT INTO usage (guild_id, user_id, feature, units, outcome, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    assert await old.schema_version() == 4
    await old.close()
    monkeypatch.undo()

    store = await database.open()
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        await assert_counters_match_ledger(store)
        assert len(await counters(store)) > 100
        # The triggers count what comes after.
        ledger = Ledger(store, Quotas(store), clock=Clock(BOUNDARIES[0].timestamp() - 1e-6))
        await ledger.refund_orphans()
        await ledger.settle(await ledger.reserve(Caller(7, GUILD), "ask", 3, None), 2)
        await assert_counters_match_ledger(store)
    finally:
        await store.close()
