"""The fake Discord's shards, proven with discord.py's own AutoShardedBot (Topics > Gateway:
Sharding, Identifying, Session Start Limit Object)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord.ext import commands

from tests.fakes.discord import FakeDiscord, IdentifyLimit, run_bot, stop_bot

pytestmark = pytest.mark.asyncio(loop_scope="module")


class ShardedBot(commands.AutoShardedBot):
    """Echoes every message with the shard that delivered its guild (DMs: "dm")."""

    def __init__(self, **options: object) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix="!",
            intents=intents,
            guild_ready_timeout=0.1,
            **options,  # type: ignore[arg-type]
        )

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id == self.user.id:  # type: ignore[union-attr]
            return
        where = f"shard {message.guild.shard_id}" if message.guild else "dm"
        await message.reply(f"{message.content} via {where}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sharded() -> AsyncIterator[tuple[FakeDiscord, ShardedBot, int, int]]:
    """Two shards (discord.py's default identify pacing: 5 s between them), a guild on each."""
    async with FakeDiscord() as fake:
        fake.identify_limit.recommended_shards = 2
        _, channel_1 = fake.add_guild("Second", shard=(1, 2))
        _, channel_0 = fake.add_guild("Zeroth", shard=(0, 2))
        bot = ShardedBot()
        task = await run_bot(bot, fake, timeout=20)
        yield fake, bot, channel_0, channel_1
        await stop_bot(bot, task)


async def get_gateway_bot(fake: FakeDiscord) -> dict[str, object]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{fake.url}/api/v10/gateway/bot", headers=headers) as resp,
    ):
        assert resp.status == 200
        body: dict[str, object] = await resp.json()
        return body


async def test_an_automatic_bot_runs_the_recommended_shards_identified_in_order(
    sharded: tuple[FakeDiscord, ShardedBot, int, int],
) -> None:
    fake, bot, _, _ = sharded
    assert bot.shard_count == 2 and set(bot.shards) == {0, 1}
    assert set(fake.sessions) == {0, 1} and fake.shard_count == 2
    assert [shard for shard, _ in fake.identify_limit.accepted] == [0, 1]
    assert fake.identify_violations == []
    assert {guild.shard_id for guild in bot.guilds} == {0, 1}


async def test_gateway_bot_counts_every_identify_against_the_session_start_limit(
    sharded: tuple[FakeDiscord, ShardedBot, int, int],
) -> None:
    fake, _, _, _ = sharded
    body = await get_gateway_bot(fake)
    assert body["url"] == fake.gateway_url and body["shards"] == 2
    limit = body["session_start_limit"]
    assert isinstance(limit, dict)
    assert limit["total"] == 1000 and limit["remaining"] == 998
    assert limit["max_concurrency"] == 1 and 0 < limit["reset_after"] <= 86_400_000


async def test_guild_events_reach_their_guilds_shard_and_dms_shard_zero(
    sharded: tuple[FakeDiscord, ShardedBot, int, int],
) -> None:
    fake, _, channel_0, channel_1 = sharded
    for channel, shard in [(channel_0, 0), (channel_1, 1)]:
        sent = await fake.send_message("hello", channel_id=channel)
        assert (await fake.wait_reply(sent)).content == f"hello via shard {shard}"
        assert any(f["d"].get("id") == sent["id"] for f in fake.sessions[shard].event_log)
        assert not any(f["d"].get("id") == sent["id"] for f in fake.sessions[1 - shard].event_log)
    dm = await fake.send_message("psst", channel_id=fake.dm_channel_id)
    assert (await fake.wait_reply(dm)).content == "psst via dm"
    assert any(f["d"].get("id") == dm["id"] for f in fake.sessions[0].event_log)


async def test_a_dropped_shard_resumes_without_spending_an_identify(
    sharded: tuple[FakeDiscord, ShardedBot, int, int],
) -> None:
    fake, _, _, channel_1 = sharded
    remaining, identifies = fake.identify_limit.remaining, fake.identifies
    await fake.disconnect_gateway(shard_id=1)
    assert fake.gateway_connections[-1].startswith("/resume?")
    assert (fake.identify_limit.remaining, fake.identifies) == (remaining, identifies)
    sent = await fake.send_message("back", channel_id=channel_1)
    assert (await fake.wait_reply(sent)).content == "back via shard 1"


async def test_an_identify_within_five_seconds_of_its_bucket_gets_invalid_session() -> None:
    async with FakeDiscord() as fake:
        assert fake.identify_limit.admit(0)
        fake.identify_limit.max_concurrency = 2
        assert fake.identify_limit.admit(1)  # another bucket: allowed at once
        assert not fake.identify_limit.admit(2)  # bucket 0 again, too soon
        violation = fake.identify_violations[0]
        assert (violation.shard_id, violation.bucket) == (2, 0)
        assert violation.since_last_s < 5

        hooked: list[int | None] = []

        class Hasty(ShardedBot):  # identifies again at once instead of after 5 s
            async def before_identify_hook(
                self, shard_id: int | None, *, initial: bool = False
            ) -> None:
                hooked.append(shard_id)

        fake.identify_limit = IdentifyLimit(max_concurrency=1)
        bot = Hasty(shard_ids=[0, 1], shard_count=2)
        task = await run_bot(bot, fake, timeout=20)
        try:
            refused = fake.identify_violations
            assert refused and {v.shard_id for v in refused} == {1}
            assert fake.identifies == 2 and set(fake.sessions) == {0, 1}
            accepted = [at for _, at in fake.identify_limit.accepted]
            assert accepted[1] - accepted[0] >= 5
        finally:
            await stop_bot(bot, task)


async def test_a_shard_id_beyond_the_count_is_closed_with_4010() -> None:
    async with FakeDiscord() as fake:
        bot = ShardedBot(shard_ids=[2], shard_count=2)
        with pytest.raises(discord.ConnectionClosed) as closed:
            await asyncio.wait_for(bot.start(fake.token), 10)
        assert closed.value.code == 4010
        await bot.close()
