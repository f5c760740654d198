"""Voice notes end to end: /settings voice-notes, automatic transcripts as quiet replies, exactly
once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BotEnv, e2e_settings, running_bot
from tests.e2e.media_support import pings_nobody, post_voice_note, replies_to, usage_rows
from tests.e2e.moderation_support import MODERATOR, NO_PERMISSION, moderate, outcome, run
from tests.e2e.test_operating import until
from tests.fakes.discord import FakeDiscord
from tests.fakes.nexai import Error, FakeNexai, SlowFirstByte

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]

TRANSCRIPTIONS = "/audio/transcriptions"


async def turn(env: BotEnv, state: str, channel_id: int) -> str:
    """A moderator runs /settings voice-notes for `channel_id`; returns the bot's answer."""
    reply = await moderate(
        env, "settings", "voice-notes", {"channel": channel_id, "transcribe": state == "on"}
    )
    return reply.content


async def enabled_channel(env: BotEnv, name: str) -> int:
    channel_id = env.discord.add_channel(name)
    await turn(env, "on", channel_id)
    return channel_id


async def redeliver(fake: FakeDiscord, payload: dict[str, Any]) -> None:
    """Deliver a MESSAGE_CREATE again, as Discord may (at least once) around a reconnect.

    The fake has no public way to repeat an event the bot already received, so this uses its
    dispatcher directly.
    """
    await fake._dispatch("MESSAGE_CREATE", fake.gateway_view(payload))


async def test_moderators_turn_voice_notes_on_and_off(env: BotEnv) -> None:
    channel_id = env.discord.add_channel("voice-on-off")
    assert await turn(env, "on", channel_id) == (
        f"Voice messages in <#{channel_id}> will be transcribed."
    )
    on = await post_voice_note(env.discord, channel_id)
    await env.discord.wait_reply(on)
    assert await turn(env, "off", channel_id) == (
        f"Voice messages in <#{channel_id}> won't be transcribed any more."
    )
    off = await post_voice_note(env.discord, channel_id)
    # A later voice note elsewhere is answered only after this one was looked at.
    later = await post_voice_note(env.discord, await enabled_channel(env, "voice-elsewhere"))
    await env.discord.wait_reply(later)
    assert replies_to(env.discord, off) == []


async def test_members_without_manage_server_cannot_turn_it_on(env: BotEnv) -> None:
    channel_id = env.discord.add_channel("voice-members")
    inter = await run(
        env, "settings", {"channel": channel_id}, subcommand="voice-notes", channel_id=channel_id
    )
    assert outcome(inter).ephemeral
    assert outcome(inter).content == NO_PERMISSION
    assert not await env.bot.voice_notes.is_enabled(channel_id, None)


async def test_there_is_one_switch_for_voice_notes(env: BotEnv) -> None:
    names = {c["name"] for c in env.discord.commands[None]}
    assert "settings" in names and "voicenotes" not in names


async def test_a_voice_note_is_transcribed_as_a_quiet_reply_charged_to_its_author(
    env: BotEnv,
) -> None:
    channel_id = await enabled_channel(env, "voice-happy")
    author = env.discord.add_member(name="talker")
    env.api.transcript_seconds = 5.0  # whisper's usage.seconds, for Discord's 4.75 s
    note = await post_voice_note(env.discord, channel_id, user_id=author, seconds=4.75)
    reply = await env.discord.wait_reply(note)
    assert reply.content == "🗣️ transcript of voice-message.ogg (2000 bytes)"
    assert pings_nobody(reply) and (reply.allowed_mentions or {}).get("replied_user") is False
    assert [(r.feature, r.units, r.outcome) for r in await usage_rows(env, author)] == [
        ("transcribe", 5.0, "ok")
    ]


async def test_a_voice_note_is_transcribed_once_across_a_gateway_reconnect(env: BotEnv) -> None:
    channel_id = await enabled_channel(env, "voice-reconnect")
    note = await post_voice_note(env.discord, channel_id)
    await env.discord.wait_reply(note)
    calls = len(env.api.calls(TRANSCRIPTIONS))
    await env.discord.disconnect_gateway()  # RESUME
    await redeliver(env.discord, note)
    later = await post_voice_note(env.discord, channel_id)
    await env.discord.wait_reply(later)
    assert len(replies_to(env.discord, note)) == 1
    assert len(env.api.calls(TRANSCRIPTIONS)) == calls + 1  # only the later one


