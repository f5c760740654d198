"""AcksFirst: the work after an acknowledgement waits while others still wait for theirs."""

from __future__ import annotations

import asyncio

from bot.interactions.acks_first import AcksFirst


async def test_work_after_an_ack_waits_until_the_others_are_acknowledged() -> None:
    gate = AcksFirst(max_wait_s=5.0)
    other_acked = asyncio.Event()
    order: list[str] = []

    async def slow_interaction() -> None:
        with gate.until_acknowledged():
            await other_acked.wait()
            order.append("other acknowledged")

    async def first_interaction() -> None:
        with gate.until_acknowledged():
            order.append("first acknowledged")
        await gate.wait_turn()
        order.append("first works")

    slow = asyncio.ensure_future(slow_interaction())
    await asyncio.sleep(0)
    first = asyncio.ensure_future(first_interaction())
    await asyncio.sleep(0.05)
    assert order == ["first acknowledged"]
    other_acked.set()
    await asyncio.gather(slow, first)
    assert order == ["first acknowledged", "other acknowledged", "first works"]


async def test_with_no_other_interaction_the_work_waits_at_most_the_quiet_period() -> None:
    gate = AcksFirst(max_wait_s=5.0, quiet_s=0.02)
    with gate.until_acknowledged():
        pass
    async with asyncio.timeout(0.5):
        await gate.wait_turn()


async def test_the_work_waits_while_interactions_keep_arriving() -> None:
    gate = AcksFirst(max_wait_s=5.0, quiet_s=0.05)
    loop = asyncio.get_running_loop()
    with gate.until_acknowledged():
        pass
    waiting = asyncio.ensure_future(gate.wait_turn())
    for _ in range(5):  # one arrives (and is acknowledged) every 30 ms, for 150 ms
        await asyncio.sleep(0.03)
        with gate.until_acknowledged():
            pass
        assert not waiting.done()
    last_arrival = loop.time()
    await waiting
    assert loop.time() - last_arrival >= 0.04


async def test_the_wait_is_bounded_and_a_refused_interaction_counts_as_done() -> None:
    gate = AcksFirst(max_wait_s=0.05)
    stuck = asyncio.Event()

    async def never_acknowledged() -> None:
        with gate.until_acknowledged():
            await stuck.wait()

    waiting = asyncio.ensure_future(never_acknowledged())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await gate.wait_turn()
    assert 0.04 <= loop.time() - started < 1.0
    waiting.cancel()  # e.g. refused with an error before its defer
    await asyncio.gather(waiting, return_exceptions=True)
    assert gate.acknowledging == 0
