"""A crowd at once shares a few connections to Discord (DISCORD_MAX_CONNECTIONS): each /ask's
callback and edits queue for one of them instead of opening a connection of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.fakes.discord import FakeInteraction
from tests.fakes.nexai import DEFAULT_REPLY

pytestmark = pytest.mark.asyncio(loop_scope="module")

CROWD = 24
CONNECTIONS = 3
#: A round trip to Discord: long enough that the crowd's calls overlap.
ROUND_TRIP_S = 0.05


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    db = tmp_path_factory.mktemp("connections") / "nexbot.db"
    async with bot_env(db, discord_max_connections=CONNECTIONS) as started:
        yield started


def answered(inter: FakeInteraction) -> bool:
    return inter.original is not None and inter.original.content == DEFAULT_REPLY


async def test_a_crowd_of_asks_is_answered_over_a_few_connections(env: BotEnv) -> None:
    discord = env.discord
    members = [discord.add_member(name=f"member {n}") for n in range(CROWD)]
    channels = [discord.add_channel(f"crowd-{n}") for n in range(CROWD)]
    discord.response_delay_s = ROUND_TRIP_S
    try:
        asked = await asyncio.gather(
            *(
                discord.invoke("ask", {"prompt": f"question {n}"}, user_id=m, channel_id=c)
                for n, (m, c) in enumerate(zip(members, channels, strict=True))
            )
        )
        await discord.wait_for(lambda: all(answered(inter) for inter in asked), 30)
        assert await env.bot.admission.wait_idle(10)
    finally:
        discord.response_delay_s = 0.0
    assert all(inter.response_type == 5 for inter in asked)  # each deferred
    # The gateway's connection counts too: REST had at most the others, however many waited.
    assert 1 <= len(discord.connections) <= CONNECTIONS
