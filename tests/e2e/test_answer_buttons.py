"""The buttons under an answer, end to end: Stop, Regenerate, Continue, Delete, Thread and 🔊,
pressed by the asker, a moderator or someone else, and after a restart of the bot."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import discord
import pytest

from bot.chat.history import Turn
from cogs.answers import (
    CONTINUE_PROMPT,
    FORGOTTEN,
    NOT_STREAMING,
    NOT_YOURS,
    NOT_YOURS_OR_MODERATOR,
    THREAD_GREETING,
)
from tests.e2e.conftest import BotEnv, bot_env, running_bot
from tests.e2e.media_support import usage_rows
from tests.e2e.test_ask import ask, chat_requests, last_user_text
from tests.e2e.test_operating import streaming
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeInteraction, FakeMessage
from tests.fakes.nexai import Pause, Reply, Stall

pytestmark = pytest.mark.asyncio(loop_scope="module")

MANAGE_MESSAGES = 1 << 13
STOPPED = "-# ⏹️ Stopped."


def buttons(message: FakeMessage) -> dict[str, str]:
    """The message's buttons: action -> custom_id."""
    return {
        c["custom_id"].split(":")[1]: c["custom_id"]
        for row in message.components
        for c in row["components"]
    }


def answered(inter: FakeInteraction) -> FakeMessage:
    assert inter.original is not None
    return inter.original


async def with_buttons(env: BotEnv, message: FakeMessage) -> dict[str, str]:
    """Wait until the answer ended and shows its buttons (Stop gone)."""
    await env.discord.wait_for(lambda: bool(message.components) and "stop" not in buttons(message))
    return buttons(message)


async def refusal(inter: FakeInteraction) -> str:
    await inter.wait_done()
    assert inter.response_type == 4 and inter.original is not None and inter.original.ephemeral
    return inter.original.content


async def memory(env: BotEnv, channel_id: int) -> list[Turn]:
    return await env.bot.history.recent(channel_id, 100)


async def test_stop_shows_while_streaming_and_the_others_once_it_ends(env: BotEnv) -> None:
    """Should show only Stop under a streaming answer, then Regenerate, Delete, Thread and 🔊
    (no Continue: the answer was not cut), each id within Discord's 100 characters."""
    member = env.discord.add_member(name="watcher")
    resume = asyncio.Event()
    env.api.enqueue("/chat/completions", Pause(resume))
    inter = await env.discord.invoke("ask", {"prompt": "a story"}, user_id=member)
    await inter.wait_done(streaming)
    assert list(buttons(answered(inter))) == ["stop"]
    resume.set()
    shown = await with_buttons(env, answered(inter))
    assert list(shown) == ["regen", "del", "thread", "read"]
    assert all(len(custom_id) <= 100 for custom_id in shown.values())
    assert all(custom_id.split(":")[2] == str(member) for custom_id in shown.values())


