"""Personas and modes: each setting from the most specific place that has one (thread >
channel > category > server > the bot's), variables filled, and who is answered where."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.chat.modes import Heard, answers
from bot.chat.personas import ChatSetup, Place, PromptVariables, fill, resolve
from bot.storage.chat_places import Mode, PlaceSettings
from bot.storage.guild_settings import GuildConfig

GUILD, CATEGORY, CHANNEL, THREAD = 1, 2, 3, 4
IN_THREAD = Place(GUILD, CHANNEL, thread_id=THREAD, category_id=CATEGORY)


def setup(places: dict[int, PlaceSettings], guild: GuildConfig | None = None) -> ChatSetup:
    return resolve(
        IN_THREAD,
        guild or GuildConfig(),
        places,
        default_prompt="bot prompt",
        default_model="bot-model",
    )


def test_with_nothing_set_the_bots_defaults_apply() -> None:
    chat = setup({})
    assert (chat.mode, chat.mode_from) == ("mention", "bot")
    persona = chat.persona
    assert (persona.system_prompt, persona.model, persona.temperature) == (
        "bot prompt",
        "bot-model",
        None,
    )
    assert chat.aside_prefix == "//" and not chat.answer_in_threads


def test_the_most_specific_place_wins_setting_by_setting() -> None:
    chat = setup(
        {
            THREAD: PlaceSettings(temperature=0.2),
            CHANNEL: PlaceSettings(model="channel-model", temperature=1.5),
            CATEGORY: PlaceSettings(mode="every", system_prompt="category prompt"),
        },
        GuildConfig(chat_mode="off", system_prompt="server prompt", chat_model="server-model"),
    )
    persona = chat.persona
    assert (chat.mode, chat.mode_from) == ("every", "category")
    assert (persona.system_prompt, persona.prompt_from) == ("category prompt", "category")
    assert (persona.model, persona.model_from) == ("channel-model", "channel")
    assert (persona.temperature, persona.temperature_from) == (0.2, "thread")


def test_a_thread_inherits_its_channels_mode_and_persona() -> None:
    chat = setup({CHANNEL: PlaceSettings(mode="off", system_prompt="channel prompt")})
    assert (chat.mode, chat.mode_from) == ("off", "channel")
    assert chat.persona.prompt_from == "channel"


def test_the_server_level_comes_from_its_settings() -> None:
    chat = setup({}, GuildConfig(chat_mode="every", temperature=0.7, aside_prefix="!!"))
    assert (chat.mode_from, chat.persona.temperature_from) == ("server", "server")
    assert chat.aside_prefix == "!!"


def test_variables_are_filled_and_other_braces_left_alone() -> None:
    variables = PromptVariables(
        user="Lan",
        server="Hanoi Devs",
        channel="general",
        locale="vi",
        now=dt.datetime(2026, 12, 3, 9, 5, tzinfo=dt.UTC),
    )
    prompt = "Hi {user} in #{channel} of {server} ({locale}), {date} {time}. Keep {json} and {{x}}."
    assert fill(prompt, variables) == (
        "Hi Lan in #general of Hanoi Devs (vi), 2026-12-03 09:05 UTC. Keep {json} and {{x}}."
    )


def heard(**kw: object) -> Heard:
    fields: dict[str, object] = {
        "mentioned": False,
        "replies_to_bot": False,
        "in_bot_thread": False,
        "pings_everyone": False,
        "content": "hello",
    }
    return Heard(**{**fields, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "message", "answered"),
    [
        ("mention", heard(), False),
        ("mention", heard(mentioned=True), True),
        ("mention", heard(replies_to_bot=True), True),
        ("mention", heard(in_bot_thread=True), True),
        ("every", heard(), True),
        ("every", heard(content="// not for the bot"), False),
        ("every", heard(content="  // indented aside"), False),
        ("every", heard(pings_everyone=True), False),
        ("every", heard(pings_everyone=True, mentioned=True), True),
        ("every", heard(content="// but @bot", mentioned=True), True),
        ("off", heard(mentioned=True), False),
        ("off", heard(replies_to_bot=True, in_bot_thread=True), False),
    ],
)
def test_who_is_answered_by_mode(mode: Mode, message: Heard, answered: bool) -> None:
    assert answers(mode, message, "//") is answered
