"""/usage and /usage-report end to end: what members used and have left; the server's report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.quota.charts import CHART_TIMEOUT_S, read_png_data
from bot.quota.rules import Limit, window
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.moderation_support import (
    MODERATOR,
    NO_PERMISSION,
    moderate,
    outcome,
    resets,
    run,
    text_of,
)
from tests.fakes.discord import FakeFile, FakeMessage
from tests.fakes.nexai import DEFAULT_REPLY, Error
from tests.processes import chart_processes, running

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]


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
        f"▰▰▰▰▱▱▱▱▱▱ 2/5 ask requests today (the server default) · 3 left · resets {resets('day')}"
    )
    assert lines[1] == (
        "▰▱▱▱▱▱▱▱▱▱ 2/100 ask requests this month (whole server) · 98 left"
        f" · resets {resets('month')}"
    )
    assert field(shown.embeds, "/imagine") == "No limit; 0 generated images used today."


BARS = {
    "en-US": [
        "▱▱▱▱▱▱▱▱▱▱ 0/4 ask requests today (set for you) · 4 left · resets {reset}",
        "▰▰▰▰▰▱▱▱▱▱ 2/4 ask requests today (set for you) · 2 left · resets {reset}",
        "▰▰▰▰▰▰▰▰▰▰ 4/4 ask requests today (set for you) · 0 left · resets {reset}",
    ],
    "vi": [
        "▱▱▱▱▱▱▱▱▱▱ 0/4 lượt hỏi hôm nay (đặt riêng cho bạn) · còn 4 · đặt lại {reset}",
        "▰▰▰▰▰▱▱▱▱▱ 2/4 lượt hỏi hôm nay (đặt riêng cho bạn) · còn 2 · đặt lại {reset}",
        "▰▰▰▰▰▰▰▰▰▰ 4/4 lượt hỏi hôm nay (đặt riêng cho bạn) · còn 0 · đặt lại {reset}",
    ],
}


@pytest.mark.parametrize("locale", ["en-US", "vi"])
async def test_usage_shows_an_unused_a_partly_used_and_a_used_up_limit_as_bars(
    env: BotEnv, locale: str
) -> None:
    guild = env.discord.guild_id
    members = [env.discord.add_member(name=f"bars-{locale}-{used}") for used in (0, 2, 4)]
    shown: list[str] = []
    for member, used in zip(members, (0, 2, 4), strict=True):
        limit = Limit("ask", "day", 4, "member", member)
        await env.bot.quotas.set_limit(guild, limit, set_by=1)
        try:
            for n in range(used):
                assert await ask(env, f"bar {n}", member) == DEFAULT_REPLY
            usage = outcome(await run(env, "usage", user_id=member, locale=locale))
        finally:
            await env.bot.quotas.remove_limit(guild, limit)
        shown.append(field(usage.embeds, "/ask"))
    assert shown == [line.format(reset=resets("day")) for line in BARS[locale]]


@pytest.mark.parametrize(
    ("locale", "line"),
    [
        ("en-US", "No limit; 1 ask request used today."),
        ("vi", "Không giới hạn; hôm nay đã dùng 1 lượt hỏi."),
    ],
)
async def test_a_feature_without_a_limit_gets_one_line_with_todays_use(
    env: BotEnv, locale: str, line: str
) -> None:
    member = env.discord.add_member(name=f"unlimited-{locale}")
    assert await ask(env, "just one", member) == DEFAULT_REPLY
    shown = outcome(await run(env, "usage", user_id=member, locale=locale))
    assert field(shown.embeds, "/ask") == line
    assert "▰" not in text_of(shown) and "▱" not in text_of(shown)


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

    rows = csv_rows(report)
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


def csv_rows(report: FakeMessage) -> list[dict[str, str]]:
    (attachment,) = [a for a in report.attachments if a.filename.endswith(".csv")]
    return list(csv.DictReader(io.StringIO(attachment.data.decode())))


def chart_of(report: FakeMessage) -> FakeFile:
    (chart,) = [a for a in report.attachments if a.filename.endswith(".png")]
    return chart


async def test_the_usage_report_shows_a_png_chart_in_its_card(env: BotEnv) -> None:
    member = env.discord.add_member(name="charted")
    assert await ask(env, "for the chart", member) == DEFAULT_REPLY
    report = await moderate(env, "usage-report", None, {"period": "day"})
    chart = chart_of(report)
    assert report.embeds[0]["image"]["url"] == f"attachment://{chart.filename}"
    png = chart.data
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert 800 <= width <= 1600 and 400 <= height <= 2400
    assert 10_000 < len(png) < 1_000_000


async def test_the_charts_numbers_are_the_ledgers_per_hour_and_per_member(env: BotEnv) -> None:
    """Should draw, per feature, the counted units of each UTC hour of the day, and, per top
    member, their counted calls per feature: the same rows the CSV of the report lists."""
    first = env.discord.add_member(name="Ada")
    second = env.discord.add_member(name="Bao")
    # More calls than anyone before them today, so both are in the top 10 whatever ran first.
    for n in range(9):
        assert await ask(env, f"chart a{n}", first) == DEFAULT_REPLY
    for n in range(8):
        assert await ask(env, f"chart b{n}", second) == DEFAULT_REPLY
    env.api.enqueue("/chat/completions", Error(400, "nope"))
    assert await ask(env, "chart refunded", second) == "nexai refused the request: nope"

    report = await moderate(env, "usage-report", None, {"period": "day"})
    data = read_png_data(chart_of(report).data)
    counted = [r for r in csv_rows(report) if r["outcome"] != "refunded"]
    per_hour: defaultdict[str, list[float]] = defaultdict(lambda: [0.0] * 24)
    calls: Counter[tuple[str, str]] = Counter()
    for row in counted:
        hour = dt.datetime.fromisoformat(row["created_at_utc"]).hour
        per_hour[f"/{row['feature']}"][hour] += float(row["units"])
        calls[row["user_id"], f"/{row['feature']}"] += 1
    panels = {p["title"]: p["values"] for p in data["panels"]}  # type: ignore[attr-defined]
    assert panels == dict(per_hour)
    assert data["x_ticks"] == [f"{h:02}" for h in range(24)]
    assert (data["x_label"], data["ranking_title"], data["ranking_label"]) == (
        "Hour of the day (UTC)",
        "Top members",
        "calls",
    )
    legend: list[str] = data["legend"]  # type: ignore[assignment]
    totals = Counter(row["user_id"] for row in counted)
    top = sorted(totals, key=lambda uid: (-totals[uid], int(uid)))[:10]
    expected = [
        {
            "label": env.discord.users[int(uid)]["global_name"],
            "parts": [calls[uid, f] for f in legend],
        }
        for uid in top
    ]
    assert data["ranking"] == expected
    drawn = {bar["label"]: bar["parts"] for bar in expected}
    assert [bar["label"] for bar in expected[:2]] == ["Ada", "Bao"]
    assert drawn["Ada"][legend.index("/ask")] == 9
    assert drawn["Bao"][legend.index("/ask")] == 8  # the refunded call counts nothing


async def test_a_months_chart_has_one_bucket_per_day_labelled_in_vietnamese(env: BotEnv) -> None:
    member = env.discord.add_member(name="monthly")
    assert await ask(env, "this month", member) == DEFAULT_REPLY
    inter = await run(env, "usage-report", {"period": "month"}, permissions=MODERATOR, locale="vi")
    report = outcome(inter)
    data = read_png_data(chart_of(report).data)
    start, end = window("month", dt.datetime.now(dt.UTC))
    assert data["x_ticks"] == [str(day) for day in range(1, (end - start).days + 1)]
    assert data["x_label"] == "Ngày trong tháng (UTC)"
    assert data["title"] == f"Mức sử dụng {start:%Y-%m} UTC"
    assert (data["ranking_title"], data["ranking_label"]) == (
        "Thành viên dùng nhiều nhất",
        "lượt gọi",
    )
    assert {"title": "/ask", "y_label": "lượt hỏi"}.items() <= data["panels"][0].items()  # type: ignore[index]


async def test_a_chart_past_its_time_bound_is_left_out_politely_and_the_rest_arrives(
    env: BotEnv,
) -> None:
    """Should kill the drawing process that did not answer in time (here: stopped), and send
    the totals and the CSV with a note in the moderator's language; the next report has its
    chart again, from a new process."""
    member = env.discord.add_member(name="slow-chart")
    assert await ask(env, "slow chart", member) == DEFAULT_REPLY
    chart_of(await moderate(env, "usage-report", None, {"period": "day"}))
    charts = env.bot.charts
    hung = charts.pid
    assert hung is not None and running(hung)
    os.kill(hung, signal.SIGSTOP)
    charts.timeout_s = 0.5
    try:
        inter = await run(
            env, "usage-report", {"period": "day"}, permissions=MODERATOR, locale="vi"
        )
    finally:
        charts.timeout_s = CHART_TIMEOUT_S
    report = outcome(inter)
    assert report.ephemeral and not running(hung)
    assert report.embeds[0]["footer"]["text"] == (
        "Lần này chưa vẽ được biểu đồ; các số liệu tổng ở trên vẫn đầy đủ. Hãy thử lại sau"
        " một phút."
    )
    assert "image" not in report.embeds[0]
    assert [a.filename.rsplit(".", 1)[1] for a in report.attachments] == ["csv"]
    assert "**/ask**:" in text_of(report)
    assert str(member) in {row["user_id"] for row in csv_rows(report)}

    again = await moderate(env, "usage-report", None, {"period": "day"})
    assert chart_of(again).data.startswith(b"\x89PNG")
    assert charts.pid not in (None, hung)


async def test_the_bot_ends_its_chart_process_when_it_closes(tmp_path: Path) -> None:
    async with bot_env(tmp_path / "nexbot.db") as own:
        member = own.discord.add_member(name="last-chart")
        assert await ask(own, "before closing", member) == DEFAULT_REPLY
        chart_of(await moderate(own, "usage-report", None, {"period": "day"}))
        pid = own.bot.charts.pid
        assert pid is not None and pid in chart_processes()
    assert own.bot.is_closed() and own.bot.charts.pid is None
    assert not running(pid) and pid not in chart_processes()


async def test_an_empty_period_reports_no_usage(env: BotEnv) -> None:
    """Should say so in a sentence, with no chart."""
    report = await moderate(env, "usage-report", None, {"period": "month", "back": 12})
    assert "No usage in this period." in text_of(report)
    assert "image" not in report.embeds[0]
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
    assert (
        await env.bot.store.fetch_value(
            "SELECT COUNT(*) FROM usage WHERE created_at < ?", (old + 1,)
        )
        == 0
    )
