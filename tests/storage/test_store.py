"""Store: WAL, migrations recorded and idempotent, metadata."""

from pathlib import Path

import aiosqlite
import pytest

from bot.errors import StorageError
from bot.storage import migrations as migrations
from bot.storage.store import Store


async def test_new_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db")
    try:
        assert await store.schema_version() == len(migrations.MIGRATIONS)
        async with store.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone()) == ("wal",)
    finally:
        await store.close()


async def test_opening_twice_applies_nothing_again(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    await (await Store.open(path)).close()
    store = await Store.open(path)
    try:
        async with store.conn.execute("SELECT COUNT(*) FROM schema_version") as cur:
            assert (await cur.fetchone()) == (len(migrations.MIGRATIONS),)
    finally:
        await store.close()


async def test_a_failing_migration_leaves_no_half_applied_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = (*migrations.MIGRATIONS, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL;")
    monkeypatch.setattr("bot.storage.store.MIGRATIONS", broken)
    with pytest.raises(aiosqlite.Error):
        await Store.open(tmp_path / "b.db")
    monkeypatch.setattr("bot.storage.store.MIGRATIONS", migrations.MIGRATIONS)
    store = await Store.open(tmp_path / "b.db")
    try:
        assert await store.schema_version() == len(migrations.MIGRATIONS)
        async with store.conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'") as cur:
            assert await cur.fetchone() is None
    finally:
        await store.close()


async def test_meta_values_are_stored_and_replaced(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "c.db")
    try:
        assert await store.get_meta("k") is None
        await store.set_meta("k", "1")
        await store.set_meta("k", "2")
        assert await store.get_meta("k") == "2"
    finally:
        await store.close()


async def test_busy_timeout_is_set_when_opening(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a.db", busy_timeout_ms=250)
    try:
        async with store.conn.execute("PRAGMA busy_timeout") as cur:
            assert (await cur.fetchone()) == (250,)
    finally:
        await store.close()


async def test_a_locked_database_fails_a_transaction_with_a_storage_error(tmp_path: Path) -> None:
    """Should wait out the busy timeout, then raise StorageError (not hang, not sqlite3's own)."""
    path = tmp_path / "a.db"
    store = await Store.open(path, busy_timeout_ms=50)
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
