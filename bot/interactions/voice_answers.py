"""What follows a voice note where voice notes are on, by the channel's mode (moderators set it
with /settings voice-notes):

- transcript: the transcript, as a quiet reply;
- answer: the transcript, then an answer to it as to a chat message in the channel (the
  server's persona and model, the channel's memory; charged and limited like /ask), and with
  spoken answers on, the answer again as a voice message replying to the note (charged as tts);
- summary: a note longer than VOICE_SUMMARY_MIN_CHARS gets a short summary (charged like /ask)
  with the whole transcript as a `.txt`; a shorter one, or a summary that fails, its transcript.
"""

from __future__ import annotations

import logging

import discord

from bot.chat.service import ChatRequest, ChatService
from bot.config import Settings
from bot.errors import UserFacingError
from bot.interactions.answer_buttons import answer_with_buttons, is_threadable
from bot.interactions.callers import caller_of_message
from bot.interactions.media import NO_MENTIONS, discord_file
from bot.interactions.replies import error_message
from bot.interactions.voice import reply_with_speech
from bot.media.files import TextReply
from bot.media.reading import NothingToRead
from bot.media.speaking import Speaker
from bot.media.summaries import Summarizer, summary_reply
from bot.media.transcription import transcript_reply
from bot.nexai import Transcript
from bot.ops.alerts import Alerts
from bot.render.targets import ReplyChainTarget
from bot.storage.channel_settings import ChannelVoice
from bot.storage.guild_settings import GuildConfig, GuildSettings

log = logging.getLogger(__name__)

#: Starts a voice note's transcript (or summary).
VOICE_HEADER = "🗣️ "


class VoiceNoteReplies:
    def __init__(
        self,
        client: discord.Client,
        settings: Settings,
        chat: ChatService,
        guild_settings: GuildSettings,
        alerts: Alerts,
        summarizer: Summarizer,
        speaker: Speaker,
    ) -> None:
        self._client = client
        self._settings = settings
        self._chat = chat
        self._guild_settings = guild_settings
        self._alerts = alerts
        self._summarizer = summarizer
        self._speaker = speaker

    async def respond(
        self,
        note: discord.Message,
        transcript: Transcript,
        filename: str,
        voice: ChannelVoice,
        locale: str,
    ) -> None:
        """Reply to `note` as the channel's `voice` settings say (never raises for Discord)."""
        config = await self._guild_settings.get(note.guild.id if note.guild else None)
        model = config.chat_model or self._settings.default_chat_model
        reply = await self._transcript_or_summary(note, transcript, filename, voice, model, locale)
        try:
            posted = await note.reply(
                reply.content,
                files=[discord_file(f) for f in reply.files],
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("Could not reply to voice note %s: %s", note.id, exc)
            return
        if voice.mode == "answer" and transcript.text.strip():
            await self._answer(note, posted, transcript.text, voice.spoken, config, model, locale)

    async def _transcript_or_summary(
        self,
        note: discord.Message,
        transcript: Transcript,
        filename: str,
        voice: ChannelVoice,
        model: str,
        locale: str,
    ) -> TextReply:
        text = transcript.text
        if voice.mode == "summary" and len(text) > self._settings.voice_summary_min_chars:
            try:
                summary = await self._summarizer.summarise(caller_of_message(note), text, model)
                return summary_reply(text, summary, filename, locale, header=VOICE_HEADER)
            except UserFacingError as error:
                log.warning("Voice note %s: no summary, so its transcript: %s", note.id, error)
                await self._alerts.report(note.guild.id if note.guild else None, error)
        return transcript_reply(transcript, filename, locale, header=VOICE_HEADER)

    async def _answer(
        self,
        note: discord.Message,
        transcript_message: discord.Message,
        prompt: str,
        spoken: bool,
        config: GuildConfig,
        model: str,
        locale: str,
    ) -> None:
        """Answer the transcript in a reply chain under it, then (spoken) read the answer
        aloud as a voice message replying to the note."""
        me = self._client.user
        assert me is not None
        request = ChatRequest(
            caller=caller_of_message(note),
            channel_id=note.channel.id,
            author_name=note.author.display_name,
            prompt=prompt,
            model=model,
            locale=locale,
            system_prompt=config.system_prompt,
        )
        target = ReplyChainTarget(transcript_message)
        try:
            outcome = await answer_with_buttons(  # with Stop, Regenerate... under it
                self._chat,
                request,
                target,
                bot_id=me.id,
                bot_name=me.display_name,
                public=True,
                threadable=is_threadable(note.channel),
            )
            if spoken and outcome.complete and outcome.text.strip():
                speech = await self._speaker.speak(request.caller, outcome.text)
                await reply_with_speech(self._client, note, speech)
        except NothingToRead:
            log.info("Voice note %s: the answer has nothing to read aloud", note.id)
        except UserFacingError as error:
            await self._alerts.report(note.guild.id if note.guild else None, error)
            await self._tell(transcript_message, error_message(error, locale))
        except discord.HTTPException as exc:
            log.warning("Could not answer voice note %s: %s", note.id, exc)

    async def _tell(self, message: discord.Message, text: str) -> None:
        try:
            await message.reply(text, mention_author=False, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("Could not reply to message %s: %s", message.id, exc)
