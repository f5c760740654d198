"""Shards end to end: one bot running two shards, and two `nexbot` processes splitting them,
against a fake Discord that enforces Discord's identify rate limit and routes events by shard."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.ops.identify import IDENTIFY_WINDOW_S
from bot.storage.sqlite import SQLiteStore
from tests.e2e.conftest import BotEnv, e2e_settings, running_bot
from tests.e2e.test_ask import finished
from tests.e2e.test_operating import until
from tests.fakes.discord import FakeDiscord, FakeInteraction
from tests.fakes.nexai import FakeNexai

pytestmark = pytest.mark.asyncio(loop_scope="module")

REPO = Path(__file__).resolve().parents[2]
ANSWER = "An answer from whichever process runs this server's shard."


@dataclass
class Sharded:
    env: BotEnv
    channels: dict[int, int]  # shard id -> a channel of a guild on that shard


def identified_in_turn(discord: FakeDiscord) -> bool:
    """No IDENTIFY refused, and each one at least Discord's window after the one before."""
    times = [at for _, at in discord.identify_limit.accepted]
    return not discord.identify_violations and all(
        later - earlier >= IDENTIFY_WINDOW_S for earlier, later in itertools.pairwise(times)
    )


def seen_on(discord: FakeDiscord, shard: int, interaction: FakeInteraction) -> bool:
    return any(
        frame["t"] == "INTERACTION_CREATE" and frame["d"]["id"] == str(interaction.id)
        for frame in discord.sessions[shard].event_log
    )


async def ask_in(discord: FakeDiscord, channel_id: int | None) -> FakeInteraction:
    options = {"prompt": "which shard?"}
    if channel_id is None:
        inter = await discord.invoke("ask", options, guild=False)
    else:
        inter = await discord.invoke("ask", options, channel_id=channel_id)
    await inter.wait_done(finished, timeout=10)
    return inter


# -- one process, two shards -------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sharded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sharded]:
    db = tmp_path_factory.mktemp("sharded") / "nexbot.db"
    async with FakeNexai() as api, FakeDiscord() as discord:
        api.reply = ANSWER
        channels = {
            shard: discord.add_guild(f"On {shard}", shard=(shard, 2))[1] for shard in (1, 0)
        }
        settings = e2e_settings(discord, api, db, shard_count=2)
        async with running_bot(discord, settings) as bot:
            yield Sharded(BotEnv(discord, api, bot, settings), channels)


async def test_a_bot_with_two_shards_identifies_both_in_turn(sharded: Sharded) -> None:
    discord, bot = sharded.env.discord, sharded.env.bot
    assert set(bot.shards) == {0, 1} and bot.shard_count == 2
    assert [shard for shard, _ in discord.identify_limit.accepted] == [0, 1]
    assert identified_in_turn(discord)
    assert bot.gateway_connected()


@pytest.mark.parametrize("shard", [0, 1])
async def test_guilds_on_either_shard_are_answered(sharded: Sharded, shard: int) -> None:
    discord = sharded.env.discord
    inter = await ask_in(discord, sharded.channels[shard])
    assert inter.original is not None and inter.original.content == ANSWER
    assert seen_on(discord, shard, inter) and not seen_on(discord, 1 - shard, inter)


async def test_direct_messages_arrive_on_shard_zero_only(sharded: Sharded) -> None:
    discord = sharded.env.discord
    inter = await ask_in(discord, None)
    assert inter.original is not None and inter.original.content == ANSWER
    assert seen_on(discord, 0, inter) and not seen_on(discord, 1, inter)


async def test_a_dropped_connection_resumes_and_spends_no_identify(sharded: Sharded) -> None:
    discord = sharded.env.discord
    remaining, identifies = discord.identify_limit.remaining, discord.identifies
    await discord.disconnect_gateway(shard_id=1)
    assert discord.gateway_connections[-1].startswith("/resume?")
    assert (discord.identify_limit.remaining, discord.identifies) == (remaining, identifies)
    inter = await ask_in(discord, sharded.channels[1])
    assert inter.original is not None and inter.original.content == ANSWER


