"""How a place's chat setup reads to a member: the mode, and the persona with where each part
comes from (for /persona show and /settings)."""

from __future__ import annotations

from bot.chat.personas import VARIABLES, ChatSetup, Level
from bot.i18n import t
from bot.nexai.capabilities import ModelCapabilities
from bot.storage.chat_places import PlaceSettings

#: How much of a system prompt is quoted.
PROMPT_PREVIEW_CHARS = 900

MODE_TEXTS = {
    "mention": "mentions and replies to me",
    "every": "every message",
    "off": "nothing (off)",
}
LEVEL_TEXTS: dict[Level, str] = {
    "thread": "set for this thread",
    "channel": "set for this channel",
    "category": "set for this category",
    "server": "set for the server",
    "bot": "the bot's default",
}


def mode_text(mode: str, locale: object) -> str:
    return t(MODE_TEXTS[mode], locale)


def from_text(level: Level, locale: object) -> str:
    return t(LEVEL_TEXTS[level], locale)


def prompt_preview(prompt: str) -> str:
    if len(prompt) > PROMPT_PREVIEW_CHARS:
        prompt = prompt[:PROMPT_PREVIEW_CHARS] + "…"
    return f">>> {prompt}"


def setup_fields(
    setup: ChatSetup, capabilities: ModelCapabilities, locale: object
) -> list[tuple[str, str]]:
    """(name, value) of each part of what applies in a place, and where it comes from."""
    persona = setup.persona
    if persona.temperature is None:
        temperature = t("the model's default", locale)
    elif not capabilities.temperature:
        temperature = t(
            "{value} (not sent: this model takes none)", locale, value=persona.temperature
        )
    else:
        temperature = str(persona.temperature)
    asides = t(
        "Messages starting with `{prefix}` are asides the bot leaves alone.",
        locale,
        prefix=setup.aside_prefix,
    )
    answers = f"{mode_text(setup.mode, locale)} ({from_text(setup.mode_from, locale)})"
    if setup.mode == "every":
        answers += "\n" + asides
    return [
        (t("I answer", locale), answers),
        (
            t("Model", locale),
            f"`{persona.model}` ({from_text(persona.model_from, locale)})",
        ),
        (
            t("Temperature", locale),
            f"{temperature} ({from_text(persona.temperature_from, locale)})",
        ),
        (
            t("System prompt ({source})", locale, source=from_text(persona.prompt_from, locale)),
            prompt_preview(persona.system_prompt),
        ),
    ]


def variables_hint(locale: object) -> str:
    names = ", ".join(f"`{{{name}}}`" for name in VARIABLES)
    return t("A system prompt may use {names}.", locale, names=names)


def place_summary(settings: PlaceSettings, locale: object) -> str:
    """A place's own settings in a few words, e.g. "every message; model `gpt-4o`"."""
    parts = []
    if settings.mode is not None:
        parts.append(mode_text(settings.mode, locale))
    if settings.model is not None:
        parts.append(t("model `{model}`", locale, model=settings.model))
    if settings.temperature is not None:
        parts.append(t("temperature {value}", locale, value=settings.temperature))
    if settings.system_prompt is not None:
        parts.append(t("its own system prompt", locale))
    return "; ".join(parts)
