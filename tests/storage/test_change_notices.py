"""Change notices between processes (PostgreSQL LISTEN/NOTIFY): a change made through one
store is seen at once by the caches of another store on the same database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.quota.quotas import Quotas
from bot.quota.rules import Limit
from bot.storage.guild_settings import GuildSettings
from tests.databases import Database

GUILD = 1000


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    for _ in range(round(timeout_s / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not seen within {timeout_s} s")


async def test_another_process_sees_a_change_of_settings_and_limits_at_once(
    postgres_database: Database,
) -> None:
    first, second = await postgres_database.open(), await postgres_database.open()
    try:
        settings = [GuildSettings(first), GuildSettings(second)]
        quotas = [Quotas(first), Quotas(second)]
        # The second process has both cached (a TTL of 30 s would keep them that long).
        assert (await settings[1].get(GUILD)).chat_model is None
        assert await quotas[1].guild_limits(GUILD) == ()

        await settings[0].set(GUILD, "chat_model", "gpt-5-mini", by=1)
        limit = Limit("ask", "day", 5, "server")
        await quotas[0].set_limit(GUILD, limit, set_by=1)

        async def seen() -> bool:
            config = await settings[1].get(GUILD)
            return config.chat_model == "gpt-5-mini" and await quotas[1].guild_limits(GUILD) == (
                limit,
            )

        await eventually(seen, timeout_s=2.0)
    finally:
        await first.close()
        await second.close()
