"""Quota reservations per second, and overspend, through the real Ledger and Quotas on SQLite.

    python -m bench.quota_load

Every attempt is what an /ask does for its quota: ``Ledger.check`` (the early refusal before
the defer), then ``Ledger.charge`` (the limit check and the reservation, one transaction
shared by the reservations that arrive together), a pause standing in for the API call while
the reservation is in flight, then the settle. All
against a real SQLite file (WAL) in a temporary folder, with the bot's own Store, Quotas and
Ledger.

Throughput: ``M`` members at once, each making attempts one after another (``--attempts`` in
all, or as many as ``--max-s`` seconds allow); with no limits,
with a per-member daily limit that is never reached, and with a server total that is never
reached while the server's day already holds ``--history`` usage rows (a total counts every
member's rows). Latency is from the check to the reservation being made.

Overspend: more attempts than a limit allows, all fired at once, and the reservations that
count (reserved or settled) compared with the limit; overspend must be 0. For a per-member
limit, for a server total, and for a server total shared by two bot processes on one
database file (each its own connection, as two processes on one SQLite file would be).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import add_usage_rows
from bench.processes import Child
from bench.report import p50_95_99, table
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, Limit, QuotaExceeded
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store

GUILD_ID = 1
NEVER_REACHED = 1_000_000
READY_LINE = "READY"
SCENARIO_TIMEOUT_S = 180.0
WORKER_START_DELAY_S = 1.0  # both workers start their burst at the same wall-clock moment


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
    """One database file with the bot's Store, Quotas and Ledger on it."""

    def __init__(self, store: Store, call_s: float) -> None:
        self.store = store
        self.quotas = Quotas(store)
        self.ledger = Ledger(store, self.quotas)
        self.call_s = call_s

    @classmethod
    async def open(cls, path: Path, call_s: float) -> QuotaBench:
        return cls(await SQLiteStore.open(path), call_s)

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

    async def steady(self, name: str, members: int, per_member: int, limit_s: float) -> Outcome:
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

        users = range(1000, 1000 + members)
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


