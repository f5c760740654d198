"""nexbot on a member's own account (a user-installed app): the commands that work in any DM or
group DM, charged to the member under the operator's DM limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.test_answer_buttons import buttons, with_buttons
from tests.e2e.test_ask import finished
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeInteraction
from tests.fakes.nexai import Reply

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Usable wherever a member is: installable on their account, in DMs and group DMs.
ANYWHERE = {"ask", "imagine", "tts", "transcribe", "Read aloud", "Transcribe"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotEnv]:
    db = tmp_path_factory.mktemp("user-install") / "nexbot.db"
    async with bot_env(db, dm_limits="ask:day:2") as env:
        yield env


async def ask_in(env: BotEnv, member: int, channel_id: int, prompt: str) -> FakeInteraction:
    inter = await env.discord.invoke(
        "ask", {"prompt": prompt}, user_id=member, guild=False, channel_id=channel_id,
        installs="user",
    )  # fmt: skip
    return await inter.wait_done(finished)


async def test_commands_say_where_members_may_install_and_use_them(env: BotEnv) -> None:
    """Should sync /ask, /imagine, /tts, /transcribe and the message menus for guild and user
    installs in every context; every other command for servers that installed the bot."""
    synced = {command["name"]: command for command in env.discord.commands[None]}
    assert set(synced) >= ANYWHERE
    for name, command in synced.items():
        if name in ANYWHERE:
            assert command["integration_types"] == [0, 1], name
            assert command["contexts"] == [0, 1, 2], name
        else:
            assert command["integration_types"] == [0], name


async def test_ask_in_a_group_dm_is_answered_and_charged_to_the_member(env: BotEnv) -> None:
    """Should answer through the interaction (the bot is not in the group DM), charge the
    member with no server, and apply the operator's DM limit (2 a day here)."""
    member = env.discord.add_member(name="traveller")
    group = env.discord.add_group_dm(member)
    env.api.enqueue("/chat/completions", Reply("Hello from your own nexbot."))
    inter = await ask_in(env, member, group, "hello?")
    assert inter.original is not None and inter.original.content == "Hello from your own nexbot."
    assert inter.original.channel_id == group
    rows = await env.bot.store.fetch_all(
        "SELECT guild_id, feature, outcome FROM usage WHERE user_id = ?", (member,)
    )
    assert rows == [(None, "ask", "ok")]
    shown = await with_buttons(env, inter.original)
    assert list(shown) == ["regen", "del", "read"]  # no thread: the bot is not there

    await ask_in(env, member, group, "second")
    refused = await ask_in(env, member, group, "third")
    assert refused.original is not None and refused.original.ephemeral
    assert "limit" in refused.original.content.lower()


async def test_ask_in_the_bots_dm_as_a_user_installed_command(env: BotEnv) -> None:
    member = env.discord.add_member(name="dm-user")
    dm = env.discord.dm_channel_for(member)
    env.api.enqueue("/chat/completions", Reply("In your DMs."))
    inter = await ask_in(env, member, dm, "hi")
    assert inter.payload["context"] == 1
    assert inter.original is not None and inter.original.content == "In your DMs."


async def test_the_buttons_work_in_a_group_dm_through_the_interaction(env: BotEnv) -> None:
    """Should delete through the press's token, and read aloud as a file (a voice message
    would be a channel message the bot cannot post there)."""
    member = env.discord.add_member(name="group-reader")
    group = env.discord.add_group_dm(member)
    env.api.enqueue("/chat/completions", Reply("Read me in the group."))
    inter = await ask_in(env, member, group, "read this")
    assert inter.original is not None
    message = inter.original
    shown = await with_buttons(env, message)

    read = await env.discord.press_button(
        message.id, shown["read"], user_id=member, installs="user"
    )
    await read.wait_done(lambda i: any(m.attachments for m in i.messages))
    [audio] = [a for m in read.messages for a in m.attachments]
    assert audio.filename.endswith(".mp3")
    assert not any(m.flags & IS_VOICE_MESSAGE for m in env.discord.bot_messages(group))

    await env.discord.press_button(
        message.id, buttons(message)["del"], user_id=member, installs="user"
    )
    await env.discord.wait_for(lambda: message.deleted)


@pytest.mark.parametrize("name", ["imagine", "tts"])
async def test_media_commands_run_in_a_group_dm(env: BotEnv, name: str) -> None:
    member = env.discord.add_member(name=f"{name}-traveller")
    group = env.discord.add_group_dm(member)
    options = {"prompt": "a cat"} if name == "imagine" else {"text": "hi there"}
    inter = await env.discord.invoke(
        name, options, user_id=member, guild=False, channel_id=group, installs="user"
    )
    await inter.wait_done(lambda i: any(m.attachments for m in i.messages))
    rows = await env.bot.store.fetch_all(
        "SELECT guild_id, outcome FROM usage WHERE user_id = ?", (member,)
    )
    assert rows == [(None, "ok")]


async def test_a_server_only_command_is_not_offered_on_a_members_account(
    tmp_path: Path, env: BotEnv
) -> None:
    with pytest.raises(ValueError, match="cannot be installed"):
        await env.discord.invoke("forget", guild=False, installs="user")
