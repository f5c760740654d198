"""Threads end to end: mentions and voice notes in threads are answered in the thread."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.media_support import voice_attachment
from tests.e2e.moderation_support import moderate
from tests.fakes.discord import IS_VOICE_MESSAGE
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

MANAGE_CHANNELS = discord.Permissions(manage_channels=True).value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("threads") / "nexbot.db") as e:
        yield e


async def thread_in(env: BotEnv, name: str, parent_id: int | None = None) -> int:
    """A member starts a thread; returns its id once the bot has it."""
    thread_id = env.discord.start_thread(name, channel_id=parent_id)
    await env.bot.wait_for("thread_create", check=lambda t: t.id == thread_id, timeout=5)
    return thread_id


async def test_a_mention_in_a_thread_is_answered_in_the_thread(env: BotEnv) -> None:
    thread_id = await thread_in(env, "questions")
    env.api.enqueue("/chat/completions", Reply("In the thread."))
    sent = await env.discord.send_message("where?", channel_id=thread_id, mentions_bot=True)
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: not reply.content.endswith("▌"))
    assert reply.channel_id == thread_id and reply.content == "In the thread."


async def test_a_mention_in_an_archived_thread_reopens_it_and_is_answered(env: BotEnv) -> None:
    thread_id = await thread_in(env, "old news")
    env.discord.set_archived(thread_id, True)
    await env.bot.wait_for(
        "thread_update", check=lambda before, after: after.id == thread_id, timeout=5
    )
    env.api.enqueue("/chat/completions", Reply("Still here."))
    sent = await env.discord.send_message("anyone?", channel_id=thread_id, mentions_bot=True)
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: not reply.content.endswith("▌"))
    assert reply.content == "Still here."
    assert env.discord.threads[thread_id]["thread_metadata"]["archived"] is False


async def test_a_voice_note_in_a_thread_of_an_enabled_channel_is_transcribed_there(
    env: BotEnv,
) -> None:
    parent = env.discord.add_channel("voice-parent")
    await env.bot.wait_for("guild_channel_create", check=lambda c: c.id == parent, timeout=5)
    await moderate(env, "settings", "voice-notes", {"channel": parent})
    thread_id = await thread_in(env, "voice thread", parent)
    note = await env.discord.send_message(
        "", channel_id=thread_id, attachments=[voice_attachment(2.0)], flags=IS_VOICE_MESSAGE
    )
    reply = await env.discord.wait_reply(note)
    assert reply.channel_id == thread_id
    assert reply.content.startswith("🗣️ transcript of")


async def test_a_voice_note_in_a_thread_of_another_channel_is_left_alone(env: BotEnv) -> None:
    thread_id = await thread_in(env, "quiet thread")
    note = await env.discord.send_message(
        "", channel_id=thread_id, attachments=[voice_attachment(2.0)], flags=IS_VOICE_MESSAGE
    )
    env.api.enqueue("/chat/completions", Reply("later"))
    later = await env.discord.send_message("ping", channel_id=thread_id, mentions_bot=True)
    await env.discord.wait_reply(later)  # handled after the voice note was looked at
    assert not [
        m
        for m in env.discord.bot_messages(thread_id)
        if (m.message_reference or {}).get("message_id") == note["id"]
    ]
