"""/settings end to end: server defaults reach the API, voice notes, alerts (channel modes and
personas: tests/e2e/test_chat_modes.py and test_personas.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env, inflight_cap
from tests.e2e.moderation_support import (
    NO_PERMISSION,
    add_channel,
    moderate,
    outcome,
    run,
    text_of,
)
from tests.fakes.nexai import Error, RecordedRequest

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]

OUT_OF_CREDITS = (
    "The bot's nexai account is out of credits, so I can't answer right now. "
    "Please let the bot's operator know."
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("settings") / "nexbot.db") as e:
        yield e


def chat_request_with(env: BotEnv, text: str) -> RecordedRequest:
    return next(
        r
        for r in env.api.calls("/chat/completions")
        if text in str(((r.json or {}).get("messages") or [{}])[-1].get("content"))
    )


async def test_members_without_manage_server_cannot_change_settings(env: BotEnv) -> None:
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("chat-model", {"model": "gpt-4o"}),
        ("system-prompt", {"text": "Be rude."}),
        ("alerts", {"channel": env.discord.channel_id}),
        ("show", {}),
    ]
    for sub, options in attempts:
        inter = await run(env, "settings", options, subcommand=sub)
        assert outcome(inter).ephemeral and outcome(inter).content == NO_PERMISSION
    assert await env.bot.guild_settings.get(env.discord.guild_id) == (
        await env.bot.guild_settings.get(None)
    )


async def test_the_servers_model_and_system_prompt_reach_the_api(env: BotEnv) -> None:
    set_model = await moderate(env, "settings", "chat-model", {"model": "gpt-4o"})
    assert set_model.content == "The chat model is now `gpt-4o`."
    set_prompt = await moderate(env, "settings", "system-prompt", {"text": "You are a pirate."})
    assert set_prompt.content == "The system prompt is set (17 characters)."

    await run(env, "ask", {"prompt": "ahoy slash"})
    sent = await env.discord.send_message("ahoy mention", mentions_bot=True)
    await env.discord.wait_reply(sent)
    for prompt in ("ahoy slash", "ahoy mention"):
        body = chat_request_with(env, prompt).json or {}
        assert body["model"] == "gpt-4o"
        assert body["messages"][0] == {"role": "system", "content": "You are a pirate."}

    reset = await moderate(env, "settings", "chat-model")
    assert reset.content == "The chat model is back to the bot's default (`gpt-4o-mini`)."
    await moderate(env, "settings", "system-prompt")
    await run(env, "ask", {"prompt": "plain again"})
    body = chat_request_with(env, "plain again").json or {}
    assert body["model"] == env.settings.default_chat_model
    assert body["messages"][0]["content"] == env.settings.system_prompt


async def test_models_a_server_picks_must_exist(env: BotEnv) -> None:
    chat = await moderate(env, "settings", "chat-model", {"model": "whisper-1"})
    assert chat.content.startswith("The model `whisper-1` isn't available for chat.")
    image = await moderate(env, "settings", "image-model", {"model": "gpt-4o"})
    assert image.content.startswith("The model `gpt-4o` isn't an image model this bot offers.")
    ok = await moderate(env, "settings", "image-model", {"model": "gpt-image-1.5"})
    assert ok.content == "The image model is now `gpt-image-1.5`."
    assert (await env.bot.guild_settings.get(env.discord.guild_id)).image_model == "gpt-image-1.5"


async def test_show_lists_every_setting(env: BotEnv) -> None:
    voice = await add_channel(env, "voice-notes")
    turned_on = await moderate(env, "settings", "voice-notes", {"channel": voice})
    assert turned_on.content == f"Voice messages in <#{voice}> will be transcribed."
    await moderate(env, "settings", "chat-mode", {"mode": "every"})
    shown = text_of(await moderate(env, "settings", "show"))
    assert "Chat model\n`gpt-4o-mini` (the bot's default)" in shown
    assert "Image model\n`gpt-image-1.5`" in shown
    assert "System prompt\nThe bot's default." in shown
    assert "Where I answer\nmentions and replies to me, where no channel says otherwise" in shown
    assert (
        f"Channels with their own chat settings\n<#{env.discord.channel_id}> (every message)"
        in shown
    )
    assert f"Voice notes transcribed in\n<#{voice}>" in shown
    assert "API alerts go to\nnowhere (off)" in shown
    await moderate(env, "settings", "chat-mode", {"mode": "inherit"})
    off = await moderate(env, "settings", "voice-notes", {"channel": voice, "transcribe": False})
    assert off.content == f"Voice messages in <#{voice}> won't be transcribed any more."


async def test_repeated_402s_post_one_alert_per_hour(env: BotEnv) -> None:
    alerts = await add_channel(env, "bot-alerts")
    confirmation = await moderate(env, "settings", "alerts", {"channel": alerts})
    assert confirmation.content.startswith("When nexai refuses the bot's key or credit")
    env.api.enqueue("/chat/completions", *[Error(402, "insufficient credits")] * 3)
    with inflight_cap(env.bot, 3):
        inters = await asyncio.gather(
            *(run(env, "ask", {"prompt": f"broke {i}"}) for i in range(3))
        )
    for inter in inters:
        assert outcome(inter).ephemeral and outcome(inter).content == OUT_OF_CREDITS
    posted = env.discord.bot_messages(alerts)
    assert len(posted) == 1
    assert posted[0].content.startswith("⚠️ **The bot's nexai account is out of credits.**")
    assert posted[0].content.endswith("(I won't repeat this alert for an hour.)")

    env.api.enqueue("/chat/completions", Error(401, "bad key"))
    await run(env, "ask", {"prompt": "bad key"})
    posted = env.discord.bot_messages(alerts)
    assert len(posted) == 2 and "(401)" in posted[1].content

    await moderate(env, "settings", "alerts")
    env.api.enqueue("/chat/completions", Error(403, "suspended"))
    await run(env, "ask", {"prompt": "suspended"})
    assert len(env.discord.bot_messages(alerts)) == 2
