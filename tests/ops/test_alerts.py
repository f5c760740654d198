"""Alerts: only 401, 402 and 403 alert, once per hour per kind per server."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot import nexai
from bot.ops.alerts import ALERT_INTERVAL_S, Alerts
from bot.storage.guild_settings import GuildSettings
from bot.storage.store import Store

GUILD = 42
CHANNEL = 43


class Channel(discord.abc.Messageable):
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, content: str | None = None, **kwargs: Any) -> Any:
        assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
        self.sent.append(content or "")


class Client:
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def get_guild(self, guild_id: int) -> None:
        return None

    def get_channel(self, channel_id: int) -> Channel | None:
        return self.channel if channel_id == CHANNEL else None


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def status_error(cls: type[nexai.NexaiStatusError], status: int) -> nexai.NexaiStatusError:
    return cls("upstream says no", status=status)


async def test_each_kind_alerts_once_per_hour_per_server(store: Store) -> None:
    settings = GuildSettings(store)
    await settings.set(GUILD, "alert_channel_id", CHANNEL, by=1)
    channel, clock = Channel(), Clock()
    alerts = Alerts(store, settings, Client(channel), clock=clock)  # type: ignore[arg-type]
    credits = status_error(nexai.PaymentRequiredError, 402)

    assert await alerts.report(GUILD, credits)
    assert not await alerts.report(GUILD, credits)
    assert await alerts.report(GUILD, status_error(nexai.AuthenticationError, 401))
    clock.now += ALERT_INTERVAL_S - 1
    assert not await alerts.report(GUILD, credits)
    clock.now += 1
    assert await alerts.report(GUILD, credits)
    assert [text.split("\n")[0][:40] for text in channel.sent] == [
        "⚠️ **The bot's nexai account is out of c",
        "⚠️ **nexai rejected the bot's API key (4",
        "⚠️ **The bot's nexai account is out of c",
    ]


@pytest.mark.parametrize(
    "error",
    [
        nexai.ServerError("boom", status=500),
        nexai.RateLimitError("slow down", status=429),
        nexai.BadRequestError("bad", status=400),
        nexai.NexaiTimeoutError("late"),
    ],
)
async def test_other_errors_never_alert(store: Store, error: nexai.NexaiError) -> None:
    settings = GuildSettings(store)
    await settings.set(GUILD, "alert_channel_id", CHANNEL, by=1)
    channel = Channel()
    alerts = Alerts(store, settings, Client(channel))  # type: ignore[arg-type]
    assert not await alerts.report(GUILD, error)
    assert channel.sent == []


async def test_no_alert_without_a_channel_or_in_dms(store: Store) -> None:
    channel = Channel()
    alerts = Alerts(store, GuildSettings(store), Client(channel))  # type: ignore[arg-type]
    denied = status_error(nexai.PermissionDeniedError, 403)
    assert not await alerts.report(GUILD, denied)
    assert not await alerts.report(None, denied)
    assert channel.sent == []
