"""LoadingCache: one load per missing key, shared by every caller waiting on it."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage.cache import LoadingCache


class Loads:
    """A load that counts its calls and finishes when the test says so."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self, key: int) -> str:
        self.calls.append(key)
        number = len(self.calls)
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database is locked")
        return f"value {key} #{number}"


async def test_callers_missing_the_same_key_together_share_one_load() -> None:
    load = Loads()
    cache = LoadingCache(load)
    waiting = [asyncio.ensure_future(cache.get(key)) for key in [1] * 200 + [2] * 200]
    await asyncio.sleep(0)
    load.release.set()
    values = await asyncio.gather(*waiting)
    assert load.calls == [1, 2]
    assert set(values) == {"value 1 #1", "value 2 #2"}


async def test_a_loaded_value_is_kept_until_forgotten() -> None:
    load = Loads()
    load.release.set()
    cache = LoadingCache(load)
    assert await cache.get(1) == "value 1 #1"
    assert await cache.get(1) == "value 1 #1"
    cache.forget(1)
    assert await cache.get(1) == "value 1 #2"


async def test_a_failed_load_fails_its_waiters_and_is_not_kept() -> None:
    load = Loads()
    load.fail = True
    cache = LoadingCache(load)
    waiting = [asyncio.ensure_future(cache.get(1)) for _ in range(3)]
    await asyncio.sleep(0)
    load.release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError] * 3
    load.fail = False
    assert await cache.get(1) == "value 1 #2"


async def test_a_caller_giving_up_does_not_cancel_the_load_for_the_others() -> None:
    load = Loads()
    cache = LoadingCache(load)
    patient = asyncio.ensure_future(cache.get(1))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await cache.get(1)
    load.release.set()
    assert await patient == "value 1 #1"
    assert load.calls == [1]


async def test_a_load_that_raced_a_change_is_not_kept_nor_shared_after_it() -> None:
    load = Loads()
    cache = LoadingCache(load)
    before = asyncio.ensure_future(cache.get(1))
    await asyncio.sleep(0)
    cache.forget(1)  # a moderator changed the setting while the old value was loading
    after = asyncio.ensure_future(cache.get(1))
    await asyncio.sleep(0)
    load.release.set()
    assert await before == "value 1 #1"
    assert await after == "value 1 #2"
    assert await cache.get(1) == "value 1 #2"


async def test_a_value_expires_after_its_ttl_and_forgetting_none_drops_every_value() -> None:
    load = Loads()
    load.release.set()
    now = [100.0]
    cache = LoadingCache(load, ttl_s=30, clock=lambda: now[0])
    assert await cache.get(1) == "value 1 #1"
    now[0] += 29
    assert await cache.get(1) == "value 1 #1"
    now[0] += 2  # another process sharing a SQLite file may have changed it meanwhile
    assert await cache.get(1) == "value 1 #2"
    assert await cache.get(2) == "value 2 #3"
    cache.forget(None)  # change notices may have been missed
    assert [await cache.get(1), await cache.get(2)] == ["value 1 #4", "value 2 #5"]
