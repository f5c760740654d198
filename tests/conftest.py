"""Fixtures for every test package: the database under test, on each backend; and checks that
hold for every test module."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store
from tests.databases import BACKENDS, Database, create_schema, drop_schema, postgres_server_url
from tests.processes import chart_processes


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database on each backend: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield Database("sqlite", tmp_path / "nexbot.db")
        return
    server = postgres_server_url()
    schema, url = await create_schema(server)
    try:
        yield Database("postgresql", tmp_path / "unused.db", url)
    finally:
        await drop_schema(server, schema)


@pytest.fixture
async def store(database: Database) -> AsyncIterator[Store]:
    """The bot's store on `database`, migrated."""
    opened = await database.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLite store, for what only SQLite has (its statement trace, PRAGMAs)."""
    opened = await SQLiteStore.open(tmp_path / "nexbot.db")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="module", autouse=True)
def _no_chart_process_left() -> Iterator[None]:
    """Every drawing process a module's tests start (their own `ChartRenderer`s, or a bot's)
    must have ended once the module's fixtures are torn down. One left running is killed, so
    it can't outlive the run, and reported."""
    before = set(chart_processes())
    yield
    left = [pid for pid in chart_processes() if pid not in before]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"chart processes left running: {left}"


@pytest.fixture
async def postgres_database(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh PostgreSQL schema, for what only PostgreSQL does (change notices)."""
    server = postgres_server_url()
    schema, url = await create_schema(server)
    try:
        yield Database("postgresql", tmp_path / "unused.db", url)
    finally:
        await drop_schema(server, schema)
