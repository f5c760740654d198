"""/persona show (everyone): what answers here, the mode and the persona, and where each part
comes from. Moderators change them with /settings chat-mode and /settings persona."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.i18n import t
from bot.interactions.chat_text import setup_fields, variables_hint
from bot.interactions.guards import NO_MENTIONS, card
from bot.interactions.places import place_of


class Persona(commands.Cog):
    persona = app_commands.Group(name=_("persona"), description=_("The persona that answers here."))

    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    @persona.command(
        name=_("show"),
        description=_("Show where I answer here, and my system prompt, model and temperature."),
    )
    async def show(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        place = place_of(interaction.channel, interaction.guild_id)
        setup = await self.bot.personas.setup(place)
        capabilities = self.bot.nexai.capabilities.get(setup.persona.model)
        embed = card(t("What answers here", locale), variables_hint(locale))
        for name, value in setup_fields(setup, capabilities, locale):
            embed.add_field(name=name, value=value, inline=False)
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Persona(bot))
