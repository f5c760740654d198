"""Store, on both backends: migrations recorded and idempotent, the same schema on each, a
database newer than the code refused, metadata, errors as StorageError; SQLite's WAL and busy
timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import aiosqlite
import pytest

from bot.errors import StorageError
from bot.storage import migrations as migrations
from bot.storage import migrations_pg as migrations_pg
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import SchemaTooNew, Store, redact_url
from tests.databases import Database


async def columns(store: Store) -> set[tuple[str, str]]:
    """(table, column) of every table the migrations made."""
    if store.dialect == "postgresql":
        sql = (
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )
    else:
        sql = (
            "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p"
            " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        )
    return {(str(table), str(column)) for table, column in await store.fetch_all(sql)}


async def test_both_backends_have_the_same_migrations_and_schema(store: Store) -> None:
    assert len(migrations.MIGRATIONS) == len(migrations_pg.MIGRATIONS)
    assert await store.schema_version() == len(migrations.MIGRATIONS)
    found = await columns(store)
    assert ("usage", "tokens_estimated") in found
    assert ("usage_counters", "window_start") in found
    reference = await SQLiteStore.open(":memory:")
    try:
        assert found == await columns(reference)
    finally:
        await reference.close()


async def test_opening_twice_applies_nothing_again(database: Database) -> None:
    await (await database.open()).close()
    store = await database.open()
    try:
        rows = await store.fetch_value("SELECT COUNT(*) FROM schema_version")
        assert rows == len(migrations.MIGRATIONS)
    finally:
        await store.close()


async def test_a_failing_migration_leaves_no_half_applied_schema(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, known = (
        ("bot.storage.postgres", migrations_pg.MIGRATIONS)
        if database.url
        else ("bot.storage.sqlite", migrations.MIGRATIONS)
    )
    broken = (*known, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    monkeypatch.setattr(f"{module}.MIGRATIONS", broken)
    with pytest.raises((StorageError, aiosqlite.Error)):
        await database.open()
    monkeypatch.undo()
    store = await database.open()
    try:
        assert await store.schema_version() == len(known)
        assert ("half", "x") not in await columns(store)
    finally:
        await store.close()


async def test_a_database_newer_than_the_code_is_refused_with_a_clear_line(
    database: Database,
) -> None:
    store = await database.open()
    await store.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
        (len(migrations.MIGRATIONS) + 1, 0.0),
    )
    await store.close()
    with pytest.raises(SchemaTooNew, match="newer nexbot") as refused:
        await database.open()
    if database.url:
        password = urlsplit(database.url).password
        assert password and f":{password}@" not in str(refused.value)


async def test_meta_values_are_stored_and_replaced(store: Store) -> None:
    assert await store.get_meta("k") is None
    await store.set_meta("k", "1")
    await store.set_meta("k", "2")
    assert await store.get_meta("k") == "2"


async def test_a_broken_statement_is_a_storage_error_and_the_store_goes_on(store: Store) -> None:
    with pytest.raises(StorageError):
        await store.execute("INSERT INTO no_such_table VALUES (1)")
    with pytest.raises(StorageError):
        async with store.transaction() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
            await db.execute("INSERT INTO meta (key, value) VALUES ('a', 'again')")
    assert await store.get_meta("a") is None  # the transaction rolled back whole
    await store.set_meta("a", "c")
    assert await store.get_meta("a") == "c"


async def test_placeholders_inside_string_literals_are_left_alone(store: Store) -> None:
    await store.execute("INSERT INTO meta (key, value) VALUES (?, 'what?')", ("q",))
    assert await store.get_meta("q") == "what?"


def test_a_database_url_is_shown_without_its_password() -> None:
    shown = redact_url("postgresql://bot:s3cret@db.example:5432/nexbot")
    assert shown == "postgresql://bot:***@db.example:5432/nexbot"
    assert redact_url("postgresql://db.example/nexbot") == "postgresql://db.example/nexbot"


# -- SQLite only ----------------------------------------------------------------------------


async def test_a_new_sqlite_database_uses_wal(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "a.db")
    try:
        assert await store.fetch_all("PRAGMA journal_mode") == [("wal",)]
    finally:
        await store.close()


async def test_busy_timeout_is_set_when_opening(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "a.db", busy_timeout_ms=250)
    try:
        assert await store.fetch_all("PRAGMA busy_timeout") == [(250,)]
    finally:
        await store.close()


async def test_a_locked_database_fails_a_transaction_with_a_storage_error(tmp_path: Path) -> None:
    """Should wait out the busy timeout, then raise StorageError (not hang, not sqlite3's own)."""
    path = tmp_path / "a.db"
    store = await SQLiteStore.open(path, busy_timeout_ms=50)
    try:
        async with aiosqlite.connect(path, isolation_level=None) as other:
            await other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StorageError, match="database is locked"):
                async with store.transaction() as db:
                    await db.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
            await other.rollback()
        async with store.transaction() as db:  # and works again once the lock is gone
            await db.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
        assert await store.get_meta("a") == "b"
    finally:
        await store.close()


async def test_processes_opening_a_new_database_together_migrate_it_once(
    database: Database,
) -> None:
    opened = await asyncio.gather(*(database.open() for _ in range(4)))
    try:
        for store in opened:
            assert await store.schema_version() == len(migrations.MIGRATIONS)
        assert await opened[0].fetch_value("SELECT COUNT(*) FROM schema_version") == len(
            migrations.MIGRATIONS
        )
    finally:
        for store in opened:
            await store.close()
