"""/imagine: a prompt in, PNG attachments out, charged per image."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.i18n import t
from bot.interactions.callers import caller_of
from bot.interactions.guards import usable_anywhere
from bot.interactions.media import send_files
from bot.interactions.replies import failures_told
from bot.media.files import OutFile, fit_message, require_offered, slug

Size = Literal["1024x1024", "1024x1536", "1536x1024"]
MAX_IMAGES = 4


class Imagine(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    @usable_anywhere()
    @app_commands.command(name=_("imagine"), description=_("Create images from a description."))
    @app_commands.rename(prompt=_("prompt"), model=_("model"), size=_("size"), count=_("count"))
    @app_commands.describe(
        prompt=_("What the image should show"),
        model=_("Which image model draws it (default: the server's)"),
        size=_("Width x height in pixels"),
        count=_("How many images (1 to 4)"),
    )
    async def imagine(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        model: str | None = None,
        size: Size = "1024x1024",
        count: app_commands.Range[int, 1, MAX_IMAGES] = 1,
    ) -> None:
        locale = str(interaction.locale)
        settings = self.bot.settings
        config = await self.bot.guild_settings.get(interaction.guild_id)
        model = model or config.image_model or settings.default_image_model
        caller = caller_of(interaction)
        async with failures_told(interaction, self.bot.alerts):
            require_offered(model, self._models())
            await self.bot.ledger.check(caller, "imagine", count)
            await interaction.response.defer(thinking=True)
            async with self.bot.ledger.charge(caller, "imagine", count, model) as charge:
                images = await self.bot.nexai.generate_images(model, prompt, n=count, size=size)
                charge.settle(units=len(images))
                name = slug(prompt, fallback="image")
                files = [OutFile(f"{name}-{i}.png", data) for i, data in enumerate(images, 1)]
                content = fit_message(t("🎨 **Prompt:** ", locale), prompt)
                await send_files(interaction, content, files)

    @imagine.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        models = [m for m in self._models() if current.lower() in m.lower()]
        return [app_commands.Choice(name=m, value=m) for m in models[:25]]

    def _models(self) -> list[str]:
        settings = self.bot.settings
        return list(dict.fromkeys([settings.default_image_model, *settings.image_models]))


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Imagine(bot))
