"""The bot under benchmark, alone in its own process, logged into a fake Discord by URL.

    python -m bench.bot_process --kind nexbot --discord-url http://127.0.0.1:PORT \\
        --token TOKEN --nexai-url http://127.0.0.1:PORT/api/v1 --nexai-key KEY --db PATH

``--kind nexbot`` runs the real ``NexBot`` with production settings except the URLs (and
``--edit-interval``, default 1.0 s as in production); ``--kind defer-only`` runs a minimal
``commands.Bot`` whose ``/ask`` only defers and edits once, and which answers a mention with
one reply: the baseline for acknowledgement latency. discord.py is pointed at the fake the
way ``FakeDiscord.install()`` does it (``Route.BASE``, ``DEFAULT_GATEWAY``, and
``_set_api_version`` wrapped so it cannot point them back).

Prints ``READY`` on stdout once the bot is ready (and, for nexbot, the model list loaded),
then runs until SIGTERM or SIGINT. ``--cprofile PATH`` writes cProfile stats on exit;
``--tracemalloc PATH`` traces Python's allocations and writes a snapshot at rest (once ready) to
``PATH.rest`` and the one taken when the traced memory was highest (checked every
``TRACEMALLOC_EVERY_S``) to ``PATH``, for ``bench.memory_top``.

``--nexai-connection-limit N`` sets the bot's ``NEXAI_MAX_CONNECTIONS`` (default 500).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands

from bot.__main__ import run_loop, setup_logging
from bot.app import NexBot
from bot.config import Settings

log = logging.getLogger("bench.bot_process")

READY_LINE = "READY"
#: The bot's start-up wait after the last GUILD_CREATE (2 s by default; start-up isn't measured).
GUILD_READY_TIMEOUT_S = 0.1
STOP_TIMEOUT_S = 10.0
#: What the defer-only bot edits its deferred response to, and replies to a mention with.
BASELINE_REPLY = "ok"
#: How often --tracemalloc looks whether the traced memory reached a new high.
TRACEMALLOC_EVERY_S = 0.25
#: A new snapshot is taken only this far above the last one (snapshots are slow).
TRACEMALLOC_STEP_BYTES = 256 * 1024


def point_discord_at(base_url: str) -> None:
    """Send discord.py's REST calls and gateway connection to ``base_url`` (process-wide)."""
    original_set_version = discord.http._set_api_version

    def _set_api_version(value: int) -> None:
        original_set_version(value)
        discord.http.Route.BASE = f"{base_url}/api/v{value}"

    discord.http.Route.BASE = f"{base_url}/api/v{discord.http.INTERNAL_API_VERSION}"
    gateway = yarl.URL(base_url.replace("http://", "ws://", 1) + "/gateway")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
    setattr(discord.http, "_set_api_version", _set_api_version)  # noqa: B010


class DeferOnlyBot(commands.Bot):
    """The least a bot can do for /ask: defer, then edit once. A mention gets one reply."""

    def __init__(self, reply: str) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=GUILD_READY_TIMEOUT_S,
        )
        self.reply = reply

    async def setup_hook(self) -> None:
        @app_commands.command(name="ask", description="Defer, then edit once.")
        async def ask(interaction: discord.Interaction, prompt: str) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content=self.reply)

        self.tree.add_command(ask)
        await self.tree.sync()

    async def on_message(self, message: discord.Message, /) -> None:
        if message.author.bot or self.user is None or self.user not in message.mentions:
            return
        await message.reply(self.reply, mention_author=False)


def nexbot_settings(args: argparse.Namespace) -> Settings:
    values: dict[str, Any] = {
        "discord_token": args.token,
        "nexai_api_key": args.nexai_key,
        "nexai_base_url": args.nexai_url,
        "database_path": Path(args.db),
        "stream_edit_interval_s": args.edit_interval,
        "log_level": args.log_level,
    }
    if args.nexai_connection_limit is not None:
        values["nexai_max_connections"] = args.nexai_connection_limit
    return Settings(_env_file=None, **values)


async def watch_peak(path: str) -> None:
    """Keep the snapshot of the highest traced memory so far in ``path``."""
    best = 0
    while True:
        await asyncio.sleep(TRACEMALLOC_EVERY_S)
        current, _ = tracemalloc.get_traced_memory()
        if current > best + TRACEMALLOC_STEP_BYTES:
            best = current
            tracemalloc.take_snapshot().dump(path)
            log.info("tracemalloc: %.1f MiB traced, snapshot written", current / 2**20)


async def run(args: argparse.Namespace) -> None:
    point_discord_at(args.discord_url)
    peak_watch = asyncio.create_task(watch_peak(args.tracemalloc)) if args.tracemalloc else None
    bot: commands.Bot | commands.AutoShardedBot
    if args.kind == "nexbot":
        bot = NexBot(nexbot_settings(args), guild_ready_timeout=GUILD_READY_TIMEOUT_S)
    else:
        bot = DeferOnlyBot(args.reply)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = asyncio.create_task(bot.start(args.token), name="bot")
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
    if runner.done():
        ready.cancel()
        runner.result()  # raises why the bot stopped
        raise SystemExit("the bot stopped before it became ready")
    if isinstance(bot, NexBot):
        await bot.catalog.refresh()
    if args.tracemalloc:
        tracemalloc.take_snapshot().dump(args.tracemalloc + ".rest")
    print(READY_LINE, flush=True)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if peak_watch is not None:
        peak_watch.cancel()
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(runner, STOP_TIMEOUT_S)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bot_process", description=__doc__)
    parser.add_argument("--kind", choices=("nexbot", "defer-only"), default="nexbot")
    parser.add_argument("--discord-url", required=True, help="the fake Discord's http:// URL")
    parser.add_argument("--token", required=True)
    parser.add_argument("--nexai-url", default="http://127.0.0.1:9/api/v1")
    parser.add_argument("--nexai-key", default="sk-billing-bench")
    parser.add_argument("--db", default="bench-nexbot.db")
    parser.add_argument("--edit-interval", type=float, default=1.0)
    parser.add_argument("--reply", default=BASELINE_REPLY, help="the defer-only bot's answer")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--cprofile", help="write cProfile stats here on exit")
    parser.add_argument("--nexai-connection-limit", type=int, help="NEXAI_MAX_CONNECTIONS")
    parser.add_argument("--tracemalloc", help="write the peak tracemalloc snapshot here")
    args = parser.parse_args(argv)
    if args.tracemalloc:
        tracemalloc.start(int(os.environ.get("PYTHONTRACEMALLOC_FRAMES", "8")))
    setup_logging(args.log_level)
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler is not None:
        profiler.enable()
    try:
        run_loop(run(args))  # the loop `nexbot` itself runs on
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.cprofile)
    sys.exit(0)


if __name__ == "__main__":
    main()
