"""/tts end to end: the real bot against the fake Discord and the fake nexai API."""

from __future__ import annotations

import pytest

from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv
from tests.e2e.media_support import pings_nobody, usage_rows
from tests.fakes.discord import FakeInteraction
from tests.fakes.nexai import Error

pytestmark = pytest.mark.asyncio(loop_scope="module")

SPEECH = "/audio/speech"


async def answered_with_error(inter: FakeInteraction) -> FakeInteraction:
    """Wait for an immediate reply, or for the follow-up that replaced "thinking…"."""
    return await inter.wait_done(lambda i: bool(i.followups) or (i.done and not i.deferred))


async def test_speech_arrives_as_an_mp3_named_after_the_text(env: BotEnv) -> None:
    member = env.discord.add_member(name="reader")
    inter = await env.discord.invoke("tts", {"text": "Hello, world! How are you?"}, user_id=member)
    await inter.wait_done()
    assert inter.response_type == 5
    message = inter.original
    assert message is not None and not message.ephemeral
    [audio] = message.attachments
    assert audio.filename == "hello-world-how-are-you.mp3"
    assert audio.content_type == "audio/mpeg"
    assert audio.data == b"ID3Hello, world! How are you?"  # what the API answered, unchanged
    assert pings_nobody(message)
    assert env.api.calls(SPEECH)[-1].json == {
        "model": "tts-1",
        "input": "Hello, world! How are you?",
        "voice": "alloy",
        "response_format": "mp3",
    }
    rows = await usage_rows(env, member)
    assert [(r.feature, r.units, r.outcome, r.model) for r in rows] == [("tts", 26, "ok", "tts-1")]


async def test_a_chosen_voice_and_wav_format_are_used(env: BotEnv) -> None:
    choices = await env.discord.autocomplete("tts", "voice", "N", {"text": "x"})
    assert [c["value"] for c in choices] == ["onyx", "nova"]
    inter = await env.discord.invoke(
        "tts", {"text": "Xin chào các bạn", "voice": "nova", "format": "wav"}
    )
    await inter.wait_done()
    assert inter.original is not None
    [audio] = inter.original.attachments
    assert audio.filename == "xin-chao-cac-ban.wav"
    assert audio.content_type == "audio/wav"
    assert audio.data.startswith(b"RIFF") and "Xin chào các bạn".encode() in audio.data
    request = env.api.calls(SPEECH)[-1].json or {}
    assert (request["voice"], request["response_format"]) == ("nova", "wav")


async def test_text_over_4096_characters_is_refused_naming_the_limit(env: BotEnv) -> None:
    before = len(env.api.calls(SPEECH))
    inter = await env.discord.invoke("tts", {"text": "a" * 4097})
    await inter.wait_done()
    assert inter.response_type == 4
    assert inter.original is not None and inter.original.ephemeral
    assert "4097 characters" in inter.original.content and "4096" in inter.original.content
    assert len(env.api.calls(SPEECH)) == before


async def test_text_of_exactly_4096_characters_is_read(env: BotEnv) -> None:
    inter = await env.discord.invoke("tts", {"text": "b" * 4096})
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
            await env.discord.invoke("tts", {"text": "word " * 400}, user_id=member)
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