async def test_an_ended_answers_views_are_freed_without_the_cycle_collector(
    env: BotEnv,
) -> None:
    """Should leave no view of Stop or of the ended buttons for the garbage collector: a
    view and its buttons link each other, and a crowd's views stayed until a full collection.
    """
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        inter = await env.discord.invoke("ask", {"prompt": "a story"})
        await inter.wait_done()
        await with_buttons(env, answered(inter))
        await asyncio.sleep(0.05)  # the answer's task ends after its last edit
        gc.collect()
        views = [o for o in gc.garbage if isinstance(o, discord.ui.View)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert views == []


async def test_stop_by_the_asker_keeps_the_text_and_settles_the_charge(env: BotEnv) -> None:
    """Should cancel the stream at once, keep what arrived with a note, remember it, and
    settle the charge (estimated tokens) instead of refunding it."""
    member = env.discord.add_member(name="stopper")
    env.api.reply = "The first part arrives, and then the model goes on and on."
    env.api.enqueue("/chat/completions", Stall(after_chars=20, seconds=60))
    inter = await env.discord.invoke("ask", {"prompt": "go on forever"}, user_id=member)
    await inter.wait_done(streaming)
    message = answered(inter)
    press = await env.discord.press_button(message.id, buttons(message)["stop"], user_id=member)
    await press.wait_done()
    assert press.response_type == 6  # a silent acknowledgement: the answer ends itself
    shown = await with_buttons(env, message)
    assert message.content == "The first part arrive" + "\n\n" + STOPPED or (
        message.content.endswith(STOPPED) and "▌" not in message.content
    )
    assert "regen" in shown and "cont" not in shown
    [row] = await usage_rows(env, member)
    assert (row.feature, row.outcome) == ("ask", "ok")
    tokens = await env.bot.store.fetch_value(
        "SELECT tokens FROM usage WHERE user_id = ?", (member,)
    )
    assert tokens > 0
    assert [t.content for t in await memory(env, env.discord.channel_id)][-2:] == [
        "go on forever",
        message.content.removesuffix("\n\n" + STOPPED),
    ]
    assert len(env.bot.chat.stops) == 0


async def test_stop_while_the_model_thinks_ends_with_the_note_alone(env: BotEnv) -> None:
    """Should stop an answer that shows only "Thinking… N s" (no text yet): the note alone."""
    member = env.discord.add_member(name="impatient")
    before, env.bot.settings.wait_notice_after_s = env.bot.settings.wait_notice_after_s, 0.05
    try:
        resume = asyncio.Event()  # the stream opens, and no text comes
        env.api.enqueue("/chat/completions", Pause(resume, after_events=1))
        inter = await env.discord.invoke("ask", {"prompt": "think hard"}, user_id=member)
        await inter.wait_done(lambda i: i.original is not None and "stop" in buttons(i.original))
    finally:
        env.bot.settings.wait_notice_after_s = before
    message = answered(inter)
    assert "Thinking" in message.content
    await env.discord.press_button(message.id, buttons(message)["stop"], user_id=member)
    shown = await with_buttons(env, message)
    assert message.content == STOPPED
    assert list(shown) == ["del"]  # nothing to remember, regenerate or read
    resume.set()
    assert [(r.feature, r.outcome) for r in await usage_rows(env, member)] == [("ask", "ok")]


async def test_stop_by_someone_else_is_refused_and_a_moderator_may(env: BotEnv) -> None:
    asker = env.discord.add_member(name="asker")
    other = env.discord.add_member(name="bystander")
    moderator = env.discord.add_member(name="mod")
    env.api.enqueue("/chat/completions", Stall(after_chars=10, seconds=60))
    inter = await env.discord.invoke("ask", {"prompt": "long one"}, user_id=asker)
    await inter.wait_done(streaming)
    message = answered(inter)
    stop = buttons(message)["stop"]
    refused = await env.discord.press_button(message.id, stop, user_id=other)
    assert await refusal(refused) == NOT_YOURS_OR_MODERATOR
    assert streaming(inter)
    pressed = await env.discord.press_button(
        message.id, stop, user_id=moderator, permissions=MANAGE_MESSAGES | (1 << 10)
    )
    await pressed.wait_done()
    await with_buttons(env, message)
    assert message.content.endswith(STOPPED)


async def test_stop_for_an_answer_not_streaming_here_says_so(env: BotEnv) -> None:
    """Should answer politely when the answer streams elsewhere (another process)."""
    member = env.discord.add_member(name="elsewhere")
    resume = asyncio.Event()
    env.api.enqueue("/chat/completions", Pause(resume))
    inter = await env.discord.invoke("ask", {"prompt": "hello"}, user_id=member)
    await inter.wait_done(streaming)
    message = answered(inter)
    env.bot.chat.stops.forget(message.id)  # as if another process streamed it
    press = await env.discord.press_button(message.id, buttons(message)["stop"], user_id=member)
    assert await refusal(press) == NOT_STREAMING
    resume.set()
    await with_buttons(env, message)


async def test_regenerate_replaces_the_answer_in_place_and_memory_keeps_only_it(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="regen")
    channel = env.discord.add_channel("regen-room")
    env.api.enqueue("/chat/completions", Reply("The first answer."))
    inter = await ask(env, "What is it?", user_id=member, channel_id=channel)
    message = answered(inter)
    regen = (await with_buttons(env, message))["regen"]

    other = env.discord.add_member(name="not-the-asker")
    refused = await env.discord.press_button(message.id, regen, user_id=other)
    assert await refusal(refused) == NOT_YOURS

    env.api.enqueue("/chat/completions", Reply("A better answer."))
    press = await env.discord.press_button(message.id, regen, user_id=member)
    await env.discord.wait_for(lambda: message.content == "A better answer.")
    assert press.response_type == 7  # the old buttons go at once
    shown = await with_buttons(env, message)
    assert shown["regen"] != regen  # the new exchange's
    assert [t.content for t in await memory(env, channel)] == ["What is it?", "A better answer."]
    assert [r.outcome for r in await usage_rows(env, member)] == ["ok", "ok"]
    # the regeneration asked the same question, without the old answer in its context
    assert last_user_text(chat_requests(env)[-1]).endswith("What is it?")
    assert "The first answer." not in str(chat_requests(env)[-1]["messages"])

    env.api.enqueue("/chat/completions", Reply("A third answer."))
    await env.discord.press_button(message.id, shown["regen"], user_id=member)
    await env.discord.wait_for(lambda: message.content == "A third answer.")  # again
    await with_buttons(env, message)


async def test_continue_shows_only_for_a_cut_answer_and_goes_on(env: BotEnv) -> None:
    member = env.discord.add_member(name="continuer")
    channel = env.discord.add_channel("continue-room")
    env.api.enqueue("/chat/completions", Reply("It starts like this", finish_reason="length"))
    inter = await ask(env, "Write a lot", user_id=member, channel_id=channel)
    message = answered(inter)
    shown = await with_buttons(env, message)
    assert "cont" in shown

    other = env.discord.add_member(name="not-continuer")
    refused = await env.discord.press_button(message.id, shown["cont"], user_id=other)
    assert await refusal(refused) == NOT_YOURS

    env.api.enqueue("/chat/completions", Reply("and ends like that."))
    press = await env.discord.press_button(message.id, shown["cont"], user_id=member)
    await press.wait_done(lambda i: bool(i.followups) and "▌" not in i.followups[0].content)
    [more] = press.followups
    assert more.content == "and ends like that."
    assert "cont" not in buttons(message) and "regen" in buttons(message)
    assert last_user_text(chat_requests(env)[-1]).endswith(CONTINUE_PROMPT)
    assert "It starts like this" in str(chat_requests(env)[-1]["messages"])
    assert "regen" in await with_buttons(env, more)


async def test_delete_removes_the_answer_and_its_exchange(env: BotEnv) -> None:
    member = env.discord.add_member(name="deleter")
    channel = env.discord.add_channel("delete-room")
    env.api.enqueue("/chat/completions", Reply("Delete me."))
    inter = await ask(env, "Something to delete", user_id=member, channel_id=channel)
    message = answered(inter)
    delete = (await with_buttons(env, message))["del"]

    other = env.discord.add_member(name="not-deleter")
    refused = await env.discord.press_button(message.id, delete, user_id=other)
    assert await refusal(refused) == NOT_YOURS_OR_MODERATOR
    assert not message.deleted

    press = await env.discord.press_button(message.id, delete, user_id=member)
    await env.discord.wait_for(lambda: message.deleted)
    assert press.response_type == 6
    assert await memory(env, channel) == []


async def test_a_moderator_may_delete_an_answer(env: BotEnv) -> None:
    member = env.discord.add_member(name="asked")
    moderator = env.discord.add_member(name="tidy-mod")
    env.api.enqueue("/chat/completions", Reply("Off-topic."))
    inter = await ask(env, "off topic", user_id=member)
    message = answered(inter)
    delete = (await with_buttons(env, message))["del"]
    perms = MANAGE_MESSAGES | (1 << 10) | (1 << 11)
    await env.discord.press_button(message.id, delete, user_id=moderator, permissions=perms)
    await env.discord.wait_for(lambda: message.deleted)


async def test_thread_continues_the_exchange_in_a_new_thread(env: BotEnv) -> None:
    member = env.discord.add_member(name="threader")
    channel = env.discord.add_channel("thread-room")
    env.api.enqueue("/chat/completions", Reply("Threads are neat."))
    inter = await ask(env, "Tell me about threads", user_id=member, channel_id=channel)
    message = answered(inter)
    press = await env.discord.press_button(
        message.id, (await with_buttons(env, message))["thread"], user_id=member
    )
    await env.discord.wait_for(lambda: message.id in env.discord.threads)
    thread = env.discord.threads[message.id]
    assert thread["parent_id"] == str(channel) and thread["name"] == "Tell me about threads"
    greeting = await env.discord.wait_bot_message(lambda m: m.channel_id == message.id)
    assert greeting.content == THREAD_GREETING
    assert press.response_type == 7 and "thread" not in buttons(message)
    assert [t.content for t in await memory(env, message.id)] == [
        "Tell me about threads",
        "Threads are neat.",
    ]
    # the bot started the thread: a message there is answered without a mention, with the
    # exchange in its context
    env.api.enqueue("/chat/completions", Reply("Yes, more about threads."))
    sent = await env.discord.send_message("and more?", channel_id=message.id, user_id=member)
    follow = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: follow.content == "Yes, more about threads.")
    assert "Threads are neat." in str(chat_requests(env)[-1]["messages"])


