"""Operating the bot end to end: requests in flight per member, the heartbeat, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.health import check_heartbeat
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.test_ask import ask, finished
from tests.fakes.discord import FakeInteraction
from tests.fakes.nexai import DEFAULT_REPLY, Error, Pause

pytestmark = pytest.mark.asyncio(loop_scope="module")

BUSY = "You already have 2 requests running. Wait for one to finish."
POLL_S = 0.02


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    """A bot with metrics on a free loopback port, patient with paused answers."""
    db = tmp_path_factory.mktemp("operating") / "nexbot.db"
    overrides: dict[str, Any] = {
        "metrics_port": 0,
        "metrics_host": "127.0.0.1",
        "nexai_first_byte_timeout_s": 10,
    }
    async with bot_env(db, **overrides) as env:
        yield env


def streaming(inter: FakeInteraction) -> bool:
    """Part of the answer is shown, with the cursor saying more is coming."""
    return inter.original is not None and inter.original.content.endswith("▌")


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll `condition` (something the fakes do not announce) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"not true within {timeout_s} s: {condition}")
        await asyncio.sleep(POLL_S)


async def hold_two(env: BotEnv, member: int, resume: asyncio.Event) -> list[FakeInteraction]:
    """Two /ask of `member` streaming, paused until `resume` is set: the member's cap is full."""
    env.api.enqueue("/chat/completions", Pause(resume), Pause(resume))
    running = [
        await env.discord.invoke("ask", {"prompt": f"slow {i}"}, user_id=member) for i in (1, 2)
    ]
    for inter in running:
        await inter.wait_done(streaming)
    return running


# -- requests in flight per member -------------------------------------------------------------


async def test_a_members_third_request_is_refused_while_others_are_served(env: BotEnv) -> None:
    eager = env.discord.add_member(name="eager")
    patient = env.discord.add_member(name="patient")
    resume = asyncio.Event()
    running = await hold_two(env, eager, resume)
    calls = len(env.api.calls("/chat/completions"))

    third = await env.discord.invoke("ask", {"prompt": "question 3"}, user_id=eager)
    await third.wait_done()
    assert third.response_type == 4  # refused at once, never deferred
    assert third.original is not None and third.original.ephemeral
    assert third.original.content == BUSY
    assert len(env.api.calls("/chat/completions")) == calls

    served = await ask(env, "meanwhile", user_id=patient)
    assert served.original is not None and served.original.content == DEFAULT_REPLY

    resume.set()
    for inter in running:
        await inter.wait_done(finished)
        assert inter.original is not None and inter.original.content == DEFAULT_REPLY
    again = await ask(env, "question 4", user_id=eager)
    assert again.original is not None and again.original.content == DEFAULT_REPLY
    assert env.bot.admission.in_flight == 0


async def test_a_mention_over_the_cap_is_answered_with_the_reason(env: BotEnv) -> None:
    eager = env.discord.add_member(name="chatty")
    resume = asyncio.Event()
    running = await hold_two(env, eager, resume)
    mention = await env.discord.send_message("and this?", user_id=eager, mentions_bot=True)
    reply = await env.discord.wait_reply(mention)
    assert reply.content == BUSY
    resume.set()
    for inter in running:
        await inter.wait_done(finished)


# -- the heartbeat -----------------------------------------------------------------------------


async def test_the_heartbeat_file_is_fresh_once_the_bot_is_connected(env: BotEnv) -> None:
    path: Path = env.settings.health_file
    assert env.bot.gateway_connected()
    await until(path.exists)
    ok, reason = check_heartbeat(path, env.settings.health_max_age_s)
    assert ok, reason


# -- metrics -----------------------------------------------------------------------------------


async def scrape(env: BotEnv) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    server = env.bot.metrics_server
    assert server is not None and server.port
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_commands_api_calls_errors_and_refusals(env: BotEnv) -> None:
    before = await scrape(env)
    await ask(env, "count me")
    env.api.enqueue("/chat/completions", Error(429), Error(429))  # the try and its one retry
    await ask(env, "too busy upstream")
    busy, resume = env.discord.add_member(name="busy"), asyncio.Event()
    running = await hold_two(env, busy, resume)
    refused = await env.discord.invoke("ask", {"prompt": "no room"}, user_id=busy)
    await refused.wait_done()
    resume.set()
    for inter in running:
        await inter.wait_done(finished)
    after = await scrape(env)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("nexbot_commands_total", command="ask", outcome="ok") == 5
    assert delta("nexbot_api_calls_total", feature="ask", outcome="ok") == 3
    assert delta("nexbot_api_calls_total", feature="ask", outcome="429") == 1
    assert delta("nexbot_api_call_seconds_count", feature="ask") == 4
    assert delta("nexbot_usage_units_total", feature="ask", unit="requests") == 3
    assert delta("nexbot_tokens_total", feature="ask") > 0
    assert delta("nexbot_refusals_total", feature="ask", reason="busy") == 1
    assert value(after, "nexbot_api_calls_in_flight") == 0
