"""Presses of the buttons under an answer (bot/interactions/answer_buttons.py): who may press
what, and what each does, in terms of the chat service, memory and Discord."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord.ext import commands

from bot.app import NexBot
from bot.chat.history import Remembered
from bot.chat.personas import fill
from bot.chat.service import ChatRequest
from bot.i18n import t
from bot.interactions.answer_buttons import (
    HANDLER_COG,
    Action,
    AnswerButton,
    Press,
    answer_with_buttons,
    buttons_view,
    delete_parts,
    finished_presses,
    is_threadable,
)
from bot.interactions.callers import caller_of
from bot.interactions.places import place_of, prompt_variables, thread_name
from bot.interactions.replies import failures_told
from bot.render.targets import InteractionTarget

log = logging.getLogger(__name__)

#: What the model is asked when a member presses Continue.
CONTINUE_PROMPT = "Continue your previous answer exactly where it stopped, without repeating it."
#: A thread from an answer archives after a day without messages (Discord's default).
THREAD_ARCHIVE_MIN: Literal[1440] = 1440

NOT_YOURS = "Only the person who asked can use this button."
NOT_YOURS_OR_MODERATOR = "Only the person who asked, or a moderator, can use this button."
NOT_STREAMING = "That answer is not being written here any more, so there is nothing to stop."
FORGOTTEN = (
    "I no longer remember that exchange (it was deleted or forgotten), so I can't do that. "
    "Ask again instead."
)
NO_THREAD_HERE = (
    "A thread can only start from an answer in a server's text channel where nexbot is a member."
)
THREAD_GREETING = "This thread continues the answer above, and I remember it: write here to go on."


class Answers(commands.Cog, name=HANDLER_COG):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AnswerButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AnswerButton)

    async def on_press(self, interaction: discord.Interaction, press: Press) -> None:
        async with failures_told(interaction, self.bot.alerts):
            match press.action:
                case Action.STOP:
                    await self._stop(interaction, press)
                case Action.REGENERATE:
                    await self._regenerate(interaction, press)
                case Action.CONTINUE:
                    await self._continue(interaction, press)
                case Action.DELETE:
                    await self._delete(interaction, press)
                case Action.THREAD:
                    await self._thread(interaction, press)
                case Action.READ:
                    await self._read_aloud(interaction, press)

    async def _stop(self, interaction: discord.Interaction, press: Press) -> None:
        if not await self._allowed(interaction, press, moderators=True):
            return
        assert interaction.message is not None
        if not self.bot.chat.stops.stop(interaction.message.id):
            await self._say(interaction, NOT_STREAMING)
            return
        await interaction.response.defer()  # the answer ends itself, with its note

    async def _regenerate(self, interaction: discord.Interaction, press: Press) -> None:
        """A new answer to the same prompt replaces this one in place (a long answer's other
        parts go, and its answer.md); memory keeps only it."""
        if not await self._allowed(interaction, press, moderators=False):
            return
        with self.bot.acks_first.until_acknowledged():
            remembered = await self._remembered(interaction, press)
            if remembered is None or press.exchange is None:
                return
            await self.bot.ledger.check(caller_of(interaction), "ask")
            await interaction.response.edit_message(view=None, attachments=[])
        await self.bot.acks_first.wait_turn()  # a crowd's other acknowledgements first
        await self.bot.history.remove_exchange(press.exchange)
        await self._delete_other_parts(interaction, remembered.message_ids)
        request = await self._request(interaction, remembered, remembered.prompt)
        await self._answer(interaction, request, InteractionTarget(interaction))

    async def _continue(self, interaction: discord.Interaction, press: Press) -> None:
        """The model goes on from where the length limit cut the answer, in a new message."""
        if not await self._allowed(interaction, press, moderators=False):
            return
        with self.bot.acks_first.until_acknowledged():
            remembered = await self._remembered(interaction, press)
            if remembered is None:
                return
            await self.bot.ledger.check(caller_of(interaction), "ask")
            await interaction.response.edit_message(view=self._view_without(interaction, press))
        await self.bot.acks_first.wait_turn()
        request = await self._request(interaction, remembered, CONTINUE_PROMPT)
        target = InteractionTarget(interaction, first_as_followup=True)
        await self._answer(interaction, request, target)

    async def _delete(self, interaction: discord.Interaction, press: Press) -> None:
        """The answer goes (every part of a long one, its answer.md with the last), and its
        exchange leaves memory. An answer memory does not keep loses only this message."""
        if not await self._allowed(interaction, press, moderators=True):
            return
        await interaction.response.defer()
        if press.exchange is not None:
            remembered = await self.bot.history.exchange(press.exchange)
            await self.bot.history.remove_exchange(press.exchange)
            if remembered is not None:
                await self._delete_other_parts(interaction, remembered.message_ids)
        await interaction.delete_original_response()

    async def _delete_other_parts(
        self, interaction: discord.Interaction, message_ids: tuple[int, ...]
    ) -> None:
        pressed = interaction.message.id if interaction.message else None
        await delete_parts(self.bot, interaction.channel_id, message_ids, keep=pressed)

    async def _thread(self, interaction: discord.Interaction, press: Press) -> None:
        """A thread from the answer, whose memory starts with this exchange."""
        if not await self._allowed(interaction, press, moderators=True):
            return
        message = interaction.message
        if message is None or not self._bot_is_here(interaction):
            await self._say(interaction, NO_THREAD_HERE)
            return
        remembered = await self._remembered(interaction, press)
        if remembered is None:
            return
        await interaction.response.edit_message(view=self._view_without(interaction, press))
        thread = await message.create_thread(
            name=thread_name(remembered.prompt), auto_archive_duration=THREAD_ARCHIVE_MIN
        )
        me = self._me()
        await self.bot.history.copy_exchange(
            remembered, thread.id, bot_id=me.id, bot_name=me.display_name
        )
        await thread.send(
            t(THREAD_GREETING, self._channel_locale(interaction)),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _read_aloud(self, interaction: discord.Interaction, press: Press) -> None:
        """🔊: the answer as a voice message replying to it, like the Read aloud menu; a long
        answer (several messages) is read whole, from memory, when memory still has it."""
        message = interaction.message
        speech = self.bot.get_cog("Speech")
        read_text_aloud = getattr(speech, "read_text_aloud", None)
        if read_text_aloud is None or message is None:
            log.error("The 🔊 button needs the speech cog")
            return
        remembered = None
        if press.exchange is not None:
            remembered = await self.bot.history.exchange(press.exchange)
        content = remembered.answer if remembered is not None else message.clean_content
        await read_text_aloud(interaction, content, message.id)

    async def _answer(
        self, interaction: discord.Interaction, request: ChatRequest, target: InteractionTarget
    ) -> None:
        me = self._me()
        await answer_with_buttons(
            self.bot.chat,
            request,
            target,
            bot_id=me.id,
            bot_name=me.display_name,
            public=True,
            threadable=self._bot_is_here(interaction),
        )

    async def _request(
        self, interaction: discord.Interaction, remembered: Remembered, prompt: str
    ) -> ChatRequest:
        """A new ask in the exchange's conversation, with the persona of where it is now."""
        channel = interaction.channel
        setup = await self.bot.personas.setup(place_of(channel, interaction.guild_id))
        locale = self._channel_locale(interaction)
        variables = prompt_variables(interaction.user, interaction.guild, channel, locale)
        return ChatRequest(
            caller=caller_of(interaction),
            channel_id=remembered.channel_id,
            author_name=interaction.user.display_name,
            prompt=prompt,
            model=remembered.model or setup.persona.model,
            locale=locale,
            system_prompt=fill(setup.persona.system_prompt, variables),
            temperature=setup.persona.temperature,
        )

    async def _remembered(
        self, interaction: discord.Interaction, press: Press
    ) -> Remembered | None:
        remembered = None
        if press.exchange is not None:
            remembered = await self.bot.history.exchange(press.exchange)
        if remembered is None:
            await self._say(interaction, FORGOTTEN)
        return remembered

    async def _allowed(
        self, interaction: discord.Interaction, press: Press, *, moderators: bool
    ) -> bool:
        """The asker may; a moderator (Manage Messages) too where `moderators`; else a polite
        ephemeral no."""
        if interaction.user.id == press.asker_id:
            return True
        moderator = interaction.guild_id is not None and interaction.permissions.manage_messages
        if moderators and moderator:
            return True
        await self._say(interaction, NOT_YOURS_OR_MODERATOR if moderators else NOT_YOURS)
        return False

    def _view_without(
        self, interaction: discord.Interaction, press: Press
    ) -> discord.ui.View | None:
        """The buttons the answer shows, less the one just pressed (it no longer applies)."""
        shown = {
            component.custom_id
            for row in (interaction.message.components if interaction.message else [])
            for component in getattr(row, "children", [])
            if isinstance(component, discord.Button)
        }
        presses = finished_presses(
            press.asker_id,
            None,
            exchange=press.exchange,
            public=True,
            threadable=True,
            can_continue=True,
        )
        kept = [p for p in presses if p.custom_id in shown and p.action is not press.action]
        return buttons_view(kept, self._channel_locale(interaction))

    def _bot_is_here(self, interaction: discord.Interaction) -> bool:
        """Threads need the bot as a member of the server (not a user-installed app)."""
        return (
            interaction.guild is not None
            and interaction.is_guild_integration()
            and is_threadable(interaction.channel)
        )

    def _channel_locale(self, interaction: discord.Interaction) -> str:
        """Buttons and notes everyone sees speak the server's language."""
        if interaction.guild_locale is not None:
            return str(interaction.guild_locale)
        return str(interaction.locale)

    def _me(self) -> discord.ClientUser:
        me = self.bot.user
        assert me is not None
        return me

    @staticmethod
    async def _say(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(
            t(text, interaction.locale),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Answers(bot))