async def throughput(bench: QuotaBench, args: argparse.Namespace) -> list[Outcome]:
    results = []
    for members in args.members:
        await bench.reset()
        per_member = max(1, args.attempts // members)
        results.append(await bench.steady("no limits", members, per_member, args.max_s))
    for members in args.members:
        await bench.reset(Limit("ask", "day", NEVER_REACHED, "server"))
        per_member = max(1, args.attempts // members)
        outcome = await bench.steady("per-member limit", members, per_member, args.max_s)
        results.append(outcome)
    for rows in (0, args.history):
        await bench.reset(Limit("ask", "day", NEVER_REACHED, "total"))
        await bench.add_history(rows)
        members = args.members[len(args.members) // 2]
        per_member = max(1, args.attempts // members)
        name = f"server total, {rows:,} rows today"
        results.append(await bench.steady(name, members, per_member, args.max_s))
    return results


async def overspend(bench: QuotaBench, args: argparse.Namespace, db: Path) -> list[Outcome]:
    results = []
    per_member_limit, total_limit = args.member_limit, args.total_limit
    # A per-member limit: each member tries twice the limit, all at once.
    members = 200
    await bench.reset(Limit("ask", "day", per_member_limit, "server"))
    outcome = await bench.burst("per-member limit", members, 2 * per_member_limit, 1000)
    counted = await bench.counted()
    outcome.limit = f"{per_member_limit} each"
    outcome.overspend = sum(max(0, n - per_member_limit) for n in counted.values())
    results.append(outcome)
    # A server total: three times the total is attempted, all at once.
    members, per_member = 300, max(1, 3 * total_limit // 300)
    await bench.reset(Limit("ask", "day", total_limit, "total"))
    outcome = await bench.burst("server total", members, per_member, 1000)
    outcome.limit = f"{total_limit} in all"
    outcome.overspend = max(0, sum((await bench.counted()).values()) - total_limit)
    results.append(outcome)
    # The same total shared by two processes with their own connections to the file.
    await bench.reset(Limit("ask", "day", total_limit, "total"))
    outcome = await two_processes(args, db, members // 2, per_member)
    outcome.limit = f"{total_limit} in all"
    outcome.overspend = max(0, sum((await bench.counted()).values()) - total_limit)
    results.append(outcome)
    return results


async def two_processes(args: argparse.Namespace, db: Path, members: int, per: int) -> Outcome:
    start_at = time.time() + WORKER_START_DELAY_S + 2.0
    workers = []
    for first_user in (1000, 1000 + members):
        worker_args = [
            f"--worker={db}",
            f"--worker-members={members}",
            f"--worker-per-member={per}",
            f"--worker-first-user={first_user}",
            f"--worker-start-at={start_at}",
            f"--call-s={args.call_s}",
        ]
        log = db.with_name(f"worker-{first_user}.log")
        child = await Child.start("bench.quota_load", worker_args, log_path=log, ready=READY_LINE)
        workers.append(child)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(w.process.wait() for w in workers)), SCENARIO_TIMEOUT_S
        )
    finally:
        codes = [await w.stop() for w in workers]
    if any(codes):
        raise RuntimeError(f"a worker failed: {[w.log_path for w in workers]}")
    outcome = Outcome("server total, 2 processes", 2 * members)
    for worker in workers:
        result = json.loads(worker.log_path.read_text().splitlines()[-1])
        outcome.attempts += result["attempts"]
        outcome.ok += result["ok"]
        outcome.refused += result["refused"]
        outcome.seconds = max(outcome.seconds, result["seconds"])
        outcome.latencies += result["latencies"]
    return outcome


async def worker(args: argparse.Namespace) -> None:
    """One of the two processes: a burst on the shared file; the result as JSON on stderr."""
    bench = await QuotaBench.open(Path(args.worker), args.call_s)
    try:
        print(READY_LINE, flush=True)
        await asyncio.sleep(max(0.0, args.worker_start_at - time.time()))
        outcome = await bench.burst(
            "worker", args.worker_members, args.worker_per_member, args.worker_first_user
        )
    finally:
        await bench.close()
    result = {
        "attempts": outcome.attempts,
        "ok": outcome.ok,
        "refused": outcome.refused,
        "seconds": outcome.seconds,
        "latencies": outcome.latencies,
    }
    print(json.dumps(result), file=sys.stderr, flush=True)


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="nexbot-quota-") as tmp:
        db = Path(tmp) / "nexbot.db"
        bench = await QuotaBench.open(db, 0.0)
        try:
            steady = await throughput(bench, args)
            bench.call_s = args.call_s
            bursts = await overspend(bench, args, db)
        finally:
            await bench.close()
    headers = [
        "scenario",
        "members",
        "attempts",
        "reserved",
        "refused",
        "reservations/s",
        "check+reserve ms p50/p95/p99",
        "limit",
        "overspend",
    ]
    print(f"Quota reservations (Ledger.check + Ledger.charge) on SQLite, {sys.platform}\n")
    print(table(headers, [o.row() for o in steady]) + "\n")
    print(f"Overspend: every attempt at once, {args.call_s * 1000:.0f} ms call per reservation\n")
    print(table(headers, [o.row() for o in bursts]))
    total = sum(o.overspend or 0 for o in bursts)
    print(f"\nOverspend in all: {total} (target 0): {'met' if total == 0 else 'MISSED'}")


def parse_counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quota_load", description=__doc__)
    parser.add_argument("--members", type=parse_counts, default=[1, 50, 500])
    parser.add_argument("--attempts", type=int, default=2000, help="per throughput scenario")
    parser.add_argument("--max-s", type=float, default=10.0, help="per throughput scenario")
    parser.add_argument("--history", type=int, default=100_000, help="rows earlier today")
    parser.add_argument("--member-limit", type=int, default=5)
    parser.add_argument("--total-limit", type=int, default=1000)
    parser.add_argument("--call-s", type=float, default=0.01, help="the API call, in bursts")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-members", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-per-member", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-first-user", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    asyncio.run(worker(args) if args.worker else main_async(args))


if __name__ == "__main__":
    main()
