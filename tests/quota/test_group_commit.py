"""Reservations that arrive together are decided together, in one transaction (group commit),
each exact against every limit that applies; a failed group fails each of its members."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest

from bot.errors import StorageError
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, Limit, QuotaExceeded
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store

GUILD = 1000
NOON = dt.datetime(2025, 6, 15, 12, 30, tzinfo=dt.UTC).timestamp()


def member(user_id: int) -> Caller:
    return Caller(user_id, GUILD, user_id, (GUILD,))


async def rows_by_outcome(store: Store) -> Counter[str]:
    rows = await store.fetch_all("SELECT outcome FROM usage")
    return Counter(str(row[0]) for row in rows)


async def test_200_reservations_arriving_together_are_decided_in_one_transaction(
    sqlite_store: SQLiteStore,
) -> None:
    store = sqlite_store
    ledger = Ledger(store, Quotas(store), clock=lambda: NOON)
    statements: list[str] = []
    await store.conn.set_trace_callback(statements.append)
    ids = await asyncio.gather(*(ledger.reserve(member(u), "ask", 1, None) for u in range(200)))
    assert len(set(ids)) == 200
    assert sum(sql.startswith("BEGIN") for sql in statements) == 1


async def test_a_group_is_exact_against_member_limits_and_the_server_total_together(
    store: Store,
) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "day", 3, "server"), set_by=1)  # each member
    await quotas.set_limit(GUILD, Limit("ask", "day", 100, "total"), set_by=1)
    ledger = Ledger(store, quotas, clock=lambda: NOON)
    callers = [member(u) for u in range(1, 51) for _ in range(5)]  # 250 asks, 150 allowed each
    results = await asyncio.gather(
        *(ledger.reserve(c, "ask", 1, None) for c in callers), return_exceptions=True
    )
    pairs = zip(callers, results, strict=True)
    granted = Counter(caller.user_id for caller, result in pairs if isinstance(result, int))
    assert sum(granted.values()) == 100
    assert max(granted.values()) == 3
    assert all(isinstance(r, int | QuotaExceeded) for r in results)
    assert await rows_by_outcome(store) == {"reserved": 100}


async def test_a_failed_group_fails_each_member_and_records_none(
    sqlite_store: SQLiteStore,
) -> None:
    store = sqlite_store
    ledger = Ledger(store, Quotas(store), clock=lambda: NOON)
    await store.conn.execute("PRAGMA query_only = ON")  # every write now fails
    results = await asyncio.gather(
        *(ledger.reserve(member(u), "ask", 1, None) for u in range(20)), return_exceptions=True
    )
    assert [type(r) for r in results] == [StorageError] * 20
    await store.conn.execute("PRAGMA query_only = OFF")
    assert await rows_by_outcome(store) == {}
    assert isinstance(await ledger.reserve(member(1), "ask", 1, None), int)


async def test_a_caller_who_gives_up_while_its_group_is_decided_holds_nothing(
    store: Store,
) -> None:
    ledger = Ledger(store, Quotas(store), clock=lambda: NOON)
    waiting = [asyncio.ensure_future(ledger.reserve(member(u), "ask", 1, None)) for u in range(5)]
    await asyncio.sleep(0)
    waiting[0].cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    for _ in range(50):  # the refund is a statement of its own, just after the group's commit
        if (await rows_by_outcome(store))["refunded"] == 1:
            break
        await asyncio.sleep(0.01)
    assert await rows_by_outcome(store) == {"reserved": 4, "refunded": 1}
    with pytest.raises(asyncio.CancelledError):
        waiting[0].result()


async def test_each_reservation_of_a_group_gets_the_id_of_its_own_row(store: Store) -> None:
    """Should hand every caller the id of the row written for it (one insert for the group)."""
    ledger = Ledger(store, Quotas(store), clock=lambda: NOON)
    callers = [member(u) for u in range(1, 121)]
    ids = await asyncio.gather(*(ledger.reserve(c, "tts", float(c.user_id), None) for c in callers))
    rows = {int(i): int(u) for i, u in await store.fetch_all("SELECT id, user_id FROM usage")}
    assert [rows[i] for i in ids] == [c.user_id for c in callers]
