"""Discord's global limit, kept by the bot: at most so many requests a second, urgent ones first.

Discord allows a bot 50 requests a second across every route except the interaction endpoints
(callbacks and the interaction's webhook: Topics > Rate Limits > "Global Rate Limit"). Past it,
every request gets a 429 and discord.py retries each one at most five times, then raises: 200
members mentioning the bot at once (a reply, typing and an edit a second each) lost about half
their answers that way. ``GlobalBudget`` lets requests start only while fewer than
``per_s`` started in the last second, so the bot never reaches Discord's limit; while some
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
from contextvars import ContextVar
from types import SimpleNamespace

import aiohttp

#: Discord's global limit is 50 a second; the bot leaves room for the network's jitter.
DEFAULT_REQUESTS_PER_S = 45
WINDOW_S = 1.0
URGENT, STREAM, TYPING = 0, 1, 2
REQUEST_PRIORITY: ContextVar[int] = ContextVar("request_priority", default=URGENT)
#: Interaction endpoints are not bound by the global limit.
_EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


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
    """At most ``per_s`` request starts in any ``window_s``; waiters served by priority, then
    in arrival order."""

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
        self._started: deque[float] = deque()  # start times within the window
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.Handle | None = None
        self.waited = 0  # requests that had to wait (for logs and tests)

    def attach(self, config: aiohttp.TraceConfig) -> aiohttp.TraceConfig:
        """Make every request of sessions traced by ``config`` take its turn here."""
        config.on_request_start.append(self._on_request_start)
        return config

    async def take(self, level: int | None = None) -> None:
        """Wait until a request may start, then count it."""
        level = REQUEST_PRIORITY.get() if level is None else level
        if not self._waiting and self._room():
            self._started.append(self._clock())
            return
        self.waited += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (level, next(self._order), future))
        self._schedule()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and self._started:
                self._started.pop()  # granted as it was cancelled: the turn goes to another
                self._grant()
            raise

    @property
    def waiting(self) -> int:
        return sum(1 for *_, future in self._waiting if not future.done())

    def _room(self) -> bool:
        now = self._clock()
        while self._started and now - self._started[0] >= self.window_s:
            self._started.popleft()
        return len(self._started) < self.per_s

    def _grant(self) -> None:
        """Start as many waiters as the window allows, most urgent first."""
        self._timer = None
        while self._waiting and self._room():
            *_, future = heapq.heappop(self._waiting)
            if future.done():  # cancelled while waiting
                continue
            self._started.append(self._clock())
            future.set_result(None)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None or not self._waiting:
            return
        loop = asyncio.get_running_loop()
        if self._room():
            self._timer = loop.call_soon(self._grant)
            return
        delay = self._started[0] + self.window_s - self._clock()
        self._timer = loop.call_later(max(0.0, delay), self._grant)

    async def _on_request_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        if globally_limited(params.url.path):
            await self.take()
