"""Helpers for the end-to-end tests of /limits, /usage and /settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord

from bot.quota.rules import window
from tests.e2e.conftest import BotEnv
from tests.fakes.discord import EVERYONE_PERMISSIONS, FakeInteraction, FakeMessage

MANAGE_SERVER = discord.Permissions(manage_guild=True).value
MODERATOR = EVERYONE_PERMISSIONS | MANAGE_SERVER
NO_PERMISSION = "You need the Manage Server permission for this command."


def settled(inter: FakeInteraction) -> bool:
    """The user sees the final outcome: a reply, an error in place of "thinking…", or a
    finished (cursor-less) answer."""
    original = inter.original
    if original is not None and original.deleted:
        return bool(inter.followups) and not inter.followups[-1].loading
    if original is None or original.loading:
        return False
    return not any(m.content.endswith("▌") for m in inter.messages)


def outcome(inter: FakeInteraction) -> FakeMessage:
    """The message that carries the interaction's outcome."""
    assert inter.original is not None
    return inter.followups[-1] if inter.original.deleted else inter.original


def text_of(message: FakeMessage) -> str:
    """Content and embed text of a message, as one string."""
    parts = [message.content]
    for card in message.embeds:
        parts += [card.get("title", ""), card.get("description", "")]
        for field in card.get("fields", []):
            parts += [field["name"], field["value"]]
        parts.append((card.get("footer") or {}).get("text", ""))
    return "\n".join(part for part in parts if part)


async def run(
    env: BotEnv,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    wait_s: float = 5.0,
    **kw: Any,
) -> FakeInteraction:
    """Invoke a command and wait (at most `wait_s`) until its outcome is final."""
    inter = await env.discord.invoke(name, options, **kw)
    return await inter.wait_done(settled, timeout=wait_s)


async def moderate(
    env: BotEnv, name: str, subcommand: str | None, options: dict[str, Any] | None = None
) -> FakeMessage:
    """A moderator (Manage Server) runs a command; returns the (ephemeral) outcome."""
    inter = await run(env, name, options, subcommand=subcommand, permissions=MODERATOR)
    message = outcome(inter)
    assert message.ephemeral, text_of(message)
    return message


async def add_role(env: BotEnv, name: str) -> int:
    """A new role, once the bot has it in its cache (role ids of members resolve through it)."""
    role_id = env.discord.add_role(name)
    await env.bot.wait_for("guild_role_create", check=lambda r: r.id == role_id, timeout=5)
    return role_id


async def add_channel(env: BotEnv, name: str) -> int:
    channel_id = env.discord.add_channel(name)
    await env.bot.wait_for("guild_channel_create", check=lambda c: c.id == channel_id, timeout=5)
    return channel_id


def resets(period: str) -> str:
    """Discord markup for when the current `period` window ends."""
    end = window(period, dt.datetime.now(dt.UTC))[1]  # type: ignore[arg-type]
    return f"<t:{int(end.timestamp())}:R>"


def chat_calls_with(env: BotEnv, text: str) -> int:
    """How many chat requests reached the API with `text` in their last message."""
    count = 0
    for request in env.api.calls("/chat/completions"):
        messages = (request.json or {}).get("messages") or [{}]
        if text in str(messages[-1].get("content", "")):
            count += 1
    return count


async def wait_answer(env: BotEnv, sent: dict[str, Any]) -> FakeMessage:
    """The bot's finished reply (no streaming cursor) to a member's message."""
    return await env.discord.wait_bot_message(
        lambda m: (
            (m.message_reference or {}).get("message_id") == sent["id"]
            and not m.content.endswith("▌")
        )
    )