async def test_thread_of_a_forgotten_exchange_is_refused(env: BotEnv) -> None:
    member = env.discord.add_member(name="forgetful")
    channel = env.discord.add_channel("forget-room")
    env.api.enqueue("/chat/completions", Reply("Soon forgotten."))
    inter = await ask(env, "remember me", user_id=member, channel_id=channel)
    message = answered(inter)
    shown = await with_buttons(env, message)
    await env.bot.history.forget(channel)
    press = await env.discord.press_button(message.id, shown["thread"], user_id=member)
    assert await refusal(press) == FORGOTTEN


async def test_read_aloud_button_replies_with_a_voice_message(env: BotEnv) -> None:
    """🔊 (anyone may press it): the answer as a voice message replying to it, charged to the
    presser as tts characters."""
    member = env.discord.add_member(name="speaker")
    listener = env.discord.add_member(name="listener")
    env.api.enqueue("/chat/completions", Reply("Hear this answer. ```code is skipped```"))
    inter = await ask(env, "say something", user_id=member)
    message = answered(inter)
    read = (await with_buttons(env, message))["read"]
    press = await env.discord.press_button(message.id, read, user_id=listener)
    voice = await env.discord.wait_bot_message(
        lambda m: (m.message_reference or {}).get("message_id") == str(message.id)
    )
    assert voice.flags & IS_VOICE_MESSAGE and voice.content == ""
    await press.wait_done(lambda i: bool(i.original and i.original.content))
    assert press.response_type == 5 and answered(press).content == "-# 🔊 Read aloud"
    assert [(r.feature, r.units, r.outcome) for r in await usage_rows(env, listener)] == [
        ("tts", len("Hear this answer."), "ok")
    ]


