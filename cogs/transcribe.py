"""/transcribe, the "Transcribe" message menu and the voice-note listener (moderators choose
the channels, their mode and their language with /settings voice-notes)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.errors import UserFacingError
from bot.i18n import t
from bot.interactions.callers import caller_of, caller_of_message
from bot.interactions.guards import EVERYWHERE, SERVER_OR_MEMBER, usable_anywhere
from bot.interactions.media import NO_MENTIONS, audio_of, find_audio, send_files
from bot.interactions.replies import error_message, failures_told
from bot.interactions.voice_answers import VoiceNoteReplies
from bot.media.files import NoAudio, normalise_language
from bot.media.speaking import Speaker
from bot.media.summaries import Summarizer
from bot.media.transcription import Transcriber, transcript_reply
from bot.media.voice_notes import BoundedTasks, FailureThrottle

log = logging.getLogger(__name__)


class Transcribe(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot
        self.transcriber = Transcriber(bot.settings, bot.session, bot.nexai, bot.ledger)
        self.voice_queue = BoundedTasks(bot.settings.voice_note_concurrency)
        self.failures = FailureThrottle()
        settings = bot.settings
        self.replies = VoiceNoteReplies(
            bot,
            settings,
            bot.chat,
            bot.guild_settings,
            bot.alerts,
            Summarizer(bot.nexai, bot.ledger, reasoning_max_tokens=settings.reasoning_max_tokens),
            Speaker(
                bot.nexai,
                bot.ledger,
                bot.transcoder,
                model=settings.tts_model,
                voice=settings.tts_voices[0],
            ),
        )
        self.menu = app_commands.ContextMenu(
            name=_("Transcribe"),
            callback=self.transcribe_message,
            allowed_contexts=EVERYWHERE,
            allowed_installs=SERVER_OR_MEMBER,
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)
        await self.bot.voice_notes.forget_old_claims()

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        await self.voice_queue.close()

    @usable_anywhere()
    @app_commands.command(
        name=_("transcribe"), description=_("Turn speech in an audio or video file into text.")
    )
    @app_commands.rename(audio=_("audio"), language=_("language"))
    @app_commands.describe(
        audio=_("The audio or video file (up to 50 MB)"),
        language=_("The language spoken, as a code like en or vi (default: detected)"),
    )
    async def transcribe(
        self,
        interaction: discord.Interaction,
        audio: discord.Attachment,
        language: str | None = None,
    ) -> None:
        locale = str(interaction.locale)
        source, caller = audio_of(audio), caller_of(interaction)
        async with failures_told(interaction, self.bot.alerts):
            code = normalise_language(language)
            await self.transcriber.check(source, caller)
            await interaction.response.defer(thinking=True)
            code = code or await self._language_hint(interaction)
            transcript = await self.transcriber.transcribe(source, caller, language=code)
            reply = transcript_reply(transcript, source.filename, locale)
            await send_files(interaction, reply.content, reply.files)

    async def transcribe_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Transcribe" menu: the first audio attachment of any message."""
        locale = str(interaction.locale)
        attachment, caller = find_audio(message), caller_of(interaction)
        async with failures_told(interaction, self.bot.alerts):
            if attachment is None:
                raise NoAudio()
            source = audio_of(attachment)
            await self.transcriber.check(source, caller)
            await interaction.response.defer(thinking=True)
            language = await self._language_hint(interaction)
            transcript = await self.transcriber.transcribe(source, caller, language=language)
            header = t("📝 Transcript of {link}\n", locale, link=message.jump_url)
            reply = transcript_reply(transcript, source.filename, locale, header=header)
            await send_files(interaction, reply.content, reply.files)

    async def _language_hint(self, interaction: discord.Interaction) -> str | None:
        """The language moderators set for the channel (a thread: its own, else its parent's)."""
        channel = interaction.channel
        if channel is None or interaction.guild_id is None:
            return None
        voice = await self.bot.channel_settings.voice(
            channel.id, getattr(channel, "parent_id", None)
        )
        return voice.language_hint

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A voice message in an enabled channel is claimed once, then queued to transcribe."""
        if message.author.bot or not message.flags.voice or message.guild is None:
            return
        channel = message.channel
        if not await self.bot.voice_notes.is_enabled(
            channel.id, getattr(channel, "parent_id", None)
        ):
            return
        if not await self.bot.voice_notes.claim(message.id, message.channel.id):
            log.debug("Voice note %s was already claimed", message.id)
            return
        self.voice_queue.submit(self._voice_note(message), name=f"voice-note-{message.id}")

    async def _voice_note(self, message: discord.Message) -> None:
        """Transcribe in the channel's language, then reply as its mode says; a failure is
        told (at most once per channel in a while) and only logged after that."""
        guild, channel = message.guild, message.channel
        locale = str(guild.preferred_locale) if guild else "en-US"
        voice = await self.bot.channel_settings.voice(
            channel.id, getattr(channel, "parent_id", None)
        )
        attachment = find_audio(message)
        try:
            if attachment is None:
                raise NoAudio()
            source = audio_of(attachment)
            transcript = await self.transcriber.transcribe(
                source, caller_of_message(message), language=voice.language_hint
            )
        except UserFacingError as error:
            log.warning("Voice note %s not transcribed: %s", message.id, error)
            await self.bot.alerts.report(guild.id if guild else None, error)
            if not self.failures.allow(channel.id):
                return
            reason = error_message(error, locale)
            text = t("⚠️ I couldn't transcribe this voice message. {reason}", locale, reason=reason)
            try:
                await message.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:
                log.warning("Could not reply to voice note %s: %s", message.id, exc)
            return
        await self.replies.respond(message, transcript, source.filename, voice, locale)


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Transcribe(bot))
