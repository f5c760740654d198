"""Alerts to a server's alert channel when the API refuses the bot's key (401, 402 or a 429
`insufficient_quota`, 403), or does not serve a model the bot is set to use.

Cogs call `await bot.alerts.report(guild_id, error)` on every failed API call; anything else
is ignored. Each kind (a missing model is a kind of its own) is posted at most once per
`ALERT_INTERVAL_S` per server: the claim is one atomic upsert, so concurrent failures post once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import discord

from bot import nexai
from bot.i18n import t
from bot.storage.guild_settings import GuildSettings
from bot.storage.store import Store

log = logging.getLogger(__name__)

ALERT_INTERVAL_S = 3600.0

#: Kind (the status) -> what is wrong and what the operator should do.
ALERT_TEXTS: dict[str, str] = {
    "401": "⚠️ **nexai rejected the bot's API key (401).** Commands that use nexai fail until "
    "this is fixed. Operator: check `NEXAI_API_KEY` in the bot's settings, then restart the bot.",
    "402": "⚠️ **The bot's nexai account is out of credits.** Commands that use nexai fail "
    "until it is topped up. Operator: add credits to the nexai account; no restart is needed.",
    "403": "⚠️ **nexai refused the bot's API key (403): it is suspended or expired.** Commands "
    "that use nexai fail until this is fixed. Operator: renew or replace the key, set "
    "`NEXAI_API_KEY`, then restart the bot.",
}
MODEL_ALERT_TEXT = (
    "⚠️ **nexai does not serve the model `{model}`, which the bot is set to use.** Commands that "
    "use it fail until this is fixed. Moderators: choose another with `/settings`; operator: check "
    "the bot's model settings with `nexbot check`."
)
REPEAT_NOTE = "(I won't repeat this alert for an hour.)"


def alert_kind(error: BaseException) -> str | None:
    """The kind ("401", "402", "403" or "model:<id>") of an error that needs the operator or
    the moderators, else None."""
    match error:
        case nexai.AuthenticationError():
            return "401"
        case nexai.PaymentRequiredError():
            return "402"
        case nexai.PermissionDeniedError():
            return "403"
        case nexai.ModelNotFoundError(model=str() as model):
            return f"model:{model}"
    return None


def alert_text(kind: str, locale: discord.Locale | None) -> str:
    if kind.startswith("model:"):
        return t(MODEL_ALERT_TEXT, locale, model=kind.removeprefix("model:"))
    return t(ALERT_TEXTS[kind], locale)


class Alerts:
    def __init__(
        self,
        store: Store,
        settings: GuildSettings,
        client: discord.Client,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings = settings
        self._client = client
        self._clock = clock

    async def report(self, guild_id: int | None, error: BaseException) -> bool:
        """Post an alert for `error` if it needs the operator; returns whether one was posted.

        Never raises: a failure to alert is logged, and the caller's own error path goes on.
        """
        kind = alert_kind(error)
        if kind is None:
            return False
        log.warning("nexai answered %s (guild %s): %s", kind, guild_id, error)
        if guild_id is None:
            return False
        try:
            channel_id = (await self._settings.get(guild_id)).alert_channel_id
            if channel_id is None or not await self._claim(guild_id, kind):
                return False
            await self._post(guild_id, channel_id, kind)
        except Exception:
            log.exception("Could not post the %s alert in guild %s", kind, guild_id)
            return False
        return True

    async def _claim(self, guild_id: int, kind: str) -> bool:
        """Record that `kind` is posted now, unless it was within the interval (atomic)."""
        now = self._clock()
        claimed = await self._store.execute(
            "INSERT INTO alerts_sent (guild_id, kind, sent_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id, kind) DO UPDATE SET sent_at = excluded.sent_at"
            " WHERE alerts_sent.sent_at <= ?",
            (guild_id, kind, now, now - ALERT_INTERVAL_S),
        )
        return claimed == 1

    async def _post(self, guild_id: int, channel_id: int, kind: str) -> None:
        guild = self._client.get_guild(guild_id)
        locale = guild.preferred_locale if guild else None
        channel = self._client.get_channel(channel_id) or await self._client.fetch_channel(
            channel_id
        )
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("Alert channel %s of guild %s is not a text channel", channel_id, guild_id)
            return
        text = f"{alert_text(kind, locale)}\n{t(REPEAT_NOTE, locale)}"
        await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
