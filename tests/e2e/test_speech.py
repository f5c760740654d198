"""/tts end to end: the real bot against the fake Discord and the fake nexai API."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import av
import pytest

from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv
from tests.e2e.media_support import pings_nobody, usage_rows
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeInteraction, FakeMessage
from tests.fakes.discord._models import SEND_VOICE_MESSAGES
from tests.fakes.nexai import Error

pytestmark = pytest.mark.asyncio(loop_scope="module")

SPEECH = "/audio/speech"


async def answered_with_error(inter: FakeInteraction) -> FakeInteraction:
    """Wait for an immediate reply, or for the follow-up that replaced "thinking…"."""
    return await inter.wait_done(lambda i: bool(i.followups) or (i.done and not i.deferred))


def decoded(data: bytes) -> tuple[str, int, str, float]:
    """(codec, sample rate, channel layout, seconds) of audio, as a decoder sees it."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return stream.codec_context.name, stream.rate, stream.layout.name, samples / stream.rate


def voice_message_under(env: BotEnv, inter: FakeInteraction) -> FakeMessage:
    assert inter.original is not None
    [voice] = [
        m
        for m in env.discord.bot_messages()
        if (m.message_reference or {}).get("message_id") == str(inter.original.id)
    ]
    return voice


async def voiced(env: BotEnv, text: str, **kw: Any) -> FakeInteraction:
    """/tts `text`, until its caption is shown (or a file or an error instead)."""
    inter = await env.discord.invoke("tts", {"text": text}, **kw)
    return await inter.wait_done(
        lambda i: (
            bool(i.original and (i.original.content or i.original.attachments)) or bool(i.followups)
        )
    )


async def test_speech_arrives_as_a_voice_message_under_its_caption(env: BotEnv) -> None:
    """Should post an Ogg Opus voice message (mono, 48 kHz) whose duration and waveform match
    the audio, as a reply to the command's answer, which quotes the text quietly."""
    member = env.discord.add_member(name="reader")
    text = "Hello, world! How are you?"
    inter = await env.discord.invoke("tts", {"text": text}, user_id=member)
    await inter.wait_done(lambda i: bool(i.original and i.original.content))
    assert inter.response_type == 5
    assert inter.original is not None and not inter.original.attachments
    assert inter.original.content == f"-# 🔊 {text}"
    voice = voice_message_under(env, inter)
    assert voice.flags & IS_VOICE_MESSAGE and voice.content == ""
    [clip] = voice.attachments
    assert clip.content_type == "audio/ogg" and clip.filename == "voice-message.ogg"
    codec, rate, layout, seconds = decoded(clip.data)
    assert (codec, rate, layout) == ("opus", 48_000, "mono")
    spoken = len(text) / env.api.speech_chars_per_s
    assert seconds == pytest.approx(spoken, abs=0.05)
    assert clip.duration_secs == pytest.approx(seconds, abs=0.02)
    levels = base64.b64decode(clip.waveform or "")
    assert 1 <= len(levels) <= 256 and max(levels) > 3 * min(levels)  # it rises and falls
    assert pings_nobody(inter.original) and pings_nobody(voice)
    assert env.api.calls(SPEECH)[-1].json == {
        "model": "tts-1",
        "input": "Hello, world! How are you?",
        "voice": "alloy",
        "response_format": "mp3",
    }
    rows = await usage_rows(env, member)
    assert [(r.feature, r.units, r.outcome, r.model) for r in rows] == [("tts", 26, "ok", "tts-1")]


@pytest.mark.parametrize(
    ("fmt", "content_type", "codec"),
    [("mp3", "audio/mpeg", "mp3float"), ("wav", "audio/wav", "pcm_s16le")],
)
async def test_a_file_on_request_is_the_apis_audio_named_after_the_text(
    env: BotEnv, fmt: str, content_type: str, codec: str
) -> None:
    choices = await env.discord.autocomplete("tts", "voice", "N", {"text": "x"})
    assert [c["value"] for c in choices] == ["onyx", "nova"]
    inter = await env.discord.invoke(
        "tts", {"text": "Xin chào các bạn", "voice": "nova", "format": fmt}
    )
    await inter.wait_done()
    assert inter.original is not None
    [audio] = inter.original.attachments
    assert audio.filename == f"xin-chao-cac-ban.{fmt}"
    assert audio.content_type == content_type
    assert decoded(audio.data)[0] == codec
    request = env.api.calls(SPEECH)[-1].json or {}
    assert (request["voice"], request["response_format"]) == ("nova", fmt)


async def test_text_over_4096_characters_is_refused_naming_the_limit(env: BotEnv) -> None:
    before = len(env.api.calls(SPEECH))
    inter = await env.discord.invoke("tts", {"text": "a" * 4097})
    await inter.wait_done()
    assert inter.response_type == 4
    assert inter.original is not None and inter.original.ephemeral
    assert "4097 characters" in inter.original.content and "4096" in inter.original.content
    assert len(env.api.calls(SPEECH)) == before


async def test_text_of_exactly_4096_characters_is_read(env: BotEnv) -> None:
    inter = await env.discord.invoke("tts", {"text": "b" * 4096, "format": "mp3"})
    await inter.wait_done()
    assert inter.original is not None
    assert inter.original.attachments[0].filename == f"{'b' * 40}.mp3"


