"""The base of every failure a user is told about (the Discord side words it).

API errors (`NexaiError`), quota refusals (`QuotaExceeded`), storage failures and refused input
(`LocalizedError`s) all derive from it, so a cog that catches `UserFacingError` handles them
all.
"""

from __future__ import annotations

import discord

from bot.i18n import t


class UserFacingError(Exception):
    """A failure with a localised explanation for the user."""


class StorageError(UserFacingError):
    """The database could not be read or written (locked, read-only, full, damaged)."""


class LocalizedError(UserFacingError):
    """A refusal or failure worded by the bot itself: `text` is an English i18n key whose
    named placeholders are filled from the keyword arguments. Subclasses set `text`."""

    text = "Something went wrong on my side. Please try again."

    def __init__(self, text: str | None = None, /, **fields: object) -> None:
        if text is not None:
            self.text = text
        self.fields = fields
        super().__init__(self.text.format(**fields))

    def message(self, locale: discord.Locale | str | None) -> str:
        return t(self.text, locale, **self.fields)
