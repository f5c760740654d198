"""/ask, /forget and @mention chat end to end: the real bot and cogs against both fakes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import BotEnv
from tests.e2e.fault_support import LogWatch, tracebacks
from tests.fakes.discord import FakeAttachment, FakeInteraction, FakeMessage
from tests.fakes.nexai import CutOff, Error, Hang, Reply

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MANAGE_MESSAGES = 1 << 13
CUT_NOTE = "⚠️ The answer was cut off before it finished."


async def ask(
    env: BotEnv, prompt: str, done: Callable[[FakeInteraction], bool] | None = None, **kw: Any
) -> FakeInteraction:
    """Invoke /ask and wait until the answer is final (not loading, no cursor, or an error)."""
    options = {"prompt": prompt, **kw.pop("options", {})}
    inter = await env.discord.invoke("ask", options, **kw)
    await inter.wait_done(done or finished)
    return inter


def finished(inter: FakeInteraction) -> bool:
    original = inter.original
    if original is not None and original.deleted:  # an error replaced the thinking message
        return bool(inter.followups) and not inter.followups[-1].loading
    if original is None or original.loading:
        return False
    return not any(m.content.endswith("▌") or shows_stop(m) for m in inter.messages)


def shows_stop(message: FakeMessage) -> bool:
    """The Stop button is still under the message: the answer has not ended yet."""
    return any(
        c.get("custom_id", "").startswith("nx:stop:")
        for row in message.components
        for c in row.get("components", [])
    )


def squash(text: str) -> str:
    """Text without fence markup or whitespace: what must survive splitting."""
    return re.sub(r"\s+", "", text.replace("```python\n", "").replace("\n```", ""))


def unfenced(inter: FakeInteraction) -> str:
    return squash("".join(m.content for m in inter.messages))


def chat_requests(env: BotEnv) -> list[dict[str, Any]]:
    return [r.json for r in env.api.calls("/chat/completions") if r.json is not None]


def last_user_text(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def error_reply(inter: FakeInteraction) -> FakeMessage:
    """The ephemeral error that replaced a public thinking message."""
    assert inter.original is not None and inter.original.deleted
    reply = inter.followups[-1]
    assert reply.ephemeral
    return reply


async def test_answer_streams_into_the_deferred_response(env: BotEnv) -> None:
    answer = "Streaming " + " ".join(f"word{i}" for i in range(150)) + " done."
    env.api.chunk_delay_s = 0.01  # about 2.5 s of streaming: several paced edits
    env.api.enqueue("/chat/completions", Reply(answer))
    inter = await ask(env, "Stream me something")
    assert inter.response_type == 5  # deferred at once
    assert inter.original is not None
    assert inter.original.content == answer
    partial = [e for e in inter.original.edits[1:-1] if e]
    assert partial, "the answer should have been shown while it streamed"
    assert all(e.endswith("▌") and answer.startswith(e[:-2]) for e in partial)
    assert chat_requests(env)[-1]["stream"] is True


async def test_long_answer_with_code_continues_in_follow_ups_with_blocks_intact(
    env: BotEnv,
) -> None:
    code = "\n".join(f"    print('line {i}')  # padding padding" for i in range(70))
    prose = " ".join(["Lorem ipsum dolor sit amet."] * 60)
    answer = f"{prose}\n\n```python\ndef main():\n{code}\n```\n\n{prose}"
    assert len(answer) > 5000
    bare = squash(answer)
    env.api.enqueue("/chat/completions", Reply(answer))
    before, env.bot.settings.long_answer_parts = env.bot.settings.long_answer_parts, 10
    try:  # shown whole, not capped (tests/e2e/test_long_answers.py)
        inter = await ask(
            env, "Write a long program", done=lambda i: finished(i) and unfenced(i) == bare
        )
    finally:
        env.bot.settings.long_answer_parts = before
    parts = inter.messages
    assert len(parts) >= 3
    for part in parts:
        assert 0 < len(part.content) <= 2000
        assert part.content.count("```") % 2 == 0, part.content
    reopened = [p for p in parts[1:] if p.content.startswith("```python\n")]
    assert reopened, "a code block cut across messages is reopened with its language"
    joined = "".join(p.content for p in parts).replace("\n```", "").replace("```python\n", "")
    assert re.sub(r"\s+", "", joined) == re.sub(
        r"\s+", "", answer.replace("```python\n", "").replace("\n```", "")
    )


async def test_memory_follows_the_channel_and_not_others(env: BotEnv) -> None:
    channel = env.discord.add_channel("memory")
    env.api.enqueue("/chat/completions", Reply("Nice to meet you, Ana."))
    await ask(env, "My name is Ana.", channel_id=channel)
    await ask(env, "What is my name?", channel_id=channel)
    second = chat_requests(env)[-1]["messages"]
    contents = [m["content"] for m in second]
    assert any("My name is Ana." in str(c) for c in contents[:-1])
    assert "Nice to meet you, Ana." in contents
    assert second[0]["role"] == "system"

    await ask(env, "What is my name?", channel_id=env.discord.other_channel_id)
    elsewhere = chat_requests(env)[-1]["messages"]
    assert not any("Ana" in str(m["content"]) for m in elsewhere)


async def test_forget_clears_the_channel_memory_and_says_so(env: BotEnv) -> None:
    channel = env.discord.add_channel("forgetful")
    await ask(env, "Remember the word pineapple.", channel_id=channel)
    inter = await env.discord.invoke("forget", channel_id=channel, permissions=MANAGE_MESSAGES)
    await inter.wait_done()
    assert inter.original is not None
    assert "forgot this channel's conversation (2 messages)" in inter.original.content
    await ask(env, "Which word?", channel_id=channel)
    assert not any("pineapple" in str(m["content"]) for m in chat_requests(env)[-1]["messages"])


async def test_forget_needs_manage_messages_in_a_server(env: BotEnv) -> None:
    channel = env.discord.add_channel("guarded")
    await ask(env, "Remember the word mango.", channel_id=channel)
    inter = await env.discord.invoke("forget", channel_id=channel, permissions=0)
    await inter.wait_done()
    assert inter.original is not None and inter.original.ephemeral
    assert "Manage Messages" in inter.original.content
    assert len(await env.bot.history.recent(channel, 10)) == 2


async def test_forget_works_for_anyone_in_dms(env: BotEnv) -> None:
    dm = env.discord.dm_channel_id
    await ask(env, "Remember the word kiwi.", channel_id=dm, guild=False)
    inter = await env.discord.invoke("forget", channel_id=dm, guild=False)
    await inter.wait_done()
    assert inter.original is not None and "forgot" in inter.original.content
    assert await env.bot.history.recent(dm, 10) == []


async def test_private_answer_is_ephemeral_and_not_remembered(env: BotEnv) -> None:
    channel = env.discord.add_channel("private")
    env.api.enqueue("/chat/completions", Reply("Only for you."))
    inter = await ask(env, "A secret question", channel_id=channel, options={"private": True})
    assert inter.deferred_ephemeral
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content == "Only for you."
    assert await env.bot.history.recent(channel, 10) == []


async def test_image_goes_to_a_vision_model_as_an_image_part(env: BotEnv) -> None:
    image = FakeAttachment("cat.png", PNG, content_type="image/png")
    env.api.enqueue("/chat/completions", Reply("A cat."))
    inter = await ask(env, "What is this?", options={"image": image, "model": "gpt-4o"})
    assert inter.original is not None and inter.original.content == "A cat."
    request = chat_requests(env)[-1]
    assert request["model"] == "gpt-4o"
    parts = request["messages"][-1]["content"]
    assert parts[1]["type"] == "image_url"
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("model", "attachment", "expected"),
    [
        (
            "gpt-4o",
            FakeAttachment("notes.pdf", b"%PDF-1.4", content_type="application/pdf"),
            "isn't an image",
        ),
        ("gpt-5.4", FakeAttachment("cat.png", PNG, content_type="image/png"), "can't see images"),
    ],
)
async def test_unusable_image_is_refused_before_any_api_call(
    env: BotEnv, model: str, attachment: FakeAttachment, expected: str
) -> None:
    before = len(env.api.calls("/chat/completions"))
    inter = await env.discord.invoke("ask", {"prompt": "Look", "model": model, "image": attachment})
    await inter.wait_done()
    assert inter.response_type == 4 and inter.original is not None
    assert inter.original.ephemeral and expected in inter.original.content
    assert len(env.api.calls("/chat/completions")) == before


async def test_unknown_model_is_refused_before_any_api_call(env: BotEnv) -> None:
    before = len(env.api.requests)
    inter = await env.discord.invoke("ask", {"prompt": "hi", "model": "gpt-image-2"})
    await inter.wait_done()
    assert inter.original is not None and inter.original.ephemeral
    assert "isn't available for chat" in inter.original.content
    assert len(env.api.requests) == before


async def test_model_autocomplete_offers_chat_models_only(env: BotEnv) -> None:
    choices = await env.discord.autocomplete("ask", "model", "", {"prompt": "x"})
    names = [c["value"] for c in choices]
    assert "gpt-4o" in names and "DeepSeek-R1" in names
    assert not any("image" in n or "tts" in n or "whisper" in n for n in names)
    narrowed = await env.discord.autocomplete("ask", "model", "codex", {"prompt": "x"})
    assert {c["value"] for c in narrowed} == {"gpt-5.1-codex-mini", "gpt-5.3-codex"}


async def test_codex_models_are_asked_through_responses(env: BotEnv) -> None:
    env.api.enqueue("/responses", Reply("def add(a, b): return a + b"))
    inter = await ask(env, "add function", options={"model": "gpt-5.3-codex"})
    assert inter.original is not None and inter.original.content == "def add(a, b): return a + b"
    assert env.api.calls("/responses")[-1].json["model"] == "gpt-5.3-codex"  # type: ignore[index]


async def test_hidden_reasoning_is_not_shown(env: BotEnv) -> None:
    env.api.enqueue(
        "/chat/completions",
        Reply("<think>secret chain of thought</think>The answer is 4.", reasoning="more secrets"),
    )
    inter = await ask(env, "2+2?", options={"model": "DeepSeek-R1"})
    assert inter.original is not None
    assert inter.original.content == "The answer is 4."
    assert not any("secret" in edit for edit in inter.original.edits)


ERRORS = [
    (Error(401), "API key was rejected"),
    (Error(402), "out of credits"),
    (Error(403), "suspended or expired"),
    (Error(429, retry_after="42"), "try again in 42 s"),
    (Error(500), "internal error"),
    (Hang(5), "took too long"),
]


@pytest.mark.parametrize(
    ("step", "expected"), ERRORS, ids=["401", "402", "403", "429", "500", "timeout"]
)
async def test_api_error_gets_its_own_ephemeral_message(
    env: BotEnv, step: Any, expected: str
) -> None:
    for _ in range(2):  # the client retries 429/5xx/timeouts once in these tests
        env.api.enqueue("/chat/completions", step)
    inter = await ask(env, "Hello?")
    reply = error_reply(inter)
    assert expected in reply.content
    assert "sk-billing" not in reply.content
    env.api.enqueue("/chat/completions")  # drop what the client did not use


async def test_error_is_in_the_users_language(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", Error(402))
    inter = await ask(env, "Xin chào", locale="vi")
    assert "hết tín dụng" in error_reply(inter).content


async def test_cut_off_answer_keeps_what_arrived_and_says_so(env: BotEnv) -> None:
    channel = env.discord.add_channel("cut")
    env.api.enqueue("/chat/completions", CutOff(after_chars=24))
    env.api.reply = "The first part arrives, the second part never does."
    inter = await ask(env, "Tell me", channel_id=channel)
    assert inter.original is not None
    assert inter.original.content.startswith("The first part arrives")
    assert inter.original.content.endswith(CUT_NOTE)
    assert await env.bot.history.recent(channel, 10) == []


async def test_nothing_the_bot_sends_can_ping(env: BotEnv) -> None:
    pinging = "@everyone @here <@&123456> <@987654> look!"
    env.api.enqueue("/chat/completions", Reply(pinging))
    inter = await ask(env, "Say @everyone please")
    sent = await env.discord.send_message(
        f"<@{env.discord.bot_user_id}> @everyone hi", mentions_bot=True
    )
    env.api.enqueue("/chat/completions", Reply(pinging))
    await env.discord.wait_reply(sent)
    for message in [*inter.messages, *env.discord.bot_messages()]:
        if not any(message.edits):
            continue  # a "thinking…" placeholder that never carried text
        assert message.allowed_mentions is not None, message
        assert message.allowed_mentions.get("parse") == []
        assert not message.allowed_mentions.get("users") and not message.allowed_mentions.get(
            "roles"
        )


async def test_mention_is_answered_as_a_reply_with_the_mention_removed(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", Reply("Hi there!"))
    sent = await env.discord.send_message(
        f"<@{env.discord.bot_user_id}> hello bot", mentions_bot=True
    )
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: not reply.content.endswith("▌"))
    assert reply.content == "Hi there!"
    assert reply.message_reference is not None
    assert last_user_text(chat_requests(env)[-1]).endswith(": hello bot")


async def test_long_mention_answer_continues_in_replies_to_its_own_parts(env: BotEnv) -> None:
    channel = env.discord.add_channel("mentions")
    env.api.enqueue("/chat/completions", Reply(" ".join(["chunky"] * 700)))
    sent = await env.discord.send_message(
        f"<@{env.discord.bot_user_id}> long please", mentions_bot=True, channel_id=channel
    )

    def chain() -> list[FakeMessage]:
        """The bot's replies: the first under the prompt, each next one under the last."""
        parts, parent = [], str(sent["id"])
        by_parent = {
            (m.message_reference or {}).get("message_id"): m
            for m in env.discord.bot_messages(channel)
        }
        while parent in by_parent:
            parts.append(by_parent[parent])
            parent = str(parts[-1].id)
        return parts

    expected = ["chunky"] * 700
    await env.discord.wait_for(lambda: " ".join(m.content for m in chain()).split() == expected)
    assert len(chain()) == 3
    assert all(len(part.content) <= 2000 for part in chain())


