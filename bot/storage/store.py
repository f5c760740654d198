"""The SQLite database: one aiosqlite connection, WAL, and numbered migrations at start."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiosqlite

from bot.errors import StorageError
from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)

#: How long a statement waits for another connection's lock before it fails.
BUSY_TIMEOUT_MS = 5_000


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn a database failure (locked, read-only, full, damaged) into a `StorageError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"{type(exc).__name__}: {exc}") from exc


class Store:
    """Owns the connection. Modules that keep data (history, quotas) take a Store."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._transaction_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Store:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn)
            await store.migrate()
        except BaseException:
            await conn.close()
            raise
        return store

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, never interleaved with another transaction.

        aiosqlite runs one connection's statements in order, but coroutines can interleave
        between the statements of a transaction on the shared connection; the lock keeps
        transactions apart. Writers outside a transaction must be single statements: one that
        lands inside a transaction is committed with it. So a transaction rolls back only on
        an exception (a database error or cancellation), never as a way to say "no".
        A database error arrives as `StorageError`.
        """
        async with self._transaction_lock:
            with storage_errors():
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                    await self.conn.commit()
                except BaseException:
                    if self.conn.in_transaction:
                        await self.conn.rollback()
                    raise

    async def schema_version(self) -> int:
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        async with self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply pending migrations, each in one transaction. Safe to run any number of times."""
        current = await self.schema_version()
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            try:
                await self.conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\n"
                    "INSERT INTO schema_version (version, applied_at)"
                    f" VALUES ({version}, {time.time()});\n"
                    "COMMIT;"
                )
            except Exception:
                if self.conn.in_transaction:
                    await self.conn.rollback()
                raise
            log.info("Database migrated to schema version %s", version)
        return len(MIGRATIONS)

    async def get_meta(self, key: str) -> str | None:
        async with self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def set_meta(self, key: str, value: str) -> None:
        await self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
