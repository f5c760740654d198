"""Streaming under Discord's real rate limits: the fake's default budgets and clock
(5 edits per 5 s per channel or interaction token), and the bot's production edit interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot.render.reply import EDIT_INTERVAL_S
from bot.render.targets import TYPING_AFTER_S
from tests.e2e.conftest import BotEnv, bot_env
from tests.fakes.discord import FakeInteraction, FakeMessage
from tests.fakes.nexai import Reply, count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKENS = 300
TOKENS_PER_S = 150  # a fast model: the stream lasts 2 s
#: "The final text within about a second of the stream's end": one edit interval, plus room
#: for a slow test machine.
FINAL_TEXT_WITHIN_S = EDIT_INTERVAL_S + 0.5


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    db = tmp_path_factory.mktemp("rate-limits") / "nexbot.db"
    async with bot_env(db, time_scale=1.0, stream_edit_interval_s=EDIT_INTERVAL_S) as e:
        yield e


def answer_text() -> str:
    words = [f"w{n:03d}" for n in range(TOKENS)]
    text = " ".join(words)
    assert count_tokens(text) == TOKENS
    return text


async def stream_end(env: BotEnv) -> float:
    """When the API finished sending the (only) chat stream now running (polled: the fake API
    has no event for it)."""
    loop = asyncio.get_running_loop()
    path = "/chat/completions"
    for running in (False, True):
        while bool(env.api.in_flight[path]) is running:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
    return loop.time()


async def stream_and_measure(
    env: BotEnv, start: Callable[[], object], final: Callable[[], FakeMessage | None]
) -> tuple[FakeMessage, float]:
    """Run a 300-token stream; return the finished message and the seconds from the stream's
    end to the final text on Discord."""
    text = answer_text()
    env.api.enqueue("/chat/completions", Reply(text))
    env.api.chunk_size = len("w000 ")  # one token per event
    env.api.chunk_delay_s = 1 / TOKENS_PER_S
    loop = asyncio.get_running_loop()
    ended = asyncio.create_task(stream_end(env))
    try:
        await start()  # type: ignore[misc]
        await env.discord.wait_for(lambda: (m := final()) is not None and m.content == text, 15)
        shown_at = loop.time()
        end = await ended
    finally:
        env.api.chunk_size = 8
        ended.cancel()
    message = final()
    assert message is not None
    # discord.py returns from the last edit only once its spent bucket has reset: let the
    # command finish before the next test (or the module's teardown) begins
    assert await env.bot.admission.wait_idle(10)
    return message, shown_at - end


async def test_a_300_token_mention_answer_streams_within_the_channels_edit_budget(
    env: BotEnv,
) -> None:
    limited = len(env.discord.rate_limited)
    sent: dict[str, object] = {}

    async def start() -> None:
        sent.update(await env.discord.send_message("count to 300", mentions_bot=True))

    def final() -> FakeMessage | None:
        replies = [
            m
            for m in env.discord.bot_messages(env.discord.channel_id)
            if sent and (m.message_reference or {}).get("message_id") == sent["id"]
        ]
        return replies[0] if replies else None

    message, lag_s = await stream_and_measure(env, start, final)

    assert env.discord.rate_limited[limited:] == []  # no 429
    assert len(message.edits) >= 3  # it streamed (about once a second), not one late edit
    assert lag_s <= FINAL_TEXT_WITHIN_S
    print(f"mention: {len(message.edits)} versions, final text {lag_s:.2f} s after the stream")


async def test_a_300_token_ask_answer_streams_within_the_interactions_edit_budget(
    env: BotEnv,
) -> None:
    limited = len(env.discord.rate_limited)
    started: list[FakeInteraction] = []

    async def start() -> None:
        started.append(await env.discord.invoke("ask", {"prompt": "count to 300"}))

    def final() -> FakeMessage | None:
        return started[0].original if started else None

    message, lag_s = await stream_and_measure(env, start, final)

    assert env.discord.rate_limited[limited:] == []
    assert len(message.edits) >= 3
    assert lag_s <= FINAL_TEXT_WITHIN_S
    print(f"/ask: {len(message.edits)} versions, final text {lag_s:.2f} s after the stream")


def requests_in(env: BotEnv, channel: int, since: int) -> list[tuple[str, str]]:
    prefix = f"/channels/{channel}/"
    return [(m, p) for m, p in env.discord.requests[since:] if p.startswith(prefix)]


async def test_a_quick_mention_answer_shows_no_typing_indicator(env: BotEnv) -> None:
    """Should spend no request on "typing" when the first reply goes out within a second."""
    channel = env.discord.add_channel("quick")
    since = len(env.discord.requests)
    env.api.enqueue("/chat/completions", Reply("Quick answer."))
    sent = await env.discord.send_message("hi", mentions_bot=True, channel_id=channel)
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: reply.content == "Quick answer.", 5)
    assert await env.bot.admission.wait_idle(10)
    requests = requests_in(env, channel, since)
    assert ("POST", f"/channels/{channel}/typing") not in requests
    # The reply (with Stop), at most one edit that ends it, and the one that puts the
    # finished answer's buttons.
    assert len(requests) <= 3


async def test_a_slow_first_token_shows_typing_once_until_the_reply(tmp_path: Path) -> None:
    async with bot_env(tmp_path / "nexbot.db", time_scale=1.0, nexai_first_byte_timeout_s=5) as env:
        channel = env.discord.add_channel("slow")
        since = len(env.discord.requests)
        env.api.enqueue("/chat/completions", Reply("Slow answer.", think_s=TYPING_AFTER_S + 0.6))
        sent = await env.discord.send_message("hi", mentions_bot=True, channel_id=channel)
        reply = await env.discord.wait_reply(sent, timeout=10)
        await env.discord.wait_for(lambda: reply.content == "Slow answer.", 5)
        assert await env.bot.admission.wait_idle(10)
        requests = requests_in(env, channel, since)
    assert requests.count(("POST", f"/channels/{channel}/typing")) == 1
    assert requests[0] == ("POST", f"/channels/{channel}/typing")


async def test_a_crowd_of_mentions_past_the_global_limit_is_answered_without_a_429(
    env: BotEnv,
) -> None:
    """Should answer 100 mentions at once (about 200 requests under Discord's 50 a second)
    while staying under the global limit: no 429, so discord.py never gives up on a reply."""
    crowd = 100
    channels = [env.discord.add_channel(f"crowd-{i}") for i in range(crowd)]
    members = [env.discord.add_member(name=f"crowd{i}") for i in range(crowd)]
    limited = len(env.discord.rate_limited)
    for _ in channels:
        env.api.enqueue("/chat/completions", Reply("Crowd answer."))
    sent = await asyncio.gather(
        *(
            env.discord.send_message("hi", mentions_bot=True, channel_id=c, user_id=m)
            for c, m in zip(channels, members, strict=True)
        )
    )

    def answered() -> int:
        return sum(
            1
            for message, channel in zip(sent, channels, strict=True)
            for reply in env.discord.bot_messages(channel)
            if (reply.message_reference or {}).get("message_id") == message["id"]
            and reply.content == "Crowd answer."
        )

    await env.discord.wait_for(lambda: answered() == crowd, 30)
    assert await env.bot.admission.wait_idle(10)
    assert env.discord.rate_limited[limited:] == []
