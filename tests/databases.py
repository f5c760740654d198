"""Databases for tests: a SQLite file, or a PostgreSQL schema of its own on a real server.

The server is the one `NEXBOT_TEST_POSTGRES_URL` names (`.ci/postgres` starts one on loopback
and prints its URL). Without it the PostgreSQL cases are skipped, except in CI (`CI` set),
where a missing server fails them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

from bot.storage.backends import open_store
from bot.storage.store import Store

POSTGRES_URL_VARIABLE = "NEXBOT_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    message = f"no PostgreSQL server: set {POSTGRES_URL_VARIABLE} (.ci/postgres starts one)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"search_path": schema})) if q)
    return urlunsplit(parts._replace(query=query))


@dataclass
class Database:
    """One test's database: `url` (PostgreSQL) or `path` (SQLite), opened as often as asked."""

    backend: str
    path: Path
    url: str | None = None

    async def open(self) -> Store:
        return await open_store(self.url, self.path)


async def create_schema(server_url: str, prefix: str = "test_") -> tuple[str, str]:
    """A new empty schema; (its name, a URL whose connections use it)."""
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return schema, with_search_path(server_url, schema)


async def drop_schema(server_url: str, schema: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
