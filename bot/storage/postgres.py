"""The shared backend: PostgreSQL through an asyncpg pool, for several bot processes on one
database (`DATABASE_URL`).

asyncpg rather than SQLAlchemy: the bot's SQL is a few dozen plain statements that both
databases accept as written (`?` placeholders become `$n` here), so a query builder would add
a dependency and a layer without removing a line of SQL.

Across processes: statements are atomic on their own, `transaction` holds one pooled
connection, and `lock` takes transaction-scoped advisory locks (in sorted order, so two
transactions never wait on each other in a circle). Migrations run under a session advisory
lock, so processes starting together migrate once. A broken connection is replaced by the
pool on the next use: when the server comes back, so does the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager

import asyncpg

from bot.errors import StorageError
from bot.storage.migrations_pg import MIGRATIONS
from bot.storage.store import Args, Queries, Row, Store, check_version, redact_url

log = logging.getLogger(__name__)

#: Connections per process.
POOL_SIZE = 10
#: How long a statement, or a wait for a free connection, may take.
STATEMENT_TIMEOUT_S = 10.0
#: The first key of nexbot's advisory locks (the second is the locked id, folded to 32 bits).
LOCK_NAMESPACE = 0x6E78  # "nx"
#: The advisory lock held while migrating.
MIGRATION_LOCK = 0x6E78_0001
#: The channel of change notices between processes ("topic:key").
CHANGES_CHANNEL = "nexbot_changes"
#: How long to wait before listening again after the listening connection was lost.
RELISTEN_S = 2.0

_STRING_OR_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?")


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """`sql` with its `?` placeholders numbered as PostgreSQL wants them ($1, $2, ...)."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() != "?":
            return match.group()  # a string literal, kept as written
        count += 1
        return f"${count}"

    return _STRING_OR_PLACEHOLDER.sub(number, sql)


def rows_changed(status: str) -> int:
    """The row count of an asyncpg status line ("INSERT 0 3", "UPDATE 2", "DELETE 0")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def lock_key(key: int) -> int:
    """A 64-bit id folded into the signed 32 bits of an advisory lock's second key."""
    folded = (key ^ (key >> 32)) & 0xFFFF_FFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


@contextmanager
def storage_errors() -> Iterator[None]:
    """A server error, a lost connection or a timeout as a `StorageError`."""
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        raise StorageError(f"{type(exc).__name__}: {exc}") from exc


