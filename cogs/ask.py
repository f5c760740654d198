"""/ask, /forget and @mention chat: Discord in, bot.chat out."""

from __future__ import annotations

import logging
import re

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.app import NexBot
from bot.chat.documents import Document, OneDocument
from bot.chat.service import ChatRequest
from bot.errors import LocalizedError, UserFacingError
from bot.i18n import t
from bot.interactions.callers import caller_of, caller_of_message
from bot.interactions.media import document_of, image_data_url
from bot.interactions.replies import error_message, failures_told
from bot.media.images import check_image, is_image
from bot.render import ReplyTarget
from bot.render.targets import InteractionTarget, ReplyChainTarget

log = logging.getLogger(__name__)


class InputError(LocalizedError):
    """Bad input, refused before any API call."""


class Ask(commands.Cog):
    def __init__(self, bot: NexBot) -> None:
        self.bot = bot

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
    )
    @app_commands.describe(
        prompt=_("What you want to ask"),
        model=_("Which model answers (default: the server's)"),
        image=_("An image for the model to look at (vision models)"),
        file=_("A text file or PDF for the model to read (text, Markdown, CSV, JSON, code)"),
        private=_("Only you see the answer, and the channel's memory keeps nothing"),
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 4000],
        model: str | None = None,
        image: discord.Attachment | None = None,
        file: discord.Attachment | None = None,
        private: bool = False,
    ) -> None:
        async with failures_told(interaction, self.bot.alerts):
            with self.bot.acks_first.until_acknowledged():
                config = await self.bot.guild_settings.get(interaction.guild_id)
                chosen = model is not None
                model = model or config.chat_model or self.bot.settings.default_chat_model
                if file is not None and image is None and is_image(file.content_type):
                    image, file = file, None  # a picture on the file option is still seen
                self._check_model(model, image, chosen=chosen)
                if file is not None:
                    self.bot.documents.check(document_of(file))  # by Discord's claims
                await self.bot.ledger.check(caller_of(interaction), "ask")  # charge decides
                await interaction.response.defer(ephemeral=private, thinking=True)
            await self.bot.acks_first.wait_turn()  # a crowd's other acknowledgements first
            document = await self._read(file) if file is not None else None
            request = ChatRequest(
                caller=caller_of(interaction),
                channel_id=interaction.channel_id or interaction.user.id,
                author_name=interaction.user.display_name,
                prompt=prompt,
                model=model,
                locale=str(interaction.locale),
                image_url=await image_data_url(image) if image else None,
                remember=not private,
                system_prompt=config.system_prompt,
                document=document,
            )
            await self._answer(request, InteractionTarget(interaction, ephemeral=private))

    @ask.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=m, value=m) for m in self.bot.catalog.suggest(current)]

    @app_commands.command(
        name=_("forget"), description=_("Clear this channel's conversation memory.")
    )
    async def forget(self, interaction: discord.Interaction) -> None:
        locale = str(interaction.locale)
        if interaction.guild is not None and not interaction.permissions.manage_messages:
            text = t(
                "You need the Manage Messages permission to clear this channel's memory.", locale
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        channel_id = interaction.channel_id or interaction.user.id
        count = await self.bot.history.forget(channel_id)
        text = t("I forgot this channel's conversation ({count} messages).", locale, count=count)
        await interaction.response.send_message(
            text, allowed_mentions=discord.AllowedMentions.none()
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention (or a DM) is a prompt; the answer is a reply chain under it.

        A voice message is never a prompt: it has no text, and mentions the bot only when it
        replies to the bot with its ping on; transcribing it is the voice-note listener's job.
        The first image goes to a vision model; any other attachment must be one document.
        """
        if message.author.bot or self.bot.user is None or message.flags.voice:
            return
        is_dm = message.guild is None
        if not is_dm and self.bot.user not in message.mentions:
            return
        guild_id = message.guild.id if message.guild else None
        config = await self.bot.guild_settings.get(guild_id)
        channel = message.channel
        if not config.answers_mentions_in((channel.id, getattr(channel, "parent_id", None))):
            return
        locale = str(message.guild.preferred_locale) if message.guild else "en-US"
        prompt = strip_mentions(message.content, self.bot.user.id)
        image = next((a for a in message.attachments if is_image(a.content_type)), None)
        files = [a for a in message.attachments if not is_image(a.content_type)]
        model = config.chat_model or self.bot.settings.default_chat_model
        target = ReplyChainTarget(message)
        try:
            if not prompt:
                raise InputError("Your prompt is empty. Write something after the mention.")
            self._check_model(model, image, chosen=False)
            if len(files) > 1:
                raise OneDocument()
            if files:
                self.bot.documents.check(document_of(files[0]))  # by Discord's claims
            async with target.typing():
                document = await self._read(files[0]) if files else None
                request = ChatRequest(
                    caller=caller_of_message(message),
                    channel_id=message.channel.id,
                    author_name=message.author.display_name,
                    prompt=prompt,
                    model=model,
                    locale=locale,
                    image_url=await image_data_url(image) if image else None,
                    system_prompt=config.system_prompt,
                    document=document,
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

    async def _read(self, file: discord.Attachment) -> Document:
        """The attached document's text, read before anything is charged or sent to the API."""
        return await self.bot.documents.read(document_of(file))

    async def _answer(self, request: ChatRequest, target: ReplyTarget) -> None:
        me = self.bot.user
        assert me is not None
        await self.bot.chat.answer(request, target, bot_id=me.id, bot_name=me.display_name)

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


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Ask(bot))
