"""One place that turns a failure into the message a Discord user sees."""

from __future__ import annotations

import asyncio
import logging
import math
from types import TracebackType

import discord
from discord import app_commands

from bot import nexai
from bot.errors import LocalizedError, StorageError, UserFacingError
from bot.i18n import t
from bot.interactions.guards import NotAManager
from bot.interactions.quota_text import refusal_message
from bot.ops.alerts import Alerts
from bot.quota.admission import ShuttingDown, TooBusy
from bot.quota.rules import QuotaExceeded

log = logging.getLogger(__name__)

#: Upstream reasons shown to users are cut to this many characters.
MAX_REASON_CHARS = 300
#: Discord's codes for an interaction that can no longer be answered: not acknowledged in
#: time (Unknown interaction), its token expired or is gone (Invalid / Unknown Webhook), or
#: its answer was deleted while it streamed (Unknown Message).
DEAD_INTERACTION_CODES = frozenset({10062, 50027, 10015, 10008})


def error_message(error: BaseException, locale: discord.Locale | str | None) -> str:
    """A short, specific, localised explanation of `error`, saying what to do next."""
    match error:
        case NotAManager():
            text = error.text
        case LocalizedError():
            return t(error.text, locale, **error.fields)
        case QuotaExceeded():
            return refusal_message(error, locale)
        case TooBusy(limit=1):
            text = "You already have a request running. Wait for it to finish."
        case TooBusy():
            return t(
                "You already have {count} requests running. Wait for one to finish.",
                locale,
                count=error.limit,
            )
        case ShuttingDown():
            text = "The bot is restarting; please try again in a minute."
        case nexai.AuthenticationError():
            text = (
                "The bot's API key was rejected, so I can't answer right now. "
                "Please let the bot's operator know."
            )
        case nexai.PaymentRequiredError():
            text = (
                "The bot's nexai account is out of credits, so I can't answer right now. "
                "Please let the bot's operator know."
            )
        case nexai.PermissionDeniedError():
            text = (
                "The bot's API key is suspended or expired, so I can't answer right now. "
                "Please let the bot's operator know."
            )
        case nexai.RateLimitError(retry_after=float() | int() as wait) if wait > 0:
            return t(
                "nexai is busy right now. Please try again in {seconds} s.",
                locale,
                seconds=math.ceil(wait),
            )
        case nexai.RateLimitError():
            text = "nexai is busy right now. Please try again in a minute."
        case nexai.ServerError():
            text = "nexai had an internal error. Sorry! Please try again in a moment."
        case nexai.AnswerDeadlineError():
            return t(
                "nexai did not answer in time ({seconds} s). Please try again in a moment.",
                locale,
                seconds=math.ceil(error.wait_s),
            )
        case nexai.ModelNotFoundError(model=str() as model):
            return t(
                "The model `{model}` isn't available on nexai right now. "
                "The moderators have been told.",
                locale,
                model=model,
            )
        case nexai.NexaiTimeoutError():
            text = "nexai took too long to answer. Please try again, perhaps with a shorter prompt."
        case nexai.NexaiConnectionError():
            text = "I couldn't reach nexai. Please try again in a moment."
        case nexai.MalformedResponseError():
            text = "nexai sent an answer I couldn't read. Please try again."
        case StorageError():
            log.error("Database error: %s", error)
            text = "I couldn't save or read my data just now. Please try again in a moment."
        case nexai.BadRequestError():
            reason = error.message[:MAX_REASON_CHARS] or str(error.status)
            return t("nexai refused the request: {reason}", locale, reason=reason)
        case discord.HTTPException():
            text = "Something went wrong on my side. Please try again."
        case _:
            log.error("Unexpected error", exc_info=error)
            text = "Something went wrong on my side. Please try again."
    return t(text, locale)


async def send_error(interaction: discord.Interaction, text: str) -> None:
    """Tell only the invoking user: at once, or in place of a "thinking…" response."""
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
        return
    try:  # a public "thinking…" would make the follow-up public too; a partial answer stays
        if is_placeholder(await interaction.original_response()):
            await interaction.delete_original_response()
    except discord.HTTPException:
        log.debug("Could not delete the original response", exc_info=True)
    await interaction.followup.send(
        text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )


def is_placeholder(message: discord.InteractionMessage) -> bool:
    """Whether the deferred response still shows nothing but "thinking…"."""
    return not (message.content or message.attachments or message.embeds)


#: The longest a cancelled command spends saying so (see `send_stopped`).
STOPPED_REPLY_TIMEOUT_S = 3.0


async def send_stopped(interaction: discord.Interaction) -> None:
    """A command cancelled because the bot is shutting down says so, instead of "thinking…"
    until Discord gives up on it; one that already showed something (a partial answer ending
    with its own note) is left as it is. Bounded: a cancelled command must end even when
    Discord makes its requests wait (a rate-limited interaction webhook)."""
    try:
        async with asyncio.timeout(STOPPED_REPLY_TIMEOUT_S):
            shown = interaction.response.is_done() and not is_placeholder(
                await interaction.original_response()
            )
            if not shown:
                await send_error(interaction, error_message(ShuttingDown(), interaction.locale))
    except (discord.HTTPException, TimeoutError):
        log.debug("Could not say that the command stopped", exc_info=True)


def failures_told(interaction: discord.Interaction, alerts: Alerts) -> FailuresTold:
    """Run a command's body (`async with`) so that a `UserFacingError` becomes an ephemeral,
    localised reply (and an alert to moderators when the bot's key or credits are the problem),
    and a cancellation at shutdown tells the user the bot is restarting."""
    return FailuresTold(interaction, alerts)


class FailuresTold:
    """`failures_told`'s block: a plain object, not a generator (one per answer in flight)."""

    __slots__ = ("_alerts", "_interaction")

    def __init__(self, interaction: discord.Interaction, alerts: Alerts) -> None:
        self._interaction = interaction
        self._alerts = alerts

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        interaction = self._interaction
        if isinstance(error, UserFacingError):
            await self._alerts.report(interaction.guild_id, error)
            await send_error(interaction, error_message(error, interaction.locale))
            return True
        if isinstance(error, asyncio.CancelledError):
            await send_stopped(interaction)
        return False


async def on_app_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """The command tree's last resort for errors a command did not handle itself."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, discord.HTTPException) and original.code in DEAD_INTERACTION_CODES:
        log.warning("Interaction %s can no longer be answered: %s", interaction.id, original)
        return
    if isinstance(original, discord.HTTPException):  # e.g. no permission to post the answer
        log.warning("Discord refused a reply to interaction %s: %s", interaction.id, original)
    try:
        await send_error(interaction, error_message(original, interaction.locale))
    except discord.HTTPException:
        log.warning("Could not tell the user about %r", original, exc_info=True)
