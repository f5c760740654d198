"""i18n: Vietnamese when asked, English fallback, placeholders filled."""

from typing import Any

import discord

from bot.i18n import VIETNAMESE, t
from bot.interactions.translator import CommandTranslator


def test_vietnamese_locale_gets_the_translation_with_fields() -> None:
    text = t(
        "nexai is busy right now. Please try again in {seconds} s.",
        discord.Locale.vietnamese,
        seconds=5,
    )
    assert text == "nexai đang bận. Vui lòng thử lại sau 5 giây."


def test_english_and_unknown_locales_get_english() -> None:
    key = "nexai is busy right now. Please try again in {seconds} s."
    assert t(key, "en-US", seconds=5) == "nexai is busy right now. Please try again in 5 s."
    assert t(key, "fr", seconds=5) == "nexai is busy right now. Please try again in 5 s."


def test_untranslated_text_falls_back_to_english() -> None:
    assert t("Not in the table {x}", "vi", x=1) == "Not in the table 1"


def test_translations_keep_every_placeholder() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for english, vietnamese in VIETNAMESE.items():
        assert fields(english) == fields(vietnamese), english


async def test_command_translator_localises_vietnamese_only() -> None:
    translator = CommandTranslator()
    string = discord.app_commands.locale_str("ask")
    context: discord.app_commands.TranslationContext[Any, Any] = (
        discord.app_commands.TranslationContext(
            location=discord.app_commands.TranslationContextLocation.other, data=None
        )
    )
    assert await translator.translate(string, discord.Locale.vietnamese, context) == "hỏi"
    assert await translator.translate(string, discord.Locale.french, context) is None
