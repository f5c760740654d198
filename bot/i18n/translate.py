"""`t()`: text in the user's language, with its named placeholders filled.

English text is the key; a string without a translation falls back to it. Placeholders are
named (`{seconds}`) and filled after translation. A locale is anything whose `str()` is a
Discord locale code (`discord.Locale`, "vi", "en-US"), so this module needs no discord.py.
"""

from __future__ import annotations

from bot.i18n.catalogue import VIETNAMESE


def is_vietnamese(locale: object) -> bool:
    return str(locale or "").lower().startswith("vi")


def t(text: str, locale: object, /, **fields: object) -> str:
    """`text` in the user's language, with its named placeholders filled."""
    translated = VIETNAMESE.get(text, text) if is_vietnamese(locale) else text
    return translated.format(**fields) if fields else translated
