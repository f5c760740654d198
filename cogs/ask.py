"""/ask, /forget, @mention chat, "every message" channels and the bot's threads: Discord in,
bot.chat out. Where the bot answers and with which persona is `bot.chat.personas`."""

from __future__ import annotations

import logging
import re
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.chat.documents import Document, OneDocument
from bot.chat.modes import Heard, answers
from bot.chat.personas import ChatSetup, Place, fill
from bot.chat.service import ChatRequest
from bot.errors import LocalizedError, UserFacingError
from bot.i18n import t
from bot.interactions.answer_buttons import answer_with_buttons, is_threadable
from bot.interactions.callers import caller_of, caller_of_message
from bot.interactions.guards import usable_anywhere
from bot.interactions.media import document_of, image_data_url
from bot.interactions.places import (
    is_bot_thread,
    is_locked_thread,
    place_of,
    prompt_variables,
    thread_name,
)
from bot.interactions.replies import error_message, failures_told
from bot.media.images import check_image, is_image
from bot.render import ReplyTarget
from bot.render.targets import ChannelTarget, InteractionTarget, ReplyChainTarget

log = logging.getLogger(__name__)

#: A new thread for an answer archives after a day without messages (Discord's default).
THREAD_ARCHIVE_MIN: Literal[1440] = 1440


class InputError(LocalizedError):
    """Bad input, refused before any API call."""


