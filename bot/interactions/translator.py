"""Command names, descriptions, options and choices in the user's language, for Discord."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.i18n import VIETNAMESE


class CommandTranslator(app_commands.Translator):
    """Localises command names, descriptions, option and choice names from the catalogue."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is discord.Locale.vietnamese:
            return VIETNAMESE.get(string.message)
        return None
