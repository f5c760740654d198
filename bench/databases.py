"""The database a benchmark runs on: a SQLite file in its folder, or a PostgreSQL schema of its
own on the server ``--database-url`` names, dropped (with everything in it) at the end.

``python -m bench.quota_load --database-url postgresql://user:pass@127.0.0.1/db`` never
touches the tables already in that database: asyncpg connects with ``search_path`` set to a
fresh ``bench_<hex>`` schema, so the bot's migrations and every row land there.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg

from bot.storage.backends import open_store
from bot.storage.store import Store, redact_url

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


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` (asyncpg passes ``search_path`` on)."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"search_path": schema})) if q)
    return urlunsplit(parts._replace(query=query))


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
    schema = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    try:
        yield BenchDatabase(path, with_search_path(server_url, schema))
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()
