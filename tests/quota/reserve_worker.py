"""One bot process's reservations, for tests/quota/test_cross_process.py:

    python -m tests.quota.reserve_worker DATABASE GUILD FIRST_USER ATTEMPTS

DATABASE is a postgresql:// URL or a SQLite path. Waits for a line on stdin (so every worker
starts together), fires ATTEMPTS reservations at once for members FIRST_USER, FIRST_USER+1, ...
in GUILD, and prints how many were granted.
"""

from __future__ import annotations

import asyncio
import sys

from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, QuotaExceeded
from bot.storage.backends import open_store


async def main(database: str, guild: int, first_user: int, attempts: int) -> None:
    url = database if database.startswith("postgresql://") else None
    store = await open_store(url, database)
    try:
        ledger = Ledger(store, Quotas(store))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        results = await asyncio.gather(
            *(
                ledger.reserve(Caller(first_user + i, guild), "ask", 1, None)
                for i in range(attempts)
            ),
            return_exceptions=True,
        )
        assert all(isinstance(r, int | QuotaExceeded) for r in results), results
        print(sum(isinstance(r, int) for r in results), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    database, guild, first_user, attempts = sys.argv[1:5]
    asyncio.run(main(database, int(guild), int(first_user), int(attempts)))
