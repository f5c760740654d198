"""Which backend the settings select: `open_store`.

The PostgreSQL backend (and asyncpg, about 3 MiB) is imported only when `DATABASE_URL`
selects it.
"""

from __future__ import annotations

from pathlib import Path

from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store


async def open_store(
    database_url: str | None = None,
    database_path: Path | str = "nexbot.db",
    *,
    busy_timeout_ms: int | None = None,
    pool_size: int | None = None,
) -> Store:
    """PostgreSQL when `database_url` is set, else the SQLite file at `database_path`."""
    if database_url:
        from bot.storage.postgres import PostgresStore

        pg_options = {"pool_size": pool_size} if pool_size else {}
        return await PostgresStore.open(database_url, **pg_options)
    sqlite_options = {"busy_timeout_ms": busy_timeout_ms} if busy_timeout_ms is not None else {}
    return await SQLiteStore.open(database_path, **sqlite_options)
