"""Voice-note transcription: which channels want it, which notes were done, and pacing.

A voice note is claimed (its id inserted, or ignored when already there) before it is
transcribed, so a gateway replay or a restart never transcribes it twice. Transcriptions run
at most `limit` at a time; the rest wait their turn. Failure replies are rationed per channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.storage.store import Store

log = logging.getLogger(__name__)

#: At most one "could not transcribe" reply per channel in this many seconds.
FAILURE_REPLY_INTERVAL_S = 10 * 60.0
#: Claims older than this are forgotten: Discord replays nothing that old.
CLAIM_RETENTION_S = 30 * 24 * 3600.0


class VoiceNoteChannels:
    """The `voice_channels` and `transcribed_messages` tables."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def enable(self, channel_id: int, guild_id: int, user_id: int) -> bool:
        """Turn transcription on; False when it was on already."""
        changed = await self._store.execute(
            "INSERT INTO voice_channels (channel_id, guild_id, enabled_by, enabled_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (channel_id) DO NOTHING",
            (channel_id, guild_id, user_id, time.time()),
        )
        return changed == 1

    async def disable(self, channel_id: int) -> bool:
        """Turn transcription off; False when it was off already."""
        changed = await self._store.execute(
            "DELETE FROM voice_channels WHERE channel_id = ?", (channel_id,)
        )
        return changed == 1

    async def is_enabled(self, channel_id: int, parent_id: int | None = None) -> bool:
        """On in the channel, or (for a thread) in its parent channel."""
        row = await self._store.fetch_one(
            "SELECT 1 FROM voice_channels WHERE channel_id IN (?, ?)",
            (channel_id, parent_id if parent_id is not None else channel_id),
        )
        return row is not None

    async def claim(self, message_id: int, channel_id: int) -> bool:
        """Mark a voice note as being transcribed; False when someone already did (atomic)."""
        claimed = await self._store.execute(
            "INSERT INTO transcribed_messages (message_id, channel_id, claimed_at)"
            " VALUES (?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
            (message_id, channel_id, time.time()),
        )
        return claimed == 1

    async def forget_old_claims(self, older_than_s: float = CLAIM_RETENTION_S) -> int:
        return await self._store.execute(
            "DELETE FROM transcribed_messages WHERE claimed_at < ?", (time.time() - older_than_s,)
        )


class FailureThrottle:
    """Allows one failure reply per channel per `interval_s`; later ones are only logged."""

    def __init__(
        self,
        interval_s: float = FAILURE_REPLY_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[int, float] = {}

    def allow(self, channel_id: int) -> bool:
        now = self._clock()
        last = self._last.get(channel_id)
        if last is not None and now - last < self._interval_s:
            return False
        self._last[channel_id] = now
        return True


class BoundedTasks:
    """Runs coroutines at most `limit` at a time; the others queue (nothing is dropped)."""

    def __init__(self, limit: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Tasks queued or running."""
        return len(self._tasks)

    def submit(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._run(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def _run(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            async with self._semaphore:
                await work
        finally:
            work.close()  # never started (cancelled while queued): no "never awaited" warning

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        """Cancel queued and running work and wait for it to finish cancelling."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
