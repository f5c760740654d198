"""Voice-note modes and the language hint per channel, end to end: /settings voice-notes sets
them, and every transcription in the channel carries its language."""

from __future__ import annotations

import io
from typing import Any

import av
import pytest

from tests.e2e.conftest import BotEnv
from tests.e2e.media_support import (
    post_voice_note,
    replies_to,
    voice_attachment,
)
from tests.e2e.moderation_support import MODERATOR, moderate, outcome, run, text_of
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeAttachment, FakeMessage

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRANSCRIPTIONS = "/audio/transcriptions"
CHAT = "/chat/completions"
SPEECH = "/audio/speech"
MP3 = b"ID3\x04\x00" + bytes(2_995)


async def voice_channel(env: BotEnv, name: str, **options: Any) -> int:
    """A channel where voice notes are on, with the given mode, spoken and language."""
    channel_id = env.discord.add_channel(name)
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
    assert f"<#{channel_id}>: summary, language: en" in text_of(shown)


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
