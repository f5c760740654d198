"""Speech to text for an audio file on Discord: checked, charged, streamed to the API.

The file is never held whole: it is read from Discord's CDN in chunks while the same chunks
are uploaded to nexai, with the size cap enforced as the bytes arrive. The upload declares
its length (Discord's size for the file), as the official SDK does; bytes that do not add up
to that size stop it (`SizeMismatch`), and the charge is refunded.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import PurePosixPath

import aiohttp

from bot.config import Settings
from bot.i18n import t
from bot.media.downloads import open_download
from bot.media.files import (
    MAX_AUDIO_BYTES,
    SNIFF_BYTES,
    AudioFile,
    TextReply,
    check_audio,
    estimate_audio_seconds,
    slug,
    text_reply,
    upload_format,
)
from bot.nexai import NexaiClient, NexaiError, Transcript
from bot.quota.ledger import Ledger
from bot.quota.rules import Caller

log = logging.getLogger(__name__)


class Transcriber:
    def __init__(
        self,
        settings: Settings,
        session: aiohttp.ClientSession,
        client: NexaiClient,
        ledger: Ledger,
        *,
        max_bytes: int = MAX_AUDIO_BYTES,
    ) -> None:
        self._settings = settings
        self._session = session
        self._client = client
        self._ledger = ledger
        self.max_bytes = max_bytes

    async def check(self, audio: AudioFile, caller: Caller) -> None:
        """Refuse early, reserving nothing: a file that is not audio or too large (judging by
        what Discord says; MediaError), or a caller over a limit (QuotaExceeded)."""
        check_audio(audio, self.max_bytes)
        await self._ledger.check(caller, "transcribe", estimate_audio_seconds(audio))

    async def transcribe(
        self, audio: AudioFile, caller: Caller, *, language: str | None = None
    ) -> Transcript:
        """The transcript of `audio`, charged to `caller` in seconds of audio.

        The reservation is an estimate (Discord's duration, else a guess from the size); it
        settles to the seconds the API billed (whisper's `usage.seconds`) when the answer
        carries them, records the tokens of token-priced models, and is refunded on failure.
        The file's first bytes decide its format (`upload_format`), so a mislabelled file is
        uploaded under a name the API understands.
        Raises MediaError (refused, not audio by its bytes either, too large or not the
        announced size while reading, download broke) or NexaiError.
        """
        check_audio(audio, self.max_bytes)
        model = self._settings.transcribe_model
        estimate = estimate_audio_seconds(audio)
        async with self._ledger.charge(caller, "transcribe", estimate, model) as charge:
            async with open_download(
                self._session, audio.url, max_bytes=self.max_bytes, expected_bytes=audio.size
            ) as download:
                chunks = aiter(download)
                head = await read_head(chunks, SNIFF_BYTES)
                filename, content_type = upload_format(audio, head)
                try:
                    transcript = await self._client.transcribe(
                        model,
                        prepend(head, chunks),
                        filename=filename,
                        content_type=content_type,
                        language=language,
                        size=download.size,
                    )
                except NexaiError:
                    if download.error is not None:  # the real cause, hidden by the upload
                        raise download.error from None
                    raise
            if transcript.duration_s is not None:
                charge.settle(units=round(transcript.duration_s, 2))
            if transcript.tokens is not None:
                charge.settle(tokens=transcript.tokens)
        log.debug(
            "Transcribed %s (%s bytes, %s s) for user %s",
            audio.filename,
            download.received,
            charge.units,
            caller.user_id,
        )
        return transcript


async def read_head(chunks: AsyncIterator[bytes], size: int) -> bytes:
    """At least `size` bytes from the start of `chunks` (fewer if it ends first)."""
    head = b""
    while len(head) < size and (chunk := await anext(chunks, None)) is not None:
        head += chunk
    return head


async def prepend(head: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`head`, then the rest of `chunks`: the whole file again, read once."""
    if head:
        yield head
    async for chunk in chunks:
        yield chunk


def transcript_reply(
    transcript: Transcript, source_filename: str, locale: str, *, header: str = ""
) -> TextReply:
    """The transcript as a message, or as a preview and a `.txt` file when it is long."""
    name = slug(PurePosixPath(source_filename).stem, fallback="audio")
    return text_reply(
        transcript.text,
        filename=f"{name}-transcript.txt",
        header=header,
        long_note=t(
            "📄 The transcript is {chars} characters long; the whole text is in the file.",
            locale,
            chars=len(transcript.text),
        ),
        empty=t("(No speech was recognised.)", locale),
    )
