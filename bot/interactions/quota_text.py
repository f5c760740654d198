"""Limits and usage in words: refusals, limit lines and usage lines, localised.

Times are Discord timestamp markup (`<t:UNIX:R>`), which every client shows in its own
language and time zone. Roles and members are mention markup, shown as their current names
(the bot sends with mentions disabled, so nobody is pinged).
"""

from __future__ import annotations

import datetime as dt

import discord

from bot.i18n import t
from bot.quota.rules import Feature, Limit, Period, QuotaExceeded, to_limit_units

Locale = discord.Locale | str | None

PERIOD_ADJECTIVES: dict[Period, str] = {"hour": "hourly", "day": "daily", "month": "monthly"}
PER_PERIOD: dict[Period, str] = {"hour": "per hour", "day": "per day", "month": "per month"}
UNITS: dict[Feature, str] = {
    "ask": "ask requests",
    "imagine": "generated images",
    "tts": "characters of speech",
    "transcribe": "minutes of audio",
}
UNITS_ONE: dict[Feature, str] = {
    "ask": "ask request",
    "imagine": "generated image",
    "tts": "character of speech",
    "transcribe": "minute of audio",
}


def timestamp(moment: dt.datetime, style: str = "R") -> str:
    """Discord markup that shows `moment` in the reader's time zone ("in 3 hours" for R)."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def number(value: float) -> str:
    """1 -> "1", 1.5 -> "1.5", 0.333 -> "0.33"."""
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def amount(feature: Feature, units: float) -> str:
    """Ledger units as the number people set and read (minutes for transcribe)."""
    return number(to_limit_units(feature, units))


def unit(feature: Feature, locale: Locale, units: float | None = None) -> str:
    """The unit's name; singular when `units` (ledger units) make exactly one."""
    one = units is not None and amount(feature, units) == "1"
    return t((UNITS_ONE if one else UNITS)[feature], locale)


def per_period(period: Period, locale: Locale) -> str:
    return t(PER_PERIOD[period], locale)


def source(limit: Limit, locale: Locale) -> str:
    """Who set a per-member limit, as the member reads it."""
    match limit.scope:
        case "member":
            return t("set for you", locale)
        case "role":
            return t("set for your role {role}", locale, role=f"<@&{limit.target_id}>")
        case "dm":
            return t("the bot's limit for direct messages", locale)
        case _:
            return t("the server default", locale)


def target(limit: Limit, locale: Locale) -> str:
    """Whom a limit binds, as moderators read it."""
    match limit.scope:
        case "member":
            return t("member {member}", locale, member=f"<@{limit.target_id}>")
        case "role":
            return t("role {role}", locale, role=f"<@&{limit.target_id}>")
        case "total":
            return t("the whole server (total)", locale)
        case "dm":
            return t("direct messages (operator's default)", locale)
        case _:
            return t("every member (server default)", locale)


def limit_text(limit: Limit, locale: Locale) -> str:
    """For example "20 ask requests per day"."""
    number_text = amount(limit.feature, limit.amount)
    unit_text = unit(limit.feature, locale, limit.amount)
    return f"{number_text} {unit_text} {per_period(limit.period, locale)}"


def limit_line(limit: Limit, locale: Locale) -> str:
    """For example "20 ask requests per day — role @Members"."""
    return f"{limit_text(limit, locale)} — {target(limit, locale)}"


def refusal_message(error: QuotaExceeded, locale: Locale) -> str:
    """Which limit stops the call, who set it, and when it resets."""
    limit = error.limit
    feature = limit.feature
    used_up = error.remaining <= 0
    fields = {
        "period": t(PERIOD_ADJECTIVES[limit.period], locale),
        "amount": amount(feature, limit.amount),
        "unit": unit(feature, locale, limit.amount if used_up else error.requested),
        "requested": amount(feature, error.requested),
        "remaining": amount(feature, error.remaining),
        "reset": timestamp(error.resets_at),
    }
    if limit.scope == "total":
        if used_up:
            text = (
                "This server has used its {period} total of {amount} {unit}, shared by all "
                "members. It resets {reset}."
            )
        else:
            text = (
                "This needs {requested} {unit}, but only {remaining} are left of this server's "
                "{period} total of {amount}. It resets {reset}."
            )
        return t(text, locale, **fields)
    if used_up:
        text = "You've used your {period} limit of {amount} {unit} ({source}). It resets {reset}."
    else:
        text = (
            "This needs {requested} {unit}, but only {remaining} are left of your {period} "
            "limit of {amount} ({source}). It resets {reset}."
        )
    return t(text, locale, source=source(limit, locale), **fields)


def unlimited_line(feature: Feature, used_today: float, locale: Locale) -> str:
    return t(
        "No limit; {used} {unit} used today.",
        locale,
        used=amount(feature, used_today),
        unit=unit(feature, locale, used_today),
    )
