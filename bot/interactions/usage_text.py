"""Usage at a glance, localised: a member's limits as bars (/usage), and what the report's chart
shows, in the moderator's language (/usage-report)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Mapping

import discord

from bot.i18n import t
from bot.interactions.quota_text import UNITS, Locale, amount, source, timestamp, unit
from bot.quota.charts import MAX_PANELS, ChartSpec, Panel, RankedBar
from bot.quota.reports import UsageReport, UsageSeries
from bot.quota.rules import FEATURES, LimitStatus, Period, to_limit_units

log = logging.getLogger(__name__)

#: How long a report waits for the gateway to name members it has not cached.
MEMBER_NAMES_TIMEOUT_S = 2.0
#: Segments of a limit's bar; each is a tenth of the limit.
BAR_SEGMENTS = 10
BAR_USED = "▰"
BAR_LEFT = "▱"
WINDOW_TEXT: dict[Period, str] = {"hour": "this hour", "day": "today", "month": "this month"}
X_LABEL_TEXT: dict[Period, str] = {
    "hour": "Minute (UTC)",
    "day": "Hour of the day (UTC)",
    "month": "Day of the month (UTC)",
}


def bar(used: float, limit: float) -> str:
    """`used` of `limit` in `BAR_SEGMENTS` segments: empty only when nothing is used, full
    only when nothing is left."""
    if limit <= 0 or used >= limit:
        filled = BAR_SEGMENTS
    elif used <= 0:
        filled = 0
    else:
        filled = min(max(round(used / limit * BAR_SEGMENTS), 1), BAR_SEGMENTS - 1)
    return BAR_USED * filled + BAR_LEFT * (BAR_SEGMENTS - filled)


def limit_bar_line(status: LimitStatus, locale: Locale) -> str:
    """For example `▰▰▰▰▱▱▱▱▱▱ 2/5 ask requests today (the server default) · 3 left · resets
    <t:…:R>`."""
    limit = status.limit
    feature = limit.feature
    fields = {
        "bar": bar(status.used, limit.amount),
        "used": amount(feature, status.used),
        "amount": amount(feature, limit.amount),
        "unit": unit(feature, locale, limit.amount),
        "window": t(WINDOW_TEXT[limit.period], locale),
        "remaining": amount(feature, status.remaining),
        "reset": timestamp(status.resets_at),
    }
    if limit.scope == "total":
        text = (
            "{bar} {used}/{amount} {unit} {window} (whole server) · {remaining} left"
            " · resets {reset}"
        )
        return t(text, locale, **fields)
    text = "{bar} {used}/{amount} {unit} {window} ({source}) · {remaining} left · resets {reset}"
    return t(text, locale, source=source(limit, locale), **fields)


async def member_names(guild: discord.Guild | None, user_ids: Iterable[int]) -> dict[int, str]:
    """Display names of members for the chart (an image can't show mention markup): from the
    cache, else one gateway request by ids (no privileged intent needed), bounded in time;
    members it can't name are left out."""
    if guild is None:
        return {}
    names: dict[int, str] = {}
    missing: list[int] = []
    for user_id in user_ids:
        member = guild.get_member(user_id)
        if member is not None:
            names[user_id] = member.display_name
        else:
            missing.append(user_id)
    if missing:
        try:
            found = await asyncio.wait_for(
                guild.query_members(user_ids=missing, limit=len(missing), cache=False),
                MEMBER_NAMES_TIMEOUT_S,
            )
        except (TimeoutError, discord.ClientException):
            log.warning("Could not name %s members for a usage chart", len(missing))
        else:
            names.update({member.id: member.display_name for member in found})
    return names


def chart_spec(
    report: UsageReport, series: UsageSeries, locale: Locale, names: Mapping[int, str]
) -> ChartSpec:
    """What the report's chart draws: each used feature over the window's buckets (in the
    units limits are set in), and the top members' calls per feature. `names` maps user ids to
    the names to show (others show as "member <id>")."""
    features = [f for f in FEATURES if f in series.units][:MAX_PANELS]
    panels = tuple(
        Panel(
            f"/{feature}",
            t(UNITS[feature], locale),
            tuple(to_limit_units(feature, units) for units in series.units[feature]),
        )
        for feature in features
    )
    ranking = tuple(
        RankedBar(
            names.get(member.user_id) or t("member {member}", locale, member=member.user_id),
            tuple(member.calls_by_feature.get(f, 0) for f in features),
        )
        for member in report.top
    )
    return ChartSpec(
        title=t("Usage {window}", locale, window=_window_text(series)),
        x_label=t(X_LABEL_TEXT[series.period], locale),
        x_ticks=tuple(_tick(series, i) for i in range(series.buckets)),
        panels=panels,
        ranking_title=t("Top members", locale),
        ranking_label=t("calls", locale),
        legend=tuple(f"/{feature}" for feature in features),
        ranking=ranking,
    )


def _window_text(series: UsageSeries) -> str:
    start: dt.datetime = series.start
    if series.period == "hour":
        return f"{start:%Y-%m-%d %H:00}–{series.end:%H:00} UTC"
    if series.period == "day":
        return f"{start:%Y-%m-%d} UTC"
    return f"{start:%Y-%m} UTC"


def _tick(series: UsageSeries, index: int) -> str:
    moment = series.bucket_start(index)
    if series.period == "hour":
        return f"{moment:%H:%M}"
    if series.period == "day":
        return f"{moment:%H}"
    return str(moment.day)
