"""Media shared by /imagine, /tts, /transcribe and voice notes: checks, names, files, replies.

Everything a cog needs to turn bytes into attachments (and attachments into something the
API accepts) lives here once. Refusals and media failures are `MediaError`s, whose
`message(locale)` is what the user reads.
"""

from __future__ import annotations

import logging
import math
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.errors import LocalizedError
from bot.nexai import MAX_TRANSCRIPTION_BYTES, TRANSCRIPTION_EXTENSIONS
from bot.render.splitter import DISCORD_MESSAGE_LIMIT

log = logging.getLogger(__name__)


#: Files bigger than this are refused before any upload (the API's own limit).
MAX_AUDIO_BYTES = MAX_TRANSCRIPTION_BYTES
#: The speech endpoint reads at most this many characters per call.
MAX_SPEECH_CHARS = 4096
#: Discord refuses a whole request (all files together) bigger than this.
MAX_REQUEST_BYTES = 25 * 1024 * 1024
#: A file name made from text keeps at most this many characters (before the extension).
SLUG_MAX_CHARS = 40
#: Content types that are audio although they do not say `audio/`.
AUDIO_TYPES = frozenset({"application/ogg"})
#: Extensions judged audio or video when the content type is missing or generic.
AUDIO_EXTENSIONS = frozenset(
    {
        ".aac", ".aif", ".aiff", ".amr", ".flac", ".m4a", ".m4v", ".mkv", ".mov", ".mp3",
        ".mp4", ".mpeg", ".mpga", ".oga", ".ogg", ".opus", ".wav", ".weba", ".webm", ".wma",
    }
)  # fmt: skip
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: Audio and video containers by their first bytes: (offset, magic) pairs that must all match,
#: the extension the API knows the format by, and its content type. Tried in order.
AUDIO_SIGNATURES: tuple[tuple[tuple[tuple[int, bytes], ...], str, str], ...] = (
    (((0, b"OggS"),), "ogg", "audio/ogg"),
    (((0, b"RIFF"), (8, b"WAVE")), "wav", "audio/wav"),
    (((0, b"ID3"),), "mp3", "audio/mpeg"),
    (((0, b"fLaC"),), "flac", "audio/flac"),
    (((4, b"ftyp"), (8, b"M4A ")), "m4a", "audio/mp4"),
    (((4, b"ftyp"),), "mp4", "video/mp4"),
    (((0, b"\x1a\x45\xdf\xa3"),), "webm", "video/webm"),  # EBML (WebM, Matroska)
)
#: Enough of a file's start to recognise it.
SNIFF_BYTES = 12
#: Rough bytes per second of audio, to reserve transcription seconds before the real length
#: is known; compressed formats default to 128 kbit/s.
BYTES_PER_AUDIO_SECOND: dict[str, int] = {".wav": 88_200, ".aif": 88_200, ".aiff": 88_200}
DEFAULT_BYTES_PER_AUDIO_SECOND = 16_000
#: The API takes ISO-639-1 codes only (two letters).
_LANGUAGE_RE = re.compile(r"[a-z]{2}")


class MediaError(LocalizedError):
    """Media refused or failed on our side. Subclasses set `text`."""

    text = "Something went wrong with that file. Please try again."


class AudioTooLarge(MediaError):
    text = "That file is too large ({size} MB); I can transcribe files up to {limit} MB."


class NotAudio(MediaError):
    text = (
        "`{filename}` isn't an audio or video file. Attach audio (such as MP3, M4A, OGG, WAV "
        "or FLAC) or a video."
    )


class NoAudio(MediaError):
    text = "That message has no audio attachment to transcribe."


class DownloadFailed(MediaError):
    text = "I couldn't download that file from Discord. Please try again."


class SizeMismatch(MediaError):
    """Discord served a different number of bytes than the size it reported for the file."""

    text = (
        "Discord didn't send that file at the size it reported ({size} bytes), so I stopped "
        "before transcribing it and you weren't charged. Please try again, or upload the file "
        "again."
    )


