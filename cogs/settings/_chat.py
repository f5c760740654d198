"""/settings for chat (moderators): where the bot answers (the chat mode of a channel,
category or thread, and the server's defaults) and the persona of a place. A mixin of the
Settings cog (`_cog.py`); the `/settings` group is made here, so that both modules can add to
it. Discord <-> bot.storage.chat_places and bot.storage.guild_settings."""

from __future__ import annotations

from typing import Any, cast

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.chat.personas import DEFAULT_ASIDE_PREFIX
from bot.i18n import t
from bot.interactions.chat_text import mode_text, variables_hint
from bot.interactions.guards import GUILD_ONLY, MANAGE_SERVER
from bot.storage.chat_places import KEEP, MAX_TEMPERATURE, MIN_TEMPERATURE, Mode

SETTINGS = app_commands.Group(
    name=_("settings"),
    description=_("This server's settings for the bot (moderators)."),
    guild_only=True,
    allowed_contexts=GUILD_ONLY,
    default_permissions=MANAGE_SERVER,
)

MAX_PROMPT_CHARS = 2000
MAX_ASIDE_CHARS = 10
INHERIT = "inherit"
MODE_CHOICES = [
    app_commands.Choice(name=_("mentions and replies"), value="mention"),
    app_commands.Choice(name=_("every message"), value="every"),
    app_commands.Choice(name=_("off"), value="off"),
    app_commands.Choice(name=_("as the place above"), value=INHERIT),
]
RESET_CHOICES = [
    app_commands.Choice(name=_("the whole persona"), value="all"),
    app_commands.Choice(name=_("the system prompt"), value="system_prompt"),
    app_commands.Choice(name=_("the model"), value="model"),
    app_commands.Choice(name=_("the temperature"), value="temperature"),
]
#: A place moderators can give settings: a text channel, a category or a thread.
PlaceChannel = discord.TextChannel | discord.CategoryChannel | discord.Thread


class NotAPlace(Exception):
    """The command was run where no channel setting applies (e.g. a voice channel's chat)."""


