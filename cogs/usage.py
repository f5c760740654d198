"""/usage (everyone) and /usage-report (moderators): Discord <-> bot.quota (quotas, reports).

The cog also prunes the usage ledger: at start, then daily.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import cast

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands, tasks

from bot.app import NexBot
from bot.errors import StorageError
from bot.i18n import t
from bot.interactions import quota_text as quota_text
from bot.interactions import usage_text as usage_text
from bot.interactions.callers import caller_of
from bot.interactions.guards import NO_MENTIONS, PERIOD_CHOICES, and_more, card, moderators_only
from bot.quota.charts import ChartUnavailable
from bot.quota.reports import UsageReport, ledger_csv, usage_report, usage_series
from bot.quota.rules import FEATURES, Period, earlier_window
from bot.render.embed_text import EMBED_DESCRIPTION_LIMIT, EMBED_FIELD_VALUE_LIMIT, fit_items

log = logging.getLogger(__name__)

PRUNE_INTERVAL_H = 24
#: The report's footer when its chart could not be drawn (in time).
CHART_FAILED_NOTE = (
    "The chart could not be drawn this time; the totals above are complete. Try again in a minute."
)


class Usage(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.prune_usage.start()

    async def cog_unload(self) -> None:
        self.prune_usage.cancel()

    @tasks.loop(hours=PRUNE_INTERVAL_H)
    async def prune_usage(self) -> None:
        """Delete old ledger rows: once at start, then daily."""
        try:
            await self.bot.ledger.prune(self.bot.settings.usage_retention_days)
        except StorageError:
            log.exception("Could not prune the usage ledger")

    @app_commands.command(
        name=_("usage"), description=_("What you have used, and what is left of your limits.")
    )
    async def usage(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        caller = caller_of(interaction)
        statuses = await self.bot.quotas.status(caller)
        where = (
            t("In this server.", locale)
            if interaction.guild_id
            else t("In direct messages with me.", locale)
        )
        summary = card(t("Your usage", locale), where)
        for feature in FEATURES:
            mine = [s for s in statuses if s.limit.feature == feature]
            if mine:
                lines = [usage_text.limit_bar_line(s, locale) for s in mine]
            else:
                today = await self.bot.quotas.used(caller, feature, "day")
                lines = [quota_text.unlimited_line(feature, today, locale)]
            value = fit_items(lines, EMBED_FIELD_VALUE_LIMIT, and_more(locale), separator="\n")
            summary.add_field(name=f"/{feature}", value=value, inline=False)
        await interaction.response.send_message(
            embed=summary, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(
        name=_("usage-report"),
        description=_("This server's usage: per feature, top members, and the ledger as CSV."),
    )
    @moderators_only()
    @app_commands.rename(period=_("period"), back=_("back"))
    @app_commands.describe(
        period=_("An hour, a day or a month (UTC)"),
        back=_("How many periods back (0: the current one, 1: the one before...)"),
    )
    @app_commands.choices(period=PERIOD_CHOICES)
    async def report(
        self,
        interaction: discord.Interaction,
        period: str = "day",
        back: app_commands.Range[int, 0, 366] = 0,
    ) -> None:
        locale = interaction.locale
        guild_id = interaction.guild_id
        assert guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = dt.datetime.now(dt.UTC)
        start, end = earlier_window(cast(Period, period), now, back)
        report = await usage_report(self.bot.store, guild_id, start, end)
        data = await ledger_csv(self.bot.store, guild_id, start, end)
        report_card = card(t("Usage report", locale), self._report_text(report, locale))
        stem = f"usage-{guild_id}-{period}-{start:%Y%m%d%H}"
        files: list[discord.File] = []
        notes: list[str] = []
        if len(data) <= interaction.filesize_limit:
            files.append(discord.File(io.BytesIO(data), filename=f"{stem}.csv"))
        else:
            notes.append(t("The CSV is too large to attach; choose a shorter period.", locale))
        series = await usage_series(self.bot.store, guild_id, cast(Period, period), start, end)
        if not series.empty:
            top = [member.user_id for member in report.top]
            names = await usage_text.member_names(interaction.guild, top)
            spec = usage_text.chart_spec(report, series, locale, names)
            try:
                png = await self.bot.charts.render(spec)
            except ChartUnavailable:
                notes.append(t(CHART_FAILED_NOTE, locale))
            else:
                if len(png) <= interaction.filesize_limit:
                    files.append(discord.File(io.BytesIO(png), filename=f"{stem}.png"))
                    report_card.set_image(url=f"attachment://{stem}.png")
        if notes:
            report_card.set_footer(text="\n".join(notes))
        await interaction.followup.send(
            embed=report_card, files=files, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @staticmethod
    def _report_text(report: UsageReport, locale: discord.Locale | str) -> str:
        lines = [
            t(
                "From {start} to {end}.",
                locale,
                start=quota_text.timestamp(report.start, "f"),
                end=quota_text.timestamp(report.end, "f"),
            ),
            "",
        ]
        if report.empty:
            lines.append(t("No usage in this period.", locale))
            return "\n".join(lines)
        for total in report.features:
            text = t(
                "{amount} {unit} by {members} members ({calls} calls, {tokens} tokens,"
                " {refunded} refunded)",
                locale,
                amount=quota_text.amount(total.feature, total.units),
                unit=quota_text.unit(total.feature, locale, total.units),
                members=total.members,
                calls=total.calls,
                tokens=total.tokens,
                refunded=total.refunded,
            )
            lines.append(f"**/{total.feature}**: {text}")
        if report.top:
            lines += ["", f"**{t('Top members', locale)}**"]
            for rank, member in enumerate(report.top, start=1):
                used = ", ".join(
                    f"{quota_text.amount(f, u)} {quota_text.unit(f, locale, u)}"
                    for f, u in member.units.items()
                )
                lines.append(f"{rank}. <@{member.user_id}> — {used}")
        return fit_items(lines, EMBED_DESCRIPTION_LIMIT, and_more(locale), separator="\n")


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Usage(bot))
