"""The fake Discord refuses what Discord refuses and limits what Discord limits, proven with the
real discord.py client (and raw HTTP where discord.py would avoid the limit)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio

from tests.fakes.discord import FakeDiscord, run_bot, stop_bot
from tests.test_fake_discord import ThrowawayBot

pytestmark = pytest.mark.asyncio(loop_scope="module")

Env = tuple[FakeDiscord, ThrowawayBot]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[Env]:
    async with FakeDiscord() as fake:
        fake.limiter.time_scale = 0.01  # Discord's budgets, at a hundred times its speed
        intents = discord.Intents.default()
        intents.message_content = True
        bot = ThrowawayBot(command_prefix="!", intents=intents, guild_ready_timeout=0.1)
        task = await run_bot(bot, fake)
        yield fake, bot
        await stop_bot(bot, task)
    assert fake.errors == [] and fake.unhandled == []


def channel(env: Env) -> discord.TextChannel:
    fake, bot = env
    found = bot.get_channel(fake.channel_id)
    assert isinstance(found, discord.TextChannel)
    return found


async def refused(env: Env, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(discord.HTTPException) as caught:
        await channel(env).send(**kwargs)
    assert caught.value.status == 400 and caught.value.code == 50035
    assert isinstance(caught.value.response, aiohttp.ClientResponse)
    return dict((caught.value.text and {"text": caught.value.text}) or {})


def embed(**parts: Any) -> discord.Embed:
    card = discord.Embed(title=parts.pop("title", "t"), description=parts.pop("description", ""))
    for name, value in parts.pop("fields", []):
        card.add_field(name=name, value=value)
    if "footer" in parts:
        card.set_footer(text=parts.pop("footer"))
    return card


@pytest.mark.parametrize(
    "card",
    [
        embed(fields=[("n", "v" * 1025)]),  # field value <= 1024
        embed(fields=[("n" * 257, "v")]),  # field name <= 256
        embed(fields=[("n", "v")] * 26),  # <= 25 fields
        embed(title="t" * 257),  # title <= 256
        embed(footer="f" * 2049),  # footer <= 2048
        embed(description="d" * 4097),  # description <= 4096
        embed(description="d" * 4000, fields=[("n", "v" * 1000)] * 2),  # <= 6000 in all
    ],
)
async def test_embeds_over_discords_limits_are_refused_with_invalid_form_body(
    env: Env, card: discord.Embed
) -> None:
    await refused(env, embed=card)


async def test_the_refusal_names_the_field_in_its_errors_object(env: Env) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await channel(env).send(embed=embed(fields=[("ok", "v"), ("n", "v" * 1025)]))
    assert "In embeds.0.fields.1.value: Must be 1024 or fewer in length." in caught.value.text


async def test_an_embed_at_every_limit_is_accepted(env: Env) -> None:
    card = embed(title="t" * 256, description="d" * 1000, fields=[("n" * 100, "v" * 1024)] * 4)
    await channel(env).send(embed=card)


async def test_more_than_ten_files_are_refused(env: Env) -> None:
    files = [discord.File(io.BytesIO(b"x"), f"f{n}.txt") for n in range(11)]
    await refused(env, content="files", files=files)


async def test_allowed_mentions_decide_who_is_really_pinged(env: Env) -> None:
    fake, _ = env
    text = f"<@{fake.user_id}> hello"
    quiet = await channel(env).send(text, allowed_mentions=discord.AllowedMentions.none())
    loud = await channel(env).send(text, allowed_mentions=discord.AllowedMentions(users=True))
    assert fake.all_messages[quiet.id].pinged == [] and quiet.mentions == []
    assert fake.all_messages[loud.id].pinged == [fake.user_id]


async def test_a_members_reply_pings_the_replied_to_author_unless_told_not_to(env: Env) -> None:
    fake, _ = env
    mine = await channel(env).send("reply to me")
    pinging = await fake.send_message("sure", reference_id=mine.id)
    quiet = await fake.send_message("sure", reference_id=mine.id, mention_author=False)
    assert [u["id"] for u in pinging["mentions"]] == [str(fake.bot_user_id)]
    assert quiet["mentions"] == []


@pytest.mark.parametrize(
    "command",
    [
        {"name": "Upper", "description": "d"},  # CHAT_INPUT names are lower case
        {"name": "has space", "description": "d"},
        {"name": "x" * 33, "description": "d"},
        {"name": "long", "description": "d" * 101},
        {"name": "empty", "description": ""},
        {
            "name": "order",
            "description": "d",
            "options": [
                {"type": 3, "name": "a", "description": "d"},
                {"type": 3, "name": "b", "description": "d", "required": True},
            ],
        },
        {
            "name": "choices",
            "description": "d",
            "options": [
                {
                    "type": 3,
                    "name": "c",
                    "description": "d",
                    "choices": [{"name": f"c{n}", "value": f"{n}"} for n in range(26)],
                }
            ],
        },
        {"name": "menu", "type": 3, "description": "menus have none"},
        {"name": "installs", "description": "d", "integration_types": [0, 2]},
        {"name": "contexts", "description": "d", "contexts": [0, 3]},
    ],
)
async def test_command_definitions_discord_refuses_are_refused(
    env: Env, command: dict[str, Any]
) -> None:
    fake, bot = env
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.bulk_upsert_global_commands(fake.application_id, [command])
    assert caught.value.code == 50035


async def test_a_bot_starts_a_thread_posts_in_it_and_archives_it(env: Env) -> None:
    fake, _ = env
    starter = await channel(env).send("let's discuss")
    thread = await starter.create_thread(name="discussion")
    assert fake.threads[thread.id]["parent_id"] == str(fake.channel_id)
    posted = await thread.send("first!")
    assert fake.all_messages[posted.id].channel_id == thread.id
    await thread.edit(archived=True)
    assert fake.threads[thread.id]["thread_metadata"]["archived"] is True
    await thread.send("back again")  # sending unarchives it
    assert fake.threads[thread.id]["thread_metadata"]["archived"] is False


# --- rate limits, as raw HTTP (discord.py reads the headers and never runs into them) --------


@pytest_asyncio.fixture(loop_scope="module")
async def raw() -> AsyncIterator[tuple[FakeDiscord, aiohttp.ClientSession]]:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        yield fake, http


async def post(
    fake: FakeDiscord, http: aiohttp.ClientSession, path: str, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with http.post(f"{fake.url}/api/v10{path}", json=body, headers=headers) as resp:
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, dict(resp.headers), data


async def test_a_spent_bucket_answers_429_with_retry_after_and_via(
    raw: tuple[FakeDiscord, aiohttp.ClientSession],
) -> None:
    fake, http = raw
    typing = f"/channels/{fake.channel_id}/typing"
    answers = [await post(fake, http, typing) for _ in range(6)]
    assert [status for status, _, _ in answers] == [204] * 5 + [429]
    assert [h["X-RateLimit-Remaining"] for _, h, _ in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert {h["X-RateLimit-Limit"] for _, h, _ in answers} == {"5"}
    _, headers, body = answers[-1]
    assert body["global"] is False and 0 < body["retry_after"] <= 5
    assert headers["Via"] and headers["X-RateLimit-Scope"] == "user"
    assert 1 <= int(headers["Retry-After"]) <= 5


async def test_message_create_and_typing_are_separate_buckets_per_channel(
    raw: tuple[FakeDiscord, aiohttp.ClientSession],
) -> None:
    fake, http = raw
    _, typing, _ = await post(fake, http, f"/channels/{fake.channel_id}/typing")
    _, create, _ = await post(fake, http, f"/channels/{fake.channel_id}/messages", {"content": "a"})
    _, other, _ = await post(fake, http, f"/channels/{fake.other_channel_id}/typing")
    assert typing["X-RateLimit-Bucket"] != create["X-RateLimit-Bucket"]
    assert typing["X-RateLimit-Bucket"] == other["X-RateLimit-Bucket"]  # same route, same name
    assert create["X-RateLimit-Remaining"] == other["X-RateLimit-Remaining"] == "4"


def row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(buttons)}


def button(custom_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": 2, "style": 2, "label": "b", "custom_id": custom_id, **extra}


@pytest.mark.parametrize(
    "components",
    [
        [row(*(button(f"b{n}") for n in range(6)))],  # 6 buttons in a row
        [row(button("b")) for _ in range(6)],  # 6 rows (and duplicate ids)
        [row(button("x" * 101))],  # custom_id over 100 characters
        [row(button("a"), button("a"))],  # the same custom_id twice
        [row(button("a", label="l" * 81))],  # label over 80 characters
        [row(button("a", style=9))],  # no such style
    ],
)
async def test_components_discord_refuses_are_refused(
    env: Env, components: list[dict[str, Any]]
) -> None:
    fake, bot = env
    with pytest.raises(discord.HTTPException) as caught:
        await bot.http.request(
            discord.http.Route(
                "POST", "/channels/{channel_id}/messages", channel_id=fake.channel_id
            ),
            json={"content": "x", "components": components},
        )
    assert caught.value.code == 50035


async def test_a_pressed_button_is_an_interaction_the_bot_can_update(env: Env) -> None:
    """Should send type 3 with the custom_id and the message; UPDATE_MESSAGE (7) edits the
    pressed message, which `@original` then is; a button not shown cannot be pressed."""
    fake, _ = env
    pressed: list[discord.Interaction] = []

    class Pressable(discord.ui.View):
        @discord.ui.button(label="Press", custom_id="press-me")
        async def press(
            self, interaction: discord.Interaction, item: discord.ui.Button[Any]
        ) -> None:
            pressed.append(interaction)
            await interaction.response.edit_message(content="pressed", view=None)
            await interaction.edit_original_response(content="pressed twice")

    sent = await channel(env).send("press below", view=Pressable(timeout=None))
    with pytest.raises(ValueError, match="shows no button"):
        await fake.press_button(sent.id, "not-there")
    inter = await fake.press_button(sent.id, "press-me")
    await inter.wait_done(
        lambda i: i.original is not None and i.original.content == "pressed twice"
    )
    assert inter.type == 3 and inter.response_type == 7
    assert inter.payload["data"] == {"custom_id": "press-me", "component_type": 2}
    assert inter.original is fake.all_messages[sent.id] and inter.original.components == []
    assert pressed[0].message is not None and pressed[0].message.id == sent.id


async def test_a_user_installed_command_reaches_a_group_dm_the_bot_is_not_in(env: Env) -> None:
    """Should offer a command in a group DM only when members may install it there, say who
    installed it, and refuse the bot's own REST calls to that channel (403 50001)."""
    fake, bot = env
    commands: list[dict[str, Any]] = [
        {
            "name": "anywhere",
            "description": "d",
            "integration_types": [0, 1],
            "contexts": [0, 1, 2],
        },
        {"name": "serveronly", "description": "d"},
    ]
    await bot.http.bulk_upsert_global_commands(fake.application_id, commands)
    assert fake.commands[None][0]["integration_types"] == [0, 1]
    group = fake.add_group_dm()
    inter = await fake.invoke("anywhere", guild=False, channel_id=group, installs="user")
    assert inter.payload["context"] == 2 and inter.payload["channel"]["type"] == 3
    assert inter.payload["authorizing_integration_owners"] == {"1": str(fake.user_id)}
    with pytest.raises(ValueError, match="cannot be installed"):
        await fake.invoke("serveronly", guild=False, installs="user")
    with pytest.raises(discord.Forbidden) as caught:
        await bot.http.send_message(
            group, params=discord.http.MultipartParameters({"content": "x"}, None, None)
        )
    assert caught.value.code == 50001


