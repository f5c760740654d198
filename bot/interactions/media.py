"""Files in and out of Discord: attachments as the media package's `AudioFile`s and data URLs,
and `OutFile`s sent as a deferred interaction's answer."""

from __future__ import annotations

import io
from collections.abc import Sequence

import discord

from bot.chat.document_kinds import DocumentFile
from bot.media.files import AudioFile, OutFile, check_upload, is_audio, may_be_audio
from bot.media.images import check_image, data_url

NO_MENTIONS = discord.AllowedMentions.none()


def audio_of(attachment: discord.Attachment) -> AudioFile:
    return AudioFile(
        url=attachment.url,
        filename=attachment.filename,
        size=attachment.size,
        content_type=attachment.content_type,
        duration_s=attachment.duration,
    )


def document_of(attachment: discord.Attachment) -> DocumentFile:
    return DocumentFile(
        url=attachment.url,
        filename=attachment.filename,
        size=attachment.size,
        content_type=attachment.content_type,
    )


def find_audio(message: discord.Message) -> discord.Attachment | None:
    """The message's first audio (or video) attachment, else its first file whose labels say
    nothing (its bytes will tell); a voice message has exactly one."""
    files = message.attachments
    return next((a for a in files if is_audio(a.filename, a.content_type)), None) or next(
        (a for a in files if may_be_audio(a.filename, a.content_type)), None
    )


def discord_file(file: OutFile) -> discord.File:
    return discord.File(io.BytesIO(file.data), filename=file.filename)


async def image_data_url(image: discord.Attachment) -> str:
    """An attached image as a data URL (so the API need not reach Discord's CDN), checked
    against what Discord says before the download and against the bytes after it."""
    check_image(image.content_type, image.size)
    data = await image.read()
    return data_url(data, image.content_type)


async def send_files(
    interaction: discord.Interaction, content: str, files: Sequence[OutFile]
) -> None:
    """Complete a deferred interaction with `content` and `files` (checked against its limit)."""
    check_upload(files, interaction.filesize_limit)
    await interaction.edit_original_response(
        content=content,
        attachments=[discord_file(f) for f in files],
        allowed_mentions=NO_MENTIONS,
    )