async def test_a_short_identify_budget_is_logged_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "bot")
    async with FakeNexai() as api, FakeDiscord() as discord:
        discord.identify_limit.remaining = 0
        settings = e2e_settings(discord, api, tmp_path / "nexbot.db", shard_count=2, shard_ids=[1])
        async with running_bot(discord, settings):
            pass
    assert "Running shards 1 of 2" in caplog.text
    assert "Discord allows 0 more identifies today" in caplog.text
    assert "this process must identify 1 shards" in caplog.text


# -- two processes, one database ---------------------------------------------------------------


async def start_process(
    stack: AsyncExitStack, tmp_path: Path, env: dict[str, str], name: str
) -> tuple[asyncio.subprocess.Process, Path]:
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.e2e.bot_process",
            env=env,
            cwd=tmp_path,  # no developer's .env
            stdout=log_file,
            stderr=log_file,
        )

    async def stop() -> None:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()

    stack.push_async_callback(stop)
    return process, log_path


async def start_shard_processes(
    stack: AsyncExitStack,
    tmp_path: Path,
    discord: FakeDiscord,
    api: FakeNexai,
    **settings: str,
) -> dict[int, tuple[asyncio.subprocess.Process, Path]]:
    """Two `nexbot` processes running shard 0 and shard 1 of 2 with `settings` (e.g. the
    database), each logged in (its health file written); by shard, the process and its log."""
    base = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
        "PYTHONPATH": str(REPO),
        "FAKE_DISCORD_PORT": str(discord.port),
        "DISCORD_TOKEN": discord.token,
        "NEXAI_API_KEY": api.api_key,
        "NEXAI_BASE_URL": api.base_url,
        "STREAM_EDIT_INTERVAL_S": "0.1",
        "SHARD_COUNT": "2",
        **settings,
    }
    processes = {}
    for shard in (0, 1):
        env = {**base, "SHARD_IDS": str(shard), "HEALTH_FILE": str(tmp_path / f"{shard}.hb")}
        processes[shard] = await start_process(stack, tmp_path, env, f"shard{shard}")
    await until(lambda: all((tmp_path / f"{s}.hb").exists() for s in (0, 1)), timeout_s=40)
    return processes


async def test_two_processes_split_the_shards_identify_in_turn_and_answer_their_guilds(
    tmp_path: Path,
) -> None:
    db = tmp_path / "nexbot.db"
    await (await SQLiteStore.open(db)).close()  # migrated once, before both start
    async with FakeNexai() as api, FakeDiscord() as discord, AsyncExitStack() as stack:
        api.reply = ANSWER
        channels = {
            shard: discord.add_guild(f"On {shard}", shard=(shard, 2))[1] for shard in (0, 1)
        }
        processes = await start_shard_processes(
            stack, tmp_path, discord, api, DATABASE_PATH=str(db)
        )

        assert set(discord.sessions) == {0, 1} and discord.identifies == 2
        assert identified_in_turn(discord)
        for shard, channel in channels.items():
            inter = await ask_in(discord, channel)
            assert inter.original is not None and inter.original.content == ANSWER
            assert seen_on(discord, shard, inter) and not seen_on(discord, 1 - shard, inter)
        dm = await ask_in(discord, None)
        assert seen_on(discord, 0, dm) and dm.original is not None

        for process, _ in processes.values():
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
    logs = {shard: path.read_text() for shard, (_, path) in processes.items()}
    for shard, log in logs.items():
        assert f"Running shards {shard} of 2" in log
        assert "Traceback" not in log and not re.search(r"\b(ERROR|CRITICAL)\b", log)
        assert f"Shard {shard} identifies (bucket 0, waited" in log
