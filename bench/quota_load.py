"""Quota reservations per second, and overspend, through the real Ledger and Quotas, on SQLite
or PostgreSQL, in one process or several.

    python -m bench.quota_load
    python -m bench.quota_load --database-url postgresql://user:pass@127.0.0.1/db
    python -m bench.quota_load --processes 1,2,4 --only-processes --database-url ...

Every attempt is what an /ask does for its quota: ``Ledger.check`` (the early refusal before
the defer), then ``Ledger.charge`` (the limit check and the reservation, one transaction
shared by the reservations that arrive together), a pause standing in for the API call while
the reservation is in flight, then the settle. All against a real database with the bot's own
Store, Quotas and Ledger: a SQLite file (WAL) in a temporary folder, or with
``--database-url`` a schema of its own on that PostgreSQL server, dropped at the end.

Throughput: ``M`` members at once, each making attempts one after another (``--attempts`` in
all, or as many as ``--max-s`` seconds allow); with no limits,
with a per-member daily limit that is never reached, and with a server total that is never
reached while the server's day already holds ``--history`` usage rows (a total counts every
member's rows). Latency is from the check to the reservation being made.

Overspend: more attempts than a limit allows, all fired at once, and the reservations that
count (reserved or settled) compared with the limit; overspend must be 0. For a per-member
limit, for a server total, and for a server total shared by two bot processes on one
database (each its own connections, as two bot processes would have).

Several processes (``--processes 1,2,4``): N OS processes (``bench.quota_processes``), each
its own Store, Ledger and Quotas, start together against one server that has a per-member
limit and a server total. Steady: ``--process-members`` members per process (different
members, one server), attempts in turn for ``--max-s`` (the limits never reached: every
reservation checks both). Burst: the same ``--burst-members`` members in every process try
twice the per-member limit between them, all at once, against a server total smaller than
the members' limits together; overspend (either limit) must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
from pathlib import Path

from bench.databases import BenchDatabase, scratch_database
from bench.quota_bench import Outcome, QuotaBench
from bench.quota_processes import run_workers
from bench.report import table
from bot.quota.rules import Limit

NEVER_REACHED = 1_000_000
FIRST_USER = 1000


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


async def overspend(
    bench: QuotaBench, args: argparse.Namespace, database: BenchDatabase, folder: Path
) -> list[Outcome]:
    results = []
    per_member_limit, total_limit = args.member_limit, args.total_limit
    # A per-member limit: each member tries twice the limit, all at once.
    members = 200
    await bench.reset(Limit("ask", "day", per_member_limit, "server"))
    outcome = await bench.burst("per-member limit", members, 2 * per_member_limit, FIRST_USER)
    outcome.limit = f"{per_member_limit} each"
    outcome.overspend = await bench.overspend(per_member_limit, None)
    results.append(outcome)
    # A server total: three times the total is attempted, all at once.
    members, per_member = 300, max(1, 3 * total_limit // 300)
    await bench.reset(Limit("ask", "day", total_limit, "total"))
    outcome = await bench.burst("server total", members, per_member, FIRST_USER)
    outcome.limit = f"{total_limit} in all"
    outcome.overspend = await bench.overspend(None, total_limit)
    results.append(outcome)
    # The same total shared by two processes with their own connections to the database.
    await bench.reset(Limit("ask", "day", total_limit, "total"))
    half = members // 2
    outcome = await run_workers(
        "server total, 2 processes",
        database.target,
        folder,
        mode="burst",
        members=[(FIRST_USER, half), (FIRST_USER + half, half)],
        per_member=per_member,
        call_s=args.call_s,
    )
    outcome.limit = f"{total_limit} in all"
    outcome.overspend = await bench.overspend(None, total_limit)
    results.append(outcome)
    return results


async def several_processes(
    bench: QuotaBench, args: argparse.Namespace, database: BenchDatabase, folder: Path
) -> list[tuple[int, Outcome]]:
    """For each N in ``--processes``: steady throughput, then a burst, from N processes."""
    results = []
    never = (
        Limit("ask", "day", NEVER_REACHED, "server"),
        Limit("ask", "day", NEVER_REACHED, "total"),
    )
    member_limit, total_limit = args.member_limit, args.burst_total_limit
    limits = (
        Limit("ask", "day", member_limit, "server"),
        Limit("ask", "day", total_limit, "total"),
    )
    for n in args.processes:
        await bench.reset(*never)
        per = args.process_members
        outcome = await run_workers(
            "steady, limits never reached",
            database.target,
            folder,
            mode="steady",
            members=[(FIRST_USER + i * per, per) for i in range(n)],
            per_member=max(1, args.attempts // per),
            call_s=0.0,
            max_s=args.max_s,
        )
        outcome.limit = "both"
        outcome.overspend = await bench.overspend(NEVER_REACHED, NEVER_REACHED)
        results.append((n, outcome))
        await bench.reset(*limits)
        outcome = await run_workers(
            "burst, the same members in every process",
            database.target,
            folder,
            mode="burst",
            members=[(FIRST_USER, args.burst_members)] * n,
            per_member=math.ceil(2 * member_limit / n),
            call_s=args.call_s,
        )
        outcome.members = args.burst_members
        outcome.limit = f"{member_limit} each, {total_limit} in all"
        outcome.overspend = await bench.overspend(member_limit, total_limit)
        results.append((n, outcome))
    return results


HEADERS = [
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


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="nexbot-quota-") as tmp:
        folder = Path(tmp)
        async with scratch_database(args.database_url, folder) as database:
            bench = QuotaBench(await database.open(), 0.0)
            steady: list[Outcome] = []
            bursts: list[Outcome] = []
            processes: list[tuple[int, Outcome]] = []
            try:
                if not args.only_processes:
                    steady = await throughput(bench, args)
                    bench.call_s = args.call_s
                    bursts = await overspend(bench, args, database, folder)
                processes = await several_processes(bench, args, database, folder)
            finally:
                await bench.close()
    print(
        "Quota reservations (Ledger.check + Ledger.charge) on"
        f" {database.describe()}, {sys.platform}, {os.cpu_count()} CPUs\n"
    )
    if steady:
        print(table(HEADERS, [o.row() for o in steady]) + "\n")
        print(
            f"Overspend: every attempt at once, {args.call_s * 1000:.0f} ms call per reservation\n"
        )
        print(table(HEADERS, [o.row() for o in bursts]) + "\n")
    if processes:
        print(
            f"Several processes on {database.backend}: steady {args.process_members} members"
            f" per process (call 0 ms); burst {args.call_s * 1000:.0f} ms call per reservation\n"
        )
        rows = [[database.backend, n, *o.row()] for n, o in processes]
        print(table(["backend", "processes", *HEADERS], rows) + "\n")
    total = sum(o.overspend or 0 for o in [*bursts, *(o for _, o in processes)])
    print(f"Overspend in all: {total} (target 0): {'met' if total == 0 else 'MISSED'}")


def parse_counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quota_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=parse_counts, default=[1, 50, 500])
    parser.add_argument("--attempts", type=int, default=2000, help="per throughput scenario")
    parser.add_argument("--max-s", type=float, default=10.0, help="per throughput scenario")
    parser.add_argument("--history", type=int, default=100_000, help="rows earlier today")
    parser.add_argument("--member-limit", type=int, default=5)
    parser.add_argument("--total-limit", type=int, default=1000)
    parser.add_argument("--call-s", type=float, default=0.01, help="the API call, in bursts")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL server (postgresql://...): the bench runs in a schema of its own"
        " there, dropped at the end (default: $BENCH_DATABASE_URL, else a SQLite file)",
    )
    parser.add_argument(
        "--processes",
        type=parse_counts,
        default=[],
        help="e.g. 1,2,4: also run steady and burst scenarios from that many processes",
    )
    parser.add_argument("--only-processes", action="store_true", help="skip the other scenarios")
    parser.add_argument("--process-members", type=int, default=50, help="steady, per process")
    parser.add_argument("--burst-members", type=int, default=200, help="the same in every process")
    parser.add_argument("--burst-total-limit", type=int, default=600, help="the burst's total")
    args = parser.parse_args(argv)
    if args.only_processes and not args.processes:
        parser.error("--only-processes needs --processes")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
