"""What the bot shows stays within Discord's limits, however big the server's settings grow.

The fake Discord refuses what Discord refuses (embed field values over 1024 characters, an
embed over 6000 in all, ...), so a command that built such an embed would fail here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.media.voice_notes import VoiceNoteChannels
from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.moderation_support import moderate, text_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

MANY = 300
MORE = re.compile(r"… and (\d+) more")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("discord-limits") / "nexbot.db") as e:
        yield e


def field(embed: dict[str, object], name: str) -> str:
    fields = embed["fields"]
    assert isinstance(fields, list)
    return next(str(f["value"]) for f in fields if f["name"] == name)


def listed_and_left_out(value: str) -> tuple[int, int]:
    """How many channel or role mentions a list shows, and how many it says it left out."""
    more = MORE.search(value)
    return len(re.findall(r"<[#@]&?\d+>", value)), int(more.group(1)) if more else 0


async def test_settings_show_fits_discord_with_hundreds_of_channels(env: BotEnv) -> None:
    guild, moderator = env.discord.guild_id, env.discord.user_id
    voice = VoiceNoteChannels(env.bot.store)
    for n in range(MANY):
        channel_id = 10**18 + n  # 19 digits, as Discord's snowflakes are today
        await env.bot.chat_places.change(guild, channel_id, by=moderator, mode="every")
        await voice.enable(channel_id + MANY, guild, moderator)

    shown = await moderate(env, "settings", "show")

    [embed] = shown.embeds
    # (each chat place says what it sets, so fewer fit)
    for name, fitting in (
        ("Channels with their own chat settings", 20),
        ("Voice notes transcribed in", 40),
    ):
        value = field(embed, name)
        assert len(value) <= 1024
        listed, left_out = listed_and_left_out(value)
        assert listed >= fitting and listed + left_out == MANY, value


async def test_limits_show_fits_discord_with_hundreds_of_limits_and_exempt_roles(
    env: BotEnv,
) -> None:
    guild, moderator = env.discord.guild_id, env.discord.user_id
    for n in range(MANY):
        member = 10**18 + n
        await env.bot.quotas.set_limit(guild, Limit("ask", "day", 5, "member", member), moderator)
        await env.bot.quotas.set_exempt(guild, 2 * 10**18 + n, True, moderator)

    shown = await moderate(env, "limits", "show")

    [embed] = shown.embeds
    description = str(embed["description"])
    assert len(description) <= 4096
    assert description.endswith("Windows are fixed UTC hours, days and months.")
    exempt = next(line for line in description.splitlines() if line.startswith("Exempt"))
    listed, left_out = listed_and_left_out(exempt)
    assert listed + left_out == MANY
    limit_lines = [line for line in description.splitlines() if line.startswith("• ")]
    left = MORE.findall(description.split("\n\n")[0])
    assert len(limit_lines) + int(left[-1]) == MANY
    assert "Limits in this server" in text_of(shown)
