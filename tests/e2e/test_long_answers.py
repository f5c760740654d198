"""Long answers end to end: past LONG_ANSWER_PARTS messages (3 by default), an answer shows its
first parts, the last ending with a note, and the whole answer comes as answer.md on that last
part, for /ask, mentions, the bot's threads and user-installed group DMs (within Discord's 5
follow-ups); Delete and Regenerate reach every part."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.chat.service import LENGTH_NOTE, LONG_ANSWER_NOTE
from bot.render.reply import LONG_ANSWER_FILENAME
from bot.render.splitter import scan_fences
from tests.e2e.conftest import BotEnv
from tests.e2e.moderation_support import add_channel
from tests.e2e.test_answer_buttons import buttons, memory, with_buttons
from tests.e2e.test_ask import ask
from tests.e2e.test_chat_modes import bot_thread
from tests.fakes.discord import FakeInteraction, FakeMessage
from tests.fakes.nexai import Reply

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]

NOTE = "-# " + LONG_ANSWER_NOTE
PARTS = 3  # the setting's default


@pytest.fixture(autouse=True)
def room_for_long_answers(env: BotEnv) -> Iterator[None]:
    """A token budget that lets the fake API send a whole long answer (finish reason `stop`)."""
    before, env.bot.settings.answer_max_tokens = env.bot.settings.answer_max_tokens, 20_000
    yield
    env.bot.settings.answer_max_tokens = before


def long_answer(messages: int, tag: str = "") -> str:
    """An answer that needs about `messages` Discord messages, a code block crossing cuts."""
    code = "\n".join(f"    total += {i}  # keep adding{tag}" for i in range(60))
    prose = " ".join([f"Some words of a long answer{tag}."] * 40)
    blocks: list[str] = []
    length = 0
    while length < 2000 * messages - 1500:
        block = f"{prose}\n\n```python\ndef add():\n{code}\n```" if len(blocks) % 3 == 1 else prose
        blocks.append(block)
        length += len(block) + 2
    return "\n\n".join(blocks)


def attached(message: FakeMessage) -> bytes:
    [file] = message.attachments
    assert file.filename == LONG_ANSWER_FILENAME
    return file.data


def assert_capped(
    parts: list[FakeMessage], answer: str, count: int = PARTS, ending: str = ""
) -> None:
    """`count` parts within Discord's limits, balanced, pinging no one; the last ends with
    the note (and the `ending` note under it) and carries the whole answer as answer.md."""
    assert len(parts) == count
    for part in parts:
        assert 0 < len(part.content) <= 2000
        assert scan_fences(part.content) is None, part.content
        assert part.allowed_mentions is not None and part.allowed_mentions.get("parse") == []
    assert all(not part.attachments for part in parts[:-1])
    assert parts[-1].content.endswith("\n\n" + NOTE + (f"\n-# {ending}" if ending else ""))
    assert attached(parts[-1]) == answer.encode()
    assert parts[0].content.startswith(answer[:100])


async def long_ask(
    env: BotEnv, answer: str, finish_reason: str | None = "stop", **kw: object
) -> tuple[FakeInteraction, list[str]]:
    env.api.enqueue("/chat/completions", Reply(answer, finish_reason=finish_reason))
    inter = await ask(env, "tell me everything", done=lambda i: bool(i.messages), **kw)
    await env.discord.wait_for(lambda: any(m.attachments for m in inter.messages), timeout=15)
    shown = await with_buttons(env, inter.messages[-1])
    return inter, list(shown)


def chain(env: BotEnv, channel_id: int, first_parent: int) -> list[FakeMessage]:
    """The bot's replies in a channel: the first under `first_parent`, each next one under
    the one before."""
    parts, parent = [], str(first_parent)
    by_parent = {
        (m.message_reference or {}).get("message_id"): m
        for m in env.discord.bot_messages(channel_id)
        if not m.deleted
    }
    while parent in by_parent:
        parts.append(by_parent[parent])
        parent = str(parts[-1].id)
    return parts


async def test_a_long_ask_answer_shows_its_first_parts_and_attaches_the_whole(env: BotEnv) -> None:
    """Should keep the ending note (here: the length limit) under the file's note, and offer
    Continue."""
    answer = long_answer(7)
    env.bot.settings.answer_max_tokens = 2_000  # the budget ends the answer: `length`
    inter, shown = await long_ask(env, answer, finish_reason=None)
    arrived = (await memory(env, env.discord.channel_id))[-1].content
    assert answer.startswith(arrived) and len(arrived) > 2000 * PARTS
    assert_capped(inter.messages, arrived, ending=LENGTH_NOTE)
    assert shown == ["regen", "cont", "del", "thread", "read"]
    # Stop leaves the first part once the last shows the buttons (its final edit carries them)
    await env.discord.wait_for(lambda: all(not buttons(part) for part in inter.messages[:-1]), 5)


async def test_a_short_answer_is_unchanged(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", Reply("Short and sweet."))
    inter = await ask(env, "short please")
    await with_buttons(env, inter.messages[-1])
    [message] = inter.messages
    assert message.content == "Short and sweet." and not message.attachments


async def test_an_answer_of_exactly_the_parts_has_no_file(env: BotEnv) -> None:
    answer = " ".join(["fits"] * 1100)  # 5,500 characters: three full messages
    env.api.enqueue("/chat/completions", Reply(answer))
    inter = await ask(env, "three parts")
    await with_buttons(env, inter.messages[-1])
    assert len(inter.messages) == 3
    assert not any(m.attachments for m in inter.messages)
    assert " ".join(m.content for m in inter.messages).split() == answer.split()


async def test_a_long_mention_answer_is_capped_in_its_chain_of_replies(env: BotEnv) -> None:
    channel = await add_channel(env, "long-mentions")
    answer = long_answer(6, tag=" (mention)")
    env.api.enqueue("/chat/completions", Reply(answer, finish_reason="stop"))
    sent = await env.discord.send_message(
        f"<@{env.discord.bot_user_id}> everything please", mentions_bot=True, channel_id=channel
    )
    await env.discord.wait_for(
        lambda: any(m.attachments for m in chain(env, channel, sent["id"])), timeout=15
    )
    parts = chain(env, channel, sent["id"])
    await with_buttons(env, parts[-1])
    assert_capped(parts, answer)
    assert len([m for m in env.discord.bot_messages(channel) if not m.deleted]) == PARTS


async def test_a_long_answer_in_a_bot_thread_is_capped_there(env: BotEnv) -> None:
    channel = await add_channel(env, "long-threads")
    answer = long_answer(5, tag=" (thread)")
    env.api.enqueue("/chat/completions", Reply(answer, finish_reason="stop"))
    await env.discord.invoke("ask", {"prompt": "a long one", "thread": True}, channel_id=channel)
    thread = await bot_thread(env, lambda: any(
        t["parent_id"] == str(channel) for t in env.discord.threads.values()
    ))  # fmt: skip
    thread_id = int(thread["id"])

    def parts() -> list[FakeMessage]:
        return [m for m in env.discord.bot_messages(thread_id) if not m.deleted]

    await env.discord.wait_for(lambda: any(m.attachments for m in parts()), timeout=15)
    await with_buttons(env, parts()[-1])
    assert_capped(parts(), answer)


async def test_delete_removes_every_part_of_a_capped_answer(env: BotEnv) -> None:
    member = env.discord.add_member(name="tidy")
    inter, _ = await long_ask(env, long_answer(7, tag=" (delete)"), user_id=member)
    parts = list(inter.messages)
    last = parts[-1]
    await env.discord.press_button(last.id, buttons(last)["del"], user_id=member)
    await env.discord.wait_for(lambda: all(part.deleted for part in parts))
    assert not any("(delete)" in turn.content for turn in await memory(env, env.discord.channel_id))


async def test_regenerate_replaces_the_whole_capped_answer(env: BotEnv) -> None:
    member = env.discord.add_member(name="again")
    inter, _ = await long_ask(env, long_answer(7, tag=" (first)"), user_id=member)
    parts = list(inter.messages)
    last = parts[-1]
    env.api.enqueue("/chat/completions", Reply("A shorter answer this time."))
    press = await env.discord.press_button(last.id, buttons(last)["regen"], user_id=member)
    await press.wait_done()
    await env.discord.wait_for(lambda: last.content == "A shorter answer this time.")
    await with_buttons(env, last)
    assert all(part.deleted for part in parts[:-1])
    assert not last.deleted and not last.attachments
    turns = await memory(env, env.discord.channel_id)
    assert turns[-1].content == "A shorter answer this time."
    assert not any("(first)" in turn.content for turn in turns)


async def test_a_group_dm_answer_of_seven_messages_stays_within_five_follow_ups(
    env: BotEnv,
) -> None:
    """Should show one part and answer.md where only the token reaches the messages (a
    user-installed app in a group DM), so Discord's 5 follow-ups are never reached and
    Delete reaches the whole answer; Regenerate through the press's token likewise."""
    member = env.discord.add_member(name="group-long")
    group = env.discord.add_group_dm(member)
    answer = long_answer(7, tag=" (group)")
    inter, shown = await long_ask(
        env, answer, user_id=member, guild=False, channel_id=group, installs="user"
    )
    assert_capped(inter.messages, answer, count=1)
    assert shown == ["regen", "del", "read"]
    assert [m for m in inter.followups if m is not inter.original] == []

    again = long_answer(7, tag=" (group again)")
    env.api.enqueue("/chat/completions", Reply(again, finish_reason="stop"))
    [message] = inter.messages
    press = await env.discord.press_button(
        message.id, buttons(message)["regen"], user_id=member, installs="user"
    )
    await env.discord.wait_for(
        lambda: bool(message.attachments) and attached(message) == again.encode(), timeout=15
    )
    await with_buttons(env, message)
    assert_capped([message], again, count=1)
    assert len([m for m in press.followups if m is not press.original]) <= 5

    await env.discord.press_button(
        message.id, buttons(message)["del"], user_id=member, installs="user"
    )
    await env.discord.wait_for(lambda: message.deleted)


@pytest.mark.parametrize(("setting", "parts"), [(PARTS, PARTS), (10, 4)])
async def test_a_long_answer_in_the_bots_dm_stays_within_five_follow_ups(
    env: BotEnv, setting: int, parts: int
) -> None:
    """Under a user install alone, the bot's DM shows at most 4 parts (the first message and 3
    follow-ups), whatever LONG_ANSWER_PARTS allows, leaving room for an error message."""
    member = env.discord.add_member(name=f"dm-long-{setting}")
    before, env.bot.settings.long_answer_parts = env.bot.settings.long_answer_parts, setting
    try:
        answer = long_answer(8, tag=f" (dm {setting})")
        inter, _ = await long_ask(env, answer, user_id=member, guild=False, installs="user")
    finally:
        env.bot.settings.long_answer_parts = before
    assert_capped(inter.messages, answer, count=parts)
    assert len([m for m in inter.followups if m is not inter.original]) <= 5
