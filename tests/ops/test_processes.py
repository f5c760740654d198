"""ProcessRegistry, on both backends: a dead run's open reservations are refunded by whichever
process reaps, a live neighbour's never; a clean shutdown refunds what it left open."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from bot.ops.processes import ProcessRegistry
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller
from bot.storage.store import Store

GUILD = 1000
GONE_PID = 2**22 + 12345  # above Linux's default pid_max: no such process


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A process that runs for the whole test (a neighbour on this host)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def run(store: Store, clock: Clock, *, host: str = "h/ns", pid: int) -> ProcessRegistry:
    """One bot process's registry and ledger, as `NexBot.setup_hook` makes them."""
    run_id = uuid.uuid4().hex
    ledger = Ledger(store, Quotas(store), clock=clock, process_id=run_id)
    return ProcessRegistry(store, ledger, host=host, pid=pid, id=run_id, clock=clock)


async def outcomes(store: Store) -> dict[int, str]:
    return {int(i): str(o) for i, o in await store.fetch_all("SELECT id, outcome FROM usage")}


async def test_a_run_not_heard_from_is_reaped_and_only_its_reservations_refunded(
    store: Store,
) -> None:
    clock = Clock()
    dying = run(store, clock, host="machine-a/ns", pid=10)
    alive = run(store, clock, host="machine-b/ns", pid=10)
    for registry in (dying, alive):
        await registry.beat()
    lost = await dying.ledger.reserve(Caller(1, GUILD), "ask", 1, None)
    in_flight = await alive.ledger.reserve(Caller(2, GUILD), "ask", 1, None)

    clock.now += 30  # the dying run stops beating; the other beats on
    await alive.beat()
    assert await alive.reap() == 0  # not yet: 30 s is no proof of death
    clock.now += 31
    await alive.beat()
    assert await alive.reap() == 1
    assert await outcomes(store) == {lost: "refunded", in_flight: "reserved"}
    assert await store.fetch_all("SELECT id FROM processes") == [(alive.id,)]


async def test_a_restart_on_the_same_host_refunds_a_crashed_run_at_once(
    store: Store, live_pid: int
) -> None:
    clock = Clock()
    crashed = run(store, clock, pid=GONE_PID)
    neighbour = run(store, clock, pid=live_pid)  # another bot process on this host
    for registry in (crashed, neighbour):
        await registry.beat()
    lost = await crashed.ledger.reserve(Caller(1, GUILD), "tts", 40, None)
    in_flight = await neighbour.ledger.reserve(Caller(2, GUILD), "tts", 40, None)

    restarted = run(store, clock, pid=GONE_PID + 1)
    await restarted.start()
    try:
        assert await outcomes(store) == {lost: "refunded", in_flight: "reserved"}
    finally:
        await restarted.close()


async def test_a_clean_shutdown_refunds_what_it_left_open_and_retires(store: Store) -> None:
    clock = Clock()
    registry = run(store, clock, pid=GONE_PID)
    await registry.start()
    settled = await registry.ledger.reserve(Caller(1, GUILD), "ask", 1, None)
    await registry.ledger.settle(settled, 1)
    cut = await registry.ledger.reserve(Caller(1, GUILD), "ask", 1, None)
    await registry.close()
    assert await outcomes(store) == {settled: "ok", cut: "refunded"}
    assert await store.fetch_all("SELECT id FROM processes") == []


async def test_reservations_without_a_run_are_refunded_by_the_first_reaper(store: Store) -> None:
    """Rows made before migration 8 (or by a ledger with no run) belong to nobody alive."""
    clock = Clock()
    orphan = await Ledger(store, clock=clock).reserve(Caller(1, GUILD), "ask", 1, None)
    registry = run(store, clock, pid=GONE_PID)
    await registry.start()
    try:
        assert await outcomes(store) == {orphan: "refunded"}
    finally:
        await registry.close()
