"""User-facing text in English and Vietnamese (re-exports only; no discord.py)."""

from bot.i18n.catalogue import NAMES, VIETNAMESE
from bot.i18n.translate import is_vietnamese, t

__all__ = ["NAMES", "VIETNAMESE", "is_vietnamese", "t"]