class _Connection(Queries):
    """One transaction's connection."""

    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, args: Args = ()) -> int:
        with storage_errors():
            return rows_changed(
                await self._conn.execute(numbered(sql), *args, timeout=STATEMENT_TIMEOUT_S)
            )

    async def execute_many(self, sql: str, rows: Sequence[Args]) -> None:
        with storage_errors():
            await self._conn.executemany(numbered(sql), rows, timeout=STATEMENT_TIMEOUT_S)

    async def fetch_all(self, sql: str, args: Args = ()) -> list[Row]:
        with storage_errors():
            return list(await self._conn.fetch(numbered(sql), *args, timeout=STATEMENT_TIMEOUT_S))

    async def lock(self, keys: Sequence[int]) -> None:
        with storage_errors():
            for key in sorted({lock_key(key) for key in keys}):
                await self._conn.execute(
                    "SELECT pg_advisory_xact_lock($1, $2)",
                    LOCK_NAMESPACE,
                    key,
                    timeout=STATEMENT_TIMEOUT_S,
                )


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        super().__init__()
        self._pool = pool
        self.url = url
        self._listening: asyncio.Task[None] | None = None
        self._listener_lost = asyncio.Event()
        #: Set while change notices are heard (`open` waits for it, so caches start right).
        self.listening = asyncio.Event()

    @classmethod
    async def open(cls, url: str, *, pool_size: int = POOL_SIZE) -> PostgresStore:
        shown = redact_url(url)
        with storage_errors():
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=STATEMENT_TIMEOUT_S,
                command_timeout=STATEMENT_TIMEOUT_S,
            )
        store = cls(pool, url)
        try:
            await store.migrate(where=shown)
        except BaseException:
            await pool.close()
            raise
        store._listening = asyncio.create_task(store._listen(), name="database-changes")
        try:
            async with asyncio.timeout(STATEMENT_TIMEOUT_S):
                await store.listening.wait()
        except TimeoutError:
            log.warning("Not yet listening for other processes' changes; caches expire meanwhile")
        log.info("Database: PostgreSQL at %s", shown)
        return store

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        try:
            async with asyncio.timeout(STATEMENT_TIMEOUT_S):
                await self._pool.close()
        except TimeoutError:
            self._pool.terminate()

    async def execute(self, sql: str, args: Args = ()) -> int:
        with storage_errors():
            return rows_changed(
                await self._pool.execute(numbered(sql), *args, timeout=STATEMENT_TIMEOUT_S)
            )

    async def execute_many(self, sql: str, rows: Sequence[Args]) -> None:
        with storage_errors():
            await self._pool.executemany(numbered(sql), rows, timeout=STATEMENT_TIMEOUT_S)

    async def fetch_all(self, sql: str, args: Args = ()) -> list[Row]:
        with storage_errors():
            return list(await self._pool.fetch(numbered(sql), *args, timeout=STATEMENT_TIMEOUT_S))

    async def _announce(self, topic: str, key: int) -> None:
        await self.execute("SELECT pg_notify(?, ?)", (CHANGES_CHANNEL, f"{topic}:{key}"))

    async def _listen(self) -> None:
        """Hold a connection of its own that LISTENs for other processes' change notices;
        when it is lost, listen again (every cached key is suspect after a gap)."""
        while True:
            try:
                conn = await asyncpg.connect(self.url, timeout=STATEMENT_TIMEOUT_S)
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.warning("Cannot listen for database changes (%s); retrying", error)
                await asyncio.sleep(RELISTEN_S)
                continue
            self._listener_lost.clear()
            conn.add_termination_listener(lambda _: self._listener_lost.set())
            try:
                await conn.add_listener(CHANGES_CHANNEL, self._on_notice)
                self._tell_all()  # what changed while nobody listened
                self.listening.set()
                await self._listener_lost.wait()
                log.warning("Lost the database connection that listens for changes")
            finally:
                self.listening.clear()
                await conn.close(timeout=STATEMENT_TIMEOUT_S)
            await asyncio.sleep(RELISTEN_S)

    def _on_notice(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        topic, _, key = str(payload).rpartition(":")
        if key.lstrip("-").isdigit():
            self._tell(topic, int(key))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Queries]:
        with storage_errors():
            async with (
                self._pool.acquire(timeout=STATEMENT_TIMEOUT_S) as conn,
                conn.transaction(),
            ):
                yield _Connection(conn)

    async def schema_version(self) -> int:
        with storage_errors():
            async with self._pool.acquire(timeout=STATEMENT_TIMEOUT_S) as conn:
                return await _schema_version(conn)

    async def migrate(self, where: str = "The database") -> int:
        """Apply pending migrations, each in one transaction, one process at a time."""
        with storage_errors():
            async with self._pool.acquire(timeout=STATEMENT_TIMEOUT_S) as conn:
                await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
                try:
                    current = await _schema_version(conn)
                    check_version(current, len(MIGRATIONS), where)
                    for version, script in enumerate(MIGRATIONS, start=1):
                        if version <= current:
                            continue
                        async with conn.transaction():
                            await conn.execute(script)
                            await conn.execute(
                                "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                                version,
                                time.time(),
                            )
                        log.info("Database migrated to schema version %s", version)
                finally:
                    await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        return len(MIGRATIONS)


async def _schema_version(conn: asyncpg.Connection) -> int:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
    )
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
