"""Graceful shutdown: answers in flight finish or end with a note, new work is refused politely,
then the gateway, the HTTP session and the database are closed; SIGTERM in a real process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from bot.chat.service import STOPPED_NOTE
from bot.errors import StorageError
from bot.render.subtext import subtext
from bot.storage.sqlite import SQLiteStore
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.test_ask import error_reply, finished
from tests.e2e.test_operating import streaming, until
from tests.fakes.discord import FakeDiscord, FakeInteraction
from tests.fakes.nexai import FakeNexai, Pause, Stall, Step

pytestmark = pytest.mark.asyncio(loop_scope="module")

RESTARTING = "The bot is restarting; please try again in a minute."
ANSWER = "A long answer that is still streaming when the bot is asked to stop, and then ends."
REPO = Path(__file__).resolve().parents[2]


async def usage_outcomes(db: Path) -> list[str]:
    store = await SQLiteStore.open(db)
    try:
        return [row[0] for row in await store.fetch_all("SELECT outcome FROM usage ORDER BY id")]
    finally:
        await store.close()


async def assert_closed(env: BotEnv) -> None:
    assert env.bot.is_closed()
    assert env.bot.session.closed
    with pytest.raises(StorageError):
        await env.bot.store.execute("SELECT 1")
    assert not env.settings.health_file.exists()  # `nexbot health` now says so


async def refused_while_draining(env: BotEnv) -> FakeInteraction:
    late = await env.discord.invoke("ask", {"prompt": "me too"})
    await late.wait_done()
    assert late.response_type == 4
    assert late.original is not None and late.original.ephemeral
    assert late.original.content == RESTARTING
    return late


async def test_an_answer_streaming_at_shutdown_finishes_and_new_work_is_refused(
    tmp_path: Path,
) -> None:
    db = tmp_path / "nexbot.db"
    async with bot_env(db, nexai_first_byte_timeout_s=10) as env:
        env.api.reply = ANSWER
        resume = asyncio.Event()
        env.api.enqueue("/chat/completions", Pause(resume))
        answer = await env.discord.invoke("ask", {"prompt": "tell me a long story"})
        await answer.wait_done(streaming)

        stopping = asyncio.create_task(env.bot.shutdown(grace_s=30))
        await refused_while_draining(env)
        assert not stopping.done()
        resume.set()
        await asyncio.wait_for(stopping, 10)

        assert finished(answer)
        assert answer.original is not None and answer.original.content == ANSWER
        await assert_closed(env)
        await env.bot.shutdown(grace_s=30)  # again: nothing more to do
        await env.bot.close()
    assert await usage_outcomes(db) == ["ok"]  # the refused request reserved nothing


@pytest.mark.parametrize(
    ("step", "shown"),
    [
        (Stall(after_chars=8, seconds=60), "Hello fr\n\n" + subtext(STOPPED_NOTE)),
        (Pause(asyncio.Event(), after_events=0), subtext(STOPPED_NOTE)),  # nothing arrived yet
    ],
    ids=["midway", "before-any-text"],
)
async def test_an_answer_still_running_after_the_grace_period_ends_with_a_note(
    tmp_path: Path, step: Step, shown: str
) -> None:
    db = tmp_path / "nexbot.db"
    async with bot_env(db, nexai_first_byte_timeout_s=30) as env:
        env.api.enqueue("/chat/completions", step)
        answer = await env.discord.invoke("ask", {"prompt": "never ends"})
        await until(lambda: env.api.in_flight["/chat/completions"] == 1)
        if isinstance(step, Stall):
            await answer.wait_done(streaming)
        await asyncio.wait_for(env.bot.shutdown(grace_s=0.2), 10)
        assert answer.original is not None and answer.original.content == shown
        await assert_closed(env)
    assert await usage_outcomes(db) == ["refunded"]


@pytest.mark.parametrize(
    ("command", "options", "path"),
    [
        ("imagine", {"prompt": "a lighthouse"}, "/images/generations"),
        ("tts", {"text": "a long speech"}, "/audio/speech"),
    ],
)
async def test_a_media_command_still_running_after_the_grace_period_says_it_stopped(
    tmp_path: Path, command: str, options: dict[str, str], path: str
) -> None:
    db = tmp_path / "nexbot.db"
    async with bot_env(db, nexai_first_byte_timeout_s=30) as env:
        env.api.enqueue(path, Pause(asyncio.Event()))
        inter = await env.discord.invoke(command, options)
        await until(lambda: env.api.in_flight[path] == 1)
        await asyncio.wait_for(env.bot.shutdown(grace_s=0.2), 10)
        assert inter.original is not None and inter.original.deleted  # no "thinking…" left
        assert error_reply(inter).content == RESTARTING
        await assert_closed(env)
    assert await usage_outcomes(db) == ["refunded"]


# -- a real process: `nexbot` and SIGTERM ------------------------------------------------------


async def run_nexbot(args: list[str], env: dict[str, str]) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(process.wait(), 30)


async def test_sigterm_refuses_new_work_and_a_second_signal_stops_the_rest(
    tmp_path: Path,
) -> None:
    """The bot process drains on SIGTERM, stops what runs on SIGINT, and exits 0 with a clean
    log; `nexbot health` says healthy while it runs and unhealthy after."""
    async with FakeNexai() as api, FakeDiscord() as discord:
        health_file = tmp_path / "health"
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
            "PYTHONPATH": str(REPO),
            "FAKE_DISCORD_PORT": str(discord.port),
            "DISCORD_TOKEN": discord.token,
            "NEXAI_API_KEY": api.api_key,
            "NEXAI_BASE_URL": api.base_url,
            "NEXAI_FIRST_BYTE_TIMEOUT_S": "30",
            "DATABASE_PATH": str(tmp_path / "nexbot.db"),
            "HEALTH_FILE": str(health_file),
            "SHUTDOWN_GRACE_S": "30",
            "STREAM_EDIT_INTERVAL_S": "0.1",
        }
        log_path = tmp_path / "nexbot.log"
        with log_path.open("wb") as log_file:
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.e2e.bot_process",
                env=env,
                cwd=tmp_path,  # no developer's .env
                stdout=log_file,
                stderr=log_file,
            )
        try:
            await until(health_file.exists, timeout_s=30)
            assert await run_nexbot(["health"], env) == 0

            resume = asyncio.Event()  # never set: the answer outlives the grace period
            api.enqueue("/chat/completions", Pause(resume))
            answer = await discord.invoke("ask", {"prompt": "a long one"})
            await answer.wait_done(streaming, timeout=10)

            bot.send_signal(signal.SIGTERM)
            await until(lambda: "SIGTERM received" in log_path.read_text(), timeout_s=10)
            late = await discord.invoke("ask", {"prompt": "me too"})
            await late.wait_done(timeout=10)
            assert late.original is not None and late.original.ephemeral
            assert late.original.content == RESTARTING
            assert bot.returncode is None  # still waiting for the answer in flight

            bot.send_signal(signal.SIGINT)
            await answer.wait_done(finished, timeout=10)
            assert answer.original is not None
            assert answer.original.content == "Hello fr\n\n" + subtext(STOPPED_NOTE)
            assert await asyncio.wait_for(bot.wait(), 30) == 0
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
    log = log_path.read_text()
    assert "SIGTERM received: shutting down" in log
    assert "SIGINT received again" in log
    assert "Shut down cleanly" in log
    assert "Traceback" not in log
    assert not re.search(r"\b(ERROR|CRITICAL)\b", log)
    assert not health_file.exists()
    assert await run_nexbot(["health"], env) == 1
