"""Who an API call is charged to, read off Discord objects."""

from __future__ import annotations

import discord

from bot.quota.rules import Caller


def role_ids(user: discord.User | discord.Member) -> tuple[int, ...]:
    return tuple(role.id for role in user.roles) if isinstance(user, discord.Member) else ()


def caller_of(interaction: discord.Interaction) -> Caller:
    """Who an interaction's API calls are charged to. A command of the app a member added to
    their own account, in a server that has not installed it, is theirs alone: no server, no
    roles, the operator's DM limits."""
    if interaction.guild_id is not None and not interaction.is_guild_integration():
        return Caller(user_id=interaction.user.id, guild_id=None, channel_id=interaction.channel_id)
    return Caller(
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        role_ids=role_ids(interaction.user),
    )


def caller_of_message(message: discord.Message) -> Caller:
    """Who a message's API calls (mention chat, voice notes) are charged to."""
    return Caller(
        user_id=message.author.id,
        guild_id=message.guild.id if message.guild else None,
        channel_id=message.channel.id,
        role_ids=role_ids(message.author),
    )
