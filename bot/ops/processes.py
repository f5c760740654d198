"""This bot process among those sharing the database: it registers at start, beats while it
runs, and reaps the dead, whose open reservations are then refunded.

Each run has an id that its reservations carry (`usage.process_id`). A run is dead when its
last beat is older than `dead_after_s` (a crash, a lost machine), or at once when it ran on
this host, in this PID namespace, and its pid is gone or is ours (a restart after a crash).
Reaping deletes the dead runs' rows; `Ledger.refund_orphans` then refunds every reservation
whose run is no longer registered. A live neighbour's calls in flight are never touched,
whichever process reaps. A clean shutdown retires its own row after draining.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import StorageError
from bot.ops.tasks import cancel_and_wait
from bot.quota.ledger import Ledger
from bot.storage.store import Store

log = logging.getLogger(__name__)

#: How often a process says it is alive.
BEAT_S = 15.0
#: A process not heard from for this long is dead (several missed beats).
DEAD_AFTER_S = 60.0


def this_host() -> str:
    """Where pids mean the same thing: the host name and the PID namespace (containers on one
    machine each have their own)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}/{namespace}"


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


@dataclass
class ProcessRegistry:
    store: Store
    ledger: Ledger
    beat_s: float = BEAT_S
    dead_after_s: float = DEAD_AFTER_S
    host: str = field(default_factory=this_host)
    pid: int = field(default_factory=os.getpid)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: Callable[[], float] = time.time
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    async def start(self) -> None:
        """Register, refund what dead runs left open, and beat until `close`."""
        await self.beat()
        await self.reap()
        self._task = asyncio.create_task(self._run(), name="process-beat")

    async def close(self) -> None:
        """Stop beating and retire (after the calls in flight ended): what this run still had
        open is refunded now."""
        await cancel_and_wait(self._task)
        self._task = None
        try:
            await self.store.execute("DELETE FROM processes WHERE id = ?", (self.id,))
            await self.ledger.refund_orphans()
        except StorageError as error:
            log.warning("Could not retire this process from the database: %s", error)

    async def beat(self) -> None:
        now = self.clock()
        await self.store.execute(
            "INSERT INTO processes (id, host, pid, started_at, seen_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (self.id, self.host, self.pid, now, now),
        )

    async def reap(self) -> int:
        """Forget the dead runs and refund their reservations; how many were refunded."""
        now = self.clock()
        others = await self.store.fetch_all(
            "SELECT id, host, pid, seen_at FROM processes WHERE id != ?", (self.id,)
        )
        dead = [
            run_id
            for run_id, host, pid, seen_at in others
            if seen_at < now - self.dead_after_s
            or (host == self.host and (pid == self.pid or not pid_running(pid)))
        ]
        for run_id in dead:
            await self.store.execute("DELETE FROM processes WHERE id = ?", (run_id,))
        if dead:
            log.warning("%s bot processes stopped without retiring: %s", len(dead), dead)
        return await self.ledger.refund_orphans()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.beat_s)
            try:
                await self.beat()
                await self.reap()
            except StorageError as error:
                log.warning("Could not beat or reap in the database: %s", error)
