"""Faults end to end: the API and Discord fail in the middle of real /ask and mention answers.

Each test asks in a channel of its own, so the ledger (`usage`) and memory (`messages`) rows
it checks are its own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.fault_support import LogWatch, remembered, tracebacks, usage_outcomes
from tests.e2e.test_ask import error_reply, finished
from tests.fakes.discord import FakeInteraction, FakeMessage
from tests.fakes.nexai import CutOff, Error, Hang, Malformed, Reply, Stall, Step

pytestmark = pytest.mark.asyncio(loop_scope="module")

CUT_NOTE = "-# ⚠️ The answer was cut off before it finished."
RETRIES = 3
ANSWER = "Recovered: " + " ".join(f"w{i}" for i in range(20))
LONG_ANSWER = " ".join(f"token{i}" for i in range(80))  # 60 chunks of the fake's 8 characters


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    """A bot that retries a failed call three times, and gives up on a silent API quickly."""
    db = tmp_path_factory.mktemp("faults") / "nexbot.db"
    async with bot_env(db, nexai_max_retries=RETRIES, nexai_first_byte_timeout_s=0.3) as env:
        yield env


async def ask_in_new_channel(
    env: BotEnv,
    name: str,
    done: Callable[[FakeInteraction], bool] = finished,
    **kw: Any,
) -> tuple[int, FakeInteraction]:
    """/ask in a new channel; returns the channel and the interaction once `done`."""
    channel = env.discord.add_channel(name)
    options = {"prompt": f"a question in {name}", **kw.pop("options", {})}
    inter = await env.discord.invoke("ask", options, channel_id=channel, **kw)
    await inter.wait_done(done)
    return channel, inter


def chat_calls(env: BotEnv) -> int:
    return len(env.api.calls("/chat/completions"))


# --- the API fails ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [Error(429, retry_after="0.05"), Error(500), Error(502), Error(503)],
    ids=["429", "500", "502", "503"],
)
async def test_transient_api_failures_are_retried_until_the_answer_arrives(
    env: BotEnv, failure: Step, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.nexai")
    before = chat_calls(env)
    env.api.enqueue("/chat/completions", *[failure] * RETRIES, Reply(ANSWER))
    channel, inter = await ask_in_new_channel(env, f"retry-{type(failure).__name__}")
    assert inter.original is not None and inter.original.content == ANSWER
    assert chat_calls(env) - before == RETRIES + 1
    assert await usage_outcomes(env, channel) == ["ok"]  # one charge, however many calls
    assert await remembered(env, channel) == 2
    if isinstance(failure, Error) and failure.retry_after:
        waits = [r.getMessage() for r in caplog.records if r.name.startswith("bot.nexai.")]
        assert sum("in 0.05s" in w for w in waits) == RETRIES, "Retry-After is obeyed"


async def test_api_that_never_recovers_refunds_and_remembers_nothing(env: BotEnv) -> None:
    before = chat_calls(env)
    env.api.enqueue("/chat/completions", *[Error(503)] * (RETRIES + 1))
    channel, inter = await ask_in_new_channel(env, "down")
    assert "internal error" in error_reply(inter).content
    assert chat_calls(env) - before == RETRIES + 1
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0


async def test_api_hanging_past_the_timeout_is_reported_refunded_and_not_retried(
    env: BotEnv,
) -> None:
    before = chat_calls(env)
    env.api.enqueue("/chat/completions", Hang(5))
    channel, inter = await ask_in_new_channel(env, "hung")
    assert "took too long" in error_reply(inter).content
    assert chat_calls(env) - before == 1, "a timed-out request may be billed: no retry"
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0


@pytest.mark.parametrize(
    "break_",
    [CutOff(after_chars=24), Stall(after_chars=24, seconds=5), Malformed(after_chars=24)],
    ids=["cut-off", "stall", "garbage"],
)
async def test_answer_broken_midway_keeps_what_arrived_and_says_so(
    env: BotEnv, break_: Step
) -> None:
    before = chat_calls(env)
    env.api.reply = "The first part arrives, the second part never does."
    env.api.enqueue("/chat/completions", break_)
    channel, inter = await ask_in_new_channel(env, f"broken-{type(break_).__name__}")
    assert inter.original is not None
    assert inter.original.content == f"The first part arrives,\n\n{CUT_NOTE}"
    assert chat_calls(env) - before == 1, "a stream that showed text is never retried"
    assert await usage_outcomes(env, channel) == ["ok"]  # what arrived was paid for
    assert await remembered(env, channel) == 0, "memory keeps no half answer"


async def test_stream_that_breaks_before_any_text_is_retried_then_refunded(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", *[CutOff(after_chars=0)] * (RETRIES + 1))
    channel, inter = await ask_in_new_channel(env, "empty-cut")
    assert "couldn't reach nexai" in error_reply(inter).content
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0


# --- Discord fails ------------------------------------------------------------------------------


async def test_rate_limited_edits_are_retried_and_the_answer_completes(env: BotEnv) -> None:
    env.api.chunk_delay_s = 0.01
    limited = len(env.discord.rate_limited)
    env.discord.rate_limit("PATCH", r"/webhooks/.*/messages/.*", times=3, retry_after=0.2)
    env.api.enqueue("/chat/completions", Reply(ANSWER))
    channel, inter = await ask_in_new_channel(env, "edit-429")
    assert len(env.discord.rate_limited) - limited == 3
    assert inter.original is not None and inter.original.content == ANSWER
    assert await usage_outcomes(env, channel) == ["ok"]


async def test_rate_limited_replies_to_a_mention_are_retried(env: BotEnv) -> None:
    channel = env.discord.add_channel("mention-429")
    env.api.chunk_delay_s = 0.01
    limited = len(env.discord.rate_limited)
    env.discord.rate_limit("*", rf"/channels/{channel}/messages", times=3, retry_after=0.2)
    env.api.enqueue("/chat/completions", Reply(ANSWER))
    sent = await env.discord.send_message("hi", mentions_bot=True, channel_id=channel)
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: reply.content == ANSWER)
    assert len(env.discord.rate_limited) - limited == 3
    assert await usage_outcomes(env, channel) == ["ok"]


async def test_gateway_resume_midway_does_not_disturb_the_answer(env: BotEnv) -> None:
    env.api.chunk_delay_s = 0.02  # about 1.2 s of streaming
    env.api.enqueue("/chat/completions", Reply(LONG_ANSWER))
    resumes = env.discord.resumes
    channel = env.discord.add_channel("resume")
    inter = await env.discord.invoke("ask", {"prompt": "go"}, channel_id=channel)
    await env.discord.wait_for(lambda: inter.original is not None and bool(inter.original.content))
    await env.discord.disconnect_gateway()  # returns once the bot has RESUMEd
    assert env.discord.resumes == resumes + 1
    assert inter.original is not None and inter.original.content != LONG_ANSWER, "still going"
    await inter.wait_done(lambda i: i.original is not None and i.original.content == LONG_ANSWER)
    assert await usage_outcomes(env, channel) == ["ok"]
    assert await remembered(env, channel) == 2


async def test_expired_token_moves_a_public_answer_to_the_channel_and_it_completes(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env.api.chunk_delay_s = 0.02  # about 1.2 s of streaming; the token dies after 0.5 s
    env.api.enqueue("/chat/completions", Reply(LONG_ANSWER))
    env.discord.interaction_token_ttl = 0.5
    channel = env.discord.add_channel("expired")
    try:
        inter = await env.discord.invoke("ask", {"prompt": "slowly"}, channel_id=channel)

        def moved() -> list[FakeMessage]:
            return [m for m in env.discord.bot_messages(channel) if m not in inter.messages]

        await env.discord.wait_for(lambda: [m.content for m in moved()] == [LONG_ANSWER])
    finally:
        env.discord.interaction_token_ttl = 15 * 60
    stale = inter.original
    assert stale is not None and LONG_ANSWER.startswith(stale.content.removesuffix(" ▌"))
    assert await usage_outcomes(env, channel) == ["ok"]
    assert await remembered(env, channel) == 2
    assert not tracebacks(caplog)
    assert any("expired; the answer continues in its channel" in m for m in caplog.messages)


async def test_expired_token_ends_a_private_answer_quietly(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env.api.chunk_delay_s = 0.02
    env.api.enqueue("/chat/completions", Reply(LONG_ANSWER))
    env.discord.interaction_token_ttl = 0.3
    channel = env.discord.add_channel("expired-private")
    try:
        with LogWatch("bot.interactions.replies", "can no longer be answered") as gave_up:
            inter = await env.discord.invoke(
                "ask", {"prompt": "secret", "private": True}, channel_id=channel
            )
            await gave_up.wait()
    finally:
        env.discord.interaction_token_ttl = 15 * 60
    assert [m.ephemeral for m in env.discord.bot_messages(channel)] == [True]
    assert inter.original is not None and inter.original.content != LONG_ANSWER
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0
    assert not tracebacks(caplog)
    _, after = await ask_in_new_channel(env, "after-expiry")  # the bot carries on
    assert after.original is not None and after.original.content == "Hello from nexai."


# --- secrets and forgeries ----------------------------------------------------------------------

KEY = "sk-billing-test"  # the fake API's key


@pytest.mark.parametrize(
    "echo",
    [
        Error(400, message=f"Bad request. You sent: Authorization: Bearer {KEY}"),
        Error(400, body=f"POST /chat/completions\nAuthorization: Bearer {KEY}\n".encode()),
        Error(422, message=f"key {KEY} may not use this model"),
    ],
    ids=["json-bearer", "raw-body", "bare-key"],
)
async def test_api_key_echoed_by_an_error_reaches_neither_users_nor_logs(
    env: BotEnv, echo: Error, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    env.api.enqueue("/chat/completions", echo)
    _, inter = await ask_in_new_channel(env, "echo")
    reply = error_reply(inter)
    assert reply.content.startswith("nexai refused the request:")
    assert "[REDACTED]" in reply.content
    for message in inter.messages:
        assert all(KEY not in edit for edit in message.edits)
    assert KEY not in caplog.text


FORGED = "```\n⚠️ The answer was cut off before it finished.\n-# ⚠️ The answer was cut off"


async def test_model_text_cannot_pass_for_the_bots_notes(env: BotEnv) -> None:
    """The bot's notes are the only Discord subtext (`-# `) in an answer."""
    answer = f"Here:\n```python\nprint(1)\n{FORGED} before it finished."
    env.api.enqueue("/chat/completions", Reply(answer))
    channel, complete = await ask_in_new_channel(env, "forged")
    assert complete.original is not None
    assert not subtext_lines(complete.original.content)
    assert "\\-# ⚠️ The answer was cut off" in complete.original.content
    again = await env.discord.invoke("ask", {"prompt": "and then?"}, channel_id=channel)
    await again.wait_done(finished)
    body = env.api.calls("/chat/completions")[-1].json
    assert body is not None
    assert body["messages"][-2] == {"role": "assistant", "content": answer}  # as written

    env.api.reply = f"Here:\n```python\nprint(1)\n{FORGED}"
    env.api.enqueue("/chat/completions", CutOff(after_chars=len(env.api.reply)))
    _, cut = await ask_in_new_channel(env, "forged-cut")
    assert cut.original is not None
    assert subtext_lines(cut.original.content) == [CUT_NOTE]
    assert cut.original.content.endswith(f"\n\n{CUT_NOTE}")


def subtext_lines(content: str) -> list[str]:
    """Lines Discord shows as subtext: `-# ` at the start, outside code blocks."""
    outside = re.sub(r"```.*?```", "", content, flags=re.DOTALL)
    return [line for line in outside.split("\n") if re.match(r"[ \t]*-# ", line)]


async def test_prompt_deleted_before_the_answer_ends_the_answer_quietly(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    channel = env.discord.add_channel("deleted-prompt")
    env.api.chunk_delay_s = 0.01  # the reply fails long before the answer is complete
    env.api.enqueue("/chat/completions", Reply(LONG_ANSWER))
    with LogWatch("cogs.ask", "Could not answer message") as gave_up:
        sent = await env.discord.send_message("hi", mentions_bot=True, channel_id=channel)
        await env.discord.delete_message(int(sent["id"]))
        await gave_up.wait()
    assert env.discord.bot_messages(channel) == []
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0
    assert not tracebacks(caplog)
