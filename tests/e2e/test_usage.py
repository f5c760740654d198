"""/usage and /usage-report end to end: what members used and have left; the server's report."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.moderation_support import (
    NO_PERMISSION,
    moderate,
    outcome,
    resets,
    run,
    text_of,
)
from tests.fakes.nexai import DEFAULT_REPLY, Error

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("usage") / "nexbot.db") as e:
        yield e


async def ask(env: BotEnv, prompt: str, user_id: int) -> str:
    return text_of(outcome(await run(env, "ask", {"prompt": prompt}, user_id=user_id)))


def field(message_embeds: list[dict[str, object]], name: str) -> str:
    (card,) = message_embeds
    fields = card["fields"]
    assert isinstance(fields, list)
    return next(str(f["value"]) for f in fields if f["name"] == name)


async def test_usage_shows_what_was_used_and_what_is_left_per_feature(env: BotEnv) -> None:
    guild = env.discord.guild_id
    member = env.discord.add_member(name="counter")
    await env.bot.quotas.set_limit(guild, Limit("ask", "day", 5, "server"), set_by=1)
    await env.bot.quotas.set_limit(guild, Limit("ask", "month", 100, "total"), set_by=1)
    try:
        assert await ask(env, "one", member) == DEFAULT_REPLY
        assert await ask(env, "two", member) == DEFAULT_REPLY
        shown = outcome(await run(env, "usage", user_id=member))
    finally:
        await env.bot.quotas.remove_limit(guild, Limit("ask", "day", 0, "server"))
        await env.bot.quotas.remove_limit(guild, Limit("ask", "month", 0, "total"))
    assert shown.ephemeral
    assert shown.embeds[0]["title"] == "Your usage"
    lines = field(shown.embeds, "/ask").splitlines()
    assert lines[0] == (
        f"• 2 of 5 ask requests per day used, 3 left (the server default); resets {resets('day')}."
    )
    assert lines[1].startswith("• 2 of 100 ask requests per month used by the whole server")
    assert field(shown.embeds, "/imagine") == "No limit; 0 generated images used today."


async def test_usage_in_direct_messages_shows_the_members_own_use(env: BotEnv) -> None:
    member = env.discord.add_member(name="dm-counter")
    shown = outcome(await run(env, "usage", user_id=member, guild=False))
    assert "In direct messages with me." in text_of(shown)
    assert field(shown.embeds, "/ask") == "No limit; 0 ask requests used today."


async def test_the_usage_report_has_totals_top_members_and_the_ledger_as_csv(
    env: BotEnv,
) -> None:
    light = env.discord.add_member(name="light")
    heavy = env.discord.add_member(name="heavy")
    assert await ask(env, "light one", light) == DEFAULT_REPLY
    for prompt in ("heavy one", "heavy two", "heavy three"):
        assert await ask(env, prompt, heavy) == DEFAULT_REPLY
    env.api.enqueue("/chat/completions", Error(400, "nope"))
    assert await ask(env, "heavy fails", heavy) == "nexai refused the request: nope"

    report = await moderate(env, "usage-report", None, {"period": "day"})
    text = text_of(report)
    assert report.embeds[0]["title"] == "Usage report"
    top = text.split("**Top members**", 1)[1]
    assert top.index(f"<@{heavy}> — 3 ask requests") < top.index(f"<@{light}> — 1 ask request")
    assert "refunded)" in text and "**/ask**:" in text

    (attachment,) = report.attachments
    assert attachment.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode())))
    mine = [r for r in rows if int(r["user_id"]) in (light, heavy)]
    assert [(int(r["user_id"]), r["outcome"]) for r in mine] == [
        (light, "ok"),
        (heavy, "ok"),
        (heavy, "ok"),
        (heavy, "ok"),
        (heavy, "refunded"),
    ]
    first = mine[0]
    assert (first["feature"], first["units"], first["unit"]) == ("ask", "1", "requests")
    assert first["model"] == env.settings.default_chat_model
    assert int(first["tokens"]) > 0
    assert first["created_at_utc"].endswith("+00:00") and first["settled_at_utc"]


async def test_an_empty_period_reports_no_usage(env: BotEnv) -> None:
    report = await moderate(env, "usage-report", None, {"period": "month", "back": 12})
    assert "No usage in this period." in text_of(report)
    (attachment,) = report.attachments
    assert attachment.data.decode().splitlines() == [
        "id,created_at_utc,settled_at_utc,user_id,channel_id,feature,units,unit,tokens,"
        "tokens_estimated,model,"
        "outcome"
    ]


async def test_members_without_manage_server_get_no_report(env: BotEnv) -> None:
    inter = await run(env, "usage-report", {"period": "day"})
    assert outcome(inter).ephemeral and outcome(inter).content == NO_PERMISSION
    assert not outcome(inter).attachments


async def test_old_usage_is_pruned_at_start_and_daily(env: BotEnv) -> None:
    cog: Any = env.bot.get_cog("Usage")
    assert cog.prune_usage.is_running()
    old = time.time() - (env.settings.usage_retention_days + 1) * 86_400
    async with env.bot.store.transaction() as db:
        await db.execute(
            "INSERT INTO usage (guild_id, user_id, feature, units, outcome, created_at)"
            " VALUES (?, 1, 'ask', 1, 'ok', ?)",
            (env.discord.guild_id, old),
        )
    await cog.prune_usage()
    async with env.bot.store.conn.execute(
        "SELECT COUNT(*) FROM usage WHERE created_at < ?", (old + 1,)
    ) as cur:
        assert await cur.fetchone() == (0,)
