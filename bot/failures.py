"""The base of every failure a user is told about (`bot.errors.error_message` words it).

API errors (`NexaiError`) and quota refusals (`QuotaExceeded`) both derive from it, so a cog
that catches `UserFacingError` around a charged call handles both.
"""


class UserFacingError(Exception):
    """A failure with a localised explanation for the user in `bot.errors.error_message`."""


class StorageError(UserFacingError):
    """The database could not be read or written (locked, read-only, full, damaged)."""
