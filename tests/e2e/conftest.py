"""A real NexBot against the loopback fakes, started once per test module.

A module marked `pytestmark = pytest.mark.both_backends` runs its `env` tests twice: on a
SQLite file and on a PostgreSQL schema of its own (`tests/databases.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import NexBot
from bot.config import Settings
from bot.render import EDIT_INTERVAL_S
from tests.databases import BACKENDS, create_schema, drop_schema, postgres_server_url
from tests.fakes.discord import FakeDiscord, run_bot, stop_bot
from tests.fakes.nexai import FakeNexai

#: The e2e suite runs Discord's clock ten times faster: the fake's rate-limit windows (5 edits
#: per 0.5 s instead of per 5 s) and the bot's edit interval (0.1 s instead of 1 s) alike, so
#: their ratio is production's while tests stay quick. A test that needs Discord's own clock
#: says so: ``bot_env(db, time_scale=1.0)`` (see test_rate_limits.py).
DISCORD_TIME_SCALE = 0.1


@dataclass
class BotEnv:
    discord: FakeDiscord
    api: FakeNexai
    bot: NexBot
    settings: Settings


def e2e_settings(discord: FakeDiscord, api: FakeNexai, db: Path, **overrides: Any) -> Settings:
    """Settings for a test bot: fast retries and timeouts, no .env."""
    values: dict[str, Any] = {
        "discord_token": discord.token,
        "nexai_api_key": api.api_key,
        "nexai_base_url": api.base_url,
        "database_path": db,
        "nexai_max_retries": 1,
        "nexai_retry_backoff_s": 0.01,
        "nexai_first_byte_timeout_s": 0.5,
        "nexai_total_timeout_s": 5.0,
        "stream_edit_interval_s": EDIT_INTERVAL_S * DISCORD_TIME_SCALE,
        "health_file": db.with_suffix(".health"),
        **overrides,
    }
    return Settings(_env_file=None, **values)


@contextmanager
def inflight_cap(bot: NexBot, per_member: int) -> Iterator[None]:
    """Let one member have `per_member` requests in flight during the block (tests that race
    one member's requests against something else than MAX_INFLIGHT_PER_MEMBER)."""
    before, bot.admission.per_member = bot.admission.per_member, per_member
    try:
        yield
    finally:
        bot.admission.per_member = before


@asynccontextmanager
async def running_bot(discord: FakeDiscord, settings: Settings) -> AsyncIterator[NexBot]:
    """A bot logged into `discord` until the block ends (e.g. a second bot on the same DB)."""
    bot = NexBot(settings, guild_ready_timeout=0.1)
    task = await run_bot(bot, discord)
    await bot.catalog.refresh()
    try:
        yield bot
    finally:
        await stop_bot(bot, task)


@asynccontextmanager
async def bot_env(
    db: Path, *, time_scale: float = DISCORD_TIME_SCALE, **overrides: Any
) -> AsyncIterator[BotEnv]:
    """Fresh fakes and a bot whose settings differ from `e2e_settings` by `overrides`;
    Discord's rate-limit windows are scaled by `time_scale` (1.0: Discord's own)."""
    async with FakeNexai() as api, FakeDiscord() as discord:
        discord.limiter.time_scale = time_scale
        settings = e2e_settings(discord, api, db, **overrides)
        async with running_bot(discord, settings) as bot:
            yield BotEnv(discord, api, bot, settings)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_backends"
    ):
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="module")


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    """The database `env`'s bot uses: SQLite, unless the module runs on both backends."""
    return str(getattr(request, "param", "sqlite"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, backend: str) -> AsyncIterator[BotEnv]:
    db = tmp_path_factory.mktemp("e2e") / "nexbot.db"
    database: dict[str, Any] = {}
    if backend == "postgresql":
        server = postgres_server_url()
        schema, database["database_url"] = await create_schema(server)
    try:
        async with _env(db, **database) as started:
            yield started
    finally:
        if database:
            await drop_schema(server, schema)


@asynccontextmanager
async def _env(db: Path, **overrides: Any) -> AsyncIterator[BotEnv]:
    async with FakeNexai() as api, FakeDiscord() as discord:
        discord.limiter.time_scale = DISCORD_TIME_SCALE
        settings = e2e_settings(discord, api, db, **overrides)
        bot = NexBot(settings, guild_ready_timeout=0.1)
        task = await run_bot(bot, discord)
        await bot.catalog.refresh()
        try:
            yield BotEnv(discord, api, bot, settings)
        finally:
            await stop_bot(bot, task)


@pytest.fixture(autouse=True)
def _fresh_api(request: pytest.FixtureRequest) -> Iterator[None]:
    """Scripted API steps a test left unused must not leak into the next test."""
    yield
    if "env" in request.fixturenames:
        request.getfixturevalue("env").api.reset()
