"""Command names, descriptions, options and choices in the user's language, for Discord."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.i18n import NAMES, VIETNAMESE

Location = app_commands.TranslationContextLocation
#: Where a string is a name (Discord's naming rule applies) rather than text for people.
NAME_LOCATIONS = frozenset({Location.command_name, Location.group_name, Location.parameter_name})


class CommandTranslator(app_commands.Translator):
    """Localises command names, descriptions, option and choice names from the catalogue,
    reading where each string sits: names come from `NAMES` (then the text table, for
    context menus, whose names are labels), everything else from `VIETNAMESE`."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.vietnamese:
            return None
        if context.location in NAME_LOCATIONS and string.message in NAMES:
            return NAMES[string.message]
        return VIETNAMESE.get(string.message)
