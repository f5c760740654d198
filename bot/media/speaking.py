"""The bot's own text as speech (a voice-note channel's spoken answers): charged as `tts`
characters to the member it answers, limited like /tts, and transcoded to a voice clip."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.media.audio import TranscodeFailed, Transcoder, VoiceClip
from bot.media.files import slug
from bot.media.reading import text_to_read
from bot.nexai import NexaiClient
from bot.quota.ledger import Ledger
from bot.quota.rules import Caller

log = logging.getLogger(__name__)

#: The API's format, transcoded to Ogg Opus for a voice message.
SPEECH_FORMAT = "mp3"


@dataclass(frozen=True)
class Spoken:
    """Speech as the API sent it (`audio`, an mp3 named `filename`), and as a voice clip
    (None when it could not be transcoded: send the mp3 instead)."""

    audio: bytes
    filename: str
    clip: VoiceClip | None


class Speaker:
    def __init__(
        self,
        client: NexaiClient,
        ledger: Ledger,
        transcoder: Transcoder,
        *,
        model: str,
        voice: str,
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._transcoder = transcoder
        self._model = model
        self._voice = voice

    async def speak(self, caller: Caller, text: str) -> Spoken:
        """`text` read aloud as "Read aloud" reads it (code blocks left out, cut at the speech
        limit). Raises NothingToRead, the refusals of a charge, or NexaiError."""
        reading = text_to_read(text)
        async with self._ledger.charge(caller, "tts", len(reading.text), self._model):
            audio = await self._client.speech(
                self._model, reading.text, voice=self._voice, response_format=SPEECH_FORMAT
            )
        clip: VoiceClip | None = None
        try:
            clip = await self._transcoder.voice_clip(audio)
        except TranscodeFailed as error:
            log.info("Spoken answer not transcoded, sent as %s: %s", SPEECH_FORMAT, error)
        return Spoken(audio, f"{slug(reading.text, fallback='answer')}.{SPEECH_FORMAT}", clip)
