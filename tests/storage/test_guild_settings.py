"""GuildSettings: cached per server, loaded once however many callers miss it together."""

from __future__ import annotations

import asyncio

from bot.storage.guild_settings import GuildSettings
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store

GUILD = 1000


async def test_200_cold_reads_of_a_servers_settings_run_its_queries_once(
    sqlite_store: SQLiteStore,
) -> None:
    store = sqlite_store
    await GuildSettings(store).set(GUILD, "chat_model", "gpt-5-mini", by=1)
    await GuildSettings(store).set(GUILD, "chat_mode", "off", by=1)
    settings = GuildSettings(store)  # a freshly started bot: nothing cached
    statements: list[str] = []
    await store.conn.set_trace_callback(statements.append)
    configs = await asyncio.gather(*(settings.get(GUILD) for _ in range(200)))
    assert {(c.chat_model, c.chat_mode) for c in configs} == {("gpt-5-mini", "off")}
    assert sum("FROM guild_settings" in sql for sql in statements) == 1


async def test_a_change_is_read_back_at_once(store: Store) -> None:
    settings = GuildSettings(store)
    assert (await settings.get(GUILD)).system_prompt is None
    await settings.set(GUILD, "system_prompt", "Be brief.", by=1)
    assert (await settings.get(GUILD)).system_prompt == "Be brief."