class Ask(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

    @usable_anywhere()
    @app_commands.command(
        name=_("ask"),
        description=_("Ask nexai anything; the channel's recent conversation goes with it."),
    )
    @app_commands.rename(
        prompt=_("prompt"),
        model=_("model"),
        image=_("image"),
        file=_("file"),
        private=_("private"),
        thread=_("thread"),
    )
    @app_commands.describe(
        prompt=_("What you want to ask"),
        model=_("Which model answers (default: the persona's here)"),
        image=_("An image for the model to look at (vision models)"),
        file=_("A text file or PDF for the model to read (text, Markdown, CSV, JSON, code)"),
        private=_("Only you see the answer, and the channel's memory keeps nothing"),
        thread=_("Open the answer in a new thread (default: the server's choice)"),
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        model: str | None = None,
        image: discord.Attachment | None = None,
        file: discord.Attachment | None = None,
        private: bool = False,
        thread: bool | None = None,
    ) -> None:
        async with failures_told(interaction, self.bot.alerts):
            with self.bot.acks_first.until_acknowledged():
                channel = interaction.channel
                place = place_of(channel, interaction.guild_id)
                setup = await self.bot.personas.setup(place)
                chosen = model is not None
                model = model or setup.persona.model
                if file is not None and image is None and is_image(file.content_type):
                    image, file = file, None  # a picture on the file option is still seen
                if thread and private:
                    raise InputError(
                        "A private answer can't open a thread: choose one or the other."
                    )
                in_thread = (setup.answer_in_threads if thread is None else thread) and not private
                self._check_model(model, image, chosen=chosen)
                if file is not None:
                    self.bot.documents.check(document_of(file))  # by Discord's claims
                await self.bot.ledger.check(caller_of(interaction), "ask")  # charge decides
                await interaction.response.defer(ephemeral=private, thinking=True)
            await self.bot.acks_first.wait_turn()  # a crowd's other acknowledgements first
            document = await self._read(file) if file is not None else None
            locale = str(interaction.locale)
            target: ReplyTarget = InteractionTarget(interaction, ephemeral=private)
            conversation = place.conversation_id or interaction.user.id
            opened = await self._open_thread(channel, prompt) if in_thread else None
            if opened is not None:
                await interaction.edit_original_response(
                    content=t("🧵 The answer is in {thread}.", locale, thread=opened.mention),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
                target, conversation = ChannelTarget(opened, opened.id), opened.id
            variables = prompt_variables(interaction.user, interaction.guild, channel, locale)
            request = ChatRequest(
                caller=caller_of(interaction),
                channel_id=conversation,
                author_name=interaction.user.display_name,
                prompt=prompt,
                model=model,
                locale=locale,
                image_url=await image_data_url(image) if image else None,
                remember=not private,
                system_prompt=fill(setup.persona.system_prompt, variables),
                document=document,
                temperature=setup.persona.temperature,
            )
            await self._answer(request, target)

    @ask.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=m, value=m) for m in self.bot.catalog.suggest(current)]

    @app_commands.command(
        name=_("forget"),
        description=_("Clear the conversation memory of this channel or thread."),
    )
    async def forget(self, interaction: discord.Interaction) -> None:
        """Clears the conversation it is run in: a thread's own, or the channel's (its threads
        keep theirs)."""
        locale = str(interaction.locale)
        if interaction.guild is not None and not interaction.permissions.manage_messages:
            text = t(
                "You need the Manage Messages permission to clear this conversation's memory.",
                locale,
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        channel_id = interaction.channel_id or interaction.user.id
        count = await self.bot.history.forget(channel_id)
        if isinstance(interaction.channel, discord.Thread):
            text = t("I forgot this thread's conversation ({count} messages).", locale, count=count)
        else:
            text = t(
                "I forgot this channel's conversation ({count} messages).", locale, count=count
            )
        await interaction.response.send_message(
            text, allowed_mentions=discord.AllowedMentions.none()
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A message the place's mode says is for the bot (a mention, a reply to the bot, any
        message in an "every message" channel or a thread the bot started; always in DMs) is a
        prompt; the answer is a reply chain under it, or a new thread when the server says so.

        A voice message is never a prompt: it has no text, and mentions the bot only when it
        replies to the bot with its ping on; transcribing it is the voice-note listener's job.
        The first image goes to a vision model; any other attachment must be one document.
        """
        me = self.bot.user
        if message.author.bot or me is None or message.flags.voice:
            return
        channel = message.channel
        guild = message.guild
        if is_locked_thread(channel):
            return
        place = place_of(channel, guild.id if guild else None)
        setup = await self.bot.personas.setup(place)
        replied = replied_bot_message(message, me.id)
        heard = Heard(
            mentioned=me in message.mentions,
            replies_to_bot=replied is not None,
            in_bot_thread=is_bot_thread(channel, me.id),
            pings_everyone=message.mention_everyone,
            content=message.content,
        )
        called = guild is None or heard.mentioned or heard.replies_to_bot
        if guild is not None and not answers(setup.mode, heard, setup.aside_prefix):
            return
        prompt = strip_mentions(message.content, me.id)
        if not called and not prompt:
            return  # a picture or a sticker in a channel the bot follows: nothing asked
        # Only an explicit mention opens a thread: replies continue where they are, and a
        # channel in "every message" mode would otherwise get a thread per message.
        in_thread = setup.answer_in_threads and heard.mentioned and guild is not None
        await self._answer_message(message, place, setup, prompt, replied, in_thread=in_thread)

    async def _answer_message(
        self,
        message: discord.Message,
        place: Place,
        setup: ChatSetup,
        prompt: str,
        replied: str | None,
        *,
        in_thread: bool,
    ) -> None:
        guild_id = message.guild.id if message.guild else None
        channel = message.channel
        locale = str(message.guild.preferred_locale) if message.guild else "en-US"
        image = next((a for a in message.attachments if is_image(a.content_type)), None)
        files = [a for a in message.attachments if not is_image(a.content_type)]
        model = setup.persona.model
        target: ReplyChainTarget | ChannelTarget = ReplyChainTarget(message)
        try:
            if not prompt:
                raise InputError("Your prompt is empty. Write something after the mention.")
            self._check_model(model, image, chosen=False)
            if len(files) > 1:
                raise OneDocument()
            if files:
                self.bot.documents.check(document_of(files[0]))  # by Discord's claims
            conversation = place.conversation_id or channel.id
            if in_thread:
                opened = await self._open_thread_from(message, prompt)
                if opened is not None:
                    target, conversation = ChannelTarget(opened, opened.id), opened.id
            async with target.typing():
                document = await self._read(files[0]) if files else None
                variables = prompt_variables(message.author, message.guild, channel, locale)
                request = ChatRequest(
                    caller=caller_of_message(message),
                    channel_id=conversation,
                    author_name=message.author.display_name,
                    prompt=prompt,
                    model=model,
                    locale=locale,
                    image_url=await image_data_url(image) if image else None,
                    system_prompt=fill(setup.persona.system_prompt, variables),
                    document=document,
                    temperature=setup.persona.temperature,
                    replied_to=replied,
                )
                await self._answer(request, target)
        except UserFacingError as error:
            await self.bot.alerts.report(guild_id, error)
            await message.reply(
                error_message(error, locale),
                mention_author=False,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as error:  # e.g. the prompt was deleted before the answer
            log.warning("Could not answer message %s in %s: %s", message.id, channel.id, error)

    async def _open_thread(self, channel: object, prompt: str) -> discord.Thread | None:
        """A new public thread in a text channel for /ask's answer; None where there can be
        none (a thread, a DM) or the bot may not start one (it then answers in place)."""
        if not isinstance(channel, discord.TextChannel):
            return None
        try:
            return await channel.create_thread(
                name=thread_name(prompt),
                type=discord.ChannelType.public_thread,
                auto_archive_duration=THREAD_ARCHIVE_MIN,
            )
        except discord.HTTPException as error:
            log.warning("Could not open a thread in %s: %s", channel.id, error)
            return None

    async def _open_thread_from(
        self, message: discord.Message, prompt: str
    ) -> discord.Thread | None:
        """A new public thread from a member's message, for the answer to it."""
        if not isinstance(message.channel, discord.TextChannel):
            return None
        try:
            return await message.create_thread(
                name=thread_name(prompt), auto_archive_duration=THREAD_ARCHIVE_MIN
            )
        except discord.HTTPException as error:
            log.warning("Could not open a thread from %s: %s", message.id, error)
            return None

    async def _read(self, file: discord.Attachment) -> Document:
        """The attached document's text, read before anything is charged or sent to the API."""
        return await self.bot.documents.read(document_of(file))

    async def _answer(self, request: ChatRequest, target: ReplyTarget) -> None:
        """Stream the answer with its buttons (bot/interactions/answer_buttons.py)."""
        me = self.bot.user
        assert me is not None
        if isinstance(target, InteractionTarget):  # a user-installed app has no threads
            interaction = target.interaction
            public = not target.ephemeral
            threadable = interaction.is_guild_integration() and is_threadable(interaction.channel)
        elif isinstance(target, ReplyChainTarget):
            public, threadable = True, is_threadable(target.message.channel)
        elif isinstance(target, ChannelTarget):  # an answer opened in a new thread
            public, threadable = True, False
        else:
            await self.bot.chat.answer(request, target, bot_id=me.id, bot_name=me.display_name)
            return
        await answer_with_buttons(
            self.bot.chat,
            request,
            target,
            bot_id=me.id,
            bot_name=me.display_name,
            public=public,
            threadable=threadable,
        )

    def _check_model(self, model: str, image: discord.Attachment | None, *, chosen: bool) -> None:
        """Refuse a model the member chose that the API does not offer, and images it cannot
        see. A configured model goes to the API, whose 404 alerts the moderators."""
        if chosen and not self.bot.catalog.accepts_chat(model):
            raise InputError(
                "The model `{model}` isn't available for chat. Pick one from the list.",
                model=model,
            )
        if image is None:
            return
        check_image(image.content_type, image.size)
        capabilities = self.bot.nexai.capabilities
        if not capabilities.get(model).vision:
            models = ", ".join(f"`{m}`" for m in capabilities.vision_models())
            raise InputError(
                "`{model}` can't see images. Try a vision model: {models}.",
                model=model,
                models=models,
            )


def strip_mentions(content: str, bot_id: int) -> str:
    return re.sub(rf"<@!?{bot_id}>", "", content).strip()


def replied_bot_message(message: discord.Message, bot_id: int) -> str | None:
    """The text of the bot's message `message` replies to (the gateway sends it along with a
    reply, as `referenced_message`), without the bot's own notes; None if it replies to
    something else, or to nothing."""
    reference = message.reference
    replied = reference.resolved if reference is not None else None
    if not isinstance(replied, discord.Message) or replied.author.id != bot_id:
        return None
    lines = [line for line in replied.content.splitlines() if not line.startswith("-# ")]
    return "\n".join(lines).strip() or None


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Ask(bot))
