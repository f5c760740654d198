"""Where a streamed reply goes in Discord: an interaction's response or a chain of replies.

Every send and edit carries ``AllowedMentions.none()``: a model's answer never pings anyone.
Each handle names the route of its next request (an edit), and each target the route of the
next message it would send (see ``bot.render.rate_monitor.route_key``): Discord limits creating and
editing messages in separate buckets.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import io
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

import discord

from bot.render.global_budget import TYPING, priority
from bot.render.rate_monitor import (
    followup_route,
    message_create_route,
    message_edit_route,
    webhook_edit_route,
)

if TYPE_CHECKING:
    from bot.render.reply import MessageHandle

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
#: Discord's error code for a call through an interaction token that is no longer valid.
INVALID_WEBHOOK_TOKEN = 50027
# The interaction token lives 15 minutes; stop relying on it a minute early.
INTERACTION_TOKEN_SAFE_S = 14 * 60
#: Discord's limit on follow-up messages of an interaction authorised by a user install alone
#: (Interactions > Receiving and Responding > Followup Messages).
USER_INSTALL_MAX_FOLLOWUPS = 5
#: A reply chain shows Discord's typing indicator only when its first message has not gone out
#: by then: a quick answer needs none, and each indicator is a request under the global limit.
TYPING_AFTER_S = 1.0
#: Discord shows "typing" for 10 s, or until the bot's next message: it is sent again this often.
TYPING_EVERY_S = 8.0


def _view(buttons: object) -> Any:
    """The `view=` of an edit that shows `buttons` (None: MISSING, the message keeps its own)."""
    if buttons is None:
        return discord.utils.MISSING
    if not isinstance(buttons, discord.ui.View):
        raise TypeError(f"buttons must be a discord.ui.View, not {type(buttons).__name__}")
    return buttons


class DiscordMessageHandle:
    """A message the bot sent in a channel (a reply, or an answer moved there) and may edit."""

    def __init__(self, message: discord.Message, route_key: str) -> None:
        # Only the id and channel are kept: a whole Message (its author, components...) held
        # about 2 KiB for as long as the answer streams.
        self.message: discord.Message | discord.PartialMessage = message
        if not isinstance(message.channel, discord.GroupChannel):  # where bots never post
            self.message = message.channel.get_partial_message(message.id)
        self.route_key = route_key  # of an edit

    async def edit(self, content: str, buttons: object = None) -> None:
        await self.message.edit(content=content, allowed_mentions=NO_MENTIONS, view=_view(buttons))

    async def delete(self) -> None:
        await self.message.delete()

    async def attach(self, filename: str, data: bytes) -> None:
        await self.message.edit(
            attachments=[discord.File(io.BytesIO(data), filename)], allowed_mentions=NO_MENTIONS
        )

    @property
    def message_id(self) -> int:
        return self.message.id

    async def set_view(self, view: discord.ui.View | None) -> None:
        """Show `view`'s buttons under the message (None: none)."""
        await self.message.edit(view=view)


class InteractionMessageHandle:
    """A piece sent through the interaction's token: the original response or a follow-up.

    Once the token has expired, a public piece moves: it is sent again as a channel message,
    and later edits go to that one (the stale piece cannot be edited any more).
    """

    def __init__(
        self, target: InteractionTarget, followup: discord.WebhookMessage | None = None
    ) -> None:
        self.target = target
        self.followup = followup  # None: the original response
        self.moved: DiscordMessageHandle | None = None
        #: The original response's id, once known (its first edit answers the message).
        self.original_id: int | None = None

    @property
    def route_key(self) -> str:
        if self.moved is not None:
            return self.moved.route_key
        interaction = self.target.interaction
        return webhook_edit_route(interaction.application_id, interaction.token)

    async def edit(self, content: str, buttons: object = None) -> None:
        if self.moved is not None:
            await self.moved.edit(content, buttons)
            return
        try:
            if self.followup is None:
                message = await self.target.interaction.edit_original_response(
                    content=content, allowed_mentions=NO_MENTIONS, view=_view(buttons)
                )
                self.original_id = message.id
            else:
                await self.followup.edit(
                    content=content, allowed_mentions=NO_MENTIONS, view=_view(buttons)
                )
            return
        except discord.HTTPException as error:
            channel = self.target.fallback_after(error)
        self.moved = await self.target.send_in_channel(channel, content)
        if buttons is not None:
            await self.moved.edit(content, buttons)

    async def delete(self) -> None:
        if self.moved is not None:
            await self.moved.delete()
        elif self.followup is None:
            await self.target.interaction.delete_original_response()
        else:
            await self.followup.delete()

    async def attach(self, filename: str, data: bytes) -> None:
        """Add the file through the token (Edit Original Response / Edit Followup Message
        take files); once the token is invalid, a public piece moves with its file."""
        if self.moved is not None:
            await self.moved.attach(filename, data)
            return
        files = [discord.File(io.BytesIO(data), filename)]
        try:
            if self.followup is None:
                await self.target.interaction.edit_original_response(
                    attachments=files, allowed_mentions=NO_MENTIONS
                )
            else:
                await self.followup.edit(attachments=files, allowed_mentions=NO_MENTIONS)
            return
        except discord.HTTPException as error:
            channel = self.target.fallback_after(error)
        message = await channel.send(
            file=discord.File(io.BytesIO(data), filename), allowed_mentions=NO_MENTIONS
        )
        self.moved = DiscordMessageHandle(
            message, message_edit_route(self.target.interaction.channel_id)
        )

    @property
    def message_id(self) -> int | None:
        if self.moved is not None:
            return self.moved.message_id
        return self.followup.id if self.followup is not None else self.original_id

    async def set_view(self, view: discord.ui.View | None) -> None:
        """Show `view`'s buttons under the message (None: none), through the token while it
        works."""
        if self.moved is not None:
            await self.moved.set_view(view)
        elif self.followup is None:
            await self.target.interaction.edit_original_response(view=view)
        else:
            await self.followup.edit(view=view)