class TextTooLong(MediaError):
    text = "That text is {length} characters long; I can read at most {limit} at a time."


class EmptyText(MediaError):
    text = "There is no text to read. Write something to turn into speech."


class UploadTooLarge(MediaError):
    text = (
        "The result is {size} MB, over this server's upload limit of {limit} MB. "
        "Try a smaller request (fewer images, a shorter text, or mp3 instead of wav)."
    )


class NotOffered(MediaError):
    text = "`{value}` isn't available. Pick one of: {choices}."


class BadLanguage(MediaError):
    text = "`{language}` isn't a language code. Use a two-letter code such as `en` or `vi`."


def megabytes(size: int, *, round_up: bool = True) -> str:
    """Bytes as MB for people, to 0.1: sizes round up (never "50" for 50 MB + 1 byte), limits
    round down (`round_up=False`)."""
    tenths = size * 10 / 2**20
    return f"{(math.ceil(tenths) if round_up else math.floor(tenths)) / 10:g}"


def require_offered(value: str, offered: Sequence[str]) -> None:
    if value not in offered:
        raise NotOffered(value=value, choices=", ".join(f"`{item}`" for item in offered))


def check_speech_text(text: str, limit: int = MAX_SPEECH_CHARS) -> None:
    if not text.strip():
        raise EmptyText()
    if len(text) > limit:
        raise TextTooLong(length=len(text), limit=limit)


# -- audio in ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioFile:
    """An audio attachment as the transcriber needs it (Discord's claims, not yet checked)."""

    url: str
    filename: str
    size: int
    content_type: str | None = None
    duration_s: float | None = None


def base_type(content_type: str | None) -> str:
    """A content type without parameters, lower case: "Text/CSV; charset=utf-8" -> "text/csv"."""
    return (content_type or "").split(";")[0].strip().lower()


