"""Personas end to end: the most specific place's system prompt, model and temperature reach the
API (thread > channel > category > server > the bot's), with their variables filled; members
see what applies; models that take no temperature get none; the server's limits still apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.moderation_support import (
    NO_PERMISSION,
    add_channel,
    moderate,
    outcome,
    run,
    text_of,
    wait_answer,
)
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("personas") / "nexbot.db") as e:
        yield e


async def asked_in(env: BotEnv, channel_id: int, text: str) -> dict[str, Any]:
    """A mention in `channel_id`, answered; the request that reached the API."""
    env.api.enqueue("/chat/completions", Reply("ok"))
    sent = await env.discord.send_message(text, channel_id=channel_id, mentions_bot=True)
    await wait_answer(env, sent)
    return env.api.calls("/chat/completions")[-1].json or {}


async def persona(env: BotEnv, channel_id: int, **options: Any) -> str:
    said = await moderate(env, "settings", "persona", {"channel": channel_id, **options})
    return said.content


async def test_the_most_specific_persona_applies_setting_by_setting(env: BotEnv) -> None:
    category = env.discord.add_category("Study")
    await env.bot.wait_for("guild_channel_create", check=lambda c: c.id == category, timeout=5)
    channel = env.discord.add_channel("maths", category_id=category)
    await env.bot.wait_for("guild_channel_create", check=lambda c: c.id == channel, timeout=5)
    await moderate(env, "settings", "system-prompt", {"text": "Server prompt."})
    await moderate(env, "settings", "temperature", {"value": 1.2})
    try:
        said = await persona(env, category, prompt="Tutor in #{channel} of {server}.")
        assert said.startswith(f"The persona of <#{category}> is set.")
        await persona(env, channel, model="gpt-4o", temperature=0.3)
        thread_id = env.discord.start_thread("homework", channel_id=channel)
        await env.bot.wait_for("thread_create", check=lambda t: t.id == thread_id, timeout=5)
        await persona(env, thread_id, prompt="Help {user} on {date} ({locale}).")

        in_channel = await asked_in(env, channel, "what is a prime?")
        assert in_channel["messages"][0]["content"] == "Tutor in #maths of Fake Guild."
        assert (in_channel["model"], in_channel["temperature"]) == ("gpt-4o", 0.3)

        in_thread = await asked_in(env, thread_id, "is 7 prime?")
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        assert in_thread["messages"][0]["content"] == f"Help Member on {today} (en-US)."
        assert (in_thread["model"], in_thread["temperature"]) == ("gpt-4o", 0.3)

        elsewhere = await asked_in(env, env.discord.channel_id, "and here?")
        assert elsewhere["messages"][0]["content"] == "Server prompt."
        assert elsewhere["model"] == env.settings.default_chat_model
        assert elsewhere["temperature"] == 1.2

        reset = await persona(env, channel, reset="all")
        assert reset.startswith(f"<#{channel}> now has the persona of the place above it.")
        after = await asked_in(env, channel, "and now?")
        assert after["model"] == env.settings.default_chat_model
        assert after["temperature"] == 1.2
    finally:
        await moderate(env, "settings", "system-prompt")
        await moderate(env, "settings", "temperature")


async def test_ask_uses_the_persona_of_where_it_is_run(env: BotEnv) -> None:
    channel = await add_channel(env, "pirates")
    await persona(env, channel, prompt="Talk like a pirate to {user}.", temperature=0.9)
    env.api.enqueue("/chat/completions", Reply("Arr."))
    await run(env, "ask", {"prompt": "hello"}, channel_id=channel)
    body = env.api.calls("/chat/completions")[-1].json or {}
    assert body["messages"][0]["content"] == "Talk like a pirate to Member."
    assert body["temperature"] == 0.9


async def test_members_see_what_applies_where_they_are(env: BotEnv) -> None:
    channel = await add_channel(env, "visible")
    await persona(env, channel, model="gpt-4o", prompt="Be kind.")
    await moderate(env, "settings", "chat-mode", {"mode": "every", "channel": channel})
    shown = outcome(await run(env, "persona", subcommand="show", channel_id=channel))
    assert shown.ephemeral
    text = text_of(shown)
    assert "I answer\nevery message (set for this channel)" in text
    assert "Model\n`gpt-4o` (set for this channel)" in text
    assert "Temperature\nthe model's default (the bot's default)" in text
    assert "System prompt (set for this channel)\n>>> Be kind." in text
    assert "`{user}`" in text


async def test_a_model_that_takes_no_temperature_is_sent_none(env: BotEnv) -> None:
    channel = await add_channel(env, "reasoning")
    said = await persona(env, channel, model="gpt-5.4-mini", temperature=0.4)
    assert "`gpt-5.4-mini` takes no temperature, so it is not sent to it." in said
    body = await asked_in(env, channel, "think hard")
    assert body["model"] == "gpt-5.4-mini" and "temperature" not in body


async def test_bad_persona_input_gets_a_clear_message(env: BotEnv) -> None:
    nothing = await persona(env, env.discord.channel_id)
    assert nothing == "Give a prompt, a model or a temperature to set, or what to reset."
    unknown = await persona(env, env.discord.channel_id, model="whisper-1")
    assert unknown == "The model `whisper-1` isn't available for chat. Pick one from the list."
    assert await env.bot.chat_places.get(env.discord.guild_id, env.discord.channel_id) == (
        await env.bot.chat_places.get(env.discord.guild_id, 0)
    )


async def test_members_cannot_change_personas_or_modes(env: BotEnv) -> None:
    for sub, options in (
        ("persona", {"prompt": "Be rude."}),
        ("chat-mode", {"mode": "off"}),
        ("chat-defaults", {"threads": True}),
        ("temperature", {"value": 2.0}),
    ):
        inter = await run(env, "settings", options, subcommand=sub)
        assert outcome(inter).ephemeral and outcome(inter).content == NO_PERMISSION


async def test_the_servers_limits_apply_whatever_the_personas_model(env: BotEnv) -> None:
    channel = await add_channel(env, "limited")
    await persona(env, channel, model="gpt-4o")
    member = env.discord.add_member(name="limited")
    guild = env.discord.guild_id
    await env.bot.quotas.set_limit(guild, Limit("ask", "day", 1, "member", member), 1)
    env.api.enqueue("/chat/completions", Reply("first"))
    first = await run(env, "ask", {"prompt": "one"}, channel_id=channel, user_id=member)
    assert outcome(first).content == "first"
    second = await run(env, "ask", {"prompt": "two"}, channel_id=channel, user_id=member)
    assert outcome(second).ephemeral
    assert "limit" in outcome(second).content
