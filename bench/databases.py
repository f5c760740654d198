"""The database a benchmark runs on: a SQLite file in its folder, or a PostgreSQL schema of its
own on the server ``--database-url`` names, dropped (with everything in it) at the end.

``python -m bench.quota_load --database-url postgresql://user:pass@127.0.0.1/db`` never
touches the tables already in that database: asyncpg connects with ``search_path`` set to a
fresh ``bench_<hex>`` schema, so the bot's migrations and every row land there.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.storage.backends import open_store
from bot.storage.store import Store, redact_url
from tests.databases import create_schema, drop_schema

SCHEMA_PREFIX = "bench_"


@dataclass(frozen=True)
class BenchDatabase:
    """Where the bench's stores go: ``url`` (PostgreSQL, its own schema) or ``path`` (SQLite)."""

    path: Path
    url: str | None = None

    @property
    def backend(self) -> str:
        return "PostgreSQL" if self.url else "SQLite"

    @property
    def target(self) -> str:
        """What a worker or bot process is given: the URL or the file."""
        return self.url or str(self.path)

    def describe(self) -> str:
        return f"PostgreSQL ({redact_url(self.url)})" if self.url else "SQLite (WAL, one file)"

    async def open(self) -> Store:
        return await open_store(self.url, self.path)


async def open_target(target: str) -> Store:
    """A worker's store: a PostgreSQL URL, else a SQLite file path."""
    if target.startswith(("postgresql://", "postgres://")):
        return await open_store(target)
    return await open_store(None, Path(target))


@contextlib.asynccontextmanager
async def scratch_database(
    server_url: str | None, folder: Path, file_name: str = "nexbot.db"
) -> AsyncIterator[BenchDatabase]:
    """A SQLite file in ``folder``, or a new schema on ``server_url`` that is dropped after."""
    path = folder / file_name
    if not server_url:
        yield BenchDatabase(path)
        return
    schema, url = await create_schema(server_url, prefix=SCHEMA_PREFIX)
    try:
        yield BenchDatabase(path, url)
    finally:
        await drop_schema(server_url, schema)
