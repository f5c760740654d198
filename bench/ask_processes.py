"""/ask load across two bot processes that split the shards of one fake Discord and share one
database (``python -m bench.ask_load --processes 2 --database-url postgresql://...``).

The fake Discord routes a guild's events to shard ``(guild_id >> 22) % 2``; it gets one guild
on each shard, each with a text channel per answer. Two ``bench.bot_process`` children run the
real NexBot with ``SHARD_COUNT=2`` and ``SHARD_IDS=0`` or ``1`` (they identify in turn through
the database, as production processes do), one fake nexai serves both. A wave of N fires N/2
/ask in each guild at once; each guild may have a daily /ask limit (``--ask-limit``, with
``--ask-limit-total`` a server total), and after the wave the ledger is read back: the
reservations that count (reserved or settled) in each guild against its limit is the overspend,
which must be 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.bot_process import READY_LINE
from bench.databases import BenchDatabase, scratch_database
from bench.harness import (
    BOT_START_TIMEOUT_S,
    Options,
    bot_args,
    database_args,
    prepare_database,
    upstream_for,
)
from bench.processes import Child
from bench.procstat import CpuSampler, RssSampler, cpu_seconds
from bench.recorder import Answer, RecordingDiscord
from bench.report import p50_95_99, table
from bench.upstream import answer_text
from bench.waves import DISCORD_ACK_LIMIT_S

SHARD_COUNT = 2


@dataclass
class ShardedEnv:
    fake: RecordingDiscord
    bots: list[Child]  # the process running each shard, by shard id
    upstream_pid: int | None
    members: list[int]
    guilds: list[int]  # the guild on each shard
    channels: list[list[int]]  # each guild's channels, one per answer
    database: BenchDatabase


@dataclass
class ShardResult:
    """What one shard's guild (so one process) did in a wave."""

    answers: list[Answer]
    expected: str
    bot_cpu_s: float
    peak_rss_mib: float
    counted: Counter[int]  # reservations that count, per member

    def answered(self) -> list[Answer]:
        return [a for a in self.answers if a.final is not None and a.final_text == self.expected]

    def refused(self) -> int:
        """Finished with other text than the answer: the quota's refusal."""
        return sum(1 for a in self.answers if a.final is not None) - len(self.answered())

    def unanswered(self) -> int:
        return sum(1 for a in self.answers if a.final is None)


@dataclass
class ShardedWave:
    n: int
    shards: list[ShardResult]
    limit: int | None
    scope: str
    machine_peak: float

    def overspend(self, result: ShardResult) -> int:
        if self.limit is None:
            return 0
        if self.scope == "total":
            return max(0, sum(result.counted.values()) - self.limit)
        return sum(max(0, n - self.limit) for n in result.counted.values())


@contextlib.asynccontextmanager
async def sharded_environment(
    options: Options, workdir: Path, per_shard: int
) -> AsyncIterator[ShardedEnv]:
    """The fakes, one guild per shard with ``per_shard`` channels, and a nexbot per shard."""
    fake = RecordingDiscord()
    members = [fake.add_member(name=f"member{i}") for i in range(options.members)]
    guilds, channels = [], []
    for shard in range(SHARD_COUNT):
        guild_id, general = fake.add_guild(f"bench-{shard}", shard=(shard, SHARD_COUNT))
        more = [fake.add_guild_channel(guild_id, f"bench-{i}") for i in range(1, per_shard)]
        guilds.append(guild_id)
        channels.append([general, *more])
    await fake.start(install=False)
    try:
        async with (
            upstream_for(options, workdir) as upstream,
            scratch_database(options.database_url, workdir) as database,
        ):
            await prepare_database(database, guilds, options)
            common = [*bot_args("nexbot", fake, upstream, options), *database_args(database)]
            starts = [
                Child.start(
                    "bench.bot_process",
                    [*common, f"--shard-count={SHARD_COUNT}", f"--shard-ids={shard}"],
                    log_path=workdir / f"nexbot-shard{shard}.log",
                    ready=READY_LINE,
                    timeout_s=BOT_START_TIMEOUT_S,
                )
                for shard in range(SHARD_COUNT)
            ]
            started = await asyncio.gather(*starts, return_exceptions=True)
            bots = [bot for bot in started if isinstance(bot, Child)]
            try:
                for failure in started:
                    if isinstance(failure, BaseException):
                        raise failure
                yield ShardedEnv(fake, bots, upstream.pid, members, guilds, channels, database)
            finally:
                for bot in bots:
                    await bot.stop()
    finally:
        await fake.close()


