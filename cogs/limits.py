"""/limits (moderators): Discord <-> bot.quota.quotas.

Guild-only, with Manage Server as the default member permission, checked again when run (the
cog's `interaction_check`).
"""

from __future__ import annotations

import logging
from typing import cast

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.i18n import t
from bot.interactions import quota_text as quota_text
from bot.interactions.guards import (
    GUILD_ONLY,
    MANAGE_SERVER,
    NO_MENTIONS,
    PERIOD_CHOICES,
    and_more,
    card,
    require_manager,
)
from bot.quota.rules import FEATURES, Feature, Limit, Period, Scope, to_ledger_units
from bot.render.embed_text import EMBED_DESCRIPTION_LIMIT, fit_items

log = logging.getLogger(__name__)

MAX_AMOUNT = 1_000_000_000
#: Room for the exempt roles in /limits show (the rest of the embed lists the limits).
ROLES_CHARS = 1000

FEATURE_CHOICES = [
    app_commands.Choice(name=_("/ask (requests)"), value="ask"),
    app_commands.Choice(name=_("/imagine (images)"), value="imagine"),
    app_commands.Choice(name=_("/tts (characters)"), value="tts"),
    app_commands.Choice(name=_("/transcribe (minutes of audio)"), value="transcribe"),
]
ACTION_CHOICES = [
    app_commands.Choice(name=_("add"), value="add"),
    app_commands.Choice(name=_("remove"), value="remove"),
]


