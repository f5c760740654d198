"""Load benchmark of /ask and @mention chat: the real bot, alone in its own process.

    python -m bench.ask_load --concurrency 50,200,500 --mentions 50,200

For each bot kind (``defer-only``, the baseline, then ``nexbot``) a fresh fake Discord (in
this process, where it timestamps every callback, message and edit) and a fake nexai (in a
process of its own by default: ``--upstream driver`` keeps it here) are started, the bot is
started in a child process (``bench.bot_process``), and waves of N concurrent /ask
interactions, each in a channel of its own and from one of ``--members`` members, are fired
at once; each wave waits until every answer is final (or ``--wave-timeout``). The upstream
streams ``--tokens`` tokens of ``--chars-per-token`` characters, one every ``--token-delay``
seconds, like a model; the bot edits at its production pace (``--edit-interval``, 1.0 s).

Measured per answer: dispatch -> acknowledgement (the defer callback), -> first visible text,
-> final answer (content without the cursor); per wave: answers never finished, Discord REST
calls per answer, the most edits of one message within one second, bot CPU seconds per 100
answers (/proc/<pid>/stat), the bot's peak RSS during the wave (sampled VmRSS), and the CPU
the fakes used (to show whether they, not the bot, were the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.ask_processes import (
    SHARD_COUNT,
    ShardedWave,
    run_sharded_wave,
    sharded_environment,
    sharded_table,
)
from bench.harness import Env, Options, environment
from bench.procstat import (
    CpuSampler,
    RssSampler,
    cpu_seconds,
    machine_busy_seconds,
    peak_rss_mib,
)
from bench.recorder import Answer
from bench.upstream import (
    DEFAULT_CHARS_PER_TOKEN,
    DEFAULT_TOKEN_DELAY_S,
    DEFAULT_TOKENS,
    answer_text,
)
from bench.waves import Wave, mention_table, slash_table, targets

KINDS = ("defer-only", "nexbot")
PAUSE_BETWEEN_WAVES_S = 2.0


async def run_wave(
    env: Env, kind: str, mode: str, n: int, args: argparse.Namespace, *, cold: bool
) -> Wave:
    fake = env.fake
    loop = asyncio.get_running_loop()
    channels = env.take_channels(n)
    answers = fake.watch(channels)
    expected = answer_text(args.tokens, args.chars_per_token)
    requests_before, limited_before = len(fake.requests), len(fake.rate_limited)
    cpu_before, driver_before = cpu_seconds(env.bot.pid), cpu_seconds(os.getpid())
    upstream_before, machine_before = env.upstream_cpu_s(), machine_busy_seconds()
    started = loop.time()
    pids = {"bot": env.bot.pid, "discord": os.getpid()}
    if env.upstream_pid is not None:
        pids["upstream"] = env.upstream_pid
    async with RssSampler(env.bot.pid) as rss, CpuSampler(pids) as cpu:
        if mode == "slash":
            await asyncio.gather(*(invoke(env, a, i) for i, a in enumerate(answers)))
        else:
            await asyncio.gather(*(mention(env, a, i) for i, a in enumerate(answers)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.all_finished.wait(), args.wave_timeout)
    wall = loop.time() - started
    busy, total = (a - b for a, b in zip(machine_busy_seconds(), machine_before, strict=True))
    return Wave(
        kind=kind,
        cold=cold,
        mode=mode,
        n=n,
        answers=answers,
        expected=expected,
        wall_s=wall,
        rest_calls=len(fake.requests) - requests_before,
        rate_limited=len(fake.rate_limited) - limited_before,
        bot_cpu_s=cpu_seconds(env.bot.pid) - cpu_before,
        peak_rss_mib=rss.peak_mib,
        driver_cpu_s=cpu_seconds(os.getpid()) - driver_before,
        upstream_cpu_s=env.upstream_cpu_s() - upstream_before,
        machine_busy=busy / total if total else math.nan,
        cpu_peaks=dict(cpu.peaks),
        rejected_callbacks=fake.rejected_callbacks,
    )


async def invoke(env: Env, answer: Answer, i: int) -> None:
    user = env.members[i % len(env.members)]
    inter = await env.fake.invoke(
        "ask", {"prompt": f"Benchmark question {i}"}, user_id=user, channel_id=answer.channel_id
    )
    answer.started = inter.created


async def mention(env: Env, answer: Answer, i: int) -> None:
    user = env.members[i % len(env.members)]
    answer.started = asyncio.get_running_loop().time()
    await env.fake.send_message(
        f"Benchmark question {i}", user_id=user, channel_id=answer.channel_id, mentions_bot=True
    )


async def main_async(args: argparse.Namespace) -> None:
    if args.processes == SHARD_COUNT:
        await sharded_main(args)
        return
    waves: list[Wave] = []
    hwm: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="nexbot-bench-") as tmp:
        workdir = Path(args.keep_logs) if args.keep_logs else Path(tmp)
        plan = [("slash", n) for n in args.concurrency]
        plan += [("mention", n) for n in args.mentions]
        # With --cold every wave gets a freshly started bot; else one bot runs them all.
        runs = [[step] for step in plan] if args.cold else [plan]
        for kind in args.kinds:
            for run in runs:
                async with environment(kind, options(args), workdir) as env:
                    for i, (mode, n) in enumerate(run):
                        began = time.monotonic()
                        wave = await run_wave(env, kind, mode, n, args, cold=i == 0)
                        waves.append(wave)
                        print(
                            f"# {kind} {mode} N={n}: {wave.finished}/{n} answered in"
                            f" {time.monotonic() - began:.1f} s",
                            file=sys.stderr,
                            flush=True,
                        )
                        await asyncio.sleep(PAUSE_BETWEEN_WAVES_S)
                    hwm[kind] = max(hwm.get(kind, 0.0), peak_rss_mib(env.bot.pid))
    report(waves, hwm, args)


async def sharded_main(args: argparse.Namespace) -> None:
    """Each /ask wave on two nexbot processes, one per shard, started fresh (cold)."""
    waves: list[ShardedWave] = []
    with tempfile.TemporaryDirectory(prefix="nexbot-bench-") as tmp:
        workdir = Path(args.keep_logs) if args.keep_logs else Path(tmp)
        for n in args.concurrency:
            per_shard = n // SHARD_COUNT
            async with sharded_environment(options(args), workdir, per_shard) as env:
                began = time.monotonic()
                wave = await run_sharded_wave(env, n, options(args), args.wave_timeout)
                waves.append(wave)
                answered = sum(len(r.answered()) for r in wave.shards)
                print(
                    f"# 2 processes N={n}: {answered}/{n} answered in"
                    f" {time.monotonic() - began:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"/ask across {SHARD_COUNT} nexbot processes (one shard each) on"
        f" {'PostgreSQL' if args.database_url else 'one SQLite file'}: N/2 in a server on each"
        f" shard at once; {args.tokens} tokens x {args.chars_per_token} chars at"
        f" {args.token_delay * 1000:.0f} ms/token, edit interval {args.edit_interval} s,"
        f" upstream in {args.upstream}, {os.cpu_count()} CPUs\n"
    )
    print(sharded_table(waves))
    total = sum(w.overspend(r) for w in waves for r in w.shards)
    unanswered = sum(r.unanswered() for w in waves for r in w.shards)
    print(f"\nOverspend in all: {total} (target 0): {'met' if total == 0 else 'MISSED'}")
    print(f"Unanswered in all: {unanswered} (target 0): {'met' if unanswered == 0 else 'MISSED'}")


def report(waves: list[Wave], hwm: dict[str, float], args: argparse.Namespace) -> None:
    print(
        f"/ask load: {args.tokens} tokens x {args.chars_per_token} chars at"
        f" {args.token_delay * 1000:.0f} ms/token, edit interval {args.edit_interval} s,"
        f" upstream in {args.upstream}, {os.cpu_count()} CPUs"
    )
    if args.ask_limit is not None:
        who = "the server's members together" if args.ask_limit_total else "every member"
        print(
            f"Quotas: {who} may /ask {args.ask_limit} times a day (running counters);"
            f" {args.usage_rows:,} /ask rows in the ledger today"
        )
    if args.nexai_connection_limit is not None:
        print(f"NEXAI_MAX_CONNECTIONS={args.nexai_connection_limit}")
    if args.history:
        print(f"Memory: {args.history} earlier exchanges in every channel")
    print()
    slash = [w for w in waves if w.mode == "slash"]
    if slash:
        print(slash_table(slash) + "\n")
    mentions = [w for w in waves if w.mode == "mention"]
    if mentions:
        print("@mention chat\n\n" + mention_table(mentions) + "\n")
    print(
        "Peak RSS over the whole run (VmHWM): "
        + ", ".join(f"{k} {v:.0f} MiB" for k, v in hwm.items())
    )
    for line in targets(waves):
        print("- " + line)


def options(args: argparse.Namespace) -> Options:
    return Options(
        members=args.members,
        channels=sum(args.concurrency) + sum(args.mentions),
        tokens=args.tokens,
        chars_per_token=args.chars_per_token,
        token_delay=args.token_delay,
        edit_interval=args.edit_interval,
        upstream=args.upstream,
        ask_limit=args.ask_limit,
        ask_limit_scope="total" if args.ask_limit_total else "server",
        usage_rows=args.usage_rows,
        history=args.history,
        nexai_connection_limit=args.nexai_connection_limit,
        cprofile=args.cprofile,
        tracemalloc=args.tracemalloc,
        py_spy=args.py_spy,
        log_level=args.log_level,
        database_url=args.database_url,
    )


def parse_counts(text: str) -> list[int]:
    """``50,200`` -> [50, 200]; ``0`` or an empty text runs no such wave."""
    return [int(part) for part in text.split(",") if part.strip() and int(part) > 0]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.ask_load", description=__doc__)
    parser.add_argument("--concurrency", type=parse_counts, default=[50, 200, 500])
    parser.add_argument("--mentions", type=parse_counts, default=[50, 200])
    parser.add_argument("--kinds", type=lambda s: s.split(","), default=list(KINDS))
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--tokens", type=int, default=DEFAULT_TOKENS)
    parser.add_argument("--chars-per-token", type=int, default=DEFAULT_CHARS_PER_TOKEN)
    parser.add_argument("--token-delay", type=float, default=DEFAULT_TOKEN_DELAY_S)
    parser.add_argument("--edit-interval", type=float, default=1.0)
    parser.add_argument("--wave-timeout", type=float, default=120.0)
    parser.add_argument("--upstream", choices=("process", "driver"), default="process")
    parser.add_argument(
        "--nexai-connection-limit",
        type=int,
        help="the bot's NEXAI_MAX_CONNECTIONS (default 500)",
    )
    parser.add_argument(
        "--ask-limit",
        type=int,
        help="set a daily /ask limit for each member (quota checks then run in SQL)",
    )
    parser.add_argument(
        "--ask-limit-total",
        action="store_true",
        help="make --ask-limit a server total (all members together) instead",
    )
    parser.add_argument(
        "--usage-rows", type=int, default=0, help="settled /ask rows in the ledger today"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="exchanges already in each channel's memory (a warm crowd: each answer sends them)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="run every wave on a freshly started bot (each row then is a cold start)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="nexbot's LOG_LEVEL (the defer-only baseline stays at INFO)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="run nexbot on this PostgreSQL server, in a schema of its own per bot run"
        " (dropped at the end; default: $BENCH_DATABASE_URL, else a SQLite file)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        choices=(1, SHARD_COUNT),
        default=1,
        help="2: nexbot as two processes, one per shard, on one database; each --concurrency"
        " wave puts half its /ask in a server on each shard (no baseline, no mentions)",
    )
    parser.add_argument("--keep-logs", help="keep the bots' logs and databases in this folder")
    parser.add_argument("--cprofile", help="profile nexbot with cProfile into this file")
    parser.add_argument(
        "--tracemalloc",
        help="trace nexbot's allocations; the snapshot at the highest point goes to this file"
        " (read it with python -m bench.memory_top FILE)",
    )
    parser.add_argument("--py-spy", help="record nexbot with py-spy (raw format) into this file")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.keep_logs:
        Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
    for kind in args.kinds:
        if kind not in KINDS:
            parser.error(f"unknown kind {kind!r}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