async def run_sharded_wave(
    env: ShardedEnv, n: int, options: Options, timeout_s: float
) -> ShardedWave:
    """N/2 /ask in each shard's guild, all at once; then each guild's ledger."""
    per_shard = n // SHARD_COUNT
    channels = [c for shard in env.channels for c in shard[:per_shard]]
    answers = env.fake.watch(channels)
    cpu_before = [cpu_seconds(bot.pid) for bot in env.bots]
    pids = {f"bot{shard}": bot.pid for shard, bot in enumerate(env.bots)}
    pids["discord"] = os.getpid()
    async with (
        RssSampler(env.bots[0].pid) as rss0,
        RssSampler(env.bots[1].pid) as rss1,
        CpuSampler(pids) as cpu,
    ):
        await asyncio.gather(*(invoke(env, a, i) for i, a in enumerate(answers)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(env.fake.all_finished.wait(), timeout_s)
    expected = answer_text(options.tokens, options.chars_per_token)
    store = await env.database.open()
    try:
        shards = []
        for shard, rss in enumerate((rss0, rss1)):
            rows = await store.fetch_all(
                "SELECT user_id, COUNT(*) FROM usage WHERE guild_id = ? AND feature = 'ask'"
                " AND outcome IN ('reserved', 'ok') GROUP BY user_id",
                (env.guilds[shard],),
            )
            shards.append(
                ShardResult(
                    answers[shard * per_shard : (shard + 1) * per_shard],
                    expected,
                    cpu_seconds(env.bots[shard].pid) - cpu_before[shard],
                    rss.peak_mib,
                    Counter({int(user): int(count) for user, count in rows}),
                )
            )
    finally:
        await store.close()
    return ShardedWave(
        n, shards, options.ask_limit, options.ask_limit_scope, cpu.peaks.get("machine", 0.0)
    )


async def invoke(env: ShardedEnv, answer: Answer, i: int) -> None:
    user = env.members[i % len(env.members)]
    inter = await env.fake.invoke(
        "ask", {"prompt": f"Benchmark question {i}"}, user_id=user, channel_id=answer.channel_id
    )
    answer.started = inter.created


def sharded_table(waves: Sequence[ShardedWave]) -> str:
    """One row per process and one for both together, per wave."""
    rows = []
    for wave in waves:
        parts = [(f"shard {s} (process {s + 1})", [r]) for s, r in enumerate(wave.shards)]
        for label, results in [*parts, ("both", wave.shards)]:
            rows.append(row(wave, label, results))
    headers = [
        "N",
        "where",
        "ack ms p50/p95/p99",
        "first text ms p50/p95/p99 (answered)",
        "final ms p50/p95/p99 (answered)",
        "answered",
        "refused (quota)",
        "unanswered",
        "ack > 3 s",
        "bot CPU s/100 answers",
        "peak RSS MiB",
        "counted (per server) / limit",
        "overspend",
    ]
    return table(headers, rows)


def row(wave: ShardedWave, label: str, results: Sequence[ShardResult]) -> list[object]:
    answers = [a for r in results for a in r.answers]
    answered = [a for r in results for a in r.answered()]
    acks = [t for a in answers if (t := a.since_start(a.acked)) is not None]
    firsts = [t for a in answered if (t := a.since_start(a.first_text)) is not None]
    finals = [t for a in answered if (t := a.since_start(a.final)) is not None]
    cpu = sum(r.bot_cpu_s for r in results)
    counted = " + ".join(str(sum(r.counted.values())) for r in results)
    if wave.limit is None:
        limit = "no limit"
    elif wave.scope == "total":
        limit = f"{wave.limit:.0f} per server"
    else:
        limit = f"{wave.limit:.0f} per member"
    return [
        wave.n if label == "both" else len(answers),
        label,
        p50_95_99(acks),
        p50_95_99(firsts),
        p50_95_99(finals),
        len(answered),
        sum(r.refused() for r in results),
        sum(r.unanswered() for r in results),
        sum(1 for t in acks if t > DISCORD_ACK_LIMIT_S),
        f"{cpu * 100 / len(answered):.2f}" if answered else "-",
        " + ".join(f"{r.peak_rss_mib:.0f}" for r in results),
        f"{counted} / {limit}",
        sum(wave.overspend(r) for r in results),
    ]
