"""Voice-note modes and the language hint per channel, end to end: /settings voice-notes sets
them; voice notes then get their transcript, an answer (spoken too) or a summary, and every
transcription in the channel carries its language."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import av
import pytest

from bot.media.summaries import SUMMARY_INSTRUCTIONS
from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv
from tests.e2e.media_support import (
    pings_nobody,
    post_voice_note,
    replies_to,
    usage_rows,
    voice_attachment,
)
from tests.e2e.moderation_support import MODERATOR, moderate, outcome, run, text_of
from tests.e2e.test_answer_buttons import with_buttons
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeAttachment, FakeMessage
from tests.fakes.discord._models import SEND_VOICE_MESSAGES

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]

TRANSCRIPTIONS = "/audio/transcriptions"
CHAT = "/chat/completions"
SPEECH = "/audio/speech"
MP3 = b"ID3\x04\x00" + bytes(2_995)


async def voice_channel(env: BotEnv, name: str, **options: Any) -> int:
    """A channel where voice notes are on, with the given mode, spoken and language."""
    channel_id = env.discord.add_channel(name)
    # the command's channel option resolves through the bot's cache: wait until it is there
    await env.bot.wait_for("guild_channel_create", check=lambda c: c.id == channel_id, timeout=5)
    await moderate(env, "settings", "voice-notes", {"channel": channel_id, **options})
    return channel_id


async def answer_under(env: BotEnv, message: FakeMessage, text: str) -> FakeMessage:
    """The bot's reply to `message` once it reads `text` (streamed answers are edited)."""
    return await env.discord.wait_bot_message(
        lambda m: (
            (m.message_reference or {}).get("message_id") == str(message.id) and m.content == text
        )
    )


