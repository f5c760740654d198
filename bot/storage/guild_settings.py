"""Per-server settings moderators choose with /settings: default models, the server's persona
(system prompt, chat model, temperature), where and how the bot answers by default (the chat
mode, the aside prefix, answers in threads), and where API alerts go.

A category's, channel's or thread's own mode and persona are in `chat_places`
(`bot.storage.chat_places`).

Voice-note channels live in the `voice_channels` table, owned by `bot.media.voice_notes`; this
module only lists them (`voice_channel_ids`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, get_args

from bot.storage.cache import LoadingCache
from bot.storage.store import Store

#: Settings that are one column of `guild_settings`.
Column = Literal[
    "chat_model",
    "image_model",
    "system_prompt",
    "alert_channel_id",
    "chat_mode",
    "temperature",
    "aside_prefix",
    "answer_in_threads",
]
COLUMNS: tuple[Column, ...] = get_args(Column)


@dataclass(frozen=True)
class GuildConfig:
    """One server's settings; None means "the bot's default" (or, for alerts, "off")."""

    chat_model: str | None = None
    image_model: str | None = None
    system_prompt: str | None = None
    alert_channel_id: int | None = None
    #: Where no channel says otherwise: "mention", "every" (message) or "off"; None: mention.
    chat_mode: str | None = None
    temperature: float | None = None
    #: Messages starting with it are asides, not answered in "every message" channels.
    aside_prefix: str | None = None
    #: /ask (by default) and mentions open their answer in a new thread.
    answer_in_threads: bool = False


DEFAULTS = GuildConfig()
#: The change notices of a server's settings (`Store.changed`).
TOPIC = "guild_settings"


class GuildSettings:
    """Reads (cached) and changes the `guild_settings` table.

    Commands read a server's settings before they acknowledge an interaction; a cold cache
    loads each server once however many interactions arrive together (`LoadingCache`)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: LoadingCache[int, GuildConfig] = LoadingCache(self._load)
        store.on_change(TOPIC, self._cache.forget)

    async def get(self, guild_id: int | None) -> GuildConfig:
        """The settings of a server (the defaults for DMs, `guild_id` None)."""
        if guild_id is None:
            return DEFAULTS
        return await self._cache.get(guild_id)

    async def _load(self, guild_id: int) -> GuildConfig:
        row = await self._store.fetch_one(
            f"SELECT {', '.join(COLUMNS)} FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        values = dict(zip(COLUMNS, row, strict=True)) if row else {}
        if values:
            values["answer_in_threads"] = bool(values["answer_in_threads"])
        return GuildConfig(**values)

    async def set(
        self, guild_id: int, column: Column, value: str | int | float | None, by: int
    ) -> None:
        """Set one setting (None: back to the default)."""
        if column not in COLUMNS:
            raise ValueError(f"unknown setting {column!r}")
        if column == "answer_in_threads":
            value = int(bool(value))
        await self._store.execute(  # one statement: safe beside Store.transaction
            f"INSERT INTO guild_settings (guild_id, {column}, updated_by, updated_at)"
            f" VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
            f" {column} = excluded.{column}, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at",
            (guild_id, value, by, time.time()),
        )
        await self._changed(guild_id)

    async def voice_channel_ids(self, guild_id: int) -> frozenset[int]:
        """Channels where voice notes are transcribed (`bot.media.voice_notes` changes them)."""
        rows = await self._store.fetch_all(
            "SELECT channel_id FROM voice_channels WHERE guild_id = ?", (guild_id,)
        )
        return frozenset(int(r[0]) for r in rows)

    async def _changed(self, guild_id: int) -> None:
        await self._store.changed(TOPIC, guild_id)
