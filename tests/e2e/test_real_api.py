"""The API as it really behaves (issue 9), end to end: the real bot against the fake nexai
answering in OpenAI's shapes (see tests/fakes/nexai.py for each shape's source)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.fault_support import remembered, usage_outcomes
from tests.e2e.moderation_support import add_channel, moderate
from tests.e2e.test_ask import error_reply, finished
from tests.e2e.test_faults import ask_in_new_channel as ask_in_channel
from tests.fakes.discord import FakeInteraction
from tests.fakes.nexai import OUT_OF_CREDITS, Error, Reply, StreamError, count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHAT = "/chat/completions"
RESPONSES = "/responses"
#: Small budgets and limits, so that lengths and waits can be reached quickly.
SETTINGS: dict[str, Any] = {
    "answer_max_tokens": 16,
    "reasoning_max_tokens": 20,
    "chat_wait_s": 1.5,
    "reasoning_wait_s": 2.5,
    "wait_notice_after_s": 0.3,
    "nexai_first_byte_timeout_s": 0.9,
    "nexai_max_retries": 5,
}
LENGTH_NOTE = "-# ✂️ The answer reached its length limit. Ask me to continue."
OUT_OF_CREDITS_TEXT = "The bot's nexai account is out of credits"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("real-api") / "nexbot.db", **SETTINGS) as env:
        yield env


def words(count: int, word: str = "word") -> str:
    return " ".join(f"{word}{i}" for i in range(count))


def calls(env: BotEnv, path: str = CHAT) -> int:
    return len(env.api.calls(path))


async def ledger_rows(env: BotEnv, channel: int) -> list[tuple[Any, ...]]:
    rows = await env.bot.store.fetch_all(
        "SELECT outcome, tokens, tokens_estimated FROM usage WHERE channel_id = ? ORDER BY id",
        (channel,),
    )
    return [tuple(row) for row in rows]


def settled(inter: FakeInteraction) -> bool:
    """Finished, and showing more than a "Thinking… N s" status line."""
    original = inter.original
    waiting = (
        original is not None
        and not original.deleted
        and original.content.startswith(("-# Thinking", "-# Reasoning"))
    )
    return finished(inter) and not waiting


async def ask_in_new_channel(env: BotEnv, name: str, **kw: Any) -> tuple[int, FakeInteraction]:
    return await ask_in_channel(env, name, done=settled, **kw)


def answer_of(inter: FakeInteraction) -> str:
    assert inter.original is not None and not inter.original.deleted, inter
    return inter.original.content


# --- 2. gpt-5.x and o-series take max_completion_tokens ---------------------------------------


async def test_gpt5_models_get_max_completion_tokens_with_room_to_reason(env: BotEnv) -> None:
    """Should send `max_completion_tokens` (the answer's budget plus the reasoning's), never
    `max_tokens`, which gpt-5.x refuses with 400 unsupported_parameter."""
    _, inter = await ask_in_new_channel(env, "gpt5", options={"model": "gpt-5.4"})
    assert answer_of(inter) == "Hello from nexai."
    body = env.api.calls(CHAT)[-1].json
    assert body is not None and "max_tokens" not in body
    assert body["max_completion_tokens"] == 16 + 20


async def test_plain_models_keep_max_tokens(env: BotEnv) -> None:
    await ask_in_new_channel(env, "plain", options={"model": "gpt-4o"})
    body = env.api.calls(CHAT)[-1].json
    assert body is not None and body["max_tokens"] == 16


# --- 3 and the waits: silence, deadlines, the status line -------------------------------------


async def test_reasoning_model_silent_past_the_read_timeout_is_waited_for_once(
    env: BotEnv,
) -> None:
    """Should wait out a reasoning model's silence (longer than NEXAI_FIRST_BYTE_TIMEOUT_S and
    CHAT_WAIT_S)
    without retrying (a retry would bill again), showing "Reasoning… N s" meanwhile."""
    before = calls(env)
    env.api.enqueue(CHAT, Reply("Thought it through.", think_s=1.7))
    channel, inter = await ask_in_new_channel(env, "silent", options={"model": "gpt-5.4"})
    assert answer_of(inter) == "Thought it through."
    assert calls(env) - before == 1
    assert inter.original is not None
    assert next(edit for edit in inter.original.edits if edit) == "-# Reasoning… 1 s"
    assert await usage_outcomes(env, channel) == ["ok"]


async def test_reasoning_model_silent_past_its_wait_limit_is_told_and_refunded(
    env: BotEnv,
) -> None:
    before = calls(env)
    env.api.enqueue(CHAT, Reply("Too late.", think_s=10))
    started = time.monotonic()
    channel, inter = await ask_in_new_channel(env, "too-silent", options={"model": "gpt-5.4"})
    assert time.monotonic() - started < 5
    assert error_reply(inter).content == (
        "nexai did not answer in time (3 s). Please try again in a moment."
    )
    assert calls(env) - before == 1
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0


async def test_retries_never_keep_a_member_waiting_past_the_wait_limit(env: BotEnv) -> None:
    """Should end in a clear message within CHAT_WAIT_S (1.5 s here), however many retries
    the rate limits would allow."""
    env.api.enqueue(CHAT, *[Error(429, retry_after="0.4")] * 6)
    started = time.monotonic()
    channel, inter = await ask_in_new_channel(env, "deadline")
    assert time.monotonic() - started < 2.5
    assert error_reply(inter).content == (
        "nexai did not answer in time (2 s). Please try again in a moment."
    )
    assert await usage_outcomes(env, channel) == ["refunded"]
    assert await remembered(env, channel) == 0


async def test_a_slow_answer_shows_thinking_then_the_answer(env: BotEnv) -> None:
    env.api.enqueue(CHAT, Reply("Worth the wait.", think_s=0.7))
    _, inter = await ask_in_new_channel(env, "thinking")
    assert answer_of(inter) == "Worth the wait."
    assert inter.original is not None
    assert next(edit for edit in inter.original.edits if edit) == "-# Thinking… 1 s"


async def test_a_slow_answer_to_a_mention_shows_thinking_then_the_answer(env: BotEnv) -> None:
    env.api.enqueue(CHAT, Reply("Here I am.", think_s=0.7))
    sent = await env.discord.send_message(
        f"<@{env.discord.bot_user_id}> are you there?", mentions_bot=True
    )
    reply = await env.discord.wait_reply(sent)
    await env.discord.wait_for(lambda: reply.content == "Here I am.")
    assert reply.edits[0] == "-# Thinking… 1 s"


async def test_a_fast_answer_shows_no_status(env: BotEnv) -> None:
    _, inter = await ask_in_new_channel(env, "fast")
    assert inter.original is not None
    assert not any("Thinking" in edit for edit in inter.original.edits)


# --- 5. 429 insufficient_quota is out of credits ----------------------------------------------


async def test_429_out_of_credits_is_not_retried_and_alerts_the_moderators(env: BotEnv) -> None:
    alerts = await add_channel(env, "quota-alerts")
    await moderate(env, "settings", "alerts", {"channel": alerts})
    before = calls(env)
    env.api.enqueue(CHAT, OUT_OF_CREDITS, OUT_OF_CREDITS)
    channel, inter = await ask_in_new_channel(env, "no-credits")
    assert error_reply(inter).content.startswith(OUT_OF_CREDITS_TEXT)
    assert calls(env) - before == 1, "waiting does not bring credits back"
    assert await usage_outcomes(env, channel) == ["refunded"]
    [alert] = env.discord.bot_messages(alerts)
    assert alert.content.startswith("⚠️ **The bot's nexai account is out of credits.**")
    await moderate(env, "settings", "alerts")


# --- 6. inline reasoning without an opening tag -----------------------------------------------


async def test_inline_reasoning_without_an_opening_tag_is_hidden_and_not_remembered(
    env: BotEnv,
) -> None:
    env.api.chunk_size = 5  # the closing tag arrives split across chunks
    env.api.enqueue(CHAT, Reply("The answer is 4.", reasoning="my secret chain of thought"))
    channel, inter = await ask_in_new_channel(env, "r1", options={"model": "DeepSeek-R1"})
    env.api.chunk_size = 8
    assert answer_of(inter) == "The answer is 4."
    assert inter.original is not None
    assert not any("secret" in edit or "think" in edit for edit in inter.original.edits)
    [_, answer] = await env.bot.history.recent(channel, 10)
    assert answer.content == "The answer is 4."


async def test_inline_reasoning_as_a_field_is_hidden_too(env: BotEnv) -> None:
    env.api.reasoning_as_field = True
    env.api.enqueue(CHAT, Reply("Four.", reasoning="my secret chain of thought"))
    try:
        _, inter = await ask_in_new_channel(env, "r1-field", options={"model": "DeepSeek-R1"})
    finally:
        env.api.reasoning_as_field = False
    assert answer_of(inter) == "Four."


# --- 7. streams without usage -----------------------------------------------------------------


async def test_a_stream_without_usage_is_charged_an_estimate_marked_as_such(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.nexai._stream")
    env.api.drop_usage = True
    try:
        channel, _ = await ask_in_new_channel(env, "no-usage", options={"model": "gpt-4o"})
        await ask_in_new_channel(env, "no-usage-2", options={"model": "gpt-4o"})
    finally:
        env.api.drop_usage = False
    [(outcome, tokens, estimated)] = await ledger_rows(env, channel)
    assert outcome == "ok" and tokens > 0 and estimated == 1
    said = [r.getMessage() for r in caplog.records if "without token usage" in r.getMessage()]
    assert said == ["gpt-4o streams came without token usage: the ledger records estimates"]


async def test_a_stream_with_usage_records_the_apis_count(env: BotEnv) -> None:
    channel, _ = await ask_in_new_channel(env, "with-usage", options={"model": "gpt-4o"})
    [(outcome, tokens, estimated)] = await ledger_rows(env, channel)
    prompt = env.api.calls(CHAT)[-1].json
    assert prompt is not None
    expected = sum(count_tokens(str(m["content"])) for m in prompt["messages"]) + 3
    assert (outcome, tokens, estimated) == ("ok", expected, 0)


# --- 8. errors inside a stream keep their code ------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path", "error", "retried", "expected"),
    [
        ("gpt-4o-mini", CHAT, StreamError("rate_limit_exceeded", kind="requests"), True, None),
        (
            "gpt-4o-mini",
            CHAT,
            StreamError("invalid_prompt", "Prompt flagged", kind="invalid_request_error"),
            False,
            "nexai refused the request: Prompt flagged",
        ),
        ("gpt-5.3-codex", RESPONSES, StreamError("rate_limit_exceeded"), True, None),
        (
            "gpt-5.3-codex",
            RESPONSES,
            StreamError("server_error", failed=True),
            False,
            "nexai had an internal error",
        ),
    ],
    ids=["chat-429", "chat-400", "responses-429", "responses-failed"],
)
async def test_errors_inside_a_stream_keep_their_code(
    env: BotEnv, model: str, path: str, error: StreamError, retried: bool, expected: str | None
) -> None:
    """A rate limit inside a stream is retried like a 429 (the upstream refused the work);
    a bad request or a failed response is not (it would fail or bill again)."""
    before = calls(env, path)
    env.api.enqueue(path, error)
    channel, inter = await ask_in_new_channel(
        env, f"stream-error-{error.code}", options={"model": model}
    )
    assert calls(env, path) - before == (2 if retried else 1)
    if expected is None:
        assert answer_of(inter) == "Hello from nexai."
    else:
        assert error_reply(inter).content.startswith(expected)
        assert await usage_outcomes(env, channel) == ["refunded"]


# --- 9. rate-limit hints ----------------------------------------------------------------------


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]


async def test_a_429_with_only_x_ratelimit_reset_is_waited_out(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.nexai")
    hint = (("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "300ms"))
    env.api.enqueue(CHAT, Error(429, headers=hint))
    _, inter = await ask_in_new_channel(env, "reset-hint")
    assert answer_of(inter) == "Hello from nexai."
    [line] = retry_lines(caplog)
    assert "in 0.30s: rate limited (rate_limit_exceeded)" in line


async def test_a_429_whose_reset_is_minutes_away_is_told_at_once(env: BotEnv) -> None:
    before = calls(env)
    hint = (("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "6m0s"))
    env.api.enqueue(CHAT, Error(429, headers=hint))
    _, inter = await ask_in_new_channel(env, "reset-far")
    assert error_reply(inter).content == "nexai is busy right now. Please try again in 360 s."
    assert calls(env) - before == 1


async def test_a_503_with_retry_after_is_waited_out(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.nexai")
    env.api.enqueue(CHAT, Error(503, "overloaded", retry_after="0.3"))
    _, inter = await ask_in_new_channel(env, "503-hint")
    assert answer_of(inter) == "Hello from nexai."
    [line] = retry_lines(caplog)
    assert "in 0.30s: HTTP 503" in line


# --- 10. answers that end early say so --------------------------------------------------------


async def test_an_answer_cut_by_its_token_budget_says_so(env: BotEnv) -> None:
    env.api.enqueue(CHAT, Reply(words(30)))
    channel, inter = await ask_in_new_channel(env, "length")
    assert answer_of(inter) == f"{words(16)}\n\n{LENGTH_NOTE}"
    [_, answer] = await env.bot.history.recent(channel, 10)
    assert answer.content == words(16), "remembered, so that 'continue' can go on from it"


async def test_a_codex_answer_left_incomplete_says_so(env: BotEnv) -> None:
    env.api.enqueue(RESPONSES, Reply(words(60)))
    _, inter = await ask_in_new_channel(env, "incomplete", options={"model": "gpt-5.3-codex"})
    # 36 tokens of budget, 9 of them spent on hidden reasoning
    assert answer_of(inter) == f"{words(27)}\n\n{LENGTH_NOTE}"


async def test_a_reasoning_model_that_spent_its_budget_thinking_says_so(env: BotEnv) -> None:
    env.api.enqueue(CHAT, Reply("Never shown.", reasoning=words(50, "thought")))
    _, inter = await ask_in_new_channel(env, "spent", options={"model": "gpt-5.4"})
    assert answer_of(inter) == (
        "(The model returned an empty answer.)\n\n-# ⚠️ The model spent its whole token budget "
        "reasoning and wrote no answer. Try a narrower question."
    )


async def test_an_answer_stopped_by_the_content_filter_says_so(env: BotEnv) -> None:
    env.api.enqueue(CHAT, Reply("The first part", finish_reason="content_filter"))
    _, inter = await ask_in_new_channel(env, "filtered")
    assert answer_of(inter) == (
        "The first part\n\n-# ⚠️ nexai's content filter stopped the answer here."
    )


async def test_inline_reasoning_cut_by_the_budget_is_not_shown_as_the_answer(
    env: BotEnv,
) -> None:
    env.api.enqueue(CHAT, Reply("Never shown.", reasoning=words(60, "secret")))
    _, inter = await ask_in_new_channel(env, "r1-spent", options={"model": "DeepSeek-R1"})
    assert "secret" not in answer_of(inter)
    assert "spent its whole token budget reasoning" in answer_of(inter)


# --- 11. the whole Responses event sequence ----------------------------------------------------


async def test_codex_reasoning_summary_events_never_reach_the_answer(env: BotEnv) -> None:
    env.api.enqueue(RESPONSES, Reply("Codex answer.", reasoning="secret summary of thoughts"))
    _, inter = await ask_in_new_channel(env, "codex-summary", options={"model": "gpt-5.3-codex"})
    assert answer_of(inter) == "Codex answer."
    assert inter.original is not None
    assert not any("secret" in edit for edit in inter.original.edits)


# --- models the API does not serve ------------------------------------------------------------


async def test_a_configured_model_the_api_no_longer_serves_is_told_and_alerted_once(
    env: BotEnv,
) -> None:
    alerts = await add_channel(env, "model-alerts")
    await moderate(env, "settings", "alerts", {"channel": alerts})
    served = env.api.models
    env.api.models = [m for m in served if m["id"] != "gpt-4o-mini"]
    try:
        _, first = await ask_in_new_channel(env, "gone-1")
        _, second = await ask_in_new_channel(env, "gone-2")
    finally:
        env.api.models = served
        await moderate(env, "settings", "alerts")
    for inter in (first, second):
        assert error_reply(inter).content == (
            "The model `gpt-4o-mini` isn't available on nexai right now. "
            "The moderators have been told."
        )
    [alert] = env.discord.bot_messages(alerts)
    assert alert.content.startswith(
        "⚠️ **nexai does not serve the model `gpt-4o-mini`, which the bot is set to use.**"
    )
