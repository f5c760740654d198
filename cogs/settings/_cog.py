"""/settings (moderators): default models, system prompt, voice-note channels and what they do
with voice messages, and the alert channel; where the bot answers and the personas of places
are the `ChatSettings` mixin's (`_chat.py`). Discord <->
bot.storage.guild_settings, bot.storage.channel_settings, bot.media.voice_notes."""

from __future__ import annotations

from typing import cast

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.app import NexBot
from bot.chat.personas import DEFAULT_ASIDE_PREFIX
from bot.i18n import t
from bot.interactions.chat_text import mode_text, place_summary, prompt_preview
from bot.interactions.guards import NO_MENTIONS, and_more, card, require_manager
from bot.render.embed_text import EMBED_FIELD_VALUE_LIMIT, fit_items
from bot.storage.channel_settings import DEFAULT_VOICE, ChannelVoice, Language, VoiceMode
from bot.storage.chat_places import PlaceSettings
from bot.storage.guild_settings import Column, GuildConfig
from cogs.settings._chat import MAX_PROMPT_CHARS, SETTINGS, ChatSettings

VOICE_MODE_CHOICES = [
    app_commands.Choice(name=_("transcript"), value="transcript"),
    app_commands.Choice(name=_("transcript + answer"), value="answer"),
    app_commands.Choice(name=_("summary"), value="summary"),
]
LANGUAGE_CHOICES = [
    app_commands.Choice(name=_("detect it"), value="auto"),
    app_commands.Choice(name=_("English (en)"), value="en"),
    app_commands.Choice(name=_("Vietnamese (vi)"), value="vi"),
]
#: How a channel's voice mode, spoken answers and language hint read in a sentence.
VOICE_MODE_TEXTS = {
    "transcript": "the transcript",
    "answer": "the transcript and an answer",
    "spoken": "the transcript and an answer, spoken too",
    "summary": "the transcript, or a summary and a file when it is long",
}
VOICE_MODE_LABEL_TEXTS = {
    "transcript": "transcript",
    "answer": "transcript + answer",
    "summary": "summary",
}
LANGUAGE_TEXTS = {"auto": "detected", "en": "English", "vi": "Vietnamese"}
VOICE_ON_TEXT = "Voice messages in {channel} will be transcribed."
VOICE_OFF_TEXT = "Voice messages in {channel} won't be transcribed any more."


def voice_setup(channel_id: int, voice: ChannelVoice, locale: discord.Locale | str) -> str:
    """One sentence saying what voice messages get in a channel, and in which language."""
    mode = "spoken" if voice.mode == "answer" and voice.spoken else voice.mode
    return t(
        "In <#{channel_id}>, a voice message gets {mode}; language: {language}.",
        locale,
        channel_id=channel_id,
        mode=t(VOICE_MODE_TEXTS[mode], locale),
        language=t(LANGUAGE_TEXTS[voice.language], locale),
    )


def voice_channel_list(
    channel_ids: frozenset[int], setups: dict[int, ChannelVoice], locale: discord.Locale | str
) -> str:
    """The voice-note channels as mentions, each followed by its mode and language when they
    are not the defaults, as fits a field."""
    items = []
    for cid in sorted(channel_ids):
        voice = setups.get(cid, DEFAULT_VOICE)
        if voice == DEFAULT_VOICE:
            items.append(f"<#{cid}>")
            continue
        parts = [t(VOICE_MODE_LABEL_TEXTS[voice.mode], locale)]
        if voice.mode == "answer" and voice.spoken:
            parts.append(t("spoken answers", locale))
        if voice.language_hint:
            parts.append(t("language: {language}", locale, language=voice.language_hint))
        items.append(f"<#{cid}> ({', '.join(parts)})")
    return fit_items(items, EMBED_FIELD_VALUE_LIMIT, and_more(locale))


def place_list(places: dict[int, PlaceSettings], locale: discord.Locale | str) -> str:
    """The places with chat settings of their own, each with what it sets, as fits a field."""
    items = [f"<#{pid}> ({place_summary(places[pid], locale)})" for pid in sorted(places)]
    return fit_items(items, EMBED_FIELD_VALUE_LIMIT, and_more(locale))


