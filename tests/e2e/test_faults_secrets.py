"""A whole bot run logged at DEBUG, through faults, never logs the Discord token or the API key.

Its own bot, started inside the test, so the log covers login, command sync and shutdown too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.e2e.conftest import bot_env
from tests.e2e.test_ask import error_reply, finished
from tests.fakes.nexai import CutOff, Error

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_secrets_never_reach_the_logs_in_a_whole_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with bot_env(tmp_path / "nexbot.db") as env:
        key, token = env.api.api_key, env.discord.token
        env.api.enqueue(
            "/chat/completions",
            Error(400, message=f"You sent Authorization: Bearer {key}"),
            CutOff(after_chars=10),
        )
        refused = await env.discord.invoke("ask", {"prompt": "one"})
        await refused.wait_done(finished)
        assert key not in error_reply(refused).content

        env.api.chunk_delay_s = 0.01
        env.api.reply = " ".join(["streaming"] * 30)
        cut = await env.discord.invoke("ask", {"prompt": "two"})
        await env.discord.wait_for(lambda: cut.original is not None and bool(cut.original.content))
        await env.discord.disconnect_gateway()  # RESUME sends the token again
        await cut.wait_done(finished)

        sent = await env.discord.send_message("three", mentions_bot=True)
        await env.discord.wait_reply(sent)
    assert any("RESUME" in m for m in caplog.messages), "the log covers the reconnection"
    assert token not in caplog.text
    assert key not in caplog.text