async def test_direct_messages_are_answered_without_a_mention(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", Reply("DM answer"))
    sent = await env.discord.send_message("just a dm", channel_id=env.discord.dm_channel_id)
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: reply.content == "DM answer")


async def test_messages_without_a_mention_are_ignored(env: BotEnv) -> None:
    before = len(env.api.calls("/chat/completions"))
    sent = await env.discord.send_message(
        "talking to humans", channel_id=env.discord.other_channel_id
    )
    probe = await env.discord.send_message(
        f"<@{env.discord.bot_user_id}> ping",
        mentions_bot=True,
        channel_id=env.discord.other_channel_id,
    )
    await env.discord.wait_reply(probe)  # processed after the first message
    assert not [
        m
        for m in env.discord.bot_messages()
        if (m.message_reference or {}).get("message_id") == str(sent["id"])
    ]
    assert len(env.api.calls("/chat/completions")) == before + 1


async def test_usage_ledger_settles_answers_and_refunds_failures(env: BotEnv) -> None:
    db = env.bot.store
    before = await db.fetch_value("SELECT COUNT(*) FROM usage")
    await ask(env, "ledger ok")
    env.api.enqueue("/chat/completions", Error(402))
    await ask(env, "ledger fail")
    rows = await db.fetch_all("SELECT outcome, units, feature FROM usage ORDER BY id DESC LIMIT 2")
    assert [tuple(r) for r in rows] == [("refunded", 1.0, "ask"), ("ok", 1.0, "ask")]
    assert await db.fetch_value("SELECT COUNT(*) FROM usage") == before + 2


async def test_answer_deleted_while_streaming_ends_quietly(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    channel = env.discord.add_channel("deleted")
    env.api.chunk_delay_s = 0.01
    env.api.enqueue("/chat/completions", Reply(" ".join(["slow"] * 300)))
    inter = await env.discord.invoke("ask", {"prompt": "long one"}, channel_id=channel)
    await inter.wait_done(lambda i: i.original is not None and "slow" in i.original.content)
    assert inter.original is not None
    with LogWatch("bot.interactions.replies", "can no longer be answered") as ended:
        await env.discord.delete_message(inter.original.id)
        await ended.wait()
    assert not tracebacks(caplog)
    assert not inter.followups, "a deleted answer gets no error message after it"
    assert await env.bot.history.recent(channel, 10) == []
