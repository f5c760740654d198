"""Per-channel voice settings moderators choose with /settings voice-notes: what the bot does
with a voice note (the mode, and whether answers are spoken) and the language hint for
transcriptions in the channel. The `channel_voice_settings` table; all its SQL is here.

Whether voice notes are transcribed at all is `voice_channels` (`bot.media.voice_notes`); these
settings outlive turning that off, and the language hint applies to /transcribe and the
"Transcribe" menu in the channel too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, get_args

from bot.storage.store import Store

VoiceMode = Literal["transcript", "answer", "summary"]
Language = Literal["auto", "en", "vi"]
VOICE_MODES: tuple[VoiceMode, ...] = get_args(VoiceMode)
LANGUAGES: tuple[Language, ...] = get_args(Language)


@dataclass(frozen=True)
class ChannelVoice:
    """A channel's voice settings; the defaults are the behaviour before they existed."""

    mode: VoiceMode = "transcript"
    #: In "answer" mode, the answer also comes back as a voice message.
    spoken: bool = False
    language: Language = "auto"

    @property
    def language_hint(self) -> str | None:
        """The `language` to send to the transcription API (None: let it detect)."""
        return None if self.language == "auto" else self.language


DEFAULT_VOICE = ChannelVoice()


class ChannelSettings:
    """Reads and changes `channel_voice_settings` (single statements, `?` placeholders)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def voice(self, channel_id: int, parent_id: int | None = None) -> ChannelVoice:
        """The channel's settings; a thread without its own takes its parent channel's."""
        found = await self._store.fetch_all(
            "SELECT channel_id, mode, spoken, language FROM channel_voice_settings"
            " WHERE channel_id IN (?, ?)",
            (channel_id, parent_id if parent_id is not None else channel_id),
        )
        rows = {int(r[0]): r[1:] for r in found}
        row = rows.get(channel_id) or (rows.get(parent_id) if parent_id is not None else None)
        if row is None:
            return DEFAULT_VOICE
        mode, spoken, language = row
        return ChannelVoice(mode=mode, spoken=bool(spoken), language=language)

    async def for_guild(self, guild_id: int) -> dict[int, ChannelVoice]:
        """The server's channels (and threads) that have voice settings of their own."""
        rows = await self._store.fetch_all(
            "SELECT channel_id, mode, spoken, language FROM channel_voice_settings"
            " WHERE guild_id = ?",
            (guild_id,),
        )
        return {
            int(cid): ChannelVoice(mode=mode, spoken=bool(spoken), language=language)
            for cid, mode, spoken, language in rows
        }

    async def set_voice(
        self,
        channel_id: int,
        guild_id: int,
        *,
        by: int,
        mode: VoiceMode | None = None,
        spoken: bool | None = None,
        language: Language | None = None,
    ) -> ChannelVoice:
        """Change the settings given (None: keep), in one statement; returns them all."""
        if mode is not None and mode not in VOICE_MODES:
            raise ValueError(f"unknown voice mode {mode!r}")
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"unknown language hint {language!r}")
        spoken_value = None if spoken is None else int(spoken)
        fresh = DEFAULT_VOICE
        await self._store.execute(
            "INSERT INTO channel_voice_settings"
            " (channel_id, guild_id, mode, spoken, language, updated_by, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET"
            " mode = COALESCE(?, channel_voice_settings.mode),"
            " spoken = COALESCE(?, channel_voice_settings.spoken),"
            " language = COALESCE(?, channel_voice_settings.language),"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (
                channel_id,
                guild_id,
                mode or fresh.mode,
                int(fresh.spoken) if spoken_value is None else spoken_value,
                language or fresh.language,
                by,
                time.time(),
                mode,
                spoken_value,
                language,
            ),
        )
        return await self.voice(channel_id)
