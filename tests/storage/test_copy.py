"""`nexbot migrate-db`: a SQLite database moves to PostgreSQL whole (memory, the ledger with
its counters and ids, limits, exempt roles, settings), into an empty database only."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.__main__ import migrate_db
from bot.chat.history import History, Turn
from bot.media.voice_notes import VoiceNoteChannels
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, Limit, QuotaExceeded
from bot.storage.channel_settings import ChannelSettings
from bot.storage.chat_places import ChatPlaces
from bot.storage.guild_settings import GuildSettings
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import redact_url
from tests.databases import Database

GUILD, CHANNEL, MEMBER, ROLE = 1000, 2000, 7, 3000
NOW = 1_750_000_000.0
REPO = Path(__file__).resolve().parents[2]


async def fill(path: Path) -> list[int]:
    """A bot's worth of state in a SQLite file; the ledger's ids."""
    store = await SQLiteStore.open(path)
    try:
        quotas = Quotas(store)
        await quotas.set_limit(GUILD, Limit("ask", "day", 3, "server"), set_by=1)
        await quotas.set_exempt(GUILD, ROLE, True, by=1)
        await GuildSettings(store).set(GUILD, "system_prompt", "Be brief.", by=1)
        await ChatPlaces(store).change(GUILD, CHANNEL, by=1, mode="every", temperature=0.3)
        await ChannelSettings(store).set_voice(CHANNEL, GUILD, by=1, mode="summary")
        await VoiceNoteChannels(store).enable(CHANNEL, GUILD, 1)
        await History(store).add_exchange(
            CHANNEL,
            author_id=MEMBER,
            author_name="Lan",
            prompt="Xin chào?",
            answer="Chào bạn!",
            model="gpt-4o-mini",
            bot_id=99,
            bot_name="nexbot",
        )
        ledger = Ledger(store, quotas, clock=lambda: NOW)
        ids = [await ledger.reserve(Caller(MEMBER, GUILD), "ask", 1, "gpt-4o-mini") for _ in "ab"]
        await ledger.settle(ids[0], 1, tokens=120)
        await ledger.refund(ids[1])
        ids.append(await ledger.reserve(Caller(MEMBER, GUILD), "ask", 1, None))
        await ledger.settle(ids[2], 1)
        return ids
    finally:
        await store.close()


async def test_a_sqlite_database_moves_to_postgresql_whole(
    tmp_path: Path, postgres_database: Database
) -> None:
    assert postgres_database.url is not None
    source = tmp_path / "nexbot.db"
    ids = await fill(source)
    assert await migrate_db(source, postgres_database.url)

    store = await postgres_database.open()
    try:
        quotas = Quotas(store)
        assert await quotas.guild_limits(GUILD) == (Limit("ask", "day", 3, "server"),)
        assert await quotas.exempt_roles(GUILD) == frozenset({ROLE})
        assert (await GuildSettings(store).get(GUILD)).system_prompt == "Be brief."
        place = await ChatPlaces(store).get(GUILD, CHANNEL)
        assert (place.mode, place.temperature) == ("every", 0.3)
        assert (await ChannelSettings(store).voice(CHANNEL)).mode == "summary"
        assert await VoiceNoteChannels(store).is_enabled(CHANNEL)
        assert await History(store).recent(CHANNEL, 10) == [
            Turn("user", "Lan", "Xin chào?"),
            Turn("assistant", "nexbot", "Chào bạn!"),
        ]
        rows = await store.fetch_all("SELECT id, outcome, tokens FROM usage ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (ids[0], "ok", 120),
            (ids[1], "refunded", 0),
            (ids[2], "ok", 0),
        ]
        # The counters came along: two counted calls today, one left; new ids go on after.
        ledger = Ledger(store, quotas, clock=lambda: NOW)
        assert await quotas.used(Caller(MEMBER, GUILD), "ask", "day", NOW) == 2
        assert await ledger.reserve(Caller(MEMBER, GUILD), "ask", 1, None) > max(ids)
        with pytest.raises(QuotaExceeded):  # the copied day's use counts against the limit
            await ledger.reserve(Caller(MEMBER, GUILD), "ask", 1, None)
    finally:
        await store.close()

    # A second copy into the now used database is refused, and changes nothing.
    assert not await migrate_db(source, postgres_database.url)
    store = await postgres_database.open()
    try:
        assert await store.fetch_value("SELECT COUNT(*) FROM usage") == 4
    finally:
        await store.close()


def test_the_command_refuses_a_missing_target_or_source_with_one_line(tmp_path: Path) -> None:
    source = tmp_path / "empty.db"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate-db", "--from", str(source)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 2 and "migrate-db needs --to" in done.stderr
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "migrate-db",
            "--from",
            str(source),
            "--to",
            "postgresql://x",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 2 and f"no SQLite database at {source}" in done.stderr


async def test_the_command_copies_and_reports_without_the_password(
    tmp_path: Path, postgres_database: Database
) -> None:
    assert postgres_database.url is not None
    source = tmp_path / "nexbot.db"
    await fill(source)
    command = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "migrate-db"),
        *("--from", str(source), "--to", postgres_database.url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    out, err = (part.decode() for part in await command.communicate())
    assert command.returncode == 0, err
    assert f"Copied {source} to {redact_url(postgres_database.url)}" in out
    assert "usage 3" in out and "messages 2" in out
    password = urlsplit(postgres_database.url).password
    assert password and f":{password}@" not in out + err
