"""The embedded backend: one SQLite file, one aiosqlite connection, WAL."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bot.errors import StorageError
from bot.storage.migrations import MIGRATIONS
from bot.storage.store import Args, Queries, Row, Store, check_version

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a statement waits for another connection's lock before it fails.
BUSY_TIMEOUT_MS = 5_000
#: How long opening waits for other processes migrating the same new file.
MIGRATION_WAIT_S = 60.0


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn a database failure (locked, read-only, full, damaged, closed: aiosqlite's
    ValueError) into a `StorageError`."""
    try:
        yield
    except (sqlite3.Error, ValueError) as exc:
        raise StorageError(f"{type(exc).__name__}: {exc}") from exc


class _Statements(Queries):
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, args: Args = ()) -> int:
        with storage_errors():
            cursor = await self.conn.execute(sql, args)
            return cursor.rowcount

    async def execute_many(self, sql: str, rows: Sequence[Args]) -> None:
        with storage_errors():
            await self.conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, args: Args = ()) -> list[Row]:
        with storage_errors():
            return list(await self.conn.execute_fetchall(sql, args))


class SQLiteStore(_Statements, Store):
    """Owns the connection (`conn`, for SQLite-only tools and tests)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        _Statements.__init__(self, conn)
        Store.__init__(self)
        self._transaction_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> SQLiteStore:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            # Switching a new file to WAL fails at once (no busy wait) while another process
            # opening it too holds its lock: try again until that process is done.
            deadline = time.monotonic() + MIGRATION_WAIT_S
            await _patiently(lambda: conn.execute("PRAGMA journal_mode = WAL"), deadline)
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn)
            await store.migrate(where=str(path))
        except BaseException:
            await conn.close()
            raise
        return store

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, never interleaved with another transaction.

        aiosqlite runs one connection's statements in order, but coroutines can interleave
        between the statements of a transaction on the shared connection; the lock keeps
        transactions apart. Writers outside a transaction must be single statements: one that
        lands inside a transaction is committed with it. So a transaction rolls back only on
        an exception (a database error or cancellation), never as a way to say "no".
        """
        async with self._transaction_lock:
            with storage_errors():
                await self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self
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

    async def migrate(self, where: str = "The database") -> int:
        """Apply pending migrations, each in one transaction. Safe to run any number of times,
        also by several processes opening a new file at once: each migration records its
        version first, so of two processes applying it, the second fails on that row (and
        rolls back) instead of on the migration's tables, and goes on from the new version."""
        deadline = time.monotonic() + MIGRATION_WAIT_S
        while (current := await _patiently(self.schema_version, deadline)) < len(MIGRATIONS):
            version = current + 1
            try:
                await self.conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    "INSERT INTO schema_version (version, applied_at)"
                    f" VALUES ({version}, {time.time()});\n"
                    f"{MIGRATIONS[version - 1]}\n"
                    "COMMIT;"
                )
            except Exception as error:
                if self.conn.in_transaction:
                    await self.conn.rollback()
                if isinstance(error, sqlite3.IntegrityError) and (
                    await self.schema_version() >= version
                ):
                    continue  # another process applied it meanwhile
                waiting = isinstance(error, sqlite3.OperationalError) and _locked(error)
                if waiting and time.monotonic() <= deadline:
                    continue  # another process is migrating: wait for it, then go on
                raise
            log.info("Database migrated to schema version %s", version)
        check_version(current, len(MIGRATIONS), where)
        return len(MIGRATIONS)


async def _patiently(call: Callable[[], Awaitable[T]], deadline: float) -> T:
    """`call()`, again past a busy timeout while another process opens or migrates the file."""
    while True:
        try:
            return await call()
        except sqlite3.OperationalError as error:
            if not _locked(error) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def _locked(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


__all__ = ["BUSY_TIMEOUT_MS", "SQLiteStore", "StorageError", "storage_errors"]
