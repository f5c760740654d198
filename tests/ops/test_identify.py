"""Identify pacing: a shard waits, logged, for its bucket's slot; budget warnings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.errors import StorageError
from bot.ops.identify import IDENTIFY_WINDOW_S, IdentifyPacer, budget_warning
from bot.storage.identify_slots import IdentifySlots
from bot.storage.sqlite import SQLiteStore


class Clock:
    """time.time() and asyncio.sleep() on a clock that only sleeping moves."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest_asyncio.fixture
async def slots(tmp_path: Path) -> AsyncIterator[IdentifySlots]:
    store = await SQLiteStore.open(tmp_path / "pace.db")
    yield IdentifySlots(store)
    await store.close()


async def test_shards_of_one_bucket_identify_a_window_apart(
    slots: IdentifySlots, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    pacer = IdentifyPacer(slots, 1, clock=clock, sleep=clock.sleep)
    caplog.set_level(logging.INFO, "bot.ops.identify")
    assert await pacer.wait_turn(0) == 0
    assert await pacer.wait_turn(1) > IDENTIFY_WINDOW_S
    assert "Shard 1 waits 5.5 s to identify: bucket 0 is in use until" in caplog.text
    assert "Shard 1 identifies (bucket 0, waited 5.5 s)" in caplog.text


async def test_shards_of_other_buckets_identify_at_once(slots: IdentifySlots) -> None:
    clock = Clock()
    pacer = IdentifyPacer(slots, 2, clock=clock, sleep=clock.sleep)
    assert [await pacer.wait_turn(shard) for shard in (0, 1)] == [0, 0]
    assert await pacer.wait_turn(2) > IDENTIFY_WINDOW_S  # bucket 0 again


async def test_a_pacer_in_another_process_waits_for_the_slot_this_one_holds(
    slots: IdentifySlots,
) -> None:
    clock = Clock()
    here = IdentifyPacer(slots, 1, clock=clock, sleep=clock.sleep)
    there = IdentifyPacer(slots, 1, clock=clock, sleep=clock.sleep)
    await here.wait_turn(0)
    clock.now += 2
    assert await there.wait_turn(1) == pytest.approx(3.5)


async def test_without_the_database_a_shard_waits_one_window_and_goes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(IdentifySlots):
        def __init__(self) -> None:
            pass

        async def claim(self, bucket: int, *, now: float, hold_s: float) -> float | None:
            raise StorageError("OperationalError: database is locked")

    clock = Clock()
    pacer = IdentifyPacer(Broken(), 1, clock=clock, sleep=clock.sleep)
    assert await pacer.wait_turn(0) > IDENTIFY_WINDOW_S
    assert "cannot take an identify slot" in caplog.text


@pytest.mark.parametrize(
    ("remaining", "shards", "warned"), [(1000, 16, False), (2, 2, False), (1, 2, True)]
)
def test_a_short_identify_budget_is_a_warning(remaining: int, shards: int, warned: bool) -> None:
    warning = budget_warning(remaining, 3_600_000, shards)
    assert (warning is not None) == warned
    if warning:
        assert f"{remaining} more identifies today" in warning and "1.0 h" in warning
