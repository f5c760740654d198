"""/tts: text in, an audio attachment out, charged per character."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.interactions.callers import caller_of
from bot.interactions.media import send_files
from bot.interactions.replies import failures_told
from bot.media.files import OutFile, check_speech_text, require_offered, slug

AudioFormat = Literal["mp3", "wav"]


class Speech(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    @app_commands.command(name=_("tts"), description=_("Turn text into speech."))
    @app_commands.rename(text=_("text"), voice=_("voice"), audio_format=_("format"))
    @app_commands.describe(
        text=_("What to say (up to 4,096 characters)"),
        voice=_("Which voice reads it"),
        audio_format=_("The audio file's format (default: mp3)"),
    )
    async def tts(
        self,
        interaction: discord.Interaction,
        text: str,
        voice: str | None = None,
        audio_format: AudioFormat = "mp3",
    ) -> None:
        settings = self.bot.settings
        voice = voice or settings.tts_voices[0]
        caller = caller_of(interaction)
        model = settings.tts_model
        async with failures_told(interaction, self.bot.alerts):
            check_speech_text(text)
            require_offered(voice, settings.tts_voices)
            await self.bot.ledger.check(caller, "tts", len(text))
            await interaction.response.defer(thinking=True)
            async with self.bot.ledger.charge(caller, "tts", len(text), model):
                audio = await self.bot.nexai.speech(
                    model, text, voice=voice, response_format=audio_format
                )
                name = f"{slug(text, fallback='speech')}.{audio_format}"
                await send_files(interaction, "", [OutFile(name, audio)])

    @tts.autocomplete("voice")
    async def _voice_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        voices = [v for v in self.bot.settings.tts_voices if current.lower() in v.lower()]
        return [app_commands.Choice(name=v, value=v) for v in voices[:25]]


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Speech(bot))
