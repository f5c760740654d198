"""Replies to the bot, as Discord delivers them: a reply with its ping on (the default) puts the
replied-to author in the message's ``mentions``, so replying to the bot mentions the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.media_support import usage_rows, voice_attachment
from tests.e2e.moderation_support import moderate
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeMessage
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("replies") / "nexbot.db") as e:
        yield e


def replies_to(env: BotEnv, sent: dict[str, Any]) -> list[FakeMessage]:
    return [
        m
        for m in env.discord.bot_messages(int(sent["channel_id"]))
        if (m.message_reference or {}).get("message_id") == sent["id"]
    ]


async def settled_replies(env: BotEnv, sent: dict[str, Any]) -> list[FakeMessage]:
    """Every reply the bot made to `sent`, once it has finished all its work."""
    await env.discord.wait_for(lambda: bool(replies_to(env, sent)))
    assert await env.bot.admission.wait_idle(5)
    await env.discord.wait_for(
        lambda: (
            not any(m.content.endswith("▌") for m in env.discord.messages[int(sent["channel_id"])])
        )
    )
    return replies_to(env, sent)


async def a_bot_answer(env: BotEnv, member: int, channel_id: int | None = None) -> FakeMessage:
    env.api.enqueue("/chat/completions", Reply("Paris."))
    asked = await env.discord.send_message(
        "capital of France?", user_id=member, channel_id=channel_id, mentions_bot=True
    )
    [answer] = await settled_replies(env, asked)
    return answer


async def test_a_reply_with_its_ping_mentions_the_bot(env: BotEnv) -> None:
    member = env.discord.add_member(name="replier")
    answer = await a_bot_answer(env, member)
    env.api.enqueue("/chat/completions", Reply("About 2.1 million."))
    sent = await env.discord.send_message(
        "and its population?", user_id=member, reference_id=answer.id
    )
    assert [u["id"] for u in sent["mentions"]] == [str(env.discord.bot_user_id)]


async def test_reply_to_the_bot_is_answered_once_and_charged_once(env: BotEnv) -> None:
    member = env.discord.add_member(name="follow-up")
    answer = await a_bot_answer(env, member)
    env.api.enqueue("/chat/completions", Reply("About 2.1 million."))
    sent = await env.discord.send_message(
        "and its population?", user_id=member, reference_id=answer.id
    )
    [reply] = await settled_replies(env, sent)
    assert reply.content == "About 2.1 million."
    assert [(r.feature, r.outcome) for r in await usage_rows(env, member)] == [
        ("ask", "ok"),
        ("ask", "ok"),
    ]


async def test_a_reply_that_also_mentions_the_bot_is_answered_once(env: BotEnv) -> None:
    member = env.discord.add_member(name="double")
    answer = await a_bot_answer(env, member)
    env.api.enqueue("/chat/completions", Reply("Yes."))
    sent = await env.discord.send_message(
        "really?", user_id=member, reference_id=answer.id, mentions_bot=True
    )
    [reply] = await settled_replies(env, sent)
    assert reply.content == "Yes."
    assert len(await usage_rows(env, member)) == 2


async def test_a_voice_note_replying_to_the_bot_is_transcribed_once_and_nothing_else(
    env: BotEnv,
) -> None:
    channel_id = env.discord.add_channel("voice-replies")
    await moderate(env, "settings", "voice-notes", {"channel": channel_id})
    member = env.discord.add_member(name="speaker")
    answer = await a_bot_answer(env, member, channel_id)
    note = await env.discord.send_message(
        "",
        user_id=member,
        channel_id=channel_id,
        attachments=[voice_attachment(3.0)],
        flags=IS_VOICE_MESSAGE,
        reference_id=answer.id,
    )
    [reply] = await settled_replies(env, note)
    assert reply.content.startswith("🗣️ transcript of")
    assert [(r.feature, r.outcome) for r in await usage_rows(env, member)] == [
        ("ask", "ok"),
        ("transcribe", "ok"),
    ]