class ChatSettings(commands.Cog):
    """The chat subcommands of `/settings`."""

    bot: NexBot

    @SETTINGS.command(
        name=_("chat-mode"),
        description=_("Where I answer in a channel, category or thread: mentions, all, or off."),
    )
    @app_commands.rename(mode=_("mode"), channel=_("channel"))
    @app_commands.describe(
        mode=_("Mentions and replies, every message, off, or as the place above"),
        channel=_("A channel, category or thread (empty: where you are)"),
    )
    @app_commands.choices(mode=MODE_CHOICES)
    async def chat_mode(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str],
        channel: PlaceChannel | None = None,
    ) -> None:
        locale = interaction.locale
        place = self._place(interaction, channel)
        if place is None:
            await self._no_place(interaction)
            return
        assert interaction.guild_id is not None
        chosen = None if mode.value == INHERIT else cast(Mode, mode.value)
        await self.bot.chat_places.change(
            interaction.guild_id, place.id, by=interaction.user.id, mode=chosen
        )
        if chosen is None:
            text = t("{place} now follows the place above it.", locale, place=place.mention)
        else:
            text = t(
                "In {place} I now answer {mode}.",
                locale,
                place=place.mention,
                mode=mode_text(chosen, locale),
            )
        if chosen == "every":
            prefix = await self._aside_prefix(interaction.guild_id)
            text += " " + t(
                "Members can start a message with `{prefix}` to talk without me.",
                locale,
                prefix=prefix,
            )
        await interaction.response.send_message(text, ephemeral=True)

    @SETTINGS.command(
        name=_("chat-defaults"),
        description=_("Server-wide: where I answer, the aside prefix, answers in threads."),
    )
    @app_commands.rename(mode=_("mode"), aside=_("aside"), threads=_("threads"))
    @app_commands.describe(
        mode=_("Where channels without their own mode are answered"),
        aside=_("Messages starting with this are not for me (default //)"),
        threads=_("Open answers to /ask and mentions in a new thread"),
    )
    @app_commands.choices(mode=MODE_CHOICES)
    async def chat_defaults(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str] | None = None,
        aside: app_commands.Range[str, 1, MAX_ASIDE_CHARS] | None = None,
        threads: bool | None = None,
    ) -> None:
        locale = interaction.locale
        guild_id, by = interaction.guild_id, interaction.user.id
        assert guild_id is not None
        if aside is not None and not aside.strip():
            text = t("The aside prefix can't be blank.", locale)
            await interaction.response.send_message(text, ephemeral=True)
            return
        guilds = self.bot.guild_settings
        if mode is not None:
            await guilds.set(
                guild_id, "chat_mode", None if mode.value == INHERIT else mode.value, by
            )
        if aside is not None:
            await guilds.set(guild_id, "aside_prefix", aside.strip(), by)
        if threads is not None:
            await guilds.set(guild_id, "answer_in_threads", int(threads), by)
        config = await guilds.get(guild_id)
        threads_text = (
            t("/ask and mentions open their answer in a new thread.", locale)
            if config.answer_in_threads
            else t("Answers stay in the channel (/ask can still open a thread).", locale)
        )
        text = " ".join(
            [
                t(
                    "Where no channel says otherwise, I answer {mode}.",
                    locale,
                    mode=mode_text(config.chat_mode or "mention", locale),
                ),
                t(
                    "Asides start with `{prefix}`.",
                    locale,
                    prefix=config.aside_prefix or DEFAULT_ASIDE_PREFIX,
                ),
                threads_text,
            ]
        )
        await interaction.response.send_message(text, ephemeral=True)

    @SETTINGS.command(
        name=_("persona"),
        description=_("The system prompt, model and temperature of a channel, category or thread."),
    )
    @app_commands.rename(
        channel=_("channel"),
        prompt=_("prompt"),
        model=_("model"),
        temperature=_("temperature"),
        reset=_("reset"),
    )
    @app_commands.describe(
        channel=_("A channel, category or thread (empty: where you are)"),
        prompt=_("The system prompt; may use {user} {server} {channel} {date} {time} {locale}"),
        model=_("The chat model"),
        temperature=_("From 0 (focused) to 2 (inventive)"),
        reset=_("Back to the place above's"),
    )
    @app_commands.choices(reset=RESET_CHOICES)
    async def persona(
        self,
        interaction: discord.Interaction,
        channel: PlaceChannel | None = None,
        prompt: app_commands.Range[str, 1, MAX_PROMPT_CHARS] | None = None,
        model: str | None = None,
        temperature: app_commands.Range[float, MIN_TEMPERATURE, MAX_TEMPERATURE] | None = None,
        reset: app_commands.Choice[str] | None = None,
    ) -> None:
        locale = interaction.locale
        place = self._place(interaction, channel)
        if place is None:
            await self._no_place(interaction)
            return
        assert interaction.guild_id is not None
        if prompt is None and model is None and temperature is None and reset is None:
            text = t("Give a prompt, a model or a temperature to set, or what to reset.", locale)
            await interaction.response.send_message(text, ephemeral=True)
            return
        if model is not None and not self.bot.catalog.accepts_chat(model):
            text = t(
                "The model `{model}` isn't available for chat. Pick one from the list.",
                locale,
                model=model,
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        changes: dict[str, Any] = {}
        if reset is not None:
            cleared = ("system_prompt", "model", "temperature")
            for name in cleared if reset.value == "all" else (reset.value,):
                changes[name] = None
        given = {"system_prompt": prompt, "model": model, "temperature": temperature}
        changes.update({name: value for name, value in given.items() if value is not None})
        after = await self.bot.chat_places.change(
            interaction.guild_id,
            place.id,
            by=interaction.user.id,
            system_prompt=changes.get("system_prompt", KEEP),
            model=changes.get("model", KEEP),
            temperature=changes.get("temperature", KEEP),
        )
        lines = [t("The persona of {place} is set.", locale, place=place.mention)]
        if after.system_prompt is None and after.model is None and after.temperature is None:
            lines = [
                t("{place} now has the persona of the place above it.", locale, place=place.mention)
            ]
        if (
            after.temperature is not None
            and after.model is not None
            and not self.bot.nexai.capabilities.get(after.model).temperature
        ):
            lines.append(
                t(
                    "`{model}` takes no temperature, so it is not sent to it.",
                    locale,
                    model=after.model,
                )
            )
        lines.append(t("Members see it with /persona show.", locale) + " " + variables_hint(locale))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @persona.autocomplete("model")
    async def _persona_models(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=m, value=m) for m in self.bot.catalog.suggest(current)]

    @SETTINGS.command(
        name=_("temperature"),
        description=_("The server's chat temperature (empty: the model's default)."),
    )
    @app_commands.rename(value=_("value"))
    @app_commands.describe(value=_("From 0 (focused) to 2 (inventive)"))
    async def temperature(
        self,
        interaction: discord.Interaction,
        value: app_commands.Range[float, MIN_TEMPERATURE, MAX_TEMPERATURE] | None = None,
    ) -> None:
        locale = interaction.locale
        assert interaction.guild_id is not None
        await self.bot.guild_settings.set(
            interaction.guild_id, "temperature", value, interaction.user.id
        )
        if value is None:
            text = t("The temperature is back to the model's default.", locale)
        else:
            text = t("The server's temperature is now {value}.", locale, value=value)
        await interaction.response.send_message(text, ephemeral=True)

    @staticmethod
    def _place(interaction: discord.Interaction, channel: PlaceChannel | None) -> Any:
        """The channel, category or thread a setting is for: the one given, or where the
        command is run; None if that is none of them."""
        place = channel if channel is not None else interaction.channel
        if isinstance(place, discord.TextChannel | discord.CategoryChannel | discord.Thread):
            return place
        return None

    @staticmethod
    async def _no_place(interaction: discord.Interaction) -> None:
        text = t("Choose a text channel, a category or a thread.", interaction.locale)
        await interaction.response.send_message(text, ephemeral=True)

    async def _aside_prefix(self, guild_id: int) -> str:
        return (await self.bot.guild_settings.get(guild_id)).aside_prefix or DEFAULT_ASIDE_PREFIX
