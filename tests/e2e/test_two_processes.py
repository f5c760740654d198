"""Two `nexbot` processes on one PostgreSQL database, each running one shard: members of
servers on both shards hit a server total and a member limit at once with no overspend, and a
process killed mid-answer is reconciled by the other without touching its own calls."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

from bot.quota.quotas import Quotas
from bot.quota.rules import Limit
from bot.storage.store import Store
from tests.databases import Database
from tests.e2e.moderation_support import outcome, text_of
from tests.e2e.test_ask import finished
from tests.e2e.test_sharding import start_shard_processes
from tests.fakes.discord import FakeDiscord, FakeInteraction
from tests.fakes.nexai import FakeNexai

#: 16 asks per server at once (two per member: within the in-flight cap); the member limit
#: allows 8 of them, the server total 6.
TOTAL, PER_MEMBER, MEMBERS, TRIES = 6, 1, 8, 2
LONG_ANSWER = " ".join(f"word{i}" for i in range(60))


async def outcomes(store: Store, channel_id: int) -> list[str]:
    rows = await store.fetch_all(
        "SELECT outcome FROM usage WHERE channel_id = ? ORDER BY id", (channel_id,)
    )
    return [str(row[0]) for row in rows]


async def counted_per_member(store: Store, guild_id: int) -> Counter[int]:
    rows = await store.fetch_all(
        "SELECT user_id, COUNT(*) FROM usage WHERE guild_id = ?"
        " AND outcome IN ('reserved', 'ok') GROUP BY user_id",
        (guild_id,),
    )
    return Counter({int(user): int(count) for user, count in rows})


async def test_two_processes_on_postgresql_share_exact_limits_and_reap_a_killed_one(
    tmp_path: Path, postgres_database: Database
) -> None:
    assert postgres_database.url is not None
    store = await postgres_database.open()  # migrated once; the test reads the ledger with it
    async with FakeNexai() as api, FakeDiscord() as discord, AsyncExitStack() as stack:
        stack.push_async_callback(store.close)
        limited = {
            shard: discord.add_guild(f"Limited {shard}", shard=(shard, 2)) for shard in (0, 1)
        }
        streaming = {
            shard: discord.add_guild(f"Long {shard}", shard=(shard, 2)) for shard in (0, 1)
        }
        quotas = Quotas(store)
        for guild_id, _ in limited.values():
            await quotas.set_limit(guild_id, Limit("ask", "day", TOTAL, "total"), set_by=1)
            await quotas.set_limit(guild_id, Limit("ask", "day", PER_MEMBER, "server"), set_by=1)
        processes = await start_shard_processes(
            stack,
            tmp_path,
            discord,
            api,
            DATABASE_URL=postgres_database.url,
            PROCESS_DEAD_AFTER_S="2",
        )

        # Both servers' members at once, each member more often than the limits allow.
        members = [discord.add_member(name=f"m{i}") for i in range(MEMBERS)]
        asks: list[FakeInteraction] = await asyncio.gather(
            *(
                discord.invoke("ask", {"prompt": "hi"}, channel_id=channel, user_id=member)
                for _, channel in limited.values()
                for member in members
                for _ in range(TRIES)
            )
        )
        await asyncio.gather(*(ask.wait_done(finished, timeout=30) for ask in asks))
        for guild_id, _ in limited.values():
            counted = await counted_per_member(store, guild_id)
            assert sum(counted.values()) == TOTAL  # the total, exactly: no overspend
            assert max(counted.values()) <= PER_MEMBER
        said = Counter(text_of(outcome(a)).split(" of ")[0] for a in asks)
        refusals = (
            said["You've used your daily limit"] + said["This server has used its daily total"]
        )
        assert said["Hello from nexai."] == 2 * TOTAL
        assert refusals == 2 * (MEMBERS * TRIES - TOTAL), said

        # A long answer on each process; the one on shard 0 dies with its call in flight.
        api.reply, api.chunk_delay_s = LONG_ANSWER, 0.15
        dying_channel, living_channel = streaming[0][1], streaming[1][1]
        living = [
            await discord.invoke("ask", {"prompt": "long"}, channel_id=channel)
            for channel in (dying_channel, living_channel)
        ][1]
        for _ in range(100):  # both calls reserved and under way
            both = [await outcomes(store, c) for c in (dying_channel, living_channel)]
            if both == [["reserved"], ["reserved"]]:
                break
            await asyncio.sleep(0.1)
        assert both == [["reserved"], ["reserved"]]
        processes[0][0].send_signal(signal.SIGKILL)
        await processes[0][0].wait()
        for _ in range(100):  # the other process reaps it within a few beats
            if await outcomes(store, dying_channel) == ["refunded"]:
                break
            await asyncio.sleep(0.1)
        assert await outcomes(store, dying_channel) == ["refunded"]
        assert await outcomes(store, living_channel) == ["reserved"]  # still answering
        await living.wait_done(finished, timeout=30)
        assert await outcomes(store, living_channel) == ["ok"]
    log = processes[1][1].read_text()
    assert "bot processes stopped without retiring" in log