async def test_a_burst_of_voice_notes_is_queued_and_transcribed_two_at_a_time(
    env: BotEnv,
) -> None:
    assert env.settings.voice_note_concurrency == 2
    channel_id = await enabled_channel(env, "voice-burst")
    env.api.enqueue(TRANSCRIPTIONS, *[SlowFirstByte(0.05)] * 20)
    env.api.max_in_flight.clear()
    notes = [await post_voice_note(env.discord, channel_id) for _ in range(20)]
    await env.discord.wait_for(lambda: all(replies_to(env.discord, n) for n in notes))
    assert env.api.max_in_flight[TRANSCRIPTIONS] == 2
    assert all(len(replies_to(env.discord, n)) == 1 for n in notes)


async def test_failures_are_reported_once_per_channel_and_then_only_logged(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    channel_id = await enabled_channel(env, "voice-failing")
    author = env.discord.add_member(name="unlucky")
    env.api.enqueue(TRANSCRIPTIONS, Error(402), Error(402))
    first = await post_voice_note(env.discord, channel_id, user_id=author)
    failure = await env.discord.wait_reply(first)
    assert failure.content.startswith("⚠️ I couldn't transcribe this voice message.")
    assert "out of credits" in failure.content and pings_nobody(failure)
    second = await post_voice_note(env.discord, channel_id, user_id=author)
    # The third only after the second failed: posted together, the two run at once and
    # either may take the second scripted failure.
    await until(lambda: f"Voice note {second['id']} not transcribed" in caplog.text)
    third = await post_voice_note(env.discord, channel_id, user_id=author)
    await env.discord.wait_reply(third)  # the API works again
    assert replies_to(env.discord, second) == []
    assert f"Voice note {second['id']} not transcribed" in caplog.text
    outcomes = [r.outcome for r in await usage_rows(env, author)]
    assert outcomes == ["refunded", "refunded", "ok"]


async def test_voice_notes_in_channels_never_enabled_are_ignored(env: BotEnv) -> None:
    quiet = env.discord.add_channel("voice-never")
    ignored = await post_voice_note(env.discord, quiet)
    later = await post_voice_note(env.discord, await enabled_channel(env, "voice-other"))
    await env.discord.wait_reply(later)
    assert replies_to(env.discord, ignored) == []


async def test_a_restarted_bot_does_not_transcribe_a_voice_note_again(tmp_path: Path) -> None:
    """A second bot on the same database gets the same event: the claim is already there."""
    async with FakeNexai() as api, FakeDiscord() as fake:
        settings = e2e_settings(fake, api, tmp_path / "nexbot.db")
        async with running_bot(fake, settings):
            inter = await fake.invoke(
                "settings",
                {"channel": fake.channel_id},
                subcommand="voice-notes",
                permissions=MODERATOR,
            )
            await inter.wait_done()
            note = await post_voice_note(fake, fake.channel_id)
            await fake.wait_reply(note)
        async with running_bot(fake, settings):
            await redeliver(fake, note)
            later = await post_voice_note(fake, fake.channel_id)  # still enabled after restart
            await fake.wait_reply(later)
        assert len(replies_to(fake, note)) == 1
        assert len(api.calls(TRANSCRIPTIONS)) == 2


@pytest.mark.parametrize(
    ("name", "kind"),
    [("imagine", 1), ("tts", 1), ("transcribe", 1), ("Transcribe", 3)],
)
async def test_media_commands_are_localised_in_vietnamese(
    env: BotEnv, name: str, kind: int
) -> None:
    [command] = [
        c for c in env.discord.commands[None] if c["name"] == name and c.get("type", 1) == kind
    ]
    assert command["name_localizations"]["vi"]
    if kind == 1:
        assert command["description_localizations"]["vi"]
    for option in command.get("options", []):
        assert option["name_localizations"]["vi"], option["name"]
        assert option["description_localizations"]["vi"], option["name"]
        for choice in option.get("choices", []):
            if choice["name"] in ("on", "off"):
                assert choice["name_localizations"]["vi"], choice["name"]
