"""Quota attempts from several OS processes at once, each its own Store, Quotas and Ledger on one
database (as separate bot processes have), started together at one wall-clock moment.

    python -m bench.quota_processes --target DB --mode burst --members 200 --per-member 3 ...

is one worker: it opens the database (a PostgreSQL URL or a SQLite file), prints ``READY``,
waits for ``--start-at``, makes its attempts (``steady``: each member in turn until
``--max-s``; ``burst``: every attempt at once), and writes its result as one JSON line on
stderr. ``run_workers`` starts N of them and adds their results up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench.processes import Child
from bench.quota_bench import SCENARIO_TIMEOUT_S, Outcome, QuotaBench

READY_LINE = "READY"
#: Seconds between starting the workers and their common start, plus this much per worker:
#: each imports the bot (about a second of CPU) on a machine that may be busy.
START_DELAY_S = 3.0
START_DELAY_PER_WORKER_S = 1.5


async def run_workers(
    name: str,
    target: str,
    folder: Path,
    *,
    mode: str,
    members: list[tuple[int, int]],
    per_member: int,
    call_s: float,
    max_s: float = SCENARIO_TIMEOUT_S,
) -> Outcome:
    """One worker per ``(first user, members)`` in ``members``; their results summed.

    Reservations per second are all workers' reservations over the time from the common start
    to the last worker's end."""
    start_at = time.time() + START_DELAY_S + START_DELAY_PER_WORKER_S * len(members)
    starts = []
    for i, (first_user, count) in enumerate(members):
        worker_args = [
            f"--target={target}",
            f"--mode={mode}",
            f"--members={count}",
            f"--per-member={per_member}",
            f"--first-user={first_user}",
            f"--start-at={start_at}",
            f"--max-s={max_s}",
            f"--call-s={call_s}",
        ]
        log = folder / f"worker-{i}.log"
        starts.append(
            Child.start("bench.quota_processes", worker_args, log_path=log, ready=READY_LINE)
        )
    started = await asyncio.gather(*starts, return_exceptions=True)
    workers = [w for w in started if isinstance(w, Child)]
    try:
        if len(workers) < len(started):
            raise next(e for e in started if isinstance(e, BaseException))
        waits = (w.process.wait() for w in workers)
        await asyncio.wait_for(asyncio.gather(*waits), SCENARIO_TIMEOUT_S + 30)
    finally:
        codes = [await w.stop() for w in workers]
    if any(codes):
        raise RuntimeError(f"a worker failed: {[str(w.log_path) for w in workers]}")
    outcome = Outcome(name, sum(count for _, count in members))
    for worker in workers:
        result = json.loads(worker.log_path.read_text().splitlines()[-1])
        outcome.attempts += result["attempts"]
        outcome.ok += result["ok"]
        outcome.refused += result["refused"]
        outcome.seconds = max(outcome.seconds, result["late_s"] + result["seconds"])
        outcome.latencies += result["latencies"]
        if result["late_s"] > 0.5:
            print(f"# a worker began {result['late_s']:.1f} s late", file=sys.stderr)
    return outcome


async def work(args: argparse.Namespace) -> None:
    """One worker: its attempts from the common start; the result as JSON on stderr."""
    bench = await QuotaBench.open(args.target, args.call_s)
    try:
        print(READY_LINE, flush=True)
        await asyncio.sleep(max(0.0, args.start_at - time.time()))
        late_s = max(0.0, time.time() - args.start_at)
        if args.mode == "steady":
            outcome = await bench.steady(
                "worker", args.members, args.per_member, args.max_s, args.first_user
            )
        else:
            outcome = await bench.burst("worker", args.members, args.per_member, args.first_user)
    finally:
        await bench.close()
    result = {
        "attempts": outcome.attempts,
        "ok": outcome.ok,
        "refused": outcome.refused,
        "seconds": outcome.seconds,
        "late_s": late_s,
        "latencies": outcome.latencies,
    }
    print(json.dumps(result), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quota_processes", description=__doc__)
    parser.add_argument("--target", required=True, help="a PostgreSQL URL or a SQLite file")
    parser.add_argument("--mode", choices=("steady", "burst"), required=True)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--per-member", type=int, required=True)
    parser.add_argument("--first-user", type=int, default=1000)
    parser.add_argument("--start-at", type=float, required=True, help="time.time() to begin")
    parser.add_argument("--max-s", type=float, default=SCENARIO_TIMEOUT_S)
    parser.add_argument("--call-s", type=float, default=0.0)
    asyncio.run(work(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
