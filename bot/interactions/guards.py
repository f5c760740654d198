"""What moderator commands share, declared once: the default permission and the runtime check
(`moderators_only` for a command, `require_manager` as a cog's `interaction_check`), and the
reply card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.i18n import t

T = TypeVar("T", bound=Callable[..., Any])
CommandT = TypeVar("CommandT", bound=app_commands.Command[Any, ..., Any])

#: Default member permission of moderator commands (servers may re-assign them).
MANAGE_SERVER = discord.Permissions(manage_guild=True)
#: Moderator commands exist in servers only (Discord's `contexts`).
GUILD_ONLY = app_commands.AppCommandContext(guild=True)
#: Where a command of a user-installed app may also run: the bot's DMs and group DMs.
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
#: Installed on a server (the bot joins it) or on a member's own account.
SERVER_OR_MEMBER = app_commands.AppInstallationType(guild=True, user=True)
#: Every other command: only with the bot installed on a server.
SERVER_INSTALL = app_commands.AppInstallationType(guild=True)
NO_MENTIONS = discord.AllowedMentions.none()
PERIOD_CHOICES = [
    app_commands.Choice(name=_("per hour"), value="hour"),
    app_commands.Choice(name=_("per day"), value="day"),
    app_commands.Choice(name=_("per month"), value="month"),
]


class NotAManager(app_commands.CheckFailure):
    """A member without Manage Server ran a moderator command (the tree's error handler
    tells them, privately)."""

    text = "You need the Manage Server permission for this command."


async def require_manager(interaction: discord.Interaction) -> bool:
    """The runtime check of moderator commands. Discord hides them from members without
    Manage Server by default, but a server can show them to others; the bot still requires it.
    """
    if not interaction.permissions.manage_guild:
        raise NotAManager()
    return True


def usable_anywhere() -> Callable[[CommandT], CommandT]:
    """A command members may also add to their own account (a user-installed app) and run in
    any DM or group DM; there it is charged to the member under the operator's DM limits."""

    def decorate(command: CommandT) -> CommandT:
        command.allowed_installs = SERVER_OR_MEMBER
        command.allowed_contexts = EVERYWHERE
        return command

    return decorate


def moderators_only() -> Callable[[T], T]:
    """A moderator command: servers only, shown to Manage Server by default, checked at run
    time (a cog of moderator groups uses `require_manager` as its `interaction_check`)."""

    def decorate(command: T) -> T:
        command = app_commands.guild_only()(command)
        command = app_commands.default_permissions(manage_guild=True)(command)
        return app_commands.check(require_manager)(command)

    return decorate


def and_more(locale: discord.Locale | str) -> Callable[[int], str]:
    """The end of a list cut short: "… and 12 more" (for ``bot.render.embed_text.fit_items``)."""

    def more(count: int) -> str:
        return t("… and {count} more", locale, count=count)

    return more


def card(title: str, description: str) -> discord.Embed:
    return discord.Embed(title=title, description=description, color=discord.Color.blurple())
