"""bot.media.summaries: a long voice note's summary as a message, its transcript as a file."""

from __future__ import annotations

from bot.media.summaries import summary_reply
from bot.render.splitter import DISCORD_MESSAGE_LIMIT


def test_the_summary_leads_and_the_whole_transcript_is_the_file() -> None:
    reply = summary_reply("word " * 300, "A list of words.", "voice-message.ogg", "en-US")
    assert reply.content == (
        "📝 Summary (1500 characters of speech; the whole transcript is in the file):\n"
        "A list of words."
    )
    [file] = reply.files
    assert (file.filename, file.data) == ("voice-message-transcript.txt", b"word " * 300)


def test_a_summary_too_long_for_one_message_is_cut_to_fit() -> None:
    reply = summary_reply("x" * 5000, "y" * 3000, "memo.m4a", "vi", header="🗣️ ")
    assert len(reply.content) == DISCORD_MESSAGE_LIMIT and reply.content.endswith("y…")
    assert reply.content.startswith("🗣️ 📝 Tóm tắt (5000 ký tự lời nói;")
