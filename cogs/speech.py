"""/tts and the "Read aloud" message menu: text in, a native voice message out (or an mp3/wav
file on request, or where a voice message cannot go), charged per character."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.i18n import t
from bot.interactions.callers import caller_of
from bot.interactions.guards import EVERYWHERE, SERVER_OR_MEMBER, usable_anywhere
from bot.interactions.media import NO_MENTIONS, send_files
from bot.interactions.replies import failures_told
from bot.interactions.voice import send_voice_message, voice_message_refusal
from bot.media.audio import TranscodeFailed
from bot.media.files import OutFile, check_speech_text, require_offered, slug
from bot.media.reading import text_to_read
from bot.render.subtext import subtext

AudioFormat = Literal["voice", "mp3", "wav"]
#: The API's format for a voice message, transcoded to Ogg Opus here.
VOICE_SOURCE_FORMAT = "mp3"
#: How much of the text the answer's caption quotes.
CAPTION_CHARS = 80

log = logging.getLogger(__name__)


class Speech(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(
            name=_("Read aloud"),
            callback=self.read_aloud,
            allowed_contexts=EVERYWHERE,
            allowed_installs=SERVER_OR_MEMBER,
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @usable_anywhere()
    @app_commands.command(name=_("tts"), description=_("Turn text into speech."))
    @app_commands.rename(text=_("text"), voice=_("voice"), audio_format=_("format"))
    @app_commands.describe(
        text=_("What to say (up to 4,096 characters)"),
        voice=_("Which voice reads it"),
        audio_format=_("A voice message (default), or an mp3 or wav file"),
    )
    async def tts(
        self,
        interaction: discord.Interaction,
        text: str,
        voice: str | None = None,
        audio_format: AudioFormat = "voice",
    ) -> None:
        voice = voice or self.bot.settings.tts_voices[0]
        async with failures_told(interaction, self.bot.alerts):
            check_speech_text(text)
            require_offered(voice, self.bot.settings.tts_voices)
            preview = text if len(text) <= CAPTION_CHARS else text[: CAPTION_CHARS - 1] + "…"
            caption = t("🔊 {text}", interaction.locale, text=preview)
            await self._speak(interaction, text, voice, audio_format, caption)

    async def read_aloud(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Read aloud" menu: a message's text (code blocks left out) as a voice message
        replying to it."""
        await self.read_text_aloud(interaction, message.clean_content, message.id)

    async def read_text_aloud(
        self, interaction: discord.Interaction, content: str, reply_to: int
    ) -> None:
        """`content` (code blocks left out) as a voice message replying to message `reply_to`
        (also the 🔊 button under an answer, which reads the whole answer)."""
        async with failures_told(interaction, self.bot.alerts):
            reading = text_to_read(content)
            caption = t("🔊 Read aloud", interaction.locale)
            if reading.cut:
                caption = t(
                    "🔊 Read aloud: the first {count} characters",
                    interaction.locale,
                    count=len(reading.text),
                )
            voice = self.bot.settings.tts_voices[0]
            await self._speak(interaction, reading.text, voice, "voice", caption, reply_to=reply_to)

    async def _speak(
        self,
        interaction: discord.Interaction,
        text: str,
        voice: str,
        audio_format: AudioFormat,
        caption: str,
        *,
        reply_to: int | None = None,
    ) -> None:
        """Charge, ask the API, and answer with a voice message (replying to `reply_to`, else
        to the command's answer, which shows `caption`) or a file."""
        caller = caller_of(interaction)
        model = self.bot.settings.tts_model
        await self.bot.ledger.check(caller, "tts", len(text))
        await interaction.response.defer(thinking=True)
        file_format = VOICE_SOURCE_FORMAT if audio_format == "voice" else audio_format
        async with self.bot.ledger.charge(caller, "tts", len(text), model):
            audio = await self.bot.nexai.speech(
                model, text, voice=voice, response_format=file_format
            )
            if audio_format == "voice" and await self._voice_message(
                interaction, audio, caption, reply_to
            ):
                return
            name = f"{slug(text, fallback='speech')}.{file_format}"
            await send_files(interaction, "", [OutFile(name, audio)])

    async def _voice_message(
        self, interaction: discord.Interaction, audio: bytes, caption: str, reply_to: int | None
    ) -> bool:
        """Post `audio` as a voice message replying to `reply_to` (else the command's answer),
        and show `caption` as the answer; False (and a log line saying why) when only a file
        can be sent."""
        refusal = voice_message_refusal(interaction)
        if refusal is None:
            try:
                clip = await self.bot.transcoder.voice_clip(audio)
                if reply_to is None:
                    reply_to = (await interaction.original_response()).id
                assert interaction.channel_id is not None  # the refusal checked the channel
                await send_voice_message(self.bot, interaction.channel_id, clip, reply_to=reply_to)
            except TranscodeFailed as error:
                refusal = f"the audio could not be transcoded ({error})"
            except discord.HTTPException as error:
                refusal = f"Discord refused it ({error.status} {error.code}: {error.text})"
        if refusal is not None:
            log.info("Speech answered with a file, not a voice message: %s", refusal)
            return False
        await interaction.edit_original_response(
            content=subtext(discord.utils.escape_markdown(caption)), allowed_mentions=NO_MENTIONS
        )
        return True

    @tts.autocomplete("voice")
    async def _voice_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        voices = [v for v in self.bot.settings.tts_voices if current.lower() in v.lower()]
        return [app_commands.Choice(name=v, value=v) for v in voices[:25]]


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Speech(bot))
