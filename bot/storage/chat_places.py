"""A category's, channel's or thread's own chat settings, chosen by moderators: where the bot
answers there (the mode) and its persona (system prompt, model, temperature). The
`chat_places` table; all its SQL is here. A setting left None is the place above's
(`bot.chat.personas` resolves them); a place with no setting of its own has no row.

Every message in a server may need its places' settings before the bot decides to answer,
so they are read per server into a `LoadingCache` and dropped on every change (in every
process: `Store.changed`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from bot.storage.cache import LoadingCache
from bot.storage.store import Store

Mode = Literal["mention", "every", "off"]
MODES: tuple[Mode, ...] = get_args(Mode)
#: The persona's columns, as `PlaceSettings` names them.
PERSONA_FIELDS = ("system_prompt", "model", "temperature")
#: The range of temperatures chat APIs accept.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.0, 2.0


class Unchanged:
    """The value of an argument not given: keep what is stored."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = Unchanged()


@dataclass(frozen=True)
class PlaceSettings:
    """One place's own settings; None: as the place above it."""

    mode: Mode | None = None
    system_prompt: str | None = None
    model: str | None = None
    temperature: float | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


NOTHING = PlaceSettings()
#: The change notices of a server's places (`Store.changed`).
TOPIC = "chat_places"
COLUMNS = tuple(f.name for f in fields(PlaceSettings))


class ChatPlaces:
    """Reads (cached per server) and changes `chat_places`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: LoadingCache[int, dict[int, PlaceSettings]] = LoadingCache(self._load)
        store.on_change(TOPIC, self._cache.forget)

    async def of_guild(self, guild_id: int) -> dict[int, PlaceSettings]:
        """The server's places that have settings of their own, by id."""
        return await self._cache.get(guild_id)

    async def get(self, guild_id: int, place_id: int) -> PlaceSettings:
        return (await self.of_guild(guild_id)).get(place_id, NOTHING)

    async def _load(self, guild_id: int) -> dict[int, PlaceSettings]:
        rows = await self._store.fetch_all(
            f"SELECT place_id, {', '.join(COLUMNS)} FROM chat_places WHERE guild_id = ?",
            (guild_id,),
        )
        return {
            int(row[0]): PlaceSettings(**dict(zip(COLUMNS, row[1:], strict=True))) for row in rows
        }

    async def change(
        self,
        guild_id: int,
        place_id: int,
        *,
        by: int,
        mode: Mode | None = KEEP,
        system_prompt: str | None = KEEP,
        model: str | None = KEEP,
        temperature: float | None = KEEP,
    ) -> PlaceSettings:
        """Change the settings given (None: back to the place above's; not given: keep);
        returns the place's settings after. A place left with none loses its row."""
        given: dict[str, Any] = {
            "mode": mode,
            "system_prompt": system_prompt,
            "model": model,
            "temperature": temperature,
        }
        values = {name: value for name, value in given.items() if value is not KEEP}
        if values.get("mode") is not None and values["mode"] not in MODES:
            raise ValueError(f"unknown chat mode {values['mode']!r}")
        t = values.get("temperature")
        if t is not None and not MIN_TEMPERATURE <= t <= MAX_TEMPERATURE:
            raise ValueError(f"temperature {t} out of range")
        if values:
            names = list(values)
            async with self._store.transaction() as db:
                await db.execute(
                    f"INSERT INTO chat_places (place_id, guild_id, {', '.join(names)},"
                    f" updated_by, updated_at) VALUES (?, ?, {', '.join('?' for _ in names)}, ?, ?)"
                    " ON CONFLICT (place_id) DO UPDATE SET "
                    + ", ".join(f"{n} = excluded.{n}" for n in names)
                    + ", updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                    (place_id, guild_id, *values.values(), by, time.time()),
                )
                await db.execute(
                    "DELETE FROM chat_places WHERE place_id = ? AND "
                    + " AND ".join(f"{c} IS NULL" for c in COLUMNS),
                    (place_id,),
                )
            await self._store.changed(TOPIC, guild_id)
        return await self.get(guild_id, place_id)
