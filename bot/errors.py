"""Exception classes only: the failures a user is told about. They carry text and fields;
wording them for a person happens on the Discord side (`bot.interactions.replies`).

API errors (`NexaiError`), quota refusals (`QuotaExceeded`), storage failures and refused input
(`LocalizedError`s) all derive from `UserFacingError`, so a cog that catches it handles them
all.
"""

from __future__ import annotations


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
