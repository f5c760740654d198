"""/ask end to end: the real bot and cogs against the fake Discord and the fake nexai API."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import BotEnv
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_ask_streams_the_answer_into_the_deferred_response(env: BotEnv) -> None:
    env.api.enqueue("/chat/completions", Reply("The capital of France is Paris."))
    inter = await env.discord.invoke("ask", {"prompt": "Capital of France?"})
    await inter.wait_done(lambda i: i.original is not None and not i.original.loading and "Paris." in i.original.content)
    assert inter.response_type == 5
    assert inter.original is not None
    print(inter.original.edits)
    assert inter.original.content == "The capital of France is Paris."
