"""What "Read aloud" reads of a message: its text without code blocks or the bot's own quiet
notes, cut to what one speech request takes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.media.files import MAX_SPEECH_CHARS, MediaError

_FENCED_CODE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_SUBTEXT_LINE = re.compile(r"^-# .*$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")


class NothingToRead(MediaError):
    text = "There is no text to read aloud in that message."


@dataclass(frozen=True)
class ReadingText:
    text: str
    #: The message was longer than one speech request: only the start is read.
    cut: bool


def text_to_read(content: str, limit: int = MAX_SPEECH_CHARS) -> ReadingText:
    """`content` as speech: fenced code blocks and `-#` notes dropped, inline code kept as
    words, at most `limit` characters (cut at a word). Raises NothingToRead."""
    text = _FENCED_CODE.sub("", content)
    text = _SUBTEXT_LINE.sub("", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        raise NothingToRead()
    if len(text) <= limit:
        return ReadingText(text, cut=False)
    cut = text[:limit]
    space = cut.rfind(" ")
    return ReadingText((cut[:space] if space > limit // 2 else cut).rstrip(), cut=True)
