"""Where a streamed reply goes in Discord: an interaction's response or a chain of replies.

Every send and edit carries ``AllowedMentions.none()``: a model's answer never pings anyone.
Each handle and target names its rate-limit route (see ``bot.rate_monitor.route_key``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.render import MessageHandle

NO_MENTIONS = discord.AllowedMentions.none()
# The interaction token lives 15 minutes; stop relying on it a minute early.
INTERACTION_TOKEN_SAFE_S = 14 * 60


def channel_route(channel_id: int | None) -> str:
    return f"channels/{channel_id}"


class DiscordMessageHandle:
    """A message the bot sent (a normal message or a webhook follow-up) and may edit."""

    def __init__(self, message: discord.Message | discord.WebhookMessage, route_key: str) -> None:
        self.message = message
        self.route_key = route_key

    async def edit(self, content: str) -> None:
        await self.message.edit(content=content, allowed_mentions=NO_MENTIONS)


class OriginalResponseHandle:
    """The deferred interaction's original response, edited through the interaction."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.route_key = _webhook_route(interaction)

    async def edit(self, content: str) -> None:
        await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS)


class InteractionTarget:
    """Answer a deferred interaction: its original response first, then follow-ups.

    The token works for 15 minutes. Past ``INTERACTION_TOKEN_SAFE_S`` a public answer continues
    as plain messages in ``interaction.channel`` (when the bot can post there; a first piece
    that late leaves the deferred "thinking" response as it is); an ephemeral answer cannot
    move, so it keeps using the token. Pieces sent through the token can no longer be edited
    once it expires; such an edit fails the stream like any other Discord error.
    """

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        lifetime = datetime.timedelta(seconds=INTERACTION_TOKEN_SAFE_S)
        self._token_deadline = interaction.created_at + lifetime

    @property
    def route_key(self) -> str:
        if self._channel_fallback() is not None:
            return channel_route(self.interaction.channel_id)
        return _webhook_route(self.interaction)

    async def send_first(self, content: str) -> DiscordMessageHandle | OriginalResponseHandle:
        channel = self._channel_fallback()
        if channel is not None:
            return await self._send_in_channel(channel, content)
        await self.interaction.edit_original_response(content=content, allowed_mentions=NO_MENTIONS)
        return OriginalResponseHandle(self.interaction)

    async def send_next(self, content: str, previous: MessageHandle) -> DiscordMessageHandle:
        channel = self._channel_fallback()
        if channel is not None:
            return await self._send_in_channel(channel, content)
        message = await self.interaction.followup.send(
            content, ephemeral=self.ephemeral, allowed_mentions=NO_MENTIONS, wait=True
        )
        return DiscordMessageHandle(message, _webhook_route(self.interaction))

    def _channel_fallback(self) -> discord.abc.Messageable | None:
        """The channel to continue in once the token is about to expire, if any."""
        channel = self.interaction.channel
        if self.ephemeral or discord.utils.utcnow() < self._token_deadline:
            return None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def _send_in_channel(
        self, channel: discord.abc.Messageable, content: str
    ) -> DiscordMessageHandle:
        message = await channel.send(content, allowed_mentions=NO_MENTIONS)
        return DiscordMessageHandle(message, channel_route(self.interaction.channel_id))


class ReplyChainTarget:
    """Answer a message with a reply, and continue each piece as a reply to the previous one."""

    def __init__(self, message: discord.Message) -> None:
        self.message = message
        self.route_key = channel_route(message.channel.id)

    async def send_first(self, content: str) -> DiscordMessageHandle:
        return await self._reply(self.message, content)

    async def send_next(self, content: str, previous: MessageHandle) -> DiscordMessageHandle:
        if not isinstance(previous, DiscordMessageHandle):
            raise TypeError("ReplyChainTarget continues only from its own messages")
        return await self._reply(previous.message, content)

    async def _reply(self, to: discord.Message, content: str) -> DiscordMessageHandle:
        message = await to.reply(content, mention_author=False, allowed_mentions=NO_MENTIONS)
        return DiscordMessageHandle(message, self.route_key)


def _webhook_route(interaction: discord.Interaction) -> str:
    return f"webhooks/{interaction.application_id}/{interaction.token}"
