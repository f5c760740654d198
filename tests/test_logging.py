"""setup_logging: LOG_LEVEL sets nexbot's loggers; other libraries need DEBUG_LOGGERS by name."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.__main__ import setup_logging

NAMES = ("", "bot", "cogs", "aiosqlite", "asyncio", "discord.gateway", "discord.client")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in NAMES}
    yield
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def debug_on(name: str) -> bool:
    return logging.getLogger(name).isEnabledFor(logging.DEBUG)


def test_debug_turns_on_nexbots_loggers_and_no_other_librarys() -> None:
    setup_logging("DEBUG")
    assert debug_on("bot.nexai._transport") and debug_on("cogs.ask")
    for name in ("aiosqlite", "asyncio", "discord.client", "discord.gateway", "aiohttp.client"):
        assert not debug_on(name), name
    assert logging.getLogger("aiosqlite").isEnabledFor(logging.INFO)


def test_a_library_logger_named_in_debug_loggers_logs_at_debug() -> None:
    setup_logging("INFO", ["aiosqlite", "discord.gateway"])
    assert debug_on("aiosqlite") and debug_on("discord.gateway")
    assert not debug_on("bot.quota.ledger") and not debug_on("discord.client")


def test_warning_quiets_nexbot_and_every_library_alike() -> None:
    setup_logging("WARNING")
    for name in ("bot.chat.service", "aiosqlite", "discord.client"):
        logger = logging.getLogger(name)
        assert logger.isEnabledFor(logging.WARNING) and not logger.isEnabledFor(logging.INFO)
