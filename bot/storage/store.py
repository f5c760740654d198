"""The database the bot keeps its state in: SQLite (one file, the default) or PostgreSQL (shared
by several bot processes). Modules that keep data (history, quotas, settings) take a `Store`
and write one set of SQL for both: `?` placeholders, `ON CONFLICT`, `RETURNING`.

`bot.storage.backends.open_store` picks the backend from the settings; each brings the schema
up to date with the numbered migrations (`bot/storage/migrations.py` for SQLite,
`migrations_pg.py` for PostgreSQL: the same versions, the same tables).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from bot.errors import StorageError

log = logging.getLogger(__name__)

Row = Sequence[Any]
Args = Sequence[Any]
Dialect = Literal["sqlite", "postgresql"]


class SchemaTooNew(StorageError):
    """The database was migrated by a newer nexbot than this one."""


class Queries(ABC):
    """Statements on the database, or on one transaction's connection. A database failure
    (locked, full, unreachable, a broken statement) arrives as `StorageError`."""

    dialect: Dialect

    @abstractmethod
    async def execute(self, sql: str, args: Args = ()) -> int:
        """Run one statement; how many rows it changed."""

    @abstractmethod
    async def execute_many(self, sql: str, rows: Sequence[Args]) -> None:
        """Run one statement once per row of arguments."""

    @abstractmethod
    async def fetch_all(self, sql: str, args: Args = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, args: Args = ()) -> Row | None:
        rows = await self.fetch_all(sql, args)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, args: Args = ()) -> Any:
        """The first column of the first row, or None."""
        row = await self.fetch_one(sql, args)
        return row[0] if row is not None else None

    def floor(self, expression: str) -> str:
        """SQL for the integer floor of a non-negative `expression` (SQLite's CAST truncates,
        PostgreSQL's rounds)."""
        if self.dialect == "postgresql":
            return f"floor({expression})::BIGINT"
        return f"CAST({expression} AS INTEGER)"

    async def lock(self, keys: Sequence[int]) -> None:  # noqa: B027
        """Inside a transaction: hold `keys` (e.g. guild ids) until it ends, so another
        process's transaction that locks one of them waits. SQLite's write lock already holds
        the whole database; PostgreSQL takes advisory locks."""


#: What a change notice calls: with the changed key, or None when any key may have changed.
ChangeListener = Callable[[int | None], None]


class Store(Queries):
    """The database. Statements outside `transaction` are each atomic on their own.

    Change notices keep caches of several processes right: a module that caches what it
    reads (a server's settings, its limits) listens to its topic (`on_change`) and, after
    each write, announces it (`changed`); every process's listeners forget the key.
    """

    def __init__(self) -> None:
        self._listeners: dict[str, list[ChangeListener]] = {}

    def on_change(self, topic: str, listener: ChangeListener) -> None:
        self._listeners.setdefault(topic, []).append(listener)

    async def changed(self, topic: str, key: int) -> None:
        """Tell this process's listeners, then the other processes', that `key` changed."""
        self._tell(topic, key)
        await self._announce(topic, key)

    def _tell(self, topic: str, key: int | None) -> None:
        for listener in self._listeners.get(topic, ()):
            listener(key)

    def _tell_all(self) -> None:
        """Notices may have been missed (a lost connection): every cached key is suspect."""
        for topic in self._listeners:
            self._tell(topic, None)

    async def _announce(self, topic: str, key: int) -> None:
        """Tell the other processes. SQLite has no channel for it: processes sharing a file
        see another's change when their caches expire (`LoadingCache`'s ttl_s)."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Queries]:
        """One transaction that takes the write lock at once (SQLite: `BEGIN IMMEDIATE`;
        PostgreSQL: a pooled connection, with `Queries.lock` for what must not interleave
        across processes). Commits when the block ends, rolls back if it raises."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    async def get_meta(self, key: str) -> str | None:
        value = await self.fetch_value("SELECT value FROM meta WHERE key = ?", (key,))
        return str(value) if value is not None else None

    async def set_meta(self, key: str, value: str) -> None:
        await self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def check_version(current: int, known: int, where: str) -> None:
    """Refuse a database that a newer nexbot migrated past what this code knows."""
    if current > known:
        raise SchemaTooNew(
            f"{where} is at schema version {current}, but this nexbot knows only {known}:"
            " it was used by a newer nexbot. Run that version, or restore a backup."
        )


def redact_url(url: str) -> str:
    """`url` without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
