"""Where the bot answers and with which persona: a place's settings resolved through the places
above it (thread > channel > category > server > the operator's defaults), and the variables
a system prompt may use. Knows nothing about Discord: the cogs describe the place.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, cast

from bot.config import Settings
from bot.storage.chat_places import ChatPlaces, Mode, PlaceSettings
from bot.storage.guild_settings import GuildConfig, GuildSettings

#: Where a setting came from, most specific first.
Level = Literal["thread", "channel", "category", "server", "bot"]
DEFAULT_MODE: Mode = "mention"
#: Messages starting with it are asides, not answered in "every message" channels.
DEFAULT_ASIDE_PREFIX = "//"
#: The variables a system prompt may use; anything else in braces stays as written.
VARIABLES = ("user", "server", "channel", "date", "time", "locale")
_VARIABLE = re.compile(r"\{(" + "|".join(VARIABLES) + r")\}")


@dataclass(frozen=True)
class Place:
    """Where a message or command is. A thread's `channel_id` is its parent's."""

    guild_id: int | None
    channel_id: int | None
    thread_id: int | None = None
    category_id: int | None = None

    def levels(self) -> list[tuple[Level, int]]:
        """The place's own levels that exist, most specific first (the server's aside)."""
        found: list[tuple[Level, int | None]] = [
            ("thread", self.thread_id),
            ("channel", self.channel_id),
            ("category", self.category_id),
        ]
        return [(level, pid) for level, pid in found if pid is not None]

    @property
    def conversation_id(self) -> int | None:
        """The memory this place's conversation keeps: the thread's, or the channel's."""
        return self.thread_id or self.channel_id


@dataclass(frozen=True)
class Persona:
    """What answers: the system prompt (variables not yet filled), model and temperature,
    each with the level it came from."""

    system_prompt: str
    model: str
    temperature: float | None
    prompt_from: Level
    model_from: Level
    temperature_from: Level


@dataclass(frozen=True)
class ChatSetup:
    """How the bot takes part in a place's conversation."""

    mode: Mode
    mode_from: Level
    persona: Persona
    aside_prefix: str
    answer_in_threads: bool


def resolve(
    place: Place,
    guild: GuildConfig,
    places: dict[int, PlaceSettings],
    *,
    default_prompt: str,
    default_model: str,
) -> ChatSetup:
    """Each setting from the most specific level that has one."""
    chain: list[tuple[Level, PlaceSettings]] = [
        (level, places[pid]) for level, pid in place.levels() if pid in places
    ]
    server = PlaceSettings(
        mode=cast(Mode | None, guild.chat_mode),
        system_prompt=guild.system_prompt,
        model=guild.chat_model,
        temperature=guild.temperature,
    )
    chain.append(("server", server))

    def pick(name: str, default: object) -> tuple[object, Level]:
        for level, settings in chain:
            value = getattr(settings, name)
            if value is not None:
                return value, level
        return default, "bot"

    mode, mode_from = pick("mode", DEFAULT_MODE)
    prompt, prompt_from = pick("system_prompt", default_prompt)
    model, model_from = pick("model", default_model)
    temperature, temperature_from = pick("temperature", None)
    persona = Persona(
        system_prompt=str(prompt),
        model=str(model),
        temperature=cast(float | None, temperature),
        prompt_from=prompt_from,
        model_from=model_from,
        temperature_from=temperature_from,
    )
    return ChatSetup(
        mode=cast(Mode, mode),
        mode_from=mode_from,
        persona=persona,
        aside_prefix=guild.aside_prefix or DEFAULT_ASIDE_PREFIX,
        answer_in_threads=guild.answer_in_threads,
    )


@dataclass(frozen=True)
class PromptVariables:
    """What `{user}`, `{server}`, `{channel}`, `{locale}`, `{date}` and `{time}` become."""

    user: str
    server: str
    channel: str
    locale: str
    now: dt.datetime

    def values(self) -> dict[str, str]:
        now = self.now.astimezone(dt.UTC)
        return {
            "user": self.user,
            "server": self.server,
            "channel": self.channel,
            "locale": self.locale,
            "date": now.strftime("%Y-%m-%d"),
            "time": now.strftime("%H:%M UTC"),
        }


def fill(prompt: str, variables: PromptVariables) -> str:
    """`prompt` with its variables replaced; other braces (code, JSON) are left alone."""
    values = variables.values()
    return _VARIABLE.sub(lambda m: values[m.group(1)], prompt)


class Personas:
    """A place's `ChatSetup`, from the server's settings and its places' (both cached)."""

    def __init__(self, settings: Settings, guilds: GuildSettings, places: ChatPlaces) -> None:
        self._settings = settings
        self._guilds = guilds
        self._places = places

    async def setup(self, place: Place) -> ChatSetup:
        guild = await self._guilds.get(place.guild_id)
        places = await self._places.of_guild(place.guild_id) if place.guild_id else {}
        return resolve(
            place,
            guild,
            places,
            default_prompt=self._settings.system_prompt,
            default_model=self._settings.default_chat_model,
        )