class InteractionTarget:
    """Answer a deferred interaction: its original response first, then follow-ups.

    The token works for 15 minutes. Past ``INTERACTION_TOKEN_SAFE_S``, or as soon as Discord
    says the token is invalid, a public answer continues as plain messages in
    ``interaction.channel`` (when the bot can post there): a piece being streamed is sent again
    there, and one the token can no longer edit stays as it was last shown; a first piece that
    late leaves the deferred "thinking" response as it is. An ephemeral answer cannot move, so
    it keeps using the token, and an expired token fails the stream like any other Discord
    error.
    """

    def __init__(
        self,
        interaction: discord.Interaction,
        *,
        ephemeral: bool = False,
        first_as_followup: bool = False,
    ) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        #: The original response is taken (a button's message, updated): start a follow-up.
        self.first_as_followup = first_as_followup
        #: Buttons under the first piece (the Stop button while the answer streams).
        self.first_view: discord.ui.View | None = None
        lifetime = datetime.timedelta(seconds=INTERACTION_TOKEN_SAFE_S)
        self._token_deadline = interaction.created_at + lifetime
        self._token_expired = False
        self._first_sent = False

    @property
    def max_parts(self) -> int | None:
        """At most this many pieces here (None: no limit of the target's own).

        Where only the token reaches the channel (a user-installed app in a group DM the bot
        is not in), one piece: a press's token reaches only the pressed message, so Delete
        and Regenerate could not reach the others. Elsewhere under a user install alone,
        Discord allows 5 follow-ups: the pieces leave one for an error after the answer.
        """
        interaction = self.interaction
        if interaction.is_guild_integration() or not interaction.is_user_integration():
            return None
        if interaction.context.private_channel:
            return 1
        return USER_INSTALL_MAX_FOLLOWUPS - 1

    @property
    def route_key(self) -> str:
        """The route of the next piece: an edit of the deferred response, then follow-ups."""
        if self._channel_fallback() is not None:
            return message_create_route(self.interaction.channel_id)
        interaction = self.interaction
        if not self._first_sent:
            return webhook_edit_route(interaction.application_id, interaction.token)
        return followup_route(interaction.application_id, interaction.token)

    async def send_first(self, content: str) -> DiscordMessageHandle | InteractionMessageHandle:
        self._first_sent = True
        channel = self._channel_fallback()
        view = self.first_view or discord.utils.MISSING
        if channel is None:
            try:
                if self.first_as_followup:
                    followup = await self.interaction.followup.send(
                        content,
                        ephemeral=self.ephemeral,
                        allowed_mentions=NO_MENTIONS,
                        view=view,
                        wait=True,
                    )
                    return InteractionMessageHandle(self, followup)
                message = await self.interaction.edit_original_response(
                    content=content, allowed_mentions=NO_MENTIONS, view=view
                )
                handle = InteractionMessageHandle(self)
                handle.original_id = message.id
                return handle
            except discord.HTTPException as error:
                channel = self.fallback_after(error)
        return await self.send_in_channel(channel, content, view=view)

    async def send_next(
        self, content: str, previous: MessageHandle
    ) -> DiscordMessageHandle | InteractionMessageHandle:
        channel = self._channel_fallback()
        if channel is None:
            try:
                message = await self.interaction.followup.send(
                    content, ephemeral=self.ephemeral, allowed_mentions=NO_MENTIONS, wait=True
                )
                return InteractionMessageHandle(self, message)
            except discord.HTTPException as error:
                channel = self.fallback_after(error)
        return await self.send_in_channel(channel, content)

    def fallback_after(self, error: discord.HTTPException) -> discord.abc.Messageable:
        """The channel to continue in after a call through the token failed, else raise."""
        if error.code != INVALID_WEBHOOK_TOKEN:
            raise error
        first = not self._token_expired
        self._token_expired = True
        channel = self._channel_fallback()
        if first:
            log.warning(
                "The token of interaction %s expired; the answer %s",
                self.interaction.id,
                "continues in its channel" if channel else "stops",
            )
        if channel is None:
            raise error
        return channel

    def _channel_fallback(self) -> discord.abc.Messageable | None:
        """The channel to continue in once the token is (about to be) invalid, if any."""
        channel = self.interaction.channel
        if self.ephemeral:
            return None
        if not self._token_expired and discord.utils.utcnow() < self._token_deadline:
            return None
        return channel if isinstance(channel, discord.abc.Messageable) else None

    async def send_in_channel(
        self,
        channel: discord.abc.Messageable,
        content: str,
        *,
        view: discord.ui.View = discord.utils.MISSING,
    ) -> DiscordMessageHandle:
        message = await channel.send(content, allowed_mentions=NO_MENTIONS, view=view)
        return DiscordMessageHandle(message, message_edit_route(self.interaction.channel_id))


