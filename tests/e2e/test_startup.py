"""Start-up: command sync only when the tree changed, `nexbot check`, crash recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.__main__ import check
from bot.app import NexBot
from bot.quota.ledger import Ledger
from bot.quota.rules import Caller
from bot.storage.sqlite import SQLiteStore
from tests.e2e.conftest import e2e_settings
from tests.fakes.discord import FakeDiscord, run_bot, stop_bot
from tests.fakes.nexai import FakeNexai

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fakes() -> AsyncIterator[tuple[FakeDiscord, FakeNexai]]:
    async with FakeNexai() as api, FakeDiscord() as discord:
        # Bots with databases of their own start here one after another: each would wait out
        # Discord's identify window (test_sharding.py tests the pacing).
        discord.identify_limit.window_s = 0
        yield discord, api


async def start_and_stop(
    discord: FakeDiscord, api: FakeNexai, db: Path, **overrides: object
) -> None:
    bot = NexBot(e2e_settings(discord, api, db, **overrides), guild_ready_timeout=0.1)
    task = await run_bot(bot, discord)
    await stop_bot(bot, task)


async def test_commands_are_synced_once_and_not_again_when_unchanged(
    fakes: tuple[FakeDiscord, FakeNexai], tmp_path: Path
) -> None:
    discord, api = fakes
    before = discord.command_syncs
    await start_and_stop(discord, api, tmp_path / "a.db")
    assert discord.command_syncs == before + 1
    ask = next(c for c in discord.commands[None] if c["name"] == "ask")
    assert ask["name_localizations"] == {"vi": "hỏi"}
    assert ask["description_localizations"]["vi"].startswith("Hỏi nexai")

    await start_and_stop(discord, api, tmp_path / "a.db")
    assert discord.command_syncs == before + 1


async def test_dev_guild_gets_its_own_instant_sync(
    fakes: tuple[FakeDiscord, FakeNexai], tmp_path: Path
) -> None:
    discord, api = fakes
    await start_and_stop(discord, api, tmp_path / "b.db", dev_guild_id=discord.guild_id)
    assert {c["name"] for c in discord.commands[discord.guild_id]} >= {"ask", "forget"}


async def test_reservations_left_open_by_a_crash_are_refunded_at_start(
    fakes: tuple[FakeDiscord, FakeNexai], tmp_path: Path
) -> None:
    discord, api = fakes
    db = tmp_path / "c.db"
    store = await SQLiteStore.open(db)
    reservation = await Ledger(store).reserve(Caller(user_id=1), "ask", 1, "gpt-4o")
    await store.close()

    await start_and_stop(discord, api, db)
    store = await SQLiteStore.open(db)
    try:
        outcome = await store.fetch_value("SELECT outcome FROM usage WHERE id = ?", (reservation,))
        assert outcome == "refunded"
    finally:
        await store.close()


async def test_check_reports_every_part_fine(
    fakes: tuple[FakeDiscord, FakeNexai], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    discord, api = fakes
    assert await check(e2e_settings(discord, api, tmp_path / "d.db"))
    report = capsys.readouterr().out
    assert "ok  Discord token" in report
    assert "ok  nexai API key" in report and "models available" in report
    assert "ok  Database" in report
    for model, setting in [
        ("gpt-4o-mini", "DEFAULT_CHAT_MODEL"),
        ("gpt-image-2", "DEFAULT_IMAGE_MODEL"),
        ("gpt-image-1.5", "IMAGE_MODELS"),
        ("tts-1", "TTS_MODEL"),
        ("whisper-1", "TRANSCRIBE_MODEL"),
        ("gpt-4o", "vision (capability table)"),
    ]:
        assert f"ok  Model {model}: {setting}: offered by the API" in report


async def test_check_names_each_configured_model_the_api_does_not_offer(
    fakes: tuple[FakeDiscord, FakeNexai], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    discord, api = fakes
    served = api.models
    api.models = [m for m in served if m["id"] not in ("tts-1", "gpt-4o")]
    try:
        assert not await check(e2e_settings(discord, api, tmp_path / "m.db"))
    finally:
        api.models = served
    report = capsys.readouterr().out
    assert "FAIL Model tts-1: TTS_MODEL: not offered by GET /models" in report
    assert (
        "ok  Model gpt-4o: vision (capability table): not offered by GET /models (optional)"
        in report
    )
    assert "ok  Model whisper-1: TRANSCRIBE_MODEL: offered by the API" in report


@pytest.mark.parametrize("broken", ["discord_token", "nexai_api_key"])
async def test_check_fails_on_a_rejected_secret_without_printing_it(
    broken: str,
    fakes: tuple[FakeDiscord, FakeNexai],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    discord, api = fakes
    settings = e2e_settings(discord, api, tmp_path / "e.db", **{broken: "sk-billing-wrong-secret"})
    assert not await check(settings)
    report = capsys.readouterr().out
    assert "FAIL" in report
    assert "sk-billing-wrong-secret" not in report


async def test_check_fails_on_an_unusable_database(
    fakes: tuple[FakeDiscord, FakeNexai], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    discord, api = fakes
    (tmp_path / "file").write_text("not a folder")
    assert not await check(e2e_settings(discord, api, tmp_path / "file" / "x.db"))
    assert "FAIL Database" in capsys.readouterr().out