def decoded(data: bytes) -> tuple[str, int, str, float]:
    """(codec, sample rate, channel layout, seconds) of audio, as a decoder sees it."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return stream.codec_context.name, stream.rate, stream.layout.name, samples / stream.rate


# -- /settings voice-notes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en-US",
            "Voice messages in <#{c}> will be transcribed. In <#{c}>, a voice message gets the "
            "transcript and an answer, spoken too; language: Vietnamese.",
        ),
        (
            "vi",
            "Tin nhắn thoại trong <#{c}> sẽ được chép lời. Trong <#{c}>, mỗi tin nhắn thoại nhận "
            "được bản chép lời và một câu trả lời, kèm giọng đọc; ngôn ngữ: tiếng Việt.",
        ),
    ],
)
async def test_a_moderator_sets_a_channels_mode_spoken_answers_and_language(
    env: BotEnv, locale: str, expected: str
) -> None:
    channel_id = env.discord.add_channel(f"voice-setup-{locale}")
    options = {"channel": channel_id, "mode": "answer", "spoken": True, "language": "vi"}
    inter = await run(
        env, "settings", options, subcommand="voice-notes", permissions=MODERATOR, locale=locale
    )
    reply = outcome(inter)
    assert reply.ephemeral and reply.content == expected.format(c=channel_id)
    voice = await env.bot.channel_settings.voice(channel_id)
    assert (voice.mode, voice.spoken, voice.language) == ("answer", True, "vi")
    assert await env.bot.voice_notes.is_enabled(channel_id)
    again = await moderate(env, "settings", "voice-notes", options)
    assert again.content.startswith("Nothing changed. ")


async def test_settings_not_given_are_kept_and_show_lists_them(env: BotEnv) -> None:
    channel_id = await voice_channel(env, "voice-kept", mode="summary", language="en")
    reply = await moderate(
        env, "settings", "voice-notes", {"channel": channel_id, "transcribe": False}
    )
    assert reply.content == f"Voice messages in <#{channel_id}> won't be transcribed any more."
    await moderate(env, "settings", "voice-notes", {"channel": channel_id})  # on again
    shown = await moderate(env, "settings", "show")
    assert f"<#{channel_id}> (summary, language: en)" in text_of(shown)


async def test_spoken_answers_without_the_answer_mode_are_refused(env: BotEnv) -> None:
    channel_id = await voice_channel(env, "voice-spoken-alone", mode="summary")
    reply = await moderate(env, "settings", "voice-notes", {"channel": channel_id, "spoken": True})
    assert reply.content == (
        "Spoken answers need the transcript + answer mode: choose it as the mode too."
    )
    assert not (await env.bot.channel_settings.voice(channel_id)).spoken


async def test_the_new_options_are_offered_as_localised_choices(env: BotEnv) -> None:
    [settings] = [c for c in env.discord.commands[None] if c["name"] == "settings"]
    [voice] = [o for o in settings["options"] if o["name"] == "voice-notes"]
    options = {o["name"]: o for o in voice["options"]}
    assert [c["value"] for c in options["mode"]["choices"]] == ["transcript", "answer", "summary"]
    assert [c["value"] for c in options["language"]["choices"]] == ["auto", "en", "vi"]
    assert options["mode"]["choices"][1]["name_localizations"]["vi"] == "chép lời + trả lời"
    assert options["spoken"]["name_localizations"]["vi"] == "đọc-thành-tiếng"


# -- transcript + answer --------------------------------------------------------------------


async def test_in_answer_mode_the_transcript_is_answered_like_a_chat_message(
    env: BotEnv,
) -> None:
    """The server's persona and the channel's memory go with it; it is charged as an ask."""
    persona = "You are a pirate. Answer like one."
    await env.bot.guild_settings.set(env.discord.guild_id, "system_prompt", persona, by=1)
    try:
        channel_id = await voice_channel(env, "voice-answer", mode="answer")
        author = env.discord.add_member(name="asker")
        env.api.transcript, env.api.reply = "What is the capital of France?", "Paris, matey."
        note = await post_voice_note(env.discord, channel_id, user_id=author)
        transcript = await env.discord.wait_reply(note)
        assert transcript.content == "🗣️ What is the capital of France?"
        answer = await answer_under(env, transcript, "Paris, matey.")
        assert pings_nobody(transcript) and pings_nobody(answer)
        shown = await with_buttons(env, answer)  # the answer's buttons, as under any answer
        assert list(shown) == ["regen", "del", "thread", "read"]
        assert shown["regen"].split(":")[2] == str(author)
        messages = env.api.calls(CHAT)[-1].json["messages"]  # type: ignore[index]
        assert messages[0] == {"role": "system", "content": persona}
        assert "What is the capital of France?" in str(messages[-1]["content"])
        env.api.transcript, env.api.reply = "And of Spain?", "Madrid, arr."
        second = await post_voice_note(env.discord, channel_id, user_id=author)
        await answer_under(env, await env.discord.wait_reply(second), "Madrid, arr.")
        remembered = str(env.api.calls(CHAT)[-1].json["messages"])  # type: ignore[index]
        assert "What is the capital of France?" in remembered and "Paris, matey." in remembered
        rows = [(r.feature, r.outcome) for r in await usage_rows(env, author)]
        assert rows == [("transcribe", "ok"), ("ask", "ok")] * 2
    finally:
        await env.bot.guild_settings.set(env.discord.guild_id, "system_prompt", None, by=1)


async def test_over_the_ask_limit_the_transcript_comes_and_the_limit_is_explained(
    env: BotEnv,
) -> None:
    channel_id = await voice_channel(env, "voice-limited", mode="answer")
    author = env.discord.add_member(name="limited")
    limit = Limit("ask", "day", amount=0, scope="member", target_id=author)
    await env.bot.quotas.set_limit(env.discord.guild_id, limit, set_by=1)
    env.api.transcript = "Tell me a joke."
    chats = len(env.api.calls(CHAT))
    note = await post_voice_note(env.discord, channel_id, user_id=author)
    transcript = await env.discord.wait_reply(note)
    assert transcript.content == "🗣️ Tell me a joke."
    refusal = await env.discord.wait_reply(transcript.id)
    assert "daily limit" in refusal.content and pings_nobody(refusal)
    assert len(env.api.calls(CHAT)) == chats
    assert [r.feature for r in await usage_rows(env, author)] == ["transcribe"]


async def test_spoken_answers_come_back_as_a_voice_message_replying_to_the_note(
    env: BotEnv,
) -> None:
    channel_id = await voice_channel(env, "voice-spoken", mode="answer", spoken=True)
    author = env.discord.add_member(name="listener")
    env.api.transcript, env.api.reply = "Say something nice.", "You are doing great today!"
    note = await post_voice_note(env.discord, channel_id, user_id=author)
    voice = await env.discord.wait_bot_message(
        lambda m: (
            bool(m.flags & IS_VOICE_MESSAGE)
            and (m.message_reference or {}).get("message_id") == note["id"]
        )
    )
    assert voice.content == "" and pings_nobody(voice)
    [clip] = voice.attachments
    codec, rate, layout, seconds = decoded(clip.data)
    assert (codec, rate, layout) == ("opus", 48_000, "mono")
    assert seconds == pytest.approx(len(env.api.reply) / env.api.speech_chars_per_s, abs=0.05)
    assert clip.duration_secs == pytest.approx(seconds, abs=0.02)
    assert 1 <= len(base64.b64decode(clip.waveform or "")) <= 256
    assert env.api.calls(SPEECH)[-1].json["input"] == env.api.reply  # type: ignore[index]
    rows = [(r.feature, r.units, r.outcome) for r in await usage_rows(env, author)]
    assert rows[1:] == [("ask", 1.0, "ok"), ("tts", float(len(env.api.reply)), "ok")]


async def test_where_discord_refuses_a_voice_message_the_spoken_answer_is_an_mp3(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.interactions.voice")
    channel_id = await voice_channel(env, "voice-no-voice", mode="answer", spoken=True)
    env.api.transcript, env.api.reply = "Hello?", "Hello back."
    bot = env.discord.bot_user_id
    env.discord.member_permissions[bot] = env.discord.permissions_of(bot) & ~SEND_VOICE_MESSAGES
    try:
        note = await post_voice_note(env.discord, channel_id)
        audio = await env.discord.wait_bot_message(
            lambda m: (
                bool(m.attachments) and (m.message_reference or {}).get("message_id") == note["id"]
            )
        )
    finally:
        del env.discord.member_permissions[bot]
    [file] = audio.attachments
    assert file.filename == "hello-back.mp3" and not audio.flags & IS_VOICE_MESSAGE
    assert decoded(file.data)[0].startswith("mp3")  # FFmpeg names its decoder mp3float
    assert "Spoken answer sent as a file, not a voice message: Discord refused it" in caplog.text


# -- summary ----------------------------------------------------------------------------------


async def test_in_summary_mode_a_long_note_gets_a_summary_and_the_transcript_as_a_file(
    env: BotEnv,
) -> None:
    channel_id = await voice_channel(env, "voice-summary", mode="summary")
    author = env.discord.add_member(name="rambler")
    env.api.transcript = "So first we went to the market, and then " * 20  # 820 characters
    env.api.reply = "A trip to the market."
    note = await post_voice_note(env.discord, channel_id, user_id=author)
    reply = await env.discord.wait_reply(note)
    assert reply.content == (
        "🗣️ 📝 Summary (820 characters of speech; the whole transcript is in the file):\n"
        "A trip to the market."
    )
    [text_file] = reply.attachments
    assert text_file.filename == "voice-message-transcript.txt"
    assert text_file.data == env.api.transcript.encode()
    request = env.api.calls(CHAT)[-1].json or {}
    assert request["messages"][0] == {"role": "system", "content": SUMMARY_INSTRUCTIONS}
    assert request["messages"][1]["content"] == env.api.transcript
    assert not request.get("stream")
    rows = [(r.feature, r.outcome) for r in await usage_rows(env, author)]
    assert rows == [("transcribe", "ok"), ("ask", "ok")]


async def test_in_summary_mode_a_short_note_gets_its_transcript(env: BotEnv) -> None:
    channel_id = await voice_channel(env, "voice-summary-short", mode="summary")
    env.api.transcript = "Short and sweet."
    chats = len(env.api.calls(CHAT))
    note = await post_voice_note(env.discord, channel_id)
    assert (await env.discord.wait_reply(note)).content == "🗣️ Short and sweet."
    assert len(env.api.calls(CHAT)) == chats


# -- the language hint ------------------------------------------------------------------------


async def test_voice_notes_are_transcribed_in_the_channels_language(env: BotEnv) -> None:
    vietnamese = await voice_channel(env, "voice-vi", language="vi")
    detected = await voice_channel(env, "voice-auto", language="auto")
    await env.discord.wait_reply(await post_voice_note(env.discord, vietnamese))
    assert env.api.calls(TRANSCRIPTIONS)[-1].form == {"model": "whisper-1", "language": "vi"}
    await env.discord.wait_reply(await post_voice_note(env.discord, detected))
    assert env.api.calls(TRANSCRIPTIONS)[-1].form == {"model": "whisper-1"}


async def test_the_menu_and_command_use_the_channels_language_unless_told(env: BotEnv) -> None:
    channel_id = await voice_channel(env, "voice-en", language="en", transcribe=False)
    sent = await env.discord.send_message(
        "", channel_id=channel_id, attachments=[voice_attachment()], flags=IS_VOICE_MESSAGE
    )
    inter = await env.discord.invoke_message_command("Transcribe", int(sent["id"]))
    await inter.wait_done()
    assert env.api.calls(TRANSCRIPTIONS)[-1].form == {"model": "whisper-1", "language": "en"}
    audio = FakeAttachment("chao.mp3", MP3, content_type="audio/mpeg")
    inter = await env.discord.invoke(
        "transcribe", {"audio": audio, "language": "vi"}, channel_id=channel_id
    )
    await inter.wait_done()
    assert env.api.calls(TRANSCRIPTIONS)[-1].form == {"model": "whisper-1", "language": "vi"}
    assert replies_to(env.discord, sent) == []  # voice notes are off there