class Limits(commands.Cog):
    limits = app_commands.Group(
        name=_("limits"),
        description=_("Limit how much members may use each feature (moderators)."),
        guild_only=True,
        allowed_contexts=GUILD_ONLY,
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Every command here is a moderator's (see `bot.interactions.guards`)."""
        return await require_manager(interaction)

    # -- /limits ----------------------------------------------------------------------------

    @limits.command(name=_("set"), description=_("Set a limit (replaces the same one)."))
    @app_commands.rename(
        feature=_("feature"),
        period=_("period"),
        amount=_("amount"),
        who=_("who"),
        server_total=_("server-total"),
    )
    @app_commands.describe(
        feature=_("What the limit counts"),
        period=_("The window it counts in (UTC hours, days, months)"),
        amount=_("How much (transcribe: minutes of audio); 0 blocks the feature"),
        who=_("A role or a member (default: every member)"),
        server_total=_("Limit all members together instead of each member"),
    )
    @app_commands.choices(feature=FEATURE_CHOICES, period=PERIOD_CHOICES)
    async def set_limit(
        self,
        interaction: discord.Interaction,
        feature: str,
        period: str,
        amount: app_commands.Range[float, 0, MAX_AMOUNT],
        who: discord.Member | discord.Role | None = None,
        server_total: bool = False,
    ) -> None:
        locale = interaction.locale
        limit = self._limit(feature, period, amount, who, server_total)
        problem = self._problem(limit, amount, who, server_total, locale)
        if problem:
            await interaction.response.send_message(problem, ephemeral=True)
            return
        assert interaction.guild_id is not None
        previous = await self.bot.quotas.set_limit(interaction.guild_id, limit, interaction.user.id)
        text = t("Limit set: {limit}.", locale, limit=quota_text.limit_line(limit, locale))
        if previous is not None:
            before = quota_text.limit_text(previous, locale)
            text += " " + t("Before, it was {limit}.", locale, limit=before)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @limits.command(name=_("remove"), description=_("Remove a limit."))
    @app_commands.rename(
        feature=_("feature"), period=_("period"), who=_("who"), server_total=_("server-total")
    )
    @app_commands.describe(
        feature=_("What the limit counts"),
        period=_("The window it counts in (UTC hours, days, months)"),
        who=_("A role or a member (default: every member)"),
        server_total=_("The limit on all members together"),
    )
    @app_commands.choices(feature=FEATURE_CHOICES, period=PERIOD_CHOICES)
    async def remove_limit(
        self,
        interaction: discord.Interaction,
        feature: str,
        period: str,
        who: discord.Member | discord.Role | None = None,
        server_total: bool = False,
    ) -> None:
        locale = interaction.locale
        limit = self._limit(feature, period, 0, who, server_total)
        problem = self._problem(limit, 0, who, server_total, locale)
        if problem:
            await interaction.response.send_message(problem, ephemeral=True)
            return
        assert interaction.guild_id is not None
        removed = await self.bot.quotas.remove_limit(interaction.guild_id, limit)
        if removed is None:
            text = t(
                "There is no {feature} limit {per_period} for {target}; nothing changed.",
                locale,
                feature=f"/{feature}",
                per_period=quota_text.per_period(limit.period, locale),
                target=quota_text.target(limit, locale),
            )
        else:
            text = t(
                "Limit removed: {limit}.", locale, limit=quota_text.limit_line(removed, locale)
            )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @limits.command(name=_("show"), description=_("Show this server's limits and exempt roles."))
    async def show_limits(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        assert interaction.guild_id is not None
        limits = await self.bot.quotas.guild_limits(interaction.guild_id)
        exempt = await self.bot.quotas.exempt_roles(interaction.guild_id)
        lines: list[str] = []
        for feature in FEATURES:
            mine = [limit for limit in limits if limit.feature == feature]
            if mine:
                lines.append(f"**/{feature}**")
                lines += [f"• {quota_text.limit_line(limit, locale)}" for limit in mine]
        if not lines:
            lines.append(t("No limits are set: members may use every feature freely.", locale))
        more = and_more(locale)
        tail: list[str] = []
        if exempt:
            roles = fit_items([f"<@&{role_id}>" for role_id in sorted(exempt)], ROLES_CHARS, more)
            tail += ["", t("Exempt from per-member limits: {roles}", locale, roles=roles)]
        tail += ["", t("Windows are fixed UTC hours, days and months.", locale)]
        room = EMBED_DESCRIPTION_LIMIT - len("\n".join(tail)) - 1
        text = "\n".join([fit_items(lines, room, more, separator="\n"), *tail])
        await interaction.response.send_message(
            embed=card(t("Limits in this server", locale), text),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @limits.command(
        name=_("exempt"), description=_("Exempt a role from per-member limits, or undo that.")
    )
    @app_commands.rename(role=_("role"), action=_("action"))
    @app_commands.describe(
        role=_("The role"), action=_("Add the role to the exempt roles, or remove it")
    )
    @app_commands.choices(action=ACTION_CHOICES)
    async def exempt(
        self, interaction: discord.Interaction, role: discord.Role, action: str = "add"
    ) -> None:
        locale = interaction.locale
        assert interaction.guild_id is not None
        add = action == "add"
        changed = await self.bot.quotas.set_exempt(
            interaction.guild_id, role.id, add, interaction.user.id
        )
        if add:
            text = (
                "{role} is now exempt from per-member limits (the server total still applies)."
                if changed
                else "{role} was already exempt from per-member limits."
            )
        else:
            text = (
                "{role} is no longer exempt from per-member limits."
                if changed
                else "{role} wasn't exempt from per-member limits."
            )
        await interaction.response.send_message(
            t(text, locale, role=role.mention), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @staticmethod
    def _limit(
        feature: str,
        period: str,
        amount: float,
        who: discord.Member | discord.Role | None,
        server_total: bool,
    ) -> Limit:
        feat = cast(Feature, feature)
        scope: Scope = "server"
        target_id = 0
        if server_total:
            scope = "total"
        elif isinstance(who, discord.Role) and not who.is_default():
            scope, target_id = "role", who.id
        elif isinstance(who, discord.Member | discord.User):
            scope, target_id = "member", who.id
        return Limit(feat, cast(Period, period), to_ledger_units(feat, amount), scope, target_id)

    @staticmethod
    def _problem(
        limit: Limit,
        amount: float,
        who: discord.Member | discord.Role | None,
        server_total: bool,
        locale: discord.Locale | str,
    ) -> str | None:
        if server_total and who is not None:
            return t("Choose a role or a member, or the server total, not both.", locale)
        if limit.feature != "transcribe" and amount != int(amount):
            unit = quota_text.unit(limit.feature, locale)
            return t("Use a whole number of {unit}.", locale, unit=unit)
        return None


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Limits(bot))
