"""Discord's global limit, kept by the bot: at most so many requests a second, urgent ones first.

Discord allows a bot 50 requests a second across every route except the interaction endpoints
(callbacks and the interaction's webhook: Topics > Rate Limits > "Global Rate Limit"). Past it,
every request gets a 429 and discord.py retries each one at most five times, then raises: 200
members mentioning the bot at once (a reply, typing and an edit a second each) lost about half
their answers that way. ``GlobalBudget`` lets a request start only while fewer than
``per_s`` are in flight or ended within the last second, so the bot never reaches Discord's
limit; while some
wait, the most urgent go first (``URGENT``: an answer's first message, its final edit, and
every request nobody marked; then ``STREAM``: edits of an answer still streaming, which show
more text at once when they wait; then ``TYPING``).

It works below discord.py: ``attach(trace_config)`` makes aiohttp wait in ``on_request_start``
for every request of the session discord.py uses, so even discord.py's own requests count. A
request's priority is the ``REQUEST_PRIORITY`` context variable of the task that makes it
(``with priority(STREAM): await message.edit(...)``).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from types import SimpleNamespace, TracebackType

import aiohttp

#: Discord's global limit is 50 a second; the bot leaves room for the network's jitter.
DEFAULT_REQUESTS_PER_S = 45
#: Connections open to one Discord host at most. Interaction callbacks are outside the budget,
#: so 200 members at once would otherwise open 200 connections (200 TLS handshakes, and each
#: idle connection kept afterwards); queued behind 64, they were acknowledged sooner (bench/).
DEFAULT_CONNECTIONS = 64
WINDOW_S = 1.0
URGENT, STREAM, TYPING = 0, 1, 2
REQUEST_PRIORITY: ContextVar[int] = ContextVar("request_priority", default=URGENT)
#: Interaction endpoints are not bound by the global limit.
_EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


class Turn:
    """``GlobalBudget.turn()``'s block: a place taken ahead for the next request made inside
    it (a plain object, not a generator: a crowd's streaming edits wait in these)."""

    __slots__ = ("_budget", "_hurry", "_level", "_token", "used")

    def __init__(
        self, budget: GlobalBudget, level: int | None, hurry: asyncio.Future[None] | None
    ) -> None:
        self._budget = budget
        self._level = level
        self._hurry = hurry
        self._token: Token[Turn | None] | None = None
        self.used = False  # the request it was taken for has started

    async def __aenter__(self) -> None:
        await self._budget.take(self._level, hurry=self._hurry)
        self._token = _HELD_TURN.set(self)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None  # entered
        _HELD_TURN.reset(self._token)
        self._budget.done()


_HELD_TURN: ContextVar[Turn | None] = ContextVar("held_turn", default=None)


@contextlib.contextmanager
def priority(level: int) -> Iterator[None]:
    """Requests made inside the block (by this task) wait with this priority."""
    token = REQUEST_PRIORITY.set(level)
    try:
        yield
    finally:
        REQUEST_PRIORITY.reset(token)


def globally_limited(path: str) -> bool:
    """Whether a request to ``path`` (``/api/v10/...``) counts against the global limit."""
    rest = path.split("/", 3)[3] if path.startswith("/api/v") else path.lstrip("/")
    return not ("/" + rest).startswith(_EXEMPT_PREFIXES)


class GlobalBudget:
    """At most ``per_s`` requests in any ``window_s``, counted from when each one ended: a
    request holds its place while in flight and for ``window_s`` after its response. Discord
    counts a request when it arrives, somewhere between its start and its response, so a
    window counted from starts could overlap two of Discord's windows and overflow one when
    the network or a busy loop delays some requests; counted from responses, it cannot.
    Waiters are served by priority, then in arrival order."""

    def __init__(
        self,
        per_s: int = DEFAULT_REQUESTS_PER_S,
        *,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_s < 1:
            raise ValueError("per_s must be at least 1")
        self.per_s = per_s
        self.window_s = window_s
        self._clock = clock
        self._in_flight = 0
        self._ended: deque[float] = deque()  # when requests of the last window ended
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.Handle | None = None
        self.waited = 0  # requests that had to wait (for logs and tests)

    def attach(self, config: aiohttp.TraceConfig) -> aiohttp.TraceConfig:
        """Make every request of sessions traced by ``config`` take its turn here."""
        config.on_request_start.append(self._on_request_start)
        config.on_request_end.append(self._on_request_done)
        config.on_request_exception.append(self._on_request_done)
        return config

    def turn(self, level: int | None = None, *, hurry: asyncio.Future[None] | None = None) -> Turn:
        """Hold a place for the next request made inside the block, which then starts at once:
        a request is only built once its turn came, so it carries what is newest by then (a
        streaming edit that queued with its text showed that text seconds late) and a queue
        holds futures, not requests. The place is freed when the block ends."""
        return Turn(self, level, hurry)

    async def take(
        self, level: int | None = None, *, hurry: asyncio.Future[None] | None = None
    ) -> None:
        """Wait until a request may start, then count it in flight (``done()`` when it ends).
        Once ``hurry`` is done, a wait goes on as URGENT (an answer's end while its edit
        waited at STREAM)."""
        level = REQUEST_PRIORITY.get() if level is None else level
        if hurry is not None and hurry.done():
            level = URGENT
        if not self._waiting and self._room():
            self._in_flight += 1
            return
        self.waited += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (level, next(self._order), future))
        self._schedule()

        def urgent(_: object) -> None:
            if not future.done():  # the earlier entry is skipped once this one is served
                heapq.heappush(self._waiting, (URGENT, next(self._order), future))
                self._schedule()

        if hurry is not None and level != URGENT:
            hurry.add_done_callback(urgent)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted as it was cancelled:
                self._in_flight -= 1  # it never went, so the place goes to another
                self._grant()
            raise
        finally:
            if hurry is not None:
                hurry.remove_done_callback(urgent)

    def done(self) -> None:
        """A request counted by ``take()`` ended: its place frees ``window_s`` from now."""
        self._in_flight -= 1
        self._ended.append(self._clock())
        self._schedule()

    @property
    def waiting(self) -> int:
        return len({id(future) for *_, future in self._waiting if not future.done()})

    def _room(self) -> bool:
        now = self._clock()
        while self._ended and now - self._ended[0] >= self.window_s:
            self._ended.popleft()
        return self._in_flight + len(self._ended) < self.per_s

    def _grant(self) -> None:
        """Start as many waiters as the window allows, most urgent first."""
        self._timer = None
        while self._waiting and self._room():
            *_, future = heapq.heappop(self._waiting)
            if future.done():  # cancelled while waiting
                continue
            self._in_flight += 1
            future.set_result(None)
        self._schedule()

    def _schedule(self) -> None:
        """Wake ``_grant`` when a place frees: now, when the oldest ended request leaves the
        window, or (all places in flight) at the next ``done()``."""
        if self._timer is not None or not self._waiting:
            return
        loop = asyncio.get_running_loop()
        if self._room():
            self._timer = loop.call_soon(self._grant)
        elif self._ended:
            delay = self._ended[0] + self.window_s - self._clock()
            self._timer = loop.call_later(max(0.0, delay), self._grant)

    async def _on_request_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        if not globally_limited(params.url.path):
            return
        held = _HELD_TURN.get()
        if held is not None and not held.used:  # its place was taken ahead (turn())
            held.used = True
            return
        await self.take()
        context.global_turn = True

    async def _on_request_done(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: object
    ) -> None:
        if getattr(context, "global_turn", False):
            context.global_turn = False
            self.done()
