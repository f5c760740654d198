"""bot.media.voice_notes: channel switches, claims, the failure-reply ration, bounded tasks."""

from __future__ import annotations

import asyncio

import pytest

from bot.media.voice_notes import BoundedTasks, FailureThrottle, VoiceNoteChannels
from bot.storage.store import Store
from tests.databases import Database


@pytest.fixture
def channels(store: Store) -> VoiceNoteChannels:
    """On both backends (the `store` fixture)."""
    return VoiceNoteChannels(store)


async def test_two_processes_claim_a_voice_note_once(database: Database) -> None:
    """Whichever process sees a voice note first transcribes it; the other one never."""
    first, second = await database.open(), await database.open()
    try:
        claims = await asyncio.gather(
            *(VoiceNoteChannels(s).claim(message_id=77, channel_id=1) for s in (first, second))
        )
        assert sorted(claims) == [False, True]
    finally:
        await first.close()
        await second.close()


async def test_channels_are_switched_on_and_off_idempotently(
    channels: VoiceNoteChannels,
) -> None:
    assert not await channels.is_enabled(1)
    assert await channels.enable(1, guild_id=9, user_id=5)
    assert not await channels.enable(1, guild_id=9, user_id=6)
    assert await channels.is_enabled(1) and not await channels.is_enabled(2)
    assert await channels.is_enabled(2, parent_id=1)  # a thread of an enabled channel
    assert await channels.disable(1)
    assert not await channels.disable(1)
    assert not await channels.is_enabled(1)


async def test_a_voice_note_can_be_claimed_only_once(channels: VoiceNoteChannels) -> None:
    assert await channels.claim(100, 1)
    assert not await channels.claim(100, 1)
    assert await channels.claim(101, 1)


async def test_concurrent_claims_of_one_note_have_one_winner(
    channels: VoiceNoteChannels,
) -> None:
    results = await asyncio.gather(*(channels.claim(200, 1) for _ in range(10)))
    assert results.count(True) == 1


async def test_old_claims_are_forgotten(channels: VoiceNoteChannels) -> None:
    await channels.claim(300, 1)
    assert await channels.forget_old_claims(older_than_s=3600) == 0
    assert await channels.forget_old_claims(older_than_s=-1) == 1
    assert await channels.claim(300, 1)


def test_one_failure_reply_per_channel_per_interval() -> None:
    now = [1000.0]
    throttle = FailureThrottle(interval_s=600, clock=lambda: now[0])
    assert throttle.allow(1)
    assert not throttle.allow(1)
    assert throttle.allow(2)  # channels are counted apart
    now[0] += 599
    assert not throttle.allow(1)
    now[0] += 1
    assert throttle.allow(1)


async def test_bounded_tasks_run_at_most_limit_at_once_and_drop_nothing() -> None:
    tasks = BoundedTasks(limit=3)
    running = peak = done = 0
    gate = asyncio.Event()

    async def work() -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1
        done += 1

    submitted = [tasks.submit(work(), name=f"w{i}") for i in range(10)]
    await asyncio.sleep(0)
    assert tasks.pending == 10
    gate.set()
    await asyncio.gather(*submitted)
    assert (peak, done, tasks.pending) == (3, 10, 0)


async def test_closing_cancels_queued_and_running_work() -> None:
    tasks = BoundedTasks(limit=1)
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    for i in range(3):
        tasks.submit(forever(), name=f"f{i}")
    await started.wait()
    await tasks.close()
    assert tasks.pending == 0
