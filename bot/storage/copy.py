"""Moving a SQLite database to PostgreSQL (`nexbot migrate-db --to postgresql://...`).

Both are first brought to the latest schema (the same numbered migrations), then every table
is copied row for row in one PostgreSQL transaction: memory, the ledger with its ids and its
running counters (the counter trigger is paused meanwhile, so the counters are the source's,
not recounted), limits, exempt roles, settings and the rest. A target that already holds data
is refused; a failure leaves it as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.errors import StorageError
from bot.storage.postgres import PostgresStore
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Queries

log = logging.getLogger(__name__)

#: Rows sent per statement batch.
BATCH = 5_000
#: Tables whose rows describe a running process, not state worth keeping.
SKIPPED = frozenset({"schema_version", "processes"})
#: Tables whose `id` is an identity: the next id continues after the copied ones.
IDENTITIES = ("messages", "usage")


class TargetNotEmpty(StorageError):
    """The PostgreSQL database already has data: copying would mix two bots' state."""


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{table} {count}" for table, count in self.rows.items())


async def copy_database(source: SQLiteStore, target: PostgresStore) -> Copied:
    """Copy every table of `source` into the empty `target` (both migrated)."""
    tables = [
        str(name)
        for (name,) in await source.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        if name not in SKIPPED
    ]
    copied: dict[str, int] = {}
    async with target.transaction() as db:
        for table in tables:
            if await db.fetch_value(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                raise TargetNotEmpty(
                    f"the PostgreSQL database already has rows in {table}: copy into an empty one"
                )
        await db.execute("ALTER TABLE usage DISABLE TRIGGER usage_counters_track")
        for table in tables:
            copied[table] = await _copy_table(source, db, table)
        await db.execute("ALTER TABLE usage ENABLE TRIGGER usage_counters_track")
        for table in IDENTITIES:
            await db.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
    log.info("Copied the SQLite database to PostgreSQL: %s", Copied(copied))
    return Copied(copied)


async def _copy_table(source: SQLiteStore, target: Queries, table: str) -> int:
    info = await source.fetch_all(f"PRAGMA table_info({table})")  # cid, name, type, ..., pk
    columns = [str(row[1]) for row in info]
    key = ", ".join(str(row[1]) for row in sorted(info, key=lambda r: r[5]) if row[5]) or "rowid"
    names = ", ".join(columns)
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    count = 0
    while True:  # a batch at a time, so a big ledger never sits whole in memory
        rows = await source.fetch_all(
            f"SELECT {names} FROM {table} ORDER BY {key} LIMIT {BATCH} OFFSET {count}"
        )
        if not rows:
            return count
        await target.execute_many(insert, [tuple(row) for row in rows])
        count += len(rows)
