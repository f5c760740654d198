"""The benchmark world: a recording fake Discord here, the upstream and the bot in processes.

``environment(kind, options, workdir)`` starts a fresh ``RecordingDiscord`` in this process
(with ``members`` members and ``channels`` text channels), the fake nexai (``bench.upstream``,
in a process of its own unless ``upstream="driver"``), and the bot (``bench.bot_process``)
in a child process logged into the fake; it yields an ``Env`` and tears everything down.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.bot_process import READY_LINE
from bench.databases import BenchDatabase, scratch_database
from bench.processes import Child
from bench.procstat import cpu_seconds
from bench.recorder import RecordingDiscord
from bench.upstream import (
    DEFAULT_CHARS_PER_TOKEN,
    DEFAULT_TOKEN_DELAY_S,
    DEFAULT_TOKENS,
    URL_LINE,
    answer_text,
    make_fake_nexai,
)
from bot.chat.history import History
from bot.quota.quotas import Quotas
from bot.quota.rules import Limit, Scope, window
from bot.storage.store import Store
from tests.fakes.discord import FakeDiscord

BOT_START_TIMEOUT_S = 60.0
USAGE_ROWS_PER_TRANSACTION = 1_000


@dataclass(frozen=True)
class Options:
    members: int = 500
    channels: int = 1
    tokens: int = DEFAULT_TOKENS
    chars_per_token: int = DEFAULT_CHARS_PER_TOKEN
    token_delay: float = DEFAULT_TOKEN_DELAY_S
    edit_interval: float = 1.0  # the bot's STREAM_EDIT_INTERVAL_S
    upstream: Literal["process", "driver"] = "process"
    ask_limit: int | None = None  # a daily /ask limit for the server (nexbot only)
    ask_limit_scope: Scope = "server"  # per member ("server") or all members ("total")
    usage_rows: int = 0  # settled /ask rows already in the ledger today
    history: int = 0  # exchanges already in each channel's memory (each /ask sends them)
    nexai_connection_limit: int | None = None  # NEXAI_MAX_CONNECTIONS
    cprofile: str | None = None  # nexbot only
    tracemalloc: str | None = None  # nexbot only: the peak snapshot goes here
    py_spy: str | None = None  # nexbot only
    log_level: str = "INFO"  # nexbot's LOG_LEVEL (the defer-only baseline stays at INFO)
    database_url: str | None = None  # a PostgreSQL server (a schema of its own per bot run)


@dataclass
class Env:
    fake: RecordingDiscord
    bot: Child
    upstream_pid: int | None  # None: the upstream runs in this process
    members: list[int]
    channels: list[int]

    def take_channels(self, n: int) -> list[int]:
        taken, self.channels = self.channels[:n], self.channels[n:]
        if len(taken) < n:
            raise RuntimeError("not enough channels were made for the waves")
        return taken

    def upstream_cpu_s(self) -> float:
        return cpu_seconds(self.upstream_pid) if self.upstream_pid is not None else 0.0


@dataclass(frozen=True)
class Upstream:
    """The fake nexai: where the bot finds it, and its process (None: in this process)."""

    url: str
    key: str
    pid: int | None


@contextlib.asynccontextmanager
async def upstream_for(options: Options, workdir: Path) -> AsyncIterator[Upstream]:
    """The fake nexai, in a process of its own unless ``options.upstream`` is "driver"."""
    if options.upstream == "process":
        upstream_args = [
            f"--tokens={options.tokens}",
            f"--chars-per-token={options.chars_per_token}",
            f"--token-delay={options.token_delay}",
        ]
        log = workdir / "upstream.log"
        child = await Child.start("bench.upstream", upstream_args, log_path=log, ready=URL_LINE)
        try:
            yield Upstream(child.ready_words[0], child.ready_words[1], child.pid)
        finally:
            await child.stop()
        return
    api = make_fake_nexai(options.tokens, options.chars_per_token, options.token_delay)
    await api.start()
    try:
        yield Upstream(api.base_url, api.api_key, None)
    finally:
        await api.close()


def bot_args(kind: str, fake: FakeDiscord, upstream: Upstream, options: Options) -> list[str]:
    """``bench.bot_process``'s arguments, without the database."""
    args = [
        f"--kind={kind}",
        f"--discord-url={fake.url}",
        f"--token={fake.token}",
        f"--nexai-url={upstream.url}",
        f"--nexai-key={upstream.key}",
        f"--edit-interval={options.edit_interval}",
        f"--reply={answer_text(options.tokens, options.chars_per_token)}",
    ]
    if options.nexai_connection_limit is not None:
        args.append(f"--nexai-connection-limit={options.nexai_connection_limit}")
    if kind == "nexbot":
        args.append(f"--log-level={options.log_level}")
    if options.cprofile and kind == "nexbot":
        args.append(f"--cprofile={options.cprofile}")
    if options.tracemalloc and kind == "nexbot":
        args.append(f"--tracemalloc={options.tracemalloc}")
    return args


