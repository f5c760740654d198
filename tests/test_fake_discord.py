"""The loopback fake Discord, proven with the real discord.py client and a throwaway bot."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.http
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord import (
    EPHEMERAL,
    LOADING,
    FakeAttachment,
    FakeDiscord,
    run_bot,
    stop_bot,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

COLORS = ["red", "green", "blue", "gray"]


class ThrowawayBot(commands.Bot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5 s before a re-IDENTIFY; not here


def make_bot(guild_id: int) -> ThrowawayBot:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = ThrowawayBot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
    tree = bot.tree

    @tree.command(description="Think, then answer in steps")
    async def think(
        inter: discord.Interaction, prompt: str, steps: int = 2, private: bool = False
    ) -> None:
        await inter.response.defer(thinking=True, ephemeral=private)
        text = ""
        for i in range(steps):
            text = f"{text} {prompt}{i}".strip()
            await inter.edit_original_response(content=text)
        await inter.followup.send("done", file=discord.File(io.BytesIO(b"log data"), "log.txt"))

    @tree.command(description="Defer, then answer with a follow-up only")
    async def later(inter: discord.Interaction) -> None:
        await inter.response.defer()
        await inter.followup.send("here you go")

    @tree.command(description="Pick a colour")
    async def color(inter: discord.Interaction, name: str) -> None:
        await inter.response.send_message(f"colour {name} for {inter.locale.value}", ephemeral=True)

    @color.autocomplete("name")
    async def color_autocomplete(
        inter: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=c, value=c) for c in COLORS if c.startswith(current)]

    @tree.command(description="Read an attachment, send it back reversed")
    async def inspect(
        inter: discord.Interaction, file: discord.Attachment, who: discord.Member | None = None
    ) -> None:
        data = await file.read()
        name = who.display_name if who else "-"
        perms = inter.permissions.manage_guild
        await inter.response.send_message(
            f"{file.filename} {file.content_type} {data!r} {name} {perms}",
            file=discord.File(io.BytesIO(data[::-1]), "reversed.bin"),
        )

    @tree.command(description="Describe a user, a channel and a role")
    async def whois(
        inter: discord.Interaction,
        user: discord.User,
        channel: discord.TextChannel,
        role: discord.Role,
        ratio: float,
    ) -> None:
        kind = type(user).__name__
        await inter.response.send_message(
            f"{user.name} {kind} #{channel.name} @{role.name} {ratio}"
        )

    @app_commands.context_menu(name="Wave")
    async def wave(inter: discord.Interaction, member: discord.Member) -> None:
        await inter.response.send_message(f"waves at {member.name}")

    tree.add_command(wave)

    @tree.command(description="Too long for Discord")
    async def long(inter: discord.Interaction) -> None:
        try:
            await inter.response.send_message("x" * 2001)
        except discord.HTTPException as exc:
            await inter.response.send_message(f"error {exc.status} {exc.code}")

    @tree.command(description="Answers (too late, when the fake's deadline is 0)")
    async def slow(inter: discord.Interaction) -> None:
        try:
            await inter.response.send_message("late")
        except discord.NotFound as exc:
            await inter.channel.send(f"lost {exc.code}")  # type: ignore[union-attr]

    @tree.command(description="Guild only", guild=discord.Object(guild_id))
    async def admin(inter: discord.Interaction) -> None:
        await inter.response.send_message(f"admin in {inter.guild_id}")

    tools = app_commands.Group(name="tools", description="Tools")
    text = app_commands.Group(name="text", description="Text tools", parent=tools)

    @text.command(description="Upper-case")
    async def upper(inter: discord.Interaction, value: str) -> None:
        await inter.response.send_message(value.upper())

    tree.add_command(tools)

    @app_commands.context_menu(name="Quote")
    async def quote(inter: discord.Interaction, message: discord.Message) -> None:
        await inter.response.send_message(f"> {message.content} ({message.author.id})")

    tree.add_command(quote)

    @bot.command()
    async def count(ctx: commands.Context[Any]) -> None:
        msg = await ctx.send("1")
        await msg.edit(content="2")
        await msg.add_reaction("👀")
        fetched = await ctx.channel.fetch_message(msg.id)
        await ctx.send(f"fetched {fetched.content}")
        await msg.delete()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.content.startswith("!"):
            await bot.process_commands(message)
            return
        files = [
            f"{a.filename}:{(await a.read())!r}:{a.is_voice_message()}" for a in message.attachments
        ]
        async with message.channel.typing():
            await message.reply(f"echo {message.content!r} {files}", mention_author=False)

    async def setup_hook() -> None:
        await tree.sync()
        await tree.sync(guild=discord.Object(guild_id))

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[tuple[FakeDiscord, ThrowawayBot]]:
    async with FakeDiscord() as fake:
        fake.limiter.time_scale = 0.1  # the module's many quick calls on one channel
        bot = make_bot(fake.guild_id)
        task = await run_bot(bot, fake)
        yield fake, bot
        await stop_bot(bot, task)
    assert fake.errors == [] and fake.unhandled == []


async def test_login_sync_and_guild_cache(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, bot = env
    assert fake.requests[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert [m for m, _ in fake.requests[2:4]] == ["PUT", "PUT"]  # setup_hook's syncs
    assert bot.user is not None and bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.application_id
    assert fake.command_syncs == 2
    assert {c["name"] for c in fake.commands[None]} == {
        "think",
        "later",
        "color",
        "inspect",
        "long",
        "slow",
        "tools",
        "Quote",
        "whois",
        "Wave",
    }
    assert [c["name"] for c in fake.commands[fake.guild_id]] == ["admin"]
    assert all(
        c["id"] and c["application_id"] == str(fake.application_id) for c in fake.commands[None]
    )
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None and guild.member_count == 2
    assert {c.name for c in guild.text_channels} == {"general", "random"}
    assert guild.me.guild_permissions.send_messages
    assert "compress=zlib-stream" in fake.gateway_connections[0]
    assert bot.latency < 1  # the heartbeat sent at HELLO was ACKed


async def test_headers_and_unknown_routes(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, bot = env
    async with aiohttp.ClientSession() as http:
        auth = {"Authorization": f"Bot {fake.token}"}
        async with http.get(f"{fake.url}/api/v10/users/@me", headers=auth) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
                resp.headers
            )
            assert {"X-RateLimit-Reset-After", "X-RateLimit-Bucket"} <= set(resp.headers)
        async with http.get(
            f"{fake.url}/api/v10/users/@me", headers={"Authorization": "Bot nope"}
        ) as resp:
            assert resp.status == 401
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/definitely/not/here"))
    assert fake.unhandled == [("GET", "/definitely/not/here")]
    fake.unhandled.clear()

    client = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await client.login("wrong-token")
    await client.close()


async def test_defer_edit_and_followup(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    inter = await fake.invoke("think", {"prompt": "p", "steps": 3})
    await inter.wait_done(lambda i: len(i.followups) == 1)
    assert inter.callbacks[0]["type"] == 5 and not inter.deferred_ephemeral
    original = inter.original
    assert original is not None
    assert original.edits == ["", "p0", "p0 p1", "p0 p1 p2"]
    assert original.content == "p0 p1 p2" and not original.loading and original.type == 20
    followup = inter.followups[0]
    assert followup is not original and followup.content == "done"
    assert [(f.filename, f.content_type, f.data) for f in followup.attachments] == [
        ("log.txt", "text/plain", b"log data")
    ]
    assert fake.bot_messages(fake.channel_id)[-2:] == [original, followup]


async def test_ephemeral_defer(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    inter = await fake.invoke("think", {"prompt": "s", "steps": 1, "private": True})
    await inter.wait_done(lambda i: len(i.followups) == 1)
    assert inter.deferred_ephemeral and inter.callbacks[0]["data"]["flags"] == EPHEMERAL
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.flags & LOADING == 0


async def test_first_followup_replaces_thinking_message(
    env: tuple[FakeDiscord, ThrowawayBot],
) -> None:
    fake, _ = env
    inter = await fake.invoke("later")
    await inter.wait_done()
    assert inter.original is not None and inter.followups == [inter.original]
    assert inter.original.content == "here you go" and inter.original.edits == ["", "here you go"]


async def test_autocomplete_and_ephemeral_reply(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    assert await fake.autocomplete("color", "name", "gr") == [
        {"name": "green", "value": "green"},
        {"name": "gray", "value": "gray"},
    ]
    inter = await fake.invoke("color", {"name": "red"}, locale="vi")
    await inter.wait_done()
    assert inter.callbacks[0]["type"] == 4
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content == "colour red for vi"


async def test_attachment_and_member_options(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    mod_role = fake.add_role("mods", permissions=discord.Permissions(manage_guild=True).value)
    mod = fake.add_member(name="mod", roles=[mod_role])
    clip = FakeAttachment("clip.ogg", b"OggS-data")
    inter = await fake.invoke("inspect", {"who": mod}, attachments=[clip], user_id=mod)
    await inter.wait_done()
    assert clip.url.startswith(fake.url + "/attachments/")
    assert inter.original is not None
    assert inter.original.content == "clip.ogg audio/ogg b'OggS-data' Mod True"
    [reversed_file] = inter.original.attachments
    assert (reversed_file.filename, reversed_file.data) == ("reversed.bin", b"atad-SggO")
    async with aiohttp.ClientSession() as http, http.get(reversed_file.url) as resp:
        assert await resp.read() == b"atad-SggO"  # the fake CDN serves the bot's uploads too


async def test_user_channel_role_options_and_user_menu(
    env: tuple[FakeDiscord, ThrowawayBot],
) -> None:
    fake, _ = env
    role = fake.add_role("helpers")
    helper = fake.add_member(name="helper", roles=[role])
    options = {"user": helper, "channel": fake.other_channel_id, "role": role, "ratio": 0.5}
    whois = await fake.invoke("whois", options)
    wave = await fake.invoke_user_command("Wave", helper)
    await whois.wait_done()
    await wave.wait_done(lambda: wave.original is not None)
    assert whois.original is not None and wave.original is not None
    assert whois.original.content == "helper Member #random @helpers 0.5"
    assert wave.original.content == "waves at helper"


async def test_subcommand_guild_command_and_context_menu(
    env: tuple[FakeDiscord, ThrowawayBot],
) -> None:
    fake, _ = env
    upper = await fake.invoke("tools", {"value": "loud"}, subcommand="text upper")
    admin = await fake.invoke("admin")
    said = await fake.send_message("quote me")
    await fake.wait_reply(said)  # the bot echoes it
    quote = await fake.invoke_message_command("Quote", int(said["id"]))
    for inter in (upper, admin, quote):
        await inter.wait_done()
    assert upper.original is not None and upper.original.content == "LOUD"
    assert admin.original is not None and admin.original.content == f"admin in {fake.guild_id}"
    assert quote.original is not None and quote.original.content == f"> quote me ({fake.user_id})"


async def test_on_message_reply_typing_and_attachments(
    env: tuple[FakeDiscord, ThrowawayBot],
) -> None:
    fake, _ = env
    voice = FakeAttachment("voice.ogg", b"opus", duration_secs=1.5, waveform="AAAA")
    sent = await fake.send_message("", attachments=[voice], flags=1 << 13)
    reply = await fake.wait_reply(sent)
    assert reply.content == "echo '' [\"voice.ogg:b'opus':True\"]"
    assert reply.type == 19 and reply.channel_id == fake.channel_id
    assert reply.allowed_mentions is not None and reply.allowed_mentions["replied_user"] is False
    assert fake.channel_id in fake.typing

    # without the Message Content intent, content is blanked unless the bot is mentioned
    intents = fake.intents or 0
    fake.intents = intents & ~discord.Intents(message_content=True).value
    try:
        secret = await fake.send_message("secret")
        assert (await fake.wait_reply(secret)).content == "echo '' []"
        hello = await fake.send_message("hi", mentions_bot=True)
        assert (await fake.wait_reply(hello)).content == f"echo '<@{fake.bot_user_id}> hi' []"
    finally:
        fake.intents = intents


async def test_prefix_command_edit_fetch_react_delete(
    env: tuple[FakeDiscord, ThrowawayBot],
) -> None:
    fake, _ = env
    before = len(fake.bot_messages(fake.other_channel_id))
    await fake.send_message("!count", channel_id=fake.other_channel_id)
    await fake.wait_for(
        lambda: (
            [m.deleted for m in fake.bot_messages(fake.other_channel_id)[before:]] == [True, False]
        )
    )
    first, second = fake.bot_messages(fake.other_channel_id)[before:]
    assert first.edits == ["1", "2"] and first.reactions == ["👀"]
    assert second.content == "fetched 2"


async def test_dm_interaction_and_message(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    inter = await fake.invoke("color", {"name": "blue"}, guild=False)
    await inter.wait_done()
    assert inter.channel_id == fake.dm_channel_id and "member" not in inter.payload
    psst = await fake.send_message("psst", channel_id=fake.dm_channel_id)
    reply = await fake.wait_reply(psst)
    assert reply.content == "echo 'psst' []" and reply.channel_id == fake.dm_channel_id
    assert reply.guild_id is None


async def test_validation_errors_and_late_callback(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    inter = await fake.invoke("long")
    await inter.wait_done()
    assert inter.original is not None and inter.original.content == "error 400 50035"

    fake.interaction_response_timeout = 0.0
    try:
        late = await fake.invoke("slow")
        await fake.wait_bot_message(lambda m: m.content == "lost 10062")
        assert late.callbacks == []
    finally:
        fake.interaction_response_timeout = 3.0


async def test_rate_limit_is_retried(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    fake.rate_limit("POST", rf"^/channels/{fake.channel_id}/messages$", 2, 0.05)
    limited = await fake.send_message("limited")
    assert (await fake.wait_reply(limited)).content == "echo 'limited' []"
    assert fake.rate_limited == [("POST", f"/channels/{fake.channel_id}/messages")] * 2

    with fake.budget("webhook-edit", 2, 0.1):  # Discord announces about 5 edits per 5 s
        inter = await fake.invoke("think", {"prompt": "e", "steps": 4})
        await inter.wait_done(lambda i: len(i.followups) == 1)
    assert inter.original is not None and inter.original.edits == [
        "",
        "e0",
        "e0 e1",
        "e0 e1 e2",
        "e0 e1 e2 e3",
    ]
    # discord.py read the bucket's headers and waited for its reset instead of hitting a 429
    assert [m for m, _ in fake.rate_limited].count("PATCH") == 0


async def test_webhook_token_expiry(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    inter = await fake.invoke("admin")
    await inter.wait_done()
    url = f"{fake.url}/api/v10/webhooks/{fake.application_id}/{inter.token}/messages/@original"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 200
        fake.interaction_token_ttl = 0
        try:
            async with http.patch(url, json={"content": "x"}) as resp:
                assert resp.status == 401 and (await resp.json())["code"] == 50027
        finally:
            fake.interaction_token_ttl = 15 * 60


async def test_resume_replays_missed_events(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    disconnect = asyncio.create_task(fake.disconnect_gateway())
    await asyncio.sleep(0)  # let it drop the connection: the next event must be replayed
    assert not fake.connected
    away = await fake.send_message("while away")
    await disconnect
    assert fake.resumes == 1 and fake.gateway_connections[-1].startswith("/resume?")
    assert (await fake.wait_reply(away)).content == "echo 'while away' []"


async def test_invalid_session_reidentifies(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, bot = env
    fake.identify_limit.window_s = 0  # the identify rate limit is tested with shards
    try:
        await fake.disconnect_gateway(resume=False)
    finally:
        fake.identify_limit.window_s = 5.0
    assert fake.identifies == 2 and fake.identify_violations == []
    await bot.wait_until_ready()
    inter = await fake.invoke("admin")
    await inter.wait_done()
    assert inter.original is not None


async def test_set_api_version_keeps_the_fake(env: tuple[FakeDiscord, ThrowawayBot]) -> None:
    fake, _ = env
    discord.http._set_api_version(9)
    try:
        assert f"{fake.url}/api/v9" == discord.http.Route.BASE
    finally:
        discord.http._set_api_version(10)
    assert f"{fake.url}/api/v10" == discord.http.Route.BASE
