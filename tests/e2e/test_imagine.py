"""/imagine end to end: the real bot against the fake Discord and the fake nexai API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.media_support import pings_nobody, usage_rows
from tests.fakes.discord import FakeInteraction
from tests.fakes.nexai import Error, Hang, Step, tiny_png

pytestmark = pytest.mark.asyncio(loop_scope="module")

IMAGES = "/images/generations"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    """A short total timeout, so that a hung image call fails fast."""
    db = tmp_path_factory.mktemp("imagine") / "nexbot.db"
    async with bot_env(db, nexai_total_timeout_s=0.5) as started:
        yield started


async def answered_with_error(inter: FakeInteraction) -> FakeInteraction:
    """Wait until the answer (or the error that replaced it) is there."""
    return await inter.wait_done(lambda i: bool(i.followups) or (i.done and not i.deferred))


async def test_images_arrive_as_png_attachments_in_one_message_with_the_prompt(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="painter")
    prompt = "A red fox in the snow, @everyone"
    inter = await env.discord.invoke(
        "imagine", {"prompt": prompt, "size": "1536x1024", "count": 2}, user_id=member
    )
    await inter.wait_done()
    assert inter.response_type == 5  # deferred at once
    message = inter.original
    assert message is not None and not message.ephemeral
    assert [f.filename for f in message.attachments] == [
        "a-red-fox-in-the-snow-everyone-1.png",
        "a-red-fox-in-the-snow-everyone-2.png",
    ]
    assert all(f.content_type == "image/png" for f in message.attachments)
    assert all(f.data == tiny_png() for f in message.attachments)
    assert prompt in message.content
    assert pings_nobody(message)
    request = env.api.calls(IMAGES)[-1].json
    assert request == {"model": "gpt-image-2", "prompt": prompt, "n": 2, "size": "1536x1024"}
    rows = await usage_rows(env, member)
    assert [(r.feature, r.units, r.outcome, r.model) for r in rows] == [
        ("imagine", 2, "ok", "gpt-image-2")
    ]


async def test_a_chosen_model_is_used_and_offered_by_autocomplete(env: BotEnv) -> None:
    choices = await env.discord.autocomplete("imagine", "model", "1.5", {"prompt": "x"})
    assert [c["value"] for c in choices] == ["gpt-image-1.5"]
    inter = await env.discord.invoke("imagine", {"prompt": "a cat", "model": "gpt-image-1.5"})
    await inter.wait_done()
    assert inter.original is not None and len(inter.original.attachments) == 1
    assert env.api.calls(IMAGES)[-1].json == {
        "model": "gpt-image-1.5",
        "prompt": "a cat",
        "n": 1,
        "size": "1024x1024",
    }


async def test_the_servers_image_model_is_the_default(env: BotEnv) -> None:
    settings = env.bot.guild_settings
    await settings.set(env.discord.guild_id, "image_model", "gpt-image-1.5", by=1)
    try:
        inter = await env.discord.invoke("imagine", {"prompt": "a dog"})
        await inter.wait_done()
    finally:
        await settings.set(env.discord.guild_id, "image_model", None, by=1)
    assert (env.api.calls(IMAGES)[-1].json or {})["model"] == "gpt-image-1.5"


async def test_a_model_that_is_not_an_image_model_is_refused_before_any_call(
    env: BotEnv,
) -> None:
    before = len(env.api.calls(IMAGES))
    inter = await env.discord.invoke("imagine", {"prompt": "a cat", "model": "gpt-4o"})
    await inter.wait_done()
    assert inter.response_type == 4
    assert inter.original is not None and inter.original.ephemeral
    assert "`gpt-4o` isn't available" in inter.original.content
    assert "`gpt-image-2`" in inter.original.content
    assert len(env.api.calls(IMAGES)) == before


async def test_a_refused_prompt_gets_its_own_ephemeral_message_and_a_refund(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="edgy")
    env.api.enqueue(IMAGES, Error(400, "Your request was rejected by the safety system."))
    inter = await answered_with_error(
        await env.discord.invoke("imagine", {"prompt": "x"}, user_id=member)
    )
    [error] = inter.followups
    assert error.ephemeral
    assert error.content == (
        "nexai refused the request: Your request was rejected by the safety system."
    )
    assert inter.original is not None and inter.original.deleted
    assert [(r.units, r.outcome) for r in await usage_rows(env, member)] == [(1, "refunded")]


ERRORS: list[tuple[str, list[Step], str]] = [
    ("401", [Error(401)], "The bot's API key was rejected"),
    ("402", [Error(402)], "out of credits"),
    ("403", [Error(403)], "suspended or expired"),
    ("429", [Error(429), Error(429)], "nexai is busy right now. Please try again in a minute."),
    ("500", [Error(500), Error(500)], "nexai had an internal error"),
    ("timeout", [Hang(5)], "nexai took too long to answer"),  # not retried: may be billed
]


@pytest.mark.parametrize(("steps", "expected"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
async def test_every_api_error_gets_a_specific_ephemeral_message_and_a_refund(
    env: BotEnv, steps: list[Step], expected: str
) -> None:
    member = env.discord.add_member(name="unlucky")
    env.api.enqueue(IMAGES, *steps)
    inter = await env.discord.invoke("imagine", {"prompt": "a boat", "count": 3}, user_id=member)
    await answered_with_error(inter)
    [error] = inter.followups
    assert error.ephemeral and expected in error.content
    assert env.api.pending(IMAGES) == 0  # retried where retrying makes sense
    assert [(r.units, r.outcome) for r in await usage_rows(env, member)] == [(3, "refunded")]


async def test_vietnamese_users_get_the_caption_and_errors_in_vietnamese(env: BotEnv) -> None:
    inter = await env.discord.invoke("imagine", {"prompt": "con mèo"}, locale="vi")
    await inter.wait_done()
    assert inter.original is not None
    assert inter.original.content == "🎨 **Mô tả:** con mèo"
    assert inter.original.attachments[0].filename == "con-meo-1.png"
    env.api.enqueue(IMAGES, Error(402))
    failed = await answered_with_error(
        await env.discord.invoke("imagine", {"prompt": "x"}, locale="vi")
    )
    assert "hết tín dụng" in failed.followups[0].content


async def test_images_over_the_upload_limit_get_a_clear_message(env: BotEnv) -> None:
    member = env.discord.add_member(name="big")
    env.discord.upload_limit = len(tiny_png()) - 1
    try:
        inter = await answered_with_error(
            await env.discord.invoke("imagine", {"prompt": "huge"}, user_id=member)
        )
    finally:
        env.discord.upload_limit = 10 * 1024 * 1024
    [error] = inter.followups
    assert error.ephemeral and "over this server's upload limit" in error.content
    assert [r.outcome for r in await usage_rows(env, member)] == ["refunded"]
