"""A cache that loads each missing key once, however many callers miss it at the same time.

A freshly started bot has empty caches; when 200 members use it at once, 200 interactions miss
the same guild's entry together. Each would run its own queries on the database's one worker
thread while Discord's 3 s clock runs. Here the first miss starts the load and every caller
that arrives before it finishes waits for that same load (single flight).

The load runs in a task of its own, so a caller that gives up (a timeout, a cancelled
interaction) does not cancel it for the others. A failed load is not kept: its waiters get
the error and the next caller tries again. `forget` (called after every change) drops the
value, and a load that was running when the change came is neither kept nor shared with
callers who arrive after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadingCache(Generic[K, V]):
    """Values by key, each loaded by `load(key)` at most once at a time (single flight)."""

    def __init__(self, load: Callable[[K], Awaitable[V]]) -> None:
        self._load = load
        self._values: dict[K, V] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}
        self._generation = 0  # bumped by every `forget`, so a load that raced one isn't kept

    async def get(self, key: K) -> V:
        """The value for `key`, loaded now (once for every caller waiting) if not cached."""
        try:
            return self._values[key]
        except KeyError:
            pass
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load_and_keep(key, self._generation))
            self._loading[key] = loading
            loading.add_done_callback(lambda done: self._loaded(key, done))
        return await asyncio.shield(loading)

    def forget(self, key: K) -> None:
        """Drop `key`'s value; the next `get` loads it again (after a change)."""
        self._generation += 1
        self._values.pop(key, None)
        self._loading.pop(key, None)

    async def _load_and_keep(self, key: K, generation: int) -> V:
        value = await self._load(key)
        if generation == self._generation:
            self._values[key] = value
        return value

    def _loaded(self, key: K, done: asyncio.Future[V]) -> None:
        if self._loading.get(key) is done:
            del self._loading[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have given up before it failed
