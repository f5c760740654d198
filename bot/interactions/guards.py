"""What moderator commands share: the default permission, the runtime check, the reply card."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.i18n import t

#: Default member permission of moderator commands (servers may re-assign them).
MANAGE_SERVER = discord.Permissions(manage_guild=True)
#: Moderator commands exist in servers only (Discord's `contexts`).
GUILD_ONLY = app_commands.AppCommandContext(guild=True)
NO_MENTIONS = discord.AllowedMentions.none()
PERIOD_CHOICES = [
    app_commands.Choice(name=_("per hour"), value="hour"),
    app_commands.Choice(name=_("per day"), value="day"),
    app_commands.Choice(name=_("per month"), value="month"),
]


async def refuse_non_manager(interaction: discord.Interaction) -> bool:
    """Tell a member without Manage Server so and return True; False for managers.

    Discord hides these commands from members without it by default, but a server can show
    them to others; the bot itself still requires Manage Server.
    """
    if interaction.permissions.manage_guild:
        return False
    text = t("You need the Manage Server permission for this command.", str(interaction.locale))
    await interaction.response.send_message(text, ephemeral=True)
    return True


def and_more(locale: str) -> Callable[[int], str]:
    """The end of a list cut short: "… and 12 more" (for ``bot.render.embed_text.fit_items``)."""

    def more(count: int) -> str:
        return t("… and {count} more", locale, count=count)

    return more


def card(title: str, description: str) -> discord.Embed:
    return discord.Embed(title=title, description=description, color=discord.Color.blurple())
