"""Every command, subcommand, option, choice and context menu the bot registers with Discord
has its Vietnamese name and description, and the names obey Discord's naming rule."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import BotEnv

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Discord's rule for slash command and option names (Application Commands, "Application
#: Command Naming"): 1-32 characters, lower case where the script has case, no spaces.
SLASH_NAME = re.compile(r"^[-_\w]{1,32}$")
CHAT_INPUT = 1


def entries(command: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(where, entry, is_slash_name) for a command and everything under it. Context menus
    have no description; a choice shown as its own value (a size, a file format) reads the
    same in every language."""
    slash = command.get("type", CHAT_INPUT) == CHAT_INPUT
    if not slash:
        command = {key: value for key, value in command.items() if key != "description"}
    yield f"/{command['name']}", command, slash
    for option in command.get("options", []):
        for where, entry, is_slash in entries({**option, "type": CHAT_INPUT}):
            yield f"/{command['name']} {where.lstrip('/')}", entry, is_slash
        for choice in option.get("choices", []):
            if choice["name"] != str(choice["value"]):
                yield f"/{command['name']} {option['name']}={choice['name']}", choice, False


def registered(env: BotEnv) -> list[tuple[str, dict[str, Any], bool]]:
    commands = env.discord.commands.get(None) or []
    assert len(commands) >= 10, "the bot registers its commands globally"
    return [item for command in commands for item in entries(command)]


async def test_every_name_and_description_has_a_vietnamese_translation(env: BotEnv) -> None:
    missing = []
    for where, entry, _ in registered(env):
        if "vi" not in (entry.get("name_localizations") or {}):
            missing.append(f"{where}: name")
        if "description" in entry and "vi" not in (entry.get("description_localizations") or {}):
            missing.append(f"{where}: description")
    assert not missing, "\n".join(missing)


async def test_translated_names_obey_discords_naming_rule(env: BotEnv) -> None:
    broken = []
    for where, entry, slash in registered(env):
        vietnamese = (entry.get("name_localizations") or {}).get("vi", "")
        if slash and (not SLASH_NAME.match(vietnamese) or vietnamese != vietnamese.lower()):
            broken.append(f"{where}: {vietnamese!r}")
        if not 1 <= len(vietnamese) <= (32 if slash or "value" not in entry else 100):
            broken.append(f"{where}: {vietnamese!r} has {len(vietnamese)} characters")
        description = (entry.get("description_localizations") or {}).get("vi")
        if description is not None and not 1 <= len(description) <= 100:
            broken.append(f"{where}: description of {len(description)} characters")
    assert not broken, "\n".join(broken)