def _suffix(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower()


def is_audio(filename: str, content_type: str | None) -> bool:
    """Audio or video: by content type, or by extension when the type is missing or generic."""
    kind = base_type(content_type)
    if kind.startswith(("audio/", "video/")) or kind in AUDIO_TYPES:
        return True
    return kind in GENERIC_TYPES and _suffix(filename) in AUDIO_EXTENSIONS


def may_be_audio(filename: str, content_type: str | None) -> bool:
    """Audio or video by its labels, or labels that say nothing (a missing or generic content
    type): then only the file's first bytes can tell (`upload_format`)."""
    return is_audio(filename, content_type) or base_type(content_type) in GENERIC_TYPES


def sniff_audio(head: bytes) -> tuple[str, str] | None:
    """(extension, content type) of audio or video recognised by its first bytes, else None."""
    for checks, extension, content_type in AUDIO_SIGNATURES:
        if all(head[at : at + len(magic)] == magic for at, magic in checks):
            return extension, content_type
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3", "audio/mpeg"  # an MPEG audio frame (sync bits, layer I-III) without ID3
    return None


def upload_format(audio: AudioFile, head: bytes) -> tuple[str, str]:
    """The file name and content type to upload `audio` (whose first bytes are `head`) with.

    What the bytes are beats what the labels say: a recognised file keeps its name if the API
    knows its extension, else gets the right one added ("recording" -> "recording.ogg"), since
    the API goes by the name. Unrecognised bytes are trusted to their labels; NotAudio when
    those do not say audio either.
    """
    sniffed = sniff_audio(head)
    if sniffed is None:
        if not is_audio(audio.filename, audio.content_type):
            raise NotAudio(filename=audio.filename)
        return audio.filename, upload_content_type(audio.filename, audio.content_type)
    extension, content_type = sniffed
    if _suffix(audio.filename) in TRANSCRIPTION_EXTENSIONS:
        return audio.filename, content_type
    return f"{audio.filename}.{extension}", content_type


def check_audio(audio: AudioFile, max_bytes: int = MAX_AUDIO_BYTES) -> None:
    """Refuse a file labelled as something else than audio/video, or too large, before
    anything is downloaded or uploaded."""
    if not may_be_audio(audio.filename, audio.content_type):
        raise NotAudio(filename=audio.filename)
    if audio.size > max_bytes:
        raise AudioTooLarge(size=megabytes(audio.size), limit=megabytes(max_bytes, round_up=False))


def upload_content_type(filename: str, content_type: str | None) -> str:
    kind = base_type(content_type)
    if kind and kind not in GENERIC_TYPES:
        return kind
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def estimate_audio_seconds(audio: AudioFile) -> float:
    """Seconds of audio: Discord's duration when it gave one, else a guess from the size."""
    if audio.duration_s is not None and audio.duration_s > 0:
        return round(audio.duration_s, 2)
    rate = BYTES_PER_AUDIO_SECOND.get(_suffix(audio.filename), DEFAULT_BYTES_PER_AUDIO_SECOND)
    return max(1.0, round(audio.size / rate, 2))


def normalise_language(language: str | None) -> str | None:
    """An ISO-639-1 code ("EN" -> "en"), None for none; BadLanguage for anything else."""
    if language is None or not language.strip():
        return None
    code = language.strip().lower()
    if not _LANGUAGE_RE.fullmatch(code):
        raise BadLanguage(language=language.strip()[:20])
    return code


# -- files out ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OutFile:
    """A file the bot sends, made from bytes it holds."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class TextReply:
    content: str
    files: tuple[OutFile, ...] = ()


def slug(text: str, *, max_chars: int = SLUG_MAX_CHARS, fallback: str = "file") -> str:
    """A file-name-safe start of `text`: "Hello, world!" -> "hello-world" (ASCII, whole words)."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    words = re.findall(r"[a-z0-9]+", ascii_text.encode("ascii", "ignore").decode().lower())
    name = ""
    for word in words:
        candidate = f"{name}-{word}" if name else word
        if len(candidate) > max_chars:
            name = name or word[:max_chars]
            break
        name = candidate
    return name or fallback


def fit_message(label: str, text: str) -> str:
    """`label + text`, the text cut (with "…") so that it fits one message."""
    room = DISCORD_MESSAGE_LIMIT - len(label)
    return label + (text if len(text) <= room else text[: max(0, room - 1)] + "…")


def check_upload(files: Sequence[OutFile], limit_bytes: int) -> None:
    """Refuse files Discord would reject: one over the per-file limit, or too much in all."""
    biggest = max((len(f.data) for f in files), default=0)
    total = sum(len(f.data) for f in files)
    if biggest > limit_bytes:
        raise UploadTooLarge(size=megabytes(biggest), limit=megabytes(limit_bytes, round_up=False))
    if total > MAX_REQUEST_BYTES:
        raise UploadTooLarge(
            size=megabytes(total), limit=megabytes(MAX_REQUEST_BYTES, round_up=False)
        )


def text_reply(
    text: str, *, filename: str, long_note: str, header: str = "", empty: str = ""
) -> TextReply:
    """`header + text` as one message, or (when longer) a preview, `long_note` and a .txt."""
    if not text.strip():
        return TextReply(f"{header}{empty}")
    if len(header) + len(text) <= DISCORD_MESSAGE_LIMIT:
        return TextReply(f"{header}{text}")
    ellipsis, gap = "…", "\n\n"
    room = DISCORD_MESSAGE_LIMIT - len(header) - len(long_note) - len(ellipsis) - len(gap)
    preview = text[: max(0, room)].rstrip() + ellipsis if room > 0 else ""
    content = f"{header}{preview}{gap}{long_note}"[:DISCORD_MESSAGE_LIMIT]
    return TextReply(content, (OutFile(filename, text.encode()),))
