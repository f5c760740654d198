"""FakeDiscord: the server (REST + gateway + CDN on one loopback port) and discord.py wiring."""

# ruff: noqa: ASYNC109 - the public API takes timeouts, as the tests that use it expect

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from types import TracebackType
from typing import Any

import discord.gateway
import discord.http
import yarl
from aiohttp import web

from ._interactions import InteractionsMixin
from ._state import log

#: Connections waiting to be accepted, as a production server's listen queue allows.
LISTEN_BACKLOG = 1024


class FakeDiscord(InteractionsMixin):
    """A loopback Discord for the real discord.py client. See the package docstring."""

    def __init__(self, *, token: str | None = None) -> None:
        super().__init__(token=token)
        self._init_gateway()
        self._init_rest()
        self._init_interactions()
        self._runner: web.AppRunner | None = None
        self._saved: tuple[str, yarl.URL, Callable[[int], None]] | None = None

    async def start(self, *, install: bool = True) -> None:
        """Listen on a free 127.0.0.1 port; ``install()`` too unless told not to."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/resume", self._gateway_handler)
        app.router.add_get("/attachments/{tail:.*}", self._cdn_handler)
        app.router.add_route("*", "/api/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        # Discord's servers take a crowd's connections at once; aiohttp's default accept queue
        # of 128 would drop SYNs past it and delay those connections by a 1 s retransmit.
        await web.SockSite(self._runner, sock, backlog=LISTEN_BACKLOG).start()
        log.debug("fake Discord listening on %s", self.url)
        if install:
            self.install()

    def install(self) -> None:
        """Point discord.py (process-wide) at this server; ``close()`` undoes it."""
        if not self.port:
            raise RuntimeError("start() the fake before install()")
        if self._saved is None:
            self._saved = (
                discord.http.Route.BASE,
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
                discord.http._set_api_version,
            )
        original_set_version = self._saved[2]
        base = self.url

        def _set_api_version(value: int) -> None:  # keeps Route.BASE on the fake
            original_set_version(value)
            discord.http.Route.BASE = f"{base}/api/v{value}"

        discord.http.Route.BASE = f"{base}/api/v{discord.http.INTERNAL_API_VERSION}"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        setattr(discord.http, "_set_api_version", _set_api_version)  # noqa: B010

    def uninstall(self) -> None:
        if self._saved is not None:
            base, gateway, set_version = self._saved
            discord.http.Route.BASE = base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
            setattr(discord.http, "_set_api_version", set_version)  # noqa: B010
            self._saved = None

    async def close(self) -> None:
        """Stop the server (stop the bot first) and undo ``install()``."""
        for task in list(self._tasks):
            task.cancel()
        await self._close_gateway()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.uninstall()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<FakeDiscord {self.url} connected={self.connected}>"


async def run_bot(
    bot: discord.Client, fake: FakeDiscord, *, timeout: float = 10.0
) -> asyncio.Task[None]:
    """Start ``bot`` against ``fake`` in a task; return once the bot is ready (on_ready fired).

    Raises the bot's own exception if it dies while logging in or connecting.
    """

    identified = fake.identifies

    async def _ready() -> None:
        await fake.wait_for(lambda: fake.identifies > identified and fake.ready.is_set(), timeout)
        await bot.wait_until_ready()

    task = asyncio.create_task(bot.start(fake.token), name="fake-discord-bot")
    waiter = asyncio.create_task(_ready())
    done, _ = await asyncio.wait(
        {task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    if waiter in done:
        return task
    waiter.cancel()
    if task in done:
        task.result()  # raises the bot's exception
        raise RuntimeError("the bot stopped before it became ready")
    await stop_bot(bot, task)
    raise TimeoutError(fake._timeout_report(timeout, "(bot never became ready)"))


async def stop_bot(bot: discord.Client, task: asyncio.Task[Any], *, timeout: float = 10.0) -> None:
    """Close ``bot`` and wait for its ``start()`` task to end."""
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout)
