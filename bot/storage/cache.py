"""A cache that loads each missing key once, however many callers miss it at the same time.

A freshly started bot has empty caches; when 200 members use it at once, 200 interactions miss
the same guild's entry together. Each would run its own queries on the database's one worker
thread while Discord's 3 s clock runs. Here the first miss starts the load and every caller
that arrives before it finishes waits for that same load (single flight).

The load runs in a task of its own, so a caller that gives up (a timeout, a cancelled
interaction) does not cancel it for the others. A failed load is not kept: its waiters get
the error and the next caller tries again. `forget` (called after every change, in this process or,
through the store's change notices, in another) drops the value, and a load that was running
when the change came is neither kept nor shared with callers who arrive after it. Values also
expire after `ttl_s`, so processes sharing a SQLite file (which has no change notices) see
each other's changes within that time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: How long a value is kept without a change notice.
DEFAULT_TTL_S = 30.0


class LoadingCache(Generic[K, V]):
    """Values by key, each loaded by `load(key)` at most once at a time (single flight)."""

    def __init__(
        self,
        load: Callable[[K], Awaitable[V]],
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._ttl_s = ttl_s
        self._clock = clock
        self._values: dict[K, tuple[float, V]] = {}  # key -> (expiry, value)
        self._loading: dict[K, asyncio.Future[V]] = {}
        self._generation = 0  # bumped by every `forget`, so a load that raced one isn't kept

    async def get(self, key: K) -> V:
        """The value for `key`, loaded now (once for every caller waiting) if not cached."""
        kept = self._values.get(key)
        if kept is not None and kept[0] > self._clock():
            return kept[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load_and_keep(key, self._generation))
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._loaded(key, done))
        return await asyncio.shield(loading)

    def forget(self, key: K | None) -> None:
        """Drop `key`'s value (None: every value); the next `get` loads it again."""
        self._generation += 1
        if key is None:
            self._values.clear()
            self._loading.clear()
            return
        self._values.pop(key, None)
        self._loading.pop(key, None)

    async def _load_and_keep(self, key: K, generation: int) -> V:
        value = await self._load(key)
        if generation == self._generation:
            self._values[key] = (self._clock() + self._ttl_s, value)
        return value

    def _loaded(self, key: K, done: asyncio.Future[V]) -> None:
        if self._loading.get(key) is done:
            del self._loading[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have given up before it failed
