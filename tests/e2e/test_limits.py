"""/limits end to end: moderators set limits, members are held to them exactly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.quota.rules import Limit
from tests.e2e.conftest import BotEnv, bot_env, inflight_cap
from tests.e2e.moderation_support import (
    MANAGE_SERVER,
    NO_PERMISSION,
    add_role,
    chat_calls_with,
    moderate,
    outcome,
    resets,
    run,
    settled,
    text_of,
)
from tests.fakes.nexai import DEFAULT_REPLY, Error

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.both_backends]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    async with bot_env(tmp_path_factory.mktemp("limits") / "nexbot.db", dm_limits="ask:day:1") as e:
        yield e


async def ask(env: BotEnv, prompt: str, user_id: int, **kw: Any) -> str:
    """/ask as `user_id`; returns what the member finally sees."""
    inter = await run(env, "ask", {"prompt": prompt}, user_id=user_id, **kw)
    return text_of(outcome(inter))


async def test_a_member_over_a_role_limit_is_told_which_and_when_it_resets(env: BotEnv) -> None:
    role = await add_role(env, "Members")
    member = env.discord.add_member(name="alice", roles=[role])
    confirmation = await moderate(
        env, "limits", "set", {"feature": "ask", "period": "day", "amount": 2, "who": role}
    )
    assert confirmation.content == f"Limit set: 2 ask requests per day — role <@&{role}>."

    assert await ask(env, "alice one", member) == DEFAULT_REPLY
    assert await ask(env, "alice two", member) == DEFAULT_REPLY
    inter = await run(env, "ask", {"prompt": "alice three"}, user_id=member)
    refusal = outcome(inter)
    assert refusal.ephemeral
    assert refusal.content == (
        f"You've used your daily limit of 2 ask requests (set for your role <@&{role}>)."
        f" It resets {resets('day')}."
    )
    assert chat_calls_with(env, "alice three") == 0
    assert chat_calls_with(env, "alice") == 2


async def test_the_refusal_is_in_the_members_language(env: BotEnv) -> None:
    member = env.discord.add_member(name="binh")
    await env.bot.quotas.set_limit(
        env.discord.guild_id, Limit("ask", "day", 0, "member", member), set_by=1
    )
    text = await ask(env, "xin chào", member, locale="vi")
    assert text == (
        "Bạn đã dùng hết giới hạn theo ngày là 0 lượt hỏi (đặt riêng cho bạn)."
        f" Giới hạn được đặt lại {resets('day')}."
    )


async def test_a_member_without_manage_server_cannot_change_limits(env: BotEnv) -> None:
    before = await env.bot.quotas.guild_limits(env.discord.guild_id)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("set", {"feature": "ask", "period": "day", "amount": 1000}),
        ("remove", {"feature": "ask", "period": "day"}),
        ("show", {}),
    ]
    for sub, options in attempts:
        inter = await run(env, "limits", options, subcommand=sub)
        assert outcome(inter).ephemeral and outcome(inter).content == NO_PERMISSION
    assert await env.bot.quotas.guild_limits(env.discord.guild_id) == before


async def test_twenty_concurrent_asks_with_a_limit_of_three_get_three_answers(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="racer")
    await moderate(
        env, "limits", "set", {"feature": "ask", "period": "day", "amount": 3, "who": member}
    )
    env.api.chunk_delay_s = 0.01  # answers overlap the other requests
    with inflight_cap(env.bot, 20):  # the limit refuses them, not MAX_INFLIGHT_PER_MEMBER
        inters = await asyncio.gather(
            *(env.discord.invoke("ask", {"prompt": f"race {i}"}, user_id=member) for i in range(20))
        )
        await asyncio.gather(*(inter.wait_done(settled, timeout=10) for inter in inters))
    results = [outcome(inter) for inter in inters]
    answers = [m for m in results if m.content == DEFAULT_REPLY and not m.ephemeral]
    refusals = [
        m
        for m in results
        if m.ephemeral and m.content.startswith("You've used your daily limit of 3 ask requests")
    ]
    assert (len(answers), len(refusals)) == (3, 17)
    assert chat_calls_with(env, "race ") == 3


async def test_a_failed_api_call_is_refunded(env: BotEnv) -> None:
    member = env.discord.add_member(name="unlucky")
    await env.bot.quotas.set_limit(
        env.discord.guild_id, Limit("ask", "day", 1, "member", member), set_by=1
    )
    env.api.enqueue("/chat/completions", Error(400, "bad request"))
    assert await ask(env, "fails", member) == "nexai refused the request: bad request"
    assert await ask(env, "works", member) == DEFAULT_REPLY
    assert (await ask(env, "over", member)).startswith("You've used your daily limit of 1")
    rows = await env.bot.store.fetch_all(
        "SELECT outcome FROM usage WHERE user_id = ? ORDER BY id", (member,)
    )
    assert [row[0] for row in rows] == ["refunded", "ok"]


async def test_a_mention_over_the_limit_gets_the_refusal_as_a_reply(env: BotEnv) -> None:
    member = env.discord.add_member(name="talker")
    await env.bot.quotas.set_limit(
        env.discord.guild_id, Limit("ask", "hour", 0, "member", member), set_by=1
    )
    sent = await env.discord.send_message("hello bot", user_id=member, mentions_bot=True)
    reply = await env.discord.wait_reply(sent)
    assert reply.content == (
        "You've used your hourly limit of 0 ask requests (set for you)."
        f" It resets {resets('hour')}."
    )
    assert chat_calls_with(env, "hello bot") == 0


async def test_the_server_total_binds_members_of_exempt_roles(env: BotEnv) -> None:
    guild = env.discord.guild_id
    vip_role = await add_role(env, "VIP")
    vip = env.discord.add_member(name="vip", roles=[vip_role])
    confirmation = await moderate(env, "limits", "exempt", {"role": vip_role, "action": "add"})
    assert confirmation.content == (
        f"<@&{vip_role}> is now exempt from per-member limits (the server total still applies)."
    )
    await env.bot.quotas.set_limit(guild, Limit("ask", "month", 0, "member", vip), set_by=1)
    assert await ask(env, "vip free", vip) == DEFAULT_REPLY  # exempt from the member limit

    await moderate(
        env,
        "limits",
        "set",
        {"feature": "ask", "period": "month", "amount": 1, "server-total": True},
    )
    try:
        text = await ask(env, "vip capped", vip)
        assert text.startswith("This server has used its monthly total of 1 ask request")
        assert text.endswith(f"It resets {resets('month')}.")
    finally:
        removed = await moderate(
            env, "limits", "remove", {"feature": "ask", "period": "month", "server-total": True}
        )
        assert (
            removed.content == "Limit removed: 1 ask request per month — the whole server (total)."
        )
    await moderate(env, "limits", "exempt", {"role": vip_role, "action": "remove"})
    assert await env.bot.quotas.exempt_roles(guild) == frozenset()


async def test_show_lists_every_limit_and_exempt_role(env: BotEnv) -> None:
    role = await add_role(env, "Artists")
    await moderate(
        env, "limits", "set", {"feature": "imagine", "period": "day", "amount": 4, "who": role}
    )
    await moderate(
        env, "limits", "set", {"feature": "transcribe", "period": "month", "amount": 1.5}
    )
    await moderate(env, "limits", "exempt", {"role": role})
    shown = text_of(await moderate(env, "limits", "show"))
    assert f"• 4 generated images per day — role <@&{role}>" in shown
    assert "• 1.5 minutes of audio per month — every member (server default)" in shown
    assert f"Exempt from per-member limits: <@&{role}>" in shown
    stored = await env.bot.quotas.guild_limits(env.discord.guild_id)
    assert Limit("transcribe", "month", 90, "server") in stored  # ledger units: seconds


async def test_limit_options_are_checked(env: BotEnv) -> None:
    member = env.discord.add_member(name="target")
    both = await moderate(
        env,
        "limits",
        "set",
        {"feature": "ask", "period": "day", "amount": 1, "who": member, "server-total": True},
    )
    assert both.content == "Choose a role or a member, or the server total, not both."
    fraction = await moderate(
        env, "limits", "set", {"feature": "tts", "period": "day", "amount": 2.5}
    )
    assert fraction.content == "Use a whole number of characters of speech."
    nothing = await moderate(env, "limits", "remove", {"feature": "tts", "period": "hour"})
    assert nothing.content == (
        "There is no /tts limit per hour for every member (server default); nothing changed."
    )


async def test_direct_messages_use_the_operators_limits(env: BotEnv) -> None:
    member = env.discord.add_member(name="dm-user")
    assert await ask(env, "dm one", member, guild=False) == DEFAULT_REPLY
    text = await ask(env, "dm two", member, guild=False)
    assert text == (
        "You've used your daily limit of 1 ask request (the bot's limit for direct messages)."
        f" It resets {resets('day')}."
    )


async def test_image_generation_is_held_to_limits_before_any_api_call(env: BotEnv) -> None:
    member = env.discord.add_member(name="painter")
    await env.bot.quotas.set_limit(
        env.discord.guild_id, Limit("imagine", "day", 1, "member", member), set_by=1
    )
    before = len(env.api.calls("/images/generations"))
    inter = await run(env, "imagine", {"prompt": "two cats", "count": 2}, user_id=member)
    refusal = outcome(inter)
    assert refusal.ephemeral
    assert refusal.content == (
        "This needs 2 generated images, but only 1 are left of your daily limit of 1"
        f" (set for you). It resets {resets('day')}."
    )
    assert len(env.api.calls("/images/generations")) == before


async def test_moderator_commands_default_to_manage_server_and_are_localised(
    env: BotEnv,
) -> None:
    synced = {c["name"]: c for c in env.discord.commands[None]}
    for name in ("limits", "settings", "usage-report"):
        assert int(synced[name]["default_member_permissions"]) == MANAGE_SERVER, name
        assert synced[name]["contexts"] == [0], name  # guild only
    assert synced["usage"].get("default_member_permissions") is None
    assert synced["limits"]["name_localizations"] == {"vi": "giới-hạn"}
    subcommands = {o["name"]: o for o in synced["limits"]["options"]}
    assert set(subcommands) == {"set", "remove", "show", "exempt"}
    options = {o["name"]: o for o in subcommands["set"]["options"]}
    assert options["who"]["type"] == 9  # a member or a role
    assert options["feature"]["choices"][0]["name_localizations"] == {"vi": "/ask (lượt hỏi)"}