class ReplyChainTarget:
    """Answer a message with a reply, and continue each piece as a reply to the previous one."""

    def __init__(self, message: discord.Message, *, typing_after_s: float = TYPING_AFTER_S) -> None:
        self.message = message
        self.route_key = message_create_route(message.channel.id)
        self.max_parts: int | None = None
        #: Buttons under the first piece (the Stop button while the answer streams).
        self.first_view: discord.ui.View | None = None
        self._typing = DelayedTyping(message.channel, typing_after_s)

    def typing(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._typing

    async def send_first(self, content: str) -> DiscordMessageHandle:
        self._typing.stop()
        return await self._reply(self.message, content, view=self.first_view)

    async def send_next(self, content: str, previous: MessageHandle) -> DiscordMessageHandle:
        if not isinstance(previous, DiscordMessageHandle):
            raise TypeError("ReplyChainTarget continues only from its own messages")
        return await self._reply(previous.message, content)

    async def _reply(
        self,
        to: discord.Message | discord.PartialMessage,
        content: str,
        *,
        view: discord.ui.View | None = None,
    ) -> DiscordMessageHandle:
        message = await to.reply(
            content,
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
            view=view or discord.utils.MISSING,
        )
        return DiscordMessageHandle(message, message_edit_route(self.message.channel.id))


class ChannelTarget:
    """Answer as new messages in a channel or thread (an answer opened in a new thread), each
    piece after the first a reply to the one before."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        channel_id: int,
        *,
        typing_after_s: float = TYPING_AFTER_S,
    ) -> None:
        self.channel = channel
        self.route_key = message_create_route(channel_id)
        self.max_parts: int | None = None
        self._channel_id = channel_id
        #: Buttons under the first piece (the Stop button while the answer streams).
        self.first_view: discord.ui.View | None = None
        self._typing = DelayedTyping(channel, typing_after_s)

    def typing(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._typing

    async def send_first(self, content: str) -> DiscordMessageHandle:
        self._typing.stop()
        message = await self.channel.send(
            content, allowed_mentions=NO_MENTIONS, view=self.first_view or discord.utils.MISSING
        )
        return DiscordMessageHandle(message, message_edit_route(self._channel_id))

    async def send_next(self, content: str, previous: MessageHandle) -> DiscordMessageHandle:
        if not isinstance(previous, DiscordMessageHandle):
            raise TypeError("ChannelTarget continues only from its own messages")
        message = await previous.message.reply(
            content, mention_author=False, allowed_mentions=NO_MENTIONS
        )
        return DiscordMessageHandle(message, message_edit_route(self._channel_id))


class DelayedTyping:
    """Discord's typing indicator while nothing of an answer is shown: from ``after_s`` on,
    again every ``TYPING_EVERY_S``, and never once the first piece is sent (`stop`). It waits
    last for the bot's global budget, and its failure fails nothing."""

    def __init__(self, channel: discord.abc.Messageable, after_s: float) -> None:
        self.channel = channel
        self.after_s = after_s
        self._stopped = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        """Start: an `async with` block (a plain object, no generator, for each answer)."""
        self._task = asyncio.create_task(self._keep_typing())

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _keep_typing(self) -> None:
        await asyncio.sleep(self.after_s)
        while not self._stopped:
            try:
                with priority(TYPING):
                    await self.channel.typing()
            except discord.HTTPException as error:
                log.debug("No typing indicator: %s", error)
                return
            await asyncio.sleep(TYPING_EVERY_S)
