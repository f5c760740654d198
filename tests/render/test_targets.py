"""Specification of an interaction answer outliving its token (bot.reply_targets)."""

from __future__ import annotations

from typing import cast
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.render.rate_monitor import message_create_route, message_edit_route
from bot.render.targets import InteractionTarget


def sent_message() -> MagicMock:
    """A message the bot sent in a channel; the bot keeps and edits its partial message."""
    message = MagicMock(spec=discord.Message)
    message.channel = MagicMock(spec=discord.TextChannel)
    message.channel.get_partial_message.return_value = MagicMock(spec=discord.PartialMessage)
    return message


def fake_interaction() -> MagicMock:
    """A public interaction in channel 20, deferred just now."""
    interaction = MagicMock(spec=discord.Interaction)
    interaction.application_id = 10
    interaction.token = "tok"
    interaction.channel_id = 20
    interaction.created_at = discord.utils.utcnow()
    interaction.channel = MagicMock(spec=discord.TextChannel)
    interaction.channel.send = AsyncMock(return_value=sent_message())
    interaction.edit_original_response = AsyncMock()
    interaction.followup = MagicMock()
    interaction.followup.send = AsyncMock(return_value=MagicMock(spec=discord.WebhookMessage))
    return interaction


def http_error(status: int, code: int) -> discord.HTTPException:
    response = MagicMock(status=status, reason="Error")
    return discord.HTTPException(response, {"code": code, "message": "from Discord"})


def expired() -> discord.HTTPException:
    return http_error(401, 50027)  # Invalid Webhook Token


async def test_a_piece_whose_token_expired_moves_to_the_channel() -> None:
    """Should send the piece again in the channel, and edit that message from then on."""
    interaction = fake_interaction()
    target = InteractionTarget(cast(discord.Interaction, interaction))
    first = await target.send_first("one")
    interaction.edit_original_response.side_effect = expired()
    await first.edit("one two")
    await first.edit("one two three")
    moved = interaction.channel.send.return_value.channel.get_partial_message.return_value
    assert interaction.channel.send.await_args.args == ("one two",)
    assert moved.edit.await_args.kwargs["content"] == "one two three"
    assert interaction.edit_original_response.await_count == 2  # never tried again
    assert first.route_key == message_edit_route(20)
    assert target.route_key == message_create_route(20)


async def test_after_the_token_expired_next_pieces_go_to_the_channel() -> None:
    """Should not use the dead token for follow-ups once it failed."""
    interaction = fake_interaction()
    interaction.edit_original_response.side_effect = expired()
    target = InteractionTarget(cast(discord.Interaction, interaction))
    first = await target.send_first("one")
    await target.send_next("two", first)
    assert [c.args for c in interaction.channel.send.await_args_list] == [("one",), ("two",)]
    assert interaction.followup.send.await_count == 0


async def test_a_follow_up_whose_token_expired_moves_too() -> None:
    """Should move a follow-up piece as it moves the original response."""
    interaction = fake_interaction()
    target = InteractionTarget(cast(discord.Interaction, interaction))
    second = await target.send_next("two", await target.send_first("one"))
    interaction.followup.send.return_value.edit = AsyncMock(side_effect=expired())
    await second.edit("two!")
    assert interaction.channel.send.await_args.args == ("two!",)


async def test_a_private_answer_stops_when_its_token_expires() -> None:
    """Should raise rather than show a private answer in the channel."""
    interaction = fake_interaction()
    target = InteractionTarget(cast(discord.Interaction, interaction), ephemeral=True)
    first = await target.send_first("one")
    interaction.edit_original_response.side_effect = expired()
    with pytest.raises(discord.HTTPException):
        await first.edit("one two")
    assert interaction.channel.send.await_count == 0


@pytest.mark.parametrize(("status", "code"), [(404, 10008), (403, 50013), (400, 50035)])
async def test_other_discord_errors_still_fail_the_answer(status: int, code: int) -> None:
    """Should move only for an expired token, not for a deleted message or a bad request."""
    interaction = fake_interaction()
    target = InteractionTarget(cast(discord.Interaction, interaction))
    first = await target.send_first("one")
    interaction.edit_original_response.side_effect = http_error(status, code)
    with pytest.raises(discord.HTTPException):
        await first.edit("one two")
    assert interaction.channel.send.await_count == 0


@pytest.mark.parametrize(
    ("guild_install", "user_install", "context", "parts"),
    [
        (True, False, 0, None),  # the bot is in the server: no limit of the target's own
        (True, True, 2, None),  # installed both ways: the server install's rules
        (False, True, 1, 4),  # the bot's DM, user install alone: 4 pieces + 1 for an error
        (False, True, 2, 1),  # a group DM the bot is not in: only the token reaches it
    ],
)
def test_an_interaction_caps_its_pieces_where_discord_limits_follow_ups(
    guild_install: bool, user_install: bool, context: int, parts: int | None
) -> None:
    """Should keep a user install's answer within Discord's 5 follow-ups, and to one piece
    where a press's token could not reach the others."""
    interaction = fake_interaction()
    interaction.is_guild_integration.return_value = guild_install
    interaction.is_user_integration.return_value = user_install
    interaction.context = discord.app_commands.AppCommandContext(
        guild=context == 0, dm_channel=context == 1, private_channel=context == 2
    )
    target = InteractionTarget(cast(discord.Interaction, interaction))
    assert target.max_parts == parts


async def test_a_file_is_attached_through_the_token_or_the_moved_message() -> None:
    """Should add answer.md with an edit through the token (the follow-up's, or the original
    response's), without touching the content."""
    interaction = fake_interaction()
    target = InteractionTarget(cast(discord.Interaction, interaction))
    first = await target.send_first("one")
    await first.attach("answer.md", b"# all of it")
    [call] = [
        c for c in interaction.edit_original_response.await_args_list if "attachments" in c.kwargs
    ]
    [file] = call.kwargs["attachments"]
    assert file.filename == "answer.md" and file.fp.read() == b"# all of it"
    assert "content" not in call.kwargs