async def test_read_aloud_reads_a_long_answer_whole_from_under_its_last_part(
    env: BotEnv,
) -> None:
    """A long answer's buttons sit under its last message (Stop left the first); 🔊 reads the
    whole answer as memory keeps it, not only that last part."""
    member = env.discord.add_member(name="long-listener")
    answer = " ".join(f"word{i}" for i in range(450))  # about 3,800 characters: two messages
    env.api.enqueue("/chat/completions", Reply(answer))
    inter = await ask(env, "a long one", user_id=member)
    first, last = inter.messages
    shown = await with_buttons(env, last)
    assert first.components == [] and "read" in shown
    press = await env.discord.press_button(last.id, shown["read"], user_id=member)
    await press.wait_done(lambda i: bool(i.original and i.original.content))
    rows = await usage_rows(env, member)
    assert [(r.feature, r.units) for r in rows] == [("ask", 1), ("tts", len(answer))]


async def test_a_mention_answer_has_buttons_too(env: BotEnv) -> None:
    member = env.discord.add_member(name="mentioner")
    env.api.enqueue("/chat/completions", Reply("Answered by mention."))
    sent = await env.discord.send_message(f"<@{env.discord.bot_user_id}> hi there", user_id=member)
    reply = await env.discord.wait_reply(sent)
    shown = await with_buttons(env, reply)
    assert list(shown) == ["regen", "del", "thread", "read"]
    await env.discord.press_button(reply.id, shown["del"], user_id=member)
    await env.discord.wait_for(lambda: reply.deleted)


async def test_a_private_answer_has_no_buttons_once_it_ends(env: BotEnv) -> None:
    member = env.discord.add_member(name="private")
    env.api.enqueue("/chat/completions", Reply("Only for you."))
    inter = await ask(env, "secret", user_id=member, options={"private": True})
    message = answered(inter)
    await env.discord.wait_for(lambda: not message.components)
    assert message.ephemeral and message.content == "Only for you."


async def test_buttons_from_before_a_restart_still_work(tmp_path: Path) -> None:
    """Should regenerate an answer given by the previous run of the bot, and stop nothing
    that no longer streams (politely)."""
    db = tmp_path / "nexbot.db"
    async with bot_env(db) as env:
        env.api.enqueue("/chat/completions", Reply("Before the restart."))
        inter = await ask(env, "What time is it?")
        message = answered(inter)
        regen = (await with_buttons(env, message))["regen"]
        await env.bot.close()
        env.api.enqueue("/chat/completions", Reply("After the restart."))
        async with running_bot(env.discord, env.settings) as bot:
            press = await env.discord.press_button(message.id, regen)
            await env.discord.wait_for(lambda: message.content == "After the restart.")
            assert press.response_type == 7
            turns = await bot.history.recent(env.discord.channel_id, 10)
            assert [t.content for t in turns] == ["What time is it?", "After the restart."]
            assert "regen" in await with_buttons(env, message)


async def test_an_answer_opened_in_a_new_thread_has_buttons_but_no_thread_button(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="thread-asker")
    channel = env.discord.add_channel("opened-threads")
    await env.bot.wait_for("guild_channel_create", check=lambda c: c.id == channel, timeout=5)
    env.api.enqueue("/chat/completions", Reply("Answered in its own thread."))
    inter = await env.discord.invoke(
        "ask", {"prompt": "open a thread", "thread": True}, user_id=member, channel_id=channel
    )
    answer = await env.discord.wait_bot_message(
        lambda m: m.content == "Answered in its own thread." and m.channel_id != channel
    )
    assert answer.channel_id in env.discord.threads
    assert list(await with_buttons(env, answer)) == ["regen", "del", "read"]
    await inter.wait_done()
