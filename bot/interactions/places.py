"""Discord places as the chat core knows them: a thread, its channel and category
(`bot.chat.personas.Place`), and the variables a persona's prompt may use there."""

from __future__ import annotations

import datetime as dt

import discord

from bot.chat.personas import Place, PromptVariables

#: Discord's longest thread name.
THREAD_NAME_CHARS = 100


def place_of(channel: object, guild_id: int | None) -> Place:
    """The place of a channel a message or command is in (a DM: no server)."""
    if guild_id is None:
        return Place(None, getattr(channel, "id", None))
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return Place(
            guild_id,
            channel.parent_id,
            thread_id=channel.id,
            category_id=parent.category_id if parent is not None else None,
        )
    if isinstance(channel, discord.CategoryChannel):
        return Place(guild_id, None, category_id=channel.id)
    return Place(
        guild_id,
        getattr(channel, "id", None),
        category_id=getattr(channel, "category_id", None),
    )


def is_bot_thread(channel: object, bot_id: int) -> bool:
    """A thread the bot started: every message in it is for the bot."""
    return isinstance(channel, discord.Thread) and channel.owner_id == bot_id


def is_locked_thread(channel: object) -> bool:
    """A thread moderators locked: the bot says nothing there (only members with Manage
    Threads may post, and the bot's post would reopen it if archived). A member's post in an
    archived, unlocked thread reopens it (Discord does that), so it may be answered."""
    return isinstance(channel, discord.Thread) and channel.locked


def prompt_variables(
    user: discord.abc.User, guild: discord.Guild | None, channel: object, locale: str
) -> PromptVariables:
    """`{user}` is the member's display name, `{server}` and `{channel}` names."""
    return PromptVariables(
        user=user.display_name,
        server=guild.name if guild is not None else "",
        channel=str(getattr(channel, "name", "") or ""),
        locale=locale,
        now=dt.datetime.now(dt.UTC),
    )


def thread_name(prompt: str) -> str:
    """A thread's name from its first prompt: the first line, cut to Discord's limit."""
    first = next((line.strip() for line in prompt.splitlines() if line.strip()), "") or "…"
    if len(first) > THREAD_NAME_CHARS:
        first = first[: THREAD_NAME_CHARS - 1].rstrip() + "…"
    return first
