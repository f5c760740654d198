"""Shards identify in turn, across every process of the bot (Discord: Gateway > Sharding).

Each rate-limit bucket (`shard_id % max_concurrency`) may IDENTIFY once per 5 s for the whole
bot token; a faster IDENTIFY is refused with INVALID_SESSION. discord.py's own pacing sleeps
within one process only, so `IdentifyPacer.wait_turn` (called from `before_identify_hook`)
takes the bucket's slot in the database (`IdentifySlots`) and waits, logged, for its holder's
time to end. Every IDENTIFY also spends one of the day's session starts (1,000 for most bots;
Discord resets the token past it); `budget_warning` says when a start-up would run short.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.errors import StorageError
from bot.storage.identify_slots import IdentifySlots

log = logging.getLogger(__name__)

#: Discord: each bucket identifies at most once per this many seconds.
IDENTIFY_WINDOW_S = 5.0
#: Added to the window: the IDENTIFY leaves a moment after the slot is taken (it is sent
#: after the hook, on a socket that is already open), and clocks of machines differ a little.
IDENTIFY_MARGIN_S = 0.5
#: The shortest sleep before asking for a slot again.
RETRY_MIN_S = 0.05


class IdentifyPacer:
    """Waits for a shard's turn to IDENTIFY; `max_concurrency` comes from GET /gateway/bot."""

    def __init__(
        self,
        slots: IdentifySlots,
        max_concurrency: int = 1,
        *,
        hold_s: float = IDENTIFY_WINDOW_S + IDENTIFY_MARGIN_S,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._slots = slots
        self.max_concurrency = max_concurrency
        self._hold_s = hold_s
        self._clock = clock
        self._sleep = sleep

    def bucket(self, shard_id: int) -> int:
        return shard_id % self.max_concurrency

    async def wait_turn(self, shard_id: int) -> float:
        """Return once `shard_id` may IDENTIFY (its bucket's slot is ours); returns the wait.

        Every wait is logged with its end. Without the database, the shard waits one window
        (safe within this process) and goes.
        """
        bucket = self.bucket(shard_id)
        started = self._clock()
        while True:
            now = self._clock()
            try:
                held_until = await self._slots.claim(bucket, now=now, hold_s=self._hold_s)
            except StorageError as error:
                log.error(
                    "Shard %s: cannot take an identify slot (%s); waiting %.1f s instead",
                    shard_id,
                    error,
                    self._hold_s,
                )
                await self._sleep(self._hold_s)
                break
            if held_until is None:
                break
            delay = max(held_until - now, RETRY_MIN_S)
            log.info(
                "Shard %s waits %.1f s to identify: bucket %s is in use until %s",
                shard_id,
                delay,
                bucket,
                time.strftime("%H:%M:%S", time.localtime(held_until)),
            )
            await self._sleep(delay)
        waited = self._clock() - started
        log.info("Shard %s identifies (bucket %s, waited %.1f s)", shard_id, bucket, waited)
        return waited


def budget_warning(remaining: int, reset_after_ms: int, shards: int) -> str | None:
    """A warning when today's session starts (`remaining`) are fewer than the `shards` this
    process must identify; None when there are enough."""
    if remaining >= shards:
        return None
    hours = reset_after_ms / 3_600_000
    return (
        f"Discord allows {remaining} more identifies today (the budget resets in {hours:.1f} h)"
        f" but this process must identify {shards} shards: some shards cannot connect until"
        " then, and going past the budget makes Discord reset the bot's token"
    )
