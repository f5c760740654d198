"""Several bot processes reserving against one limit at the same moment, on both backends:
the server total is spent exactly, never overspent (separate OS processes, each with its own
connections, as bot processes on several machines would have)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.quota.quotas import Quotas
from bot.quota.rules import Limit
from tests.databases import Database

GUILD, TOTAL, PROCESSES, ATTEMPTS = 1000, 25, 3, 20
REPO = Path(__file__).resolve().parents[2]


async def test_processes_reserving_at_once_spend_a_server_total_exactly(
    database: Database,
) -> None:
    store = await database.open()
    try:
        await Quotas(store).set_limit(GUILD, Limit("ask", "day", TOTAL, "total"), set_by=1)
        where = database.url or str(database.path)
        workers = [
            await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "tests.quota.reserve_worker"),
                *(where, str(GUILD), str(1 + n * ATTEMPTS), str(ATTEMPTS)),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=REPO,
            )
            for n in range(PROCESSES)
        ]
        for worker in workers:  # every worker connected and migrated
            assert worker.stdout is not None
            assert (await asyncio.wait_for(worker.stdout.readline(), 30)).strip() == b"ready"
        for worker in workers:  # then all at once
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        outputs = [await asyncio.wait_for(w.communicate(), 60) for w in workers]
        assert [w.returncode for w in workers] == [0] * PROCESSES
        granted = [int(out.strip()) for out, _ in outputs]
        assert sum(granted) == TOTAL  # 60 asked, exactly the total granted
        counted = await store.fetch_value(
            "SELECT COUNT(*) FROM usage WHERE outcome IN ('reserved', 'ok')"
        )
        assert counted == TOTAL
    finally:
        await store.close()
