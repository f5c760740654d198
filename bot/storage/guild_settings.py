"""Per-server settings moderators choose with /settings: default models, a system prompt,
where mentions are answered, and where API alerts go.

Voice-note channels live in the `voice_channels` table, owned by `bot.media.voice_notes`; this
module only lists them (`voice_channel_ids`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.storage.cache import LoadingCache
from bot.storage.store import Store

#: Settings that are one column of `guild_settings`.
Column = Literal["chat_model", "image_model", "system_prompt", "alert_channel_id"]
COLUMNS: tuple[Column, ...] = ("chat_model", "image_model", "system_prompt", "alert_channel_id")


@dataclass(frozen=True)
class GuildConfig:
    """One server's settings; None means "the bot's default" (or, for alerts, "off")."""

    chat_model: str | None = None
    image_model: str | None = None
    system_prompt: str | None = None
    alert_channel_id: int | None = None
    #: Channels where mentions are answered; empty means every channel.
    mention_channel_ids: frozenset[int] = field(default_factory=frozenset)

    def answers_mentions_in(self, channel_ids: Iterable[int | None]) -> bool:
        """Whether a mention in a channel (or a thread: pass its parent too) is answered."""
        if not self.mention_channel_ids:
            return True
        return any(cid in self.mention_channel_ids for cid in channel_ids if cid is not None)


DEFAULTS = GuildConfig()
#: The change notices of a server's settings (`Store.changed`).
TOPIC = "guild_settings"


class GuildSettings:
    """Reads (cached) and changes the `guild_settings` and `mention_channels` tables.

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
        mentions = frozenset(
            int(r[0])
            for r in await self._store.fetch_all(
                "SELECT channel_id FROM mention_channels WHERE guild_id = ?", (guild_id,)
            )
        )
        values = dict(zip(COLUMNS, row, strict=True)) if row else {}
        return GuildConfig(**values, mention_channel_ids=mentions)

    async def set(self, guild_id: int, column: Column, value: str | int | None, by: int) -> None:
        """Set one setting (None: back to the default)."""
        if column not in COLUMNS:
            raise ValueError(f"unknown setting {column!r}")
        await self._store.execute(  # one statement: safe beside Store.transaction
            f"INSERT INTO guild_settings (guild_id, {column}, updated_by, updated_at)"
            f" VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
            f" {column} = excluded.{column}, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at",
            (guild_id, value, by, time.time()),
        )
        await self._changed(guild_id)

    async def set_mention_channel(
        self, guild_id: int, channel_id: int, answer: bool, by: int
    ) -> bool:
        """Add or remove a channel where mentions are answered; returns whether it changed."""
        if answer:
            changed = await self._store.execute(
                "INSERT INTO mention_channels (channel_id, guild_id, added_by, added_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (channel_id) DO NOTHING",
                (channel_id, guild_id, by, time.time()),
            )
        else:
            changed = await self._store.execute(
                "DELETE FROM mention_channels WHERE channel_id = ? AND guild_id = ?",
                (channel_id, guild_id),
            )
        await self._changed(guild_id)
        return changed == 1

    async def voice_channel_ids(self, guild_id: int) -> frozenset[int]:
        """Channels where voice notes are transcribed (`bot.media.voice_notes` changes them)."""
        rows = await self._store.fetch_all(
            "SELECT channel_id FROM voice_channels WHERE guild_id = ?", (guild_id,)
        )
        return frozenset(int(r[0]) for r in rows)

    async def _changed(self, guild_id: int) -> None:
        await self._store.changed(TOPIC, guild_id)
