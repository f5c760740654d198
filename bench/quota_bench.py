"""The quota benchmark's world: the bot's Store, Quotas and Ledger on one database, the
attempts an /ask makes for its quota, and what came of them (``Outcome``)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.databases import open_target
from bench.harness import add_usage_rows
from bench.report import p50_95_99
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, Limit, QuotaExceeded
from bot.storage.store import Store

GUILD_ID = 1
SCENARIO_TIMEOUT_S = 180.0


@dataclass
class Outcome:
    name: str
    members: int
    attempts: int = 0
    ok: int = 0
    refused: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # check -> reserved, per success
    limit: str = "-"
    overspend: int | None = None

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def row(self) -> list[object]:
        return [
            self.name,
            self.members,
            self.attempts,
            self.ok,
            self.refused,
            f"{self.per_second:.0f}",
            p50_95_99(self.latencies),
            self.limit,
            "-" if self.overspend is None else self.overspend,
        ]


class QuotaBench:
    """One database with the bot's Store, Quotas and Ledger on it (one bot process's worth)."""

    def __init__(self, store: Store, call_s: float) -> None:
        self.store = store
        self.quotas = Quotas(store)
        self.ledger = Ledger(store, self.quotas)
        self.call_s = call_s

    @classmethod
    async def open(cls, target: str, call_s: float) -> QuotaBench:
        """On ``target``: a PostgreSQL URL or a SQLite file path."""
        return cls(await open_target(target), call_s)

    async def close(self) -> None:
        await self.store.close()

    async def attempt(self, caller: Caller, outcome: Outcome) -> None:
        began = time.perf_counter()
        outcome.attempts += 1
        try:
            await self.ledger.check(caller, "ask")
            async with self.ledger.charge(caller, "ask", 1, "gpt-4o-mini") as charge:
                outcome.latencies.append(time.perf_counter() - began)
                await asyncio.sleep(self.call_s)
                charge.settle(tokens=300)
        except QuotaExceeded:
            outcome.refused += 1
            return
        outcome.ok += 1

    async def steady(
        self, name: str, members: int, per_member: int, limit_s: float, first_user: int = 1000
    ) -> Outcome:
        """``members`` members at once, each making ``per_member`` attempts in turn (and none
        after ``limit_s``)."""
        outcome = Outcome(name, members)
        began = time.perf_counter()

        async def member(user_id: int) -> None:
            caller = Caller(user_id, GUILD_ID, channel_id=user_id)
            for _ in range(per_member):
                if time.perf_counter() - began > limit_s:
                    return
                await self.attempt(caller, outcome)

        users = range(first_user, first_user + members)
        await asyncio.wait_for(asyncio.gather(*map(member, users)), SCENARIO_TIMEOUT_S)
        outcome.seconds = time.perf_counter() - began
        return outcome

    async def burst(self, name: str, members: int, per_member: int, first_user: int) -> Outcome:
        """Every attempt of every member at once."""
        outcome = Outcome(name, members)
        callers = [Caller(first_user + i, GUILD_ID) for i in range(members)]
        attempts = [self.attempt(c, outcome) for c in callers for _ in range(per_member)]
        began = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*attempts), SCENARIO_TIMEOUT_S)
        outcome.seconds = time.perf_counter() - began
        return outcome

    async def reset(self, *limits: Limit) -> None:
        """Forget all usage and limits, then set ``limits`` for the server."""
        async with self.store.transaction() as db:
            if self.store.dialect == "postgresql":
                # Row by row, the counter triggers would update the same few rows 100,000
                # times in one transaction (past the 10 s statement timeout); TRUNCATE fires
                # no row triggers, so the counters go with it by hand.
                await db.execute("TRUNCATE usage")
                await db.execute("DELETE FROM usage_counters")
            else:
                await db.execute("DELETE FROM usage")
            await db.execute("DELETE FROM limits")
        self.quotas = Quotas(self.store)
        self.ledger = Ledger(self.store, self.quotas)
        for limit in limits:
            await self.quotas.set_limit(GUILD_ID, limit, set_by=0)

    async def add_history(self, rows: int) -> None:
        await add_usage_rows(self.store, GUILD_ID, rows)

    async def counted(self) -> Counter[int]:
        """Reservations that count against a limit (reserved or settled), per member."""
        sql = "SELECT user_id, COUNT(*) FROM usage WHERE outcome IN ('reserved', 'ok') GROUP BY 1"
        return Counter({int(user): int(n) for user, n in await self.store.fetch_all(sql)})

    async def overspend(self, member_limit: int | None, total_limit: int | None) -> int:
        """Reservations past the limits: each member's excess over ``member_limit``, plus the
        server's excess over ``total_limit``."""
        counted = await self.counted()
        over = 0
        if member_limit is not None:
            over += sum(max(0, n - member_limit) for n in counted.values())
        if total_limit is not None:
            over += max(0, sum(counted.values()) - total_limit)
        return over