class Settings(ChatSettings):
    settings = SETTINGS

    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Every command here is a moderator's (see `bot.interactions.guards`)."""
        return await require_manager(interaction)

    @settings.command(name=_("show"), description=_("Show this server's settings."))
    async def show(self, interaction: discord.Interaction) -> None:
        locale = interaction.locale
        guild_id = interaction.guild_id
        assert guild_id is not None
        config = await self.bot.guild_settings.get(guild_id)
        voice = await self.bot.guild_settings.voice_channel_ids(guild_id)
        setups = await self.bot.channel_settings.for_guild(guild_id)
        places = await self.bot.chat_places.of_guild(guild_id)
        defaults = self.bot.settings
        embed = card(t("Settings of this server", locale), "")
        fields = [
            (
                t("Chat model", locale),
                self._model(config.chat_model, defaults.default_chat_model, locale),
            ),
            (
                t("Image model", locale),
                self._model(config.image_model, defaults.default_image_model, locale),
            ),
            (t("System prompt", locale), self._prompt(config, locale)),
            (
                t("Temperature", locale),
                str(config.temperature)
                if config.temperature is not None
                else t("the model's default", locale),
            ),
            (t("Where I answer", locale), self._chat(config, locale)),
            (
                t("Channels with their own chat settings", locale),
                place_list(places, locale) or t("none", locale),
            ),
            (
                t("Voice notes transcribed in", locale),
                voice_channel_list(voice, setups, locale) or t("no channel", locale),
            ),
            (
                t("API alerts go to", locale),
                f"<#{config.alert_channel_id}>"
                if config.alert_channel_id
                else t("nowhere (off)", locale),
            ),
        ]
        for name, value in fields:
            embed.add_field(name=name, value=value, inline=False)
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @settings.command(
        name=_("chat-model"), description=_("The model for /ask and mentions (empty: the bot's).")
    )
    @app_commands.rename(model=_("model"))
    @app_commands.describe(model=_("A chat model; leave empty for the bot's default"))
    async def chat_model(self, interaction: discord.Interaction, model: str | None = None) -> None:
        locale = interaction.locale
        if model is not None and not self.bot.catalog.accepts_chat(model):
            text = t(
                "The model `{model}` isn't available for chat. Pick one from the list.",
                locale,
                model=model,
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        await self._set(interaction, "chat_model", model)
        if model is None:
            default = self.bot.settings.default_chat_model
            text = t(
                "The chat model is back to the bot's default (`{model}`).", locale, model=default
            )
        else:
            text = t("The chat model is now `{model}`.", locale, model=model)
        await interaction.response.send_message(text, ephemeral=True)

    @chat_model.autocomplete("model")
    async def _chat_models(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=m, value=m) for m in self.bot.catalog.suggest(current)]

    @settings.command(
        name=_("image-model"), description=_("The model for /imagine (empty: the bot's).")
    )
    @app_commands.rename(model=_("model"))
    @app_commands.describe(model=_("An image model; leave empty for the bot's default"))
    async def image_model(self, interaction: discord.Interaction, model: str | None = None) -> None:
        locale = interaction.locale
        if model is not None and model not in self._image_models():
            text = t(
                "The model `{model}` isn't an image model this bot offers. Pick one from the list.",
                locale,
                model=model,
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        await self._set(interaction, "image_model", model)
        if model is None:
            default = self.bot.settings.default_image_model
            text = t(
                "The image model is back to the bot's default (`{model}`).", locale, model=default
            )
        else:
            text = t("The image model is now `{model}`.", locale, model=model)
        await interaction.response.send_message(text, ephemeral=True)

    @image_model.autocomplete("model")
    async def _image_model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        query = current.lower()
        models = [m for m in self._image_models() if query in m.lower()]
        return [app_commands.Choice(name=m, value=m) for m in models[:25]]

    @settings.command(
        name=_("system-prompt"),
        description=_("What the model is told before every chat (empty: the bot's)."),
    )
    @app_commands.rename(text=_("text"))
    @app_commands.describe(text=_("The system prompt; leave empty for the bot's default"))
    async def system_prompt(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, MAX_PROMPT_CHARS] | None = None,
    ) -> None:
        locale = interaction.locale
        await self._set(interaction, "system_prompt", text)
        if text is None:
            reply = t("The system prompt is back to the bot's default.", locale)
        else:
            reply = t("The system prompt is set ({count} characters).", locale, count=len(text))
        await interaction.response.send_message(reply, ephemeral=True)

    @settings.command(
        name=_("voice-notes"),
        description=_(
            "Voice messages in a channel: transcribe, answer or summarise them, or stop."
        ),
    )
    @app_commands.rename(
        channel=_("channel"),
        transcribe=_("transcribe"),
        mode=_("mode"),
        spoken=_("spoken"),
        language=_("language"),
    )
    @app_commands.describe(
        channel=_("The channel"),
        transcribe=_("Transcribe voice messages there (false: stop)"),
        mode=_("What a voice message gets: its transcript, an answer too, or a summary"),
        spoken=_("In transcript + answer mode, also answer with a voice message"),
        language=_("The language spoken there, for every transcription in it"),
    )
    @app_commands.choices(mode=VOICE_MODE_CHOICES, language=LANGUAGE_CHOICES)
    async def voice_notes_channel(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        transcribe: bool = True,
        mode: app_commands.Choice[str] | None = None,
        spoken: bool | None = None,
        language: app_commands.Choice[str] | None = None,
    ) -> None:
        """Turn transcription on (or off), and change the channel's voice settings given;
        those not given stay as they were."""
        locale = interaction.locale
        guild_id, by = interaction.guild_id, interaction.user.id
        assert guild_id is not None
        channels = self.bot.channel_settings
        adjusting = mode is not None or spoken is not None or language is not None
        before = await channels.voice(channel.id)
        if spoken and (mode.value if mode else before.mode) != "answer":
            text = t(
                "Spoken answers need the transcript + answer mode: choose it as the mode too.",
                locale,
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        if transcribe:
            changed = await self.bot.voice_notes.enable(channel.id, guild_id, by)
        else:
            changed = await self.bot.voice_notes.disable(channel.id)
        on_or_off = VOICE_ON_TEXT if transcribe else VOICE_OFF_TEXT
        sentences = [t(on_or_off, locale, channel=channel.mention)]
        if adjusting:
            after = await channels.set_voice(
                channel.id,
                guild_id,
                by=by,
                mode=cast(VoiceMode | None, mode and mode.value),
                spoken=spoken,
                language=cast(Language | None, language and language.value),
            )
            changed = changed or after != before
            sentences.append(voice_setup(channel.id, after, locale))
        reply = " ".join(sentences)
        if not changed:
            reply = f"{t('Nothing changed.', locale)} {reply}"
        await interaction.response.send_message(reply, ephemeral=True)

    @settings.command(
        name=_("alerts"),
        description=_("Where to post alerts when nexai refuses the bot (empty: nowhere)."),
    )
    @app_commands.rename(channel=_("channel"))
    @app_commands.describe(channel=_("The channel for alerts; leave empty to turn them off"))
    async def alerts(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        locale = interaction.locale
        await self._set(interaction, "alert_channel_id", channel.id if channel else None)
        if channel is None:
            text = t("API alerts are off.", locale)
        else:
            text = t(
                "When nexai refuses the bot's key or credit, or does not serve a model the bot is "
                "set to use, I'll post an alert in {channel}, at most once an hour for each kind.",
                locale,
                channel=channel.mention,
            )
            me = channel.guild.me
            if not channel.permissions_for(me).send_messages:
                text += " " + t("I can't post there yet: give me Send Messages in it.", locale)
        await interaction.response.send_message(text, ephemeral=True)

    async def _set(
        self, interaction: discord.Interaction, column: Column, value: str | int | None
    ) -> None:
        assert interaction.guild_id is not None
        await self.bot.guild_settings.set(interaction.guild_id, column, value, interaction.user.id)

    def _image_models(self) -> list[str]:
        settings = self.bot.settings
        return list(dict.fromkeys([settings.default_image_model, *settings.image_models]))

    @staticmethod
    def _model(chosen: str | None, default: str, locale: discord.Locale | str) -> str:
        if chosen:
            return f"`{chosen}`"
        return t("`{model}` (the bot's default)", locale, model=default)

    def _prompt(self, config: GuildConfig, locale: discord.Locale | str) -> str:
        if not config.system_prompt:
            return t("The bot's default.", locale)
        return prompt_preview(config.system_prompt)

    @staticmethod
    def _chat(config: GuildConfig, locale: discord.Locale | str) -> str:
        """The server's chat defaults: the mode, the aside prefix, answers in threads."""
        lines = [
            t(
                "{mode}, where no channel says otherwise",
                locale,
                mode=mode_text(config.chat_mode or "mention", locale),
            ),
            t(
                "asides start with `{prefix}`",
                locale,
                prefix=config.aside_prefix or DEFAULT_ASIDE_PREFIX,
            ),
        ]
        if config.answer_in_threads:
            lines.append(t("answers open in a new thread", locale))
        return "\n".join(lines)
