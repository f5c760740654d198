"""Identify slots in `meta`: one atomic statement takes a bucket's slot when it is free."""

from __future__ import annotations

import pytest

from bot.storage.identify_slots import IdentifySlots
from bot.storage.store import Store
from tests.databases import Database


async def test_a_free_slot_is_taken_and_then_held_until_its_time_is_up(store: Store) -> None:
    slots = IdentifySlots(store)
    assert await slots.claim(0, now=100.0, hold_s=5.5) is None
    assert await slots.claim(0, now=103.0, hold_s=5.5) == pytest.approx(105.5)
    assert await slots.claim(0, now=105.5, hold_s=5.5) is None
    assert await store.get_meta("identify_slot:0") == repr(111.0)


async def test_buckets_have_their_own_slots(store: Store) -> None:
    slots = IdentifySlots(store)
    assert await slots.claim(0, now=100.0, hold_s=5.5) is None
    assert await slots.claim(1, now=100.0, hold_s=5.5) is None


async def test_two_connections_to_one_database_get_one_slot(database: Database) -> None:
    """Two processes share the database: only one of them takes the slot."""
    first, second = await database.open(), await database.open()
    try:
        results = [
            await IdentifySlots(first).claim(0, now=100.0, hold_s=5.5),
            await IdentifySlots(second).claim(0, now=100.1, hold_s=5.5),
        ]
        assert results == [None, pytest.approx(105.5)]
    finally:
        await first.close()
        await second.close()