def database_args(database: BenchDatabase) -> list[str]:
    if database.url:
        return [f"--database-url={database.url}"]
    return [f"--db={database.path}"]


@contextlib.asynccontextmanager
async def environment(kind: str, options: Options, workdir: Path) -> AsyncIterator[Env]:
    """Fakes and a bot of ``kind`` (nexbot or defer-only) in its own process."""
    fake = RecordingDiscord()
    members = [fake.add_member(name=f"member{i}") for i in range(options.members)]
    channels = [fake.add_channel(f"bench-{i}") for i in range(options.channels)]
    await fake.start(install=False)
    try:
        async with (
            upstream_for(options, workdir) as upstream,
            scratch_database(options.database_url, workdir, f"{kind}.db") as database,
        ):
            if kind == "nexbot":
                await prepare_database(database, [fake.guild_id], options, channels)
            bot = await Child.start(
                "bench.bot_process",
                [*bot_args(kind, fake, upstream, options), *database_args(database)],
                log_path=workdir / f"{kind}.log",
                ready=READY_LINE,
                timeout_s=BOT_START_TIMEOUT_S,
            )
            spy = await start_py_spy(options.py_spy, bot.pid) if kind == "nexbot" else None
            try:
                yield Env(fake, bot, upstream.pid, members, channels)
            finally:
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    await spy.wait()
                await bot.stop()
    finally:
        await fake.close()


async def prepare_database(
    database: BenchDatabase,
    guild_ids: list[int],
    options: Options,
    channel_ids: Sequence[int] = (),
) -> None:
    """The schema, limits and earlier usage of each guild, and the memory of each channel,
    written before any bot starts."""
    store = await database.open()
    try:
        for guild_id in guild_ids:
            if options.ask_limit is not None:
                limit = Limit("ask", "day", options.ask_limit, options.ask_limit_scope)
                await Quotas(store).set_limit(guild_id, limit, set_by=0)
            await add_usage_rows(store, guild_id, options.usage_rows)
        await add_history(store, channel_ids, options)
    finally:
        await store.close()


async def add_history(store: Store, channel_ids: Sequence[int], options: Options) -> None:
    """``options.history`` earlier exchanges in each channel's memory: a question and an
    answer as long as the bench's (what a busy channel's /ask sends along)."""
    history = History(store)
    answer = answer_text(options.tokens, options.chars_per_token)
    for channel_id in channel_ids:
        for turn in range(options.history):
            await history.add_exchange(
                channel_id,
                author_id=500_000 + turn,
                author_name=f"member {turn}",
                prompt=f"Earlier question {turn}: tell me about the bench, in detail please.",
                answer=answer,
                model="gpt-4o-mini",
                bot_id=1,
                bot_name="nexbot",
            )


async def add_usage_rows(store: Store, guild_id: int, rows: int, *, seed: int = 1) -> None:
    """``rows`` settled /ask rows by other members (ids from 500 000) earlier today."""
    now = time.time()
    start = window("day", dt.datetime.fromtimestamp(now, dt.UTC))[0].timestamp()
    rng = random.Random(seed)
    values = []
    for _ in range(rows):
        at = rng.uniform(start, now)
        values.append((guild_id, 5, 500_000 + rng.randrange(1000), at, at))
    # A transaction per chunk: on PostgreSQL the counter triggers update the same few rows for
    # every insert, and one long transaction keeps every old version of them (minutes for
    # 100,000 rows, past the store's 10 s statement timeout).
    for start in range(0, len(values), USAGE_ROWS_PER_TRANSACTION):
        async with store.transaction() as db:
            await db.execute_many(
                "INSERT INTO usage (guild_id, channel_id, user_id, feature, units, tokens,"
                " model, outcome, created_at, settled_at)"
                " VALUES (?, ?, ?, 'ask', 1, 300, 'gpt-4o-mini', 'ok', ?, ?)",
                values[start : start + USAGE_ROWS_PER_TRANSACTION],
            )


async def start_py_spy(path: str | None, pid: int) -> asyncio.subprocess.Process | None:
    if not path:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    return await asyncio.create_subprocess_exec(
        str(spy), "record", "--pid", str(pid), "--format", "raw", "--output", path, "--nonblocking"
    )
