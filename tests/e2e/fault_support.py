"""Helpers for the fault tests: the ledger and memory rows of a channel, and log events."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

import pytest

from bot.storage.sqlite import SQLiteStore
from tests.e2e.conftest import BotEnv

WAIT_S = 5.0  # how long LogWatch.wait waits before failing the test


async def usage_outcomes(env: BotEnv, channel_id: int) -> list[str]:
    """The ledger rows charged in a channel, oldest first: 'reserved', 'ok' or 'refunded'."""
    rows = await env.bot.store.fetch_all(
        "SELECT outcome FROM usage WHERE channel_id = ? ORDER BY id", (channel_id,)
    )
    return [str(row[0]) for row in rows]


async def remembered(env: BotEnv, channel_id: int) -> int:
    """How many turns the channel's memory holds."""
    return int(
        await env.bot.store.fetch_value(
            "SELECT COUNT(*) FROM messages WHERE channel_id = ?", (channel_id,)
        )
    )


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records that are errors or carry a traceback: what an operator would call log spam."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


class LogWatch(logging.Handler):
    """An event set when `logger` (or a child) logs a message containing `text`.

    Use as a context manager around the action, then ``await watch.wait()``: a way to wait
    for something the bot does that leaves no trace in the fakes.
    """

    def __init__(self, logger: str, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.logger = logging.getLogger(logger)
        self.text = text
        self.seen = asyncio.Event()
        self._level = self.logger.level

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()

    async def wait(self) -> None:
        async with asyncio.timeout(WAIT_S):
            await self.seen.wait()

    def __enter__(self) -> LogWatch:
        self.logger.addHandler(self)
        if self.logger.getEffectiveLevel() > logging.DEBUG:
            self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self._level)


def sqlite_of(env: BotEnv) -> SQLiteStore:
    """The bot's store, for faults only SQLite can make (PRAGMA query_only, a busy file)."""
    assert isinstance(env.bot.store, SQLiteStore)
    return env.bot.store