async def test_an_app_only_on_the_members_account_gets_five_follow_ups(env: Env) -> None:
    """Should refuse the sixth follow-up of an interaction authorised only by a user install
    (400 40094), as Discord does."""
    fake, bot = env
    group = fake.add_group_dm()
    inter = await fake.invoke("anywhere", guild=False, channel_id=group, installs="user")
    webhook = discord.Webhook.partial(fake.application_id, inter.token, client=bot)
    await bot.http.request(
        discord.http.Route(
            "POST", "/interactions/{id}/{token}/callback", id=inter.id, token=inter.token
        ),
        json={"type": 4, "data": {"content": "first"}},
    )
    for n in range(5):
        await webhook.send(f"follow-up {n}", wait=True)
    with pytest.raises(discord.HTTPException) as caught:
        await webhook.send("one too many", wait=True)
    assert caught.value.code == 40094


async def test_a_category_holds_channels_and_nobody_posts_in_it(env: Env) -> None:
    fake, bot = env
    category = fake.add_category("Study")
    inside = fake.add_channel("maths", category_id=category)
    await bot.wait_for("guild_channel_create", check=lambda c: c.id == inside, timeout=5)
    found = bot.get_channel(inside)
    assert isinstance(found, discord.TextChannel) and found.category_id == category
    assert isinstance(bot.get_channel(category), discord.CategoryChannel)
    with pytest.raises(ValueError, match="category"):
        await fake.send_message("hello", channel_id=category)


async def test_a_bot_member_posts_as_a_bot(env: Env) -> None:
    fake, _ = env
    other = fake.add_member(name="otherbot", bot=True)
    sent = await fake.send_message("beep", user_id=other)
    assert sent["author"]["bot"] is True
