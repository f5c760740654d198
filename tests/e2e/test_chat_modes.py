"""Where the bot answers, end to end: channel modes (mention, every message, off), replies to
the bot, threads the bot opens (from /ask or a mention) and their memory, inheritance of a
channel's mode by its threads, locked threads, and /forget in a thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.moderation_support import (
    add_channel,
    chat_calls_with,
    moderate,
    outcome,
    run,
    wait_answer,
)
from tests.fakes.discord import EVERYONE_PERMISSIONS, FakeMessage
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

MANAGE_MESSAGES = EVERYONE_PERMISSIONS | discord.Permissions(manage_messages=True).value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("chat-modes") / "nexbot.db") as e:
        yield e


def replies_to(env: BotEnv, sent: dict[str, Any]) -> list[FakeMessage]:
    return [
        m
        for m in env.discord.bot_messages()
        if (m.message_reference or {}).get("message_id") == sent["id"]
    ]


async def answered_after(env: BotEnv, channel_id: int) -> None:
    """Everything posted in `channel_id` so far has been looked at: a later mention there was
    answered (the bot handles a channel's messages in order) and the bot is idle."""
    env.api.enqueue("/chat/completions", Reply("Sync."))
    probe = await env.discord.send_message("probe", channel_id=channel_id, mentions_bot=True)
    await wait_answer(env, probe)
    assert await env.bot.admission.wait_idle(5)


async def mode(env: BotEnv, channel_id: int, value: str) -> str:
    said = await moderate(env, "settings", "chat-mode", {"mode": value, "channel": channel_id})
    return said.content


def last_request(env: BotEnv) -> dict[str, Any]:
    return env.api.calls("/chat/completions")[-1].json or {}


async def bot_thread(env: BotEnv, predicate: Any = None) -> dict[str, Any]:
    """The newest thread the bot started (waits for it)."""
    bot = str(env.discord.bot_user_id)

    def found() -> list[dict[str, Any]]:
        return [t for t in env.discord.threads.values() if t["owner_id"] == bot]

    await env.discord.wait_for(lambda: bool(found()) and (predicate is None or predicate()))
    return found()[-1]


async def test_every_message_mode_answers_members_not_bots_announcements_or_asides(
    env: BotEnv,
) -> None:
    channel = await add_channel(env, "chatty")
    said = await mode(env, channel, "every")
    assert said == (
        f"In <#{channel}> I now answer every message."
        " Members can start a message with `//` to talk without me."
    )
    env.api.enqueue("/chat/completions", Reply("Hi there!"))
    hello = await env.discord.send_message("hello everyone in here", channel_id=channel)
    assert (await wait_answer(env, hello)).content == "Hi there!"

    other_bot = env.discord.add_member(name="otherbot", bot=True)
    ignored = [
        await env.discord.send_message("I am a bot", user_id=other_bot, channel_id=channel),
        await env.discord.send_message("@everyone meeting at noon", channel_id=channel),
        await env.discord.send_message("@here anyone?", channel_id=channel),
        await env.discord.send_message("// just between us humans", channel_id=channel),
    ]
    await answered_after(env, channel)
    for sent in ignored:
        assert replies_to(env, sent) == [], sent["content"]
    for text in ("I am a bot", "meeting at noon", "anyone?", "between us humans"):
        assert chat_calls_with(env, text) == 0


async def test_the_server_can_change_the_aside_prefix(env: BotEnv) -> None:
    channel = await add_channel(env, "asides")
    await mode(env, channel, "every")
    said = await moderate(env, "settings", "chat-defaults", {"aside": "!!"})
    assert "Asides start with `!!`." in said.content
    try:
        aside = await env.discord.send_message("!! not for the bot", channel_id=channel)
        env.api.enqueue("/chat/completions", Reply("Noted."))
        slashes = await env.discord.send_message("// now I am for the bot", channel_id=channel)
        assert (await wait_answer(env, slashes)).content == "Noted."
        await answered_after(env, channel)
        assert replies_to(env, aside) == []
    finally:
        await moderate(env, "settings", "chat-defaults", {"aside": "//"})


async def test_off_ignores_even_mentions_but_slash_commands_still_work(env: BotEnv) -> None:
    channel = await add_channel(env, "quiet")
    assert await mode(env, channel, "off") == f"In <#{channel}> I now answer nothing (off)."
    ignored = await env.discord.send_message("are you there", channel_id=channel, mentions_bot=True)
    env.api.enqueue("/chat/completions", Reply("Slash still works."))
    asked = await run(env, "ask", {"prompt": "slash in a quiet channel"}, channel_id=channel)
    assert outcome(asked).content == "Slash still works."
    assert await env.bot.admission.wait_idle(5)
    assert replies_to(env, ignored) == []
    assert chat_calls_with(env, "are you there") == 0
    back = await mode(env, channel, "inherit")
    assert back == f"<#{channel}> now follows the place above it."


async def test_a_reply_to_the_bot_without_its_ping_is_answered_with_that_exchange(
    env: BotEnv,
) -> None:
    channel = await add_channel(env, "replies")
    env.api.enqueue("/chat/completions", Reply("Paris."))
    france = await env.discord.send_message(
        "capital of France?", channel_id=channel, mentions_bot=True
    )
    paris = await wait_answer(env, france)
    env.api.enqueue("/chat/completions", Reply("Rome."))
    italy = await env.discord.send_message(
        "capital of Italy?", channel_id=channel, mentions_bot=True
    )
    await wait_answer(env, italy)

    env.api.enqueue("/chat/completions", Reply("About 2.1 million."))
    follow = await env.discord.send_message(
        "and its population?", channel_id=channel, reference_id=paris.id, mention_author=False
    )
    assert follow["mentions"] == []
    assert (await wait_answer(env, follow)).content == "About 2.1 million."
    messages = last_request(env)["messages"]
    assert [m["content"] for m in messages[-3:-1]] == ["Member: capital of France?", "Paris."]
    assert messages[-1]["content"].endswith("and its population?")


async def test_ask_can_open_its_answer_in_a_new_thread_that_keeps_the_conversation(
    env: BotEnv,
) -> None:
    channel = await add_channel(env, "ask-threads")
    env.api.enqueue("/chat/completions", Reply("Take the night train."))
    asked = await run(
        env, "ask", {"prompt": "Plan a trip to Hue", "thread": True}, channel_id=channel
    )
    thread = await bot_thread(env)
    thread_id = int(thread["id"])
    assert thread["parent_id"] == str(channel) and thread["name"] == "Plan a trip to Hue"
    assert outcome(asked).content == f"🧵 The answer is in <#{thread_id}>."
    await env.discord.wait_for(
        lambda: any(m.content == "Take the night train." for m in env.discord.messages[thread_id])
    )

    env.api.enqueue("/chat/completions", Reply("About 13 hours."))
    follow = await env.discord.send_message("how long is it?", channel_id=thread_id)
    assert (await wait_answer(env, follow)).content == "About 13 hours."
    messages = last_request(env)["messages"]
    assert [m["content"] for m in messages[1:3]] == [
        "Member: Plan a trip to Hue",
        "Take the night train.",
    ]

    aside = await env.discord.send_message("// brb", channel_id=thread_id)
    await answered_after(env, thread_id)
    assert replies_to(env, aside) == []


async def test_a_private_answer_cannot_open_a_thread(env: BotEnv) -> None:
    asked = await run(env, "ask", {"prompt": "secret", "thread": True, "private": True})
    said = outcome(asked)
    assert said.ephemeral
    assert said.content == "A private answer can't open a thread: choose one or the other."
    assert chat_calls_with(env, "secret") == 0


async def test_with_the_server_default_a_mention_opens_a_thread_from_the_message(
    env: BotEnv,
) -> None:
    channel = await add_channel(env, "mention-threads")
    said = await moderate(env, "settings", "chat-defaults", {"threads": True})
    assert "/ask and mentions open their answer in a new thread." in said.content
    try:
        env.api.enqueue("/chat/completions", Reply("Pho, of course."))
        sent = await env.discord.send_message(
            "best food in Hanoi?", channel_id=channel, mentions_bot=True
        )
        thread_id = int(sent["id"])  # a thread from a message has the message's id
        await env.discord.wait_for(
            lambda: any(m.content == "Pho, of course." for m in env.discord.messages[thread_id])
        )
        assert env.discord.threads[thread_id]["owner_id"] == str(env.discord.bot_user_id)

        await mode(env, channel, "every")
        threads_before = len(env.discord.threads)
        env.api.enqueue("/chat/completions", Reply("Answered in place."))
        chatter = await env.discord.send_message("no mention, no thread", channel_id=channel)
        assert (await wait_answer(env, chatter)).content == "Answered in place."
        assert len(env.discord.threads) == threads_before
    finally:
        await moderate(env, "settings", "chat-defaults", {"threads": False})


async def test_threads_inherit_their_channels_mode_unless_set_otherwise(env: BotEnv) -> None:
    channel = await add_channel(env, "inheriting")
    await mode(env, channel, "every")
    thread_id = env.discord.start_thread("member thread", channel_id=channel)
    await env.bot.wait_for("thread_create", check=lambda t: t.id == thread_id, timeout=5)
    env.api.enqueue("/chat/completions", Reply("Inherited."))
    first = await env.discord.send_message("no mention needed here", channel_id=thread_id)
    assert (await wait_answer(env, first)).content == "Inherited."

    assert await mode(env, thread_id, "mention") == (
        f"In <#{thread_id}> I now answer mentions and replies to me."
    )
    ignored = await env.discord.send_message("now I need one", channel_id=thread_id)
    await answered_after(env, thread_id)
    assert replies_to(env, ignored) == []


async def test_the_bot_says_nothing_in_a_locked_thread(env: BotEnv) -> None:
    channel = await add_channel(env, "locking")
    thread_id = env.discord.start_thread("locked one", channel_id=channel)
    await env.bot.wait_for("thread_create", check=lambda t: t.id == thread_id, timeout=5)
    env.discord.set_archived(thread_id, False, locked=True)
    await env.bot.wait_for(
        "thread_update", check=lambda before, after: after.id == thread_id, timeout=5
    )
    ignored = await env.discord.send_message("hello?", channel_id=thread_id, mentions_bot=True)
    await answered_after(env, channel)
    assert replies_to(env, ignored) == []
    assert env.discord.bot_messages(thread_id) == []


async def test_forget_in_a_thread_clears_the_threads_memory_only(env: BotEnv) -> None:
    channel = await add_channel(env, "forgetting")
    env.api.enqueue("/chat/completions", Reply("Channel answer."))
    in_channel = await env.discord.send_message("channel q", channel_id=channel, mentions_bot=True)
    await wait_answer(env, in_channel)
    thread_id = env.discord.start_thread("forgetful", channel_id=channel)
    await env.bot.wait_for("thread_create", check=lambda t: t.id == thread_id, timeout=5)
    env.api.enqueue("/chat/completions", Reply("Thread answer."))
    in_thread = await env.discord.send_message("thread q", channel_id=thread_id, mentions_bot=True)
    await wait_answer(env, in_thread)

    forgot = await run(env, "forget", channel_id=thread_id, permissions=MANAGE_MESSAGES)
    assert outcome(forgot).content == "I forgot this thread's conversation (2 messages)."
    assert await env.bot.history.recent(thread_id, 10) == []
    assert len(await env.bot.history.recent(channel, 10)) == 2