async def test_a_voice_that_is_not_offered_is_refused(env: BotEnv) -> None:
    inter = await env.discord.invoke("tts", {"text": "hi", "voice": "darth"}, locale="vi")
    await inter.wait_done()
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content.startswith("`darth` không có sẵn")


async def test_an_api_error_gets_an_ephemeral_message_and_a_refund(env: BotEnv) -> None:
    member = env.discord.add_member(name="unlucky")
    env.api.enqueue(SPEECH, Error(500), Error(500))
    inter = await answered_with_error(
        await env.discord.invoke("tts", {"text": "hello"}, user_id=member)
    )
    [error] = inter.followups
    assert error.ephemeral and "nexai had an internal error" in error.content
    assert [(r.units, r.outcome) for r in await usage_rows(env, member)] == [(5, "refunded")]


async def test_audio_over_the_upload_limit_gets_a_clear_message(env: BotEnv) -> None:
    member = env.discord.add_member(name="long-winded")
    env.discord.upload_limit = 1_000
    try:
        inter = await answered_with_error(
            await env.discord.invoke(
                "tts", {"text": "word " * 400, "format": "wav"}, user_id=member
            )
        )
    finally:
        env.discord.upload_limit = 10 * 1024 * 1024
    [error] = inter.followups
    assert error.ephemeral
    assert (
        "over this server's upload limit" in error.content and "mp3 instead of wav" in error.content
    )
    assert [r.outcome for r in await usage_rows(env, member)] == ["refunded"]


async def test_a_member_over_a_limit_is_refused_before_any_call(env: BotEnv) -> None:
    member = env.discord.add_member(name="chatty")
    limit = Limit("tts", "day", amount=10, scope="member", target_id=member)
    await env.bot.quotas.set_limit(env.discord.guild_id, limit, set_by=1)
    before = len(env.api.calls(SPEECH))
    inter = await env.discord.invoke("tts", {"text": "eleven char"}, user_id=member)
    await inter.wait_done()
    assert inter.response_type == 4
    assert inter.original is not None and inter.original.ephemeral
    assert "only 10 are left of your daily limit" in inter.original.content
    assert len(env.api.calls(SPEECH)) == before
    assert await usage_rows(env, member) == []


async def test_a_rejected_key_also_alerts_the_servers_alert_channel(env: BotEnv) -> None:
    alerts = env.discord.add_channel("bot-alerts")
    await env.bot.guild_settings.set(env.discord.guild_id, "alert_channel_id", alerts, by=1)
    env.api.enqueue(SPEECH, Error(401))
    inter = await answered_with_error(await env.discord.invoke("tts", {"text": "hi"}))
    assert "API key was rejected" in inter.followups[0].content
    alert = await env.discord.wait_bot_message(lambda m: "(401)" in m.content, channel_id=alerts)
    assert pings_nobody(alert)


async def test_without_send_voice_messages_the_speech_comes_as_a_file(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cogs.speech")
    bot = env.discord.bot_user_id
    env.discord.member_permissions[bot] = env.discord.permissions_of(bot) & ~SEND_VOICE_MESSAGES
    try:
        inter = await voiced(env, "No voice here")
    finally:
        del env.discord.member_permissions[bot]
    assert inter.original is not None
    [audio] = inter.original.attachments
    assert audio.filename == "no-voice-here.mp3"
    assert "not a voice message: missing Send Voice Messages" in caplog.text


async def test_audio_that_cannot_be_transcoded_comes_as_the_original_file(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cogs.speech")
    env.api.speech_garbage = True
    try:
        inter = await voiced(env, "Broken audio")
    finally:
        env.api.speech_garbage = False
    assert inter.original is not None
    [audio] = inter.original.attachments
    assert audio.filename == "broken-audio.mp3"
    assert "could not be transcoded" in caplog.text


async def test_read_aloud_answers_a_message_with_a_voice_message_replying_to_it(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="listener")
    sent = await env.discord.send_message("Read me, please:\n```\nskip this\n```\nThanks!")
    inter = await env.discord.invoke_message_command("Read aloud", int(sent["id"]), user_id=member)
    await inter.wait_done(lambda i: bool(i.original and i.original.content))
    assert inter.original is not None and inter.original.content == "-# 🔊 Read aloud"
    [voice] = [
        m
        for m in env.discord.bot_messages()
        if (m.message_reference or {}).get("message_id") == sent["id"]
    ]
    assert voice.flags & IS_VOICE_MESSAGE
    assert env.api.calls(SPEECH)[-1].json == {
        "model": "tts-1",
        "input": "Read me, please:\n\nThanks!",
        "voice": "alloy",
        "response_format": "mp3",
    }
    rows = await usage_rows(env, member)
    assert [(r.feature, r.units, r.outcome) for r in rows] == [("tts", 25, "ok")]


async def test_read_aloud_on_a_message_without_text_says_so_privately(env: BotEnv) -> None:
    before = len(env.api.calls(SPEECH))
    sent = await env.discord.send_message("```\nonly code here\n```")
    inter = await env.discord.invoke_message_command("Read aloud", int(sent["id"]), locale="vi")
    await inter.wait_done()
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content == "Tin nhắn đó không có chữ nào để đọc to."
    assert len(env.api.calls(SPEECH)) == before
