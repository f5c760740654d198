"""Identify slots: which process may IDENTIFY a shard of a rate-limit bucket now.

Discord lets each bucket (`shard_id % max_concurrency`) IDENTIFY once per 5 s, counted for the
bot token, whichever process sends it. So the processes of one bot share the slots through
the database: a slot is the `meta` row `identify_slot:<bucket>`, whose value is the time
(`time.time()`, seconds) until which it is held. One atomic statement takes a free slot; the
same SQL runs on SQLite and PostgreSQL. Processes on several machines need their clocks in
step (NTP), as the slot's end is a wall-clock time.
"""

from __future__ import annotations

from bot.storage.store import Store

KEY_PREFIX = "identify_slot:"

#: Inserts the slot, or takes it over only when its holder's time is up; rowcount 1 = ours.
CLAIM_SQL = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    " WHERE CAST(meta.value AS DOUBLE PRECISION) <= ?"
)
HELD_UNTIL_SQL = "SELECT value FROM meta WHERE key = ?"


class IdentifySlots:
    """The identify slots in the `meta` table (no table of their own, no migration)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim(self, bucket: int, *, now: float, hold_s: float) -> float | None:
        """Hold `bucket`'s slot from `now` for `hold_s`: None when it is ours, else the time
        until which another holder has it. A database failure raises `StorageError`."""
        key = f"{KEY_PREFIX}{bucket}"
        if await self._store.execute(CLAIM_SQL, (key, repr(now + hold_s), now)) == 1:
            return None
        held_until = await self._store.fetch_value(HELD_UNTIL_SQL, (key,))
        return float(held_until) if held_until is not None else now
