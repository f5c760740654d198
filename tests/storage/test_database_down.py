"""PostgreSQL going away and coming back (through a proxy the test cuts): every call fails
quickly with StorageError while it is gone, and the store works again by itself after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.errors import StorageError
from bot.storage.postgres import PostgresStore
from tests.databases import Database
from tests.proxy import CuttableProxy


@pytest.fixture
async def proxy(postgres_database: Database) -> AsyncIterator[CuttableProxy]:
    assert postgres_database.url is not None
    proxy = CuttableProxy.for_url(postgres_database.url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.cut()


async def test_a_database_that_goes_away_fails_fast_and_is_used_again_when_back(
    postgres_database: Database, proxy: CuttableProxy
) -> None:
    assert postgres_database.url is not None
    store = await PostgresStore.open(proxy.url(postgres_database.url))
    try:
        await store.set_meta("k", "before")
        await proxy.cut()
        for attempt in range(3):  # the pool's broken connections, then refused new ones
            started = time.monotonic()
            with pytest.raises(StorageError):
                if attempt == 1:
                    async with store.transaction() as db:
                        await db.execute("INSERT INTO meta (key, value) VALUES ('t', 'x')")
                else:
                    await store.get_meta("k")
            assert time.monotonic() - started < 2.0
        await proxy.start()
        async with asyncio.timeout(10):
            while True:
                try:
                    if await store.get_meta("k") == "before":
                        break
                except StorageError:
                    await asyncio.sleep(0.1)
            await store.listening.wait()  # change notices are heard again
        await store.set_meta("k", "after")
        assert await store.get_meta("k") == "after"
    finally:
        await store.close()
