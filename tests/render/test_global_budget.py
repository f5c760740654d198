"""GlobalBudget: the bot's own share of Discord's global limit, urgent requests first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.render.global_budget import (
    STREAM,
    TYPING,
    URGENT,
    GlobalBudget,
    globally_limited,
    priority,
)

WINDOW_S = 0.2


@contextlib.asynccontextmanager
async def ok_server() -> AsyncIterator[str]:
    """A loopback server answering every request with 200; yields its ``/api/v10`` base URL."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v10"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "limited"),
    [
        ("/api/v10/channels/1/messages", True),
        ("/api/v10/channels/1/typing", True),
        ("/api/v10/channels/1/messages/2", True),
        ("/api/v10/users/@me", True),
        ("/api/v10/interactions/1/tok/callback", False),
        ("/api/v10/webhooks/1/tok/messages/@original", False),
        ("/api/v10/webhooks/1/tok", False),
    ],
)
def test_interaction_endpoints_are_outside_the_global_limit(path: str, limited: bool) -> None:
    assert globally_limited(path) is limited


async def test_requests_within_the_budget_start_at_once() -> None:
    budget = GlobalBudget(5, window_s=WINDOW_S)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(5):
        async with budget.turn():
            pass
    assert loop.time() - began < WINDOW_S / 2
    assert budget.waited == 0


async def test_a_request_past_the_budget_waits_a_window_after_the_first_ended() -> None:
    budget = GlobalBudget(3, window_s=WINDOW_S)
    loop = asyncio.get_running_loop()
    async with budget.turn():
        await asyncio.sleep(WINDOW_S / 2)  # a slow response: its place is held until it ends
    ended = loop.time()
    for _ in range(2):
        async with budget.turn():
            pass
    async with budget.turn():
        assert loop.time() - ended >= WINDOW_S * 0.95
    assert budget.waited == 1


async def test_requests_in_flight_hold_their_places() -> None:
    budget = GlobalBudget(2, window_s=WINDOW_S)
    await budget.take()
    await budget.take()
    third = asyncio.create_task(budget.take())
    await asyncio.sleep(2 * WINDOW_S)
    assert not third.done()  # both still in flight, however long
    budget.done()
    await asyncio.sleep(WINDOW_S / 2)
    assert not third.done()  # the ended one still counts for a window
    await asyncio.wait_for(third, WINDOW_S)


async def test_urgent_requests_go_before_stream_edits_and_typing() -> None:
    budget = GlobalBudget(1, window_s=WINDOW_S)
    async with budget.turn():  # the window is full for a while: everything below waits
        pass
    order: list[str] = []

    async def request(name: str, level: int) -> None:
        async with budget.turn(level):
            order.append(name)

    waiters = [
        asyncio.create_task(request("typing", TYPING)),
        asyncio.create_task(request("edit", STREAM)),
        asyncio.create_task(request("reply", URGENT)),
        asyncio.create_task(request("final edit", URGENT)),
    ]
    await asyncio.wait_for(asyncio.gather(*waiters), 10 * WINDOW_S)
    assert order == ["reply", "final edit", "edit", "typing"]


async def test_a_cancelled_waiter_leaves_its_turn_to_the_next() -> None:
    budget = GlobalBudget(1, window_s=WINDOW_S)
    async with budget.turn():
        pass
    typing = asyncio.create_task(budget.take(TYPING))
    reply = asyncio.create_task(budget.take(URGENT))
    await asyncio.sleep(0)
    typing.cancel()  # e.g. the first reply went out: no typing indicator any more
    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.wait_for(reply, 3 * WINDOW_S)
    assert loop.time() - began < 1.5 * WINDOW_S
    assert budget.waiting == 0


async def test_priority_comes_from_the_requesting_task() -> None:
    budget = GlobalBudget(1, window_s=WINDOW_S)
    async with budget.turn():
        pass
    order: list[str] = []

    async def edit() -> None:
        with priority(STREAM):
            async with budget.turn():
                order.append("edit")

    async def reply() -> None:
        async with budget.turn():  # unmarked: urgent
            order.append("reply")

    await asyncio.gather(edit(), reply())
    assert order == ["reply", "edit"]


async def test_every_request_of_a_traced_session_takes_its_turn() -> None:
    """Should hold aiohttp's requests (those discord.py makes) in on_request_start, except
    interaction endpoints."""

    budget = GlobalBudget(2, window_s=WINDOW_S)
    trace = budget.attach(aiohttp.TraceConfig())
    loop = asyncio.get_running_loop()
    async with ok_server() as base, aiohttp.ClientSession(trace_configs=[trace]) as session:
        began = loop.time()
        for _ in range(4):  # interaction callbacks: never held
            async with session.post(f"{base}/interactions/1/tok/callback") as response:
                await response.read()
        assert loop.time() - began < WINDOW_S / 2
        for _ in range(3):  # the third waits for the window
            async with session.post(f"{base}/channels/1/messages") as response:
                await response.read()
        assert loop.time() - began >= WINDOW_S * 0.95
        assert budget.waited == 1


async def test_a_request_inside_a_turn_uses_its_place() -> None:
    """Should let the first request made inside ``turn()`` start at once on the place taken
    ahead (counted once), and a second one take a place of its own."""

    budget = GlobalBudget(2, window_s=WINDOW_S)
    trace = budget.attach(aiohttp.TraceConfig())
    loop = asyncio.get_running_loop()
    async with ok_server() as base, aiohttp.ClientSession(trace_configs=[trace]) as session:
        url = f"{base}/channels/1/messages/2"
        began = loop.time()
        async with budget.turn(STREAM):
            async with session.patch(url) as response:  # on the held place
                await response.read()
            async with session.patch(url) as response:  # the second place
                await response.read()
        assert loop.time() - began < WINDOW_S / 2
        assert budget.waited == 0
        async with session.patch(url) as response:  # both places are in the window
            await response.read()
        assert budget.waited == 1


async def test_a_waiting_stream_edit_hurries_once_its_answer_ends() -> None:
    """Should serve a STREAM wait as URGENT once ``hurry`` is done (the answer's end), before
    URGENT requests that came after it, and count it once."""
    budget = GlobalBudget(1, window_s=WINDOW_S)
    async with budget.turn():  # the window is full for a while
        pass
    ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    order: list[str] = []

    async def request(name: str, level: int, hurry: asyncio.Future[None] | None = None) -> None:
        async with budget.turn(level, hurry=hurry):
            order.append(name)

    edit = asyncio.create_task(request("final edit", STREAM, ended))
    await asyncio.sleep(0)
    typing = asyncio.create_task(request("typing", TYPING))
    await asyncio.sleep(0)
    ended.set_result(None)
    reply = asyncio.create_task(request("reply", URGENT))
    await asyncio.sleep(0)
    assert budget.waiting == 3
    await asyncio.wait_for(asyncio.gather(edit, typing, reply), 10 * WINDOW_S)
    assert order == ["final edit", "reply", "typing"]
    assert budget.waiting == 0
