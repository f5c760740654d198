"""The database fails under a running bot: locked by another process, or read-only.

Realistic and root-proof: the lock is another connection's `BEGIN EXCLUSIVE` on the same file;
read-only is `PRAGMA query_only` on the bot's own connection, which fails writes exactly as a
read-only file or volume does ("attempt to write a readonly database").
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosqlite
import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.fault_support import remembered, sqlite_of, tracebacks, usage_outcomes
from tests.e2e.test_ask import error_reply, finished
from tests.fakes.discord import FakeInteraction
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

POLITE = "I couldn't save or read my data just now. Please try again in a moment."
POLITE_VI = "Mình chưa lưu hoặc đọc được dữ liệu của mình lúc này. Vui lòng thử lại sau giây lát."
BUSY_TIMEOUT_MS = 100  # the bot waits this long for a lock in these tests (5 s in production)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    db = tmp_path_factory.mktemp("storage") / "nexbot.db"
    async with bot_env(db) as env:
        await sqlite_of(env).conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        yield env


@pytest_asyncio.fixture(loop_scope="module")
async def locked(env: BotEnv) -> AsyncIterator[None]:
    """Another process holds the database's write lock until the test ends."""
    async with aiosqlite.connect(env.settings.database_path, isolation_level=None) as other:
        await other.execute("BEGIN EXCLUSIVE")
        yield
        await other.rollback()


@pytest_asyncio.fixture(loop_scope="module")
async def read_only(env: BotEnv) -> AsyncIterator[None]:
    await sqlite_of(env).conn.execute("PRAGMA query_only = ON")
    yield
    await sqlite_of(env).conn.execute("PRAGMA query_only = OFF")


async def ask(env: BotEnv, name: str, locale: str = "en-US") -> tuple[int, FakeInteraction]:
    channel = env.discord.add_channel(name)
    inter = await env.discord.invoke("ask", {"prompt": "hi"}, channel_id=channel, locale=locale)
    await inter.wait_done(finished)
    return channel, inter


@pytest.mark.parametrize("locale", ["en-US", "vi"])
@pytest.mark.usefixtures("locked")
async def test_locked_database_gets_a_polite_reply_not_a_hang(
    env: BotEnv, locale: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(env.api.calls("/chat/completions"))
    channel, inter = await ask(env, f"locked-{locale}", locale)
    assert error_reply(inter).content == (POLITE_VI if locale == "vi" else POLITE)
    assert len(env.api.calls("/chat/completions")) == before, "no API call without a charge"
    assert any("Database error" in m and "database is locked" in m for m in caplog.messages)
    assert not [r for r in caplog.records if r.exc_info]
    assert await usage_outcomes(env, channel) == []


@pytest.mark.usefixtures("read_only")
async def test_read_only_database_gets_a_polite_reply(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    channel, inter = await ask(env, "read-only")
    assert error_reply(inter).content == POLITE
    assert any("readonly database" in m for m in caplog.messages)
    assert not [r for r in caplog.records if r.exc_info]
    assert await usage_outcomes(env, channel) == []


@pytest.mark.usefixtures("locked")
async def test_mention_with_a_locked_database_gets_a_polite_reply(env: BotEnv) -> None:
    channel = env.discord.add_channel("locked-mention")
    sent = await env.discord.send_message("hello", mentions_bot=True, channel_id=channel)
    reply = await env.discord.wait_reply(sent)
    assert reply.content == POLITE


async def test_database_turning_read_only_midway_still_shows_the_answer(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    answer = " ".join(f"part{i}" for i in range(40))
    env.api.chunk_delay_s = 0.01
    env.api.enqueue("/chat/completions", Reply(answer))
    channel = env.discord.add_channel("read-only-midway")
    inter = await env.discord.invoke("ask", {"prompt": "go"}, channel_id=channel)
    await env.discord.wait_for(lambda: inter.original is not None and bool(inter.original.content))
    await sqlite_of(env).conn.execute("PRAGMA query_only = ON")  # after the charge was reserved
    try:
        await inter.wait_done(lambda i: i.original is not None and i.original.content == answer)
    finally:
        await sqlite_of(env).conn.execute("PRAGMA query_only = OFF")
    assert any("shown but not recorded" in m for m in caplog.messages)
    assert len(tracebacks(caplog)) == 1 and not tracebacks(caplog)[0].exc_info
    assert await remembered(env, channel) == 0
    # Left reserved: the next start refunds it (ProcessRegistry.start).
    assert await usage_outcomes(env, channel) == ["reserved"]


async def test_the_bot_works_again_once_the_database_does(env: BotEnv) -> None:
    channel, inter = await ask(env, "recovered")
    assert inter.original is not None and inter.original.content == "Hello from nexai."
    assert await usage_outcomes(env, channel) == ["ok"]
    assert await remembered(env, channel) == 2
