"""The usage report's chart for a busy month: data from the ledger, then the PNG.

    python -m bench.usage_chart

A temporary SQLite file (the bot's own Store and migrations) gets ``--rows`` ledger rows
spread over one UTC month (March 2026: 31 daily buckets) by ``--members`` members, most use
by a few (a Zipf-like spread), features mixed as on a chat server (ask 70 %, tts 15 %,
imagine 10 %, transcribe 5 %; 2 % refunded). Then, ``--runs`` times, what /usage-report does
for that month: the totals and top members (``usage_report``), the series per feature per day
(``usage_series``), the chart's text (``chart_spec``) and the PNG (``ChartRenderer.render``,
as the bot does: the first chart starts the drawing process, which imports matplotlib; the
others reuse it), and, after the charts, the CSV (``ledger_csv``), which the report also builds.

Reported per step: wall and CPU time (this process, all threads, and the drawing process,
read from /proc while it runs) of the first run and the median of the others; the PNG's size;
the longest the event loop went without running a 5 ms ticker while a chart was drawn; the
drawing process's peak RSS (VmHWM); this process's RSS and peak RSS before, after the charts
and after the CSVs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds, peak_rss_mib, rss_mib
from bench.report import table
from bot.interactions.usage_text import chart_spec
from bot.quota.charts import ChartRenderer, figure_size_px
from bot.quota.reports import ledger_csv, usage_report, usage_series
from bot.quota.rules import window
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store

GUILD_ID = 1
MONTH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
FEATURE_MIX = (("ask", 70, 1.0), ("tts", 15, 400.0), ("imagine", 10, 1.0), ("transcribe", 5, 90.0))
REFUNDED_SHARE = 0.02
TICK_S = 0.005
#: Target: data and chart of a month of 100,000 rows in under a second of CPU (warm).
TARGET_CPU_S = 1.0


async def fill(store: Store, rows: int, members: int, seed: int) -> None:
    rng = random.Random(seed)
    start, end = window("month", MONTH)
    first, span = start.timestamp(), (end - start).total_seconds()
    features = [f for f, _, _ in FEATURE_MIX]
    weights = [w for _, w, _ in FEATURE_MIX]
    units = {f: u for f, _, u in FEATURE_MIX}
    member_weights = [1 / (rank + 1) for rank in range(members)]
    member_ids = rng.choices(range(members), member_weights, k=rows)
    values = []
    for member in member_ids:
        feature = rng.choices(features, weights)[0]
        at = first + rng.random() * span
        outcome = "refunded" if rng.random() < REFUNDED_SHARE else "ok"
        values.append((GUILD_ID, 10, 500_000 + member, feature, units[feature], outcome, at, at))
    async with store.transaction() as db:
        await db.execute_many(
            "INSERT INTO usage (guild_id, channel_id, user_id, feature, units, tokens, model,"
            " outcome, created_at, settled_at) VALUES (?, ?, ?, ?, ?, 300, 'm', ?, ?, ?)",
            values,
        )


def cpu_s(renderer: ChartRenderer) -> float:
    """CPU seconds used so far by this process (all threads), its ended children, and the
    drawing process while it runs (a living child is not in RUSAGE_CHILDREN)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    drawing = cpu_seconds(renderer.pid) if renderer.pid is not None else 0.0
    return time.process_time() + children.ru_utime + children.ru_stime + drawing


async def timed(renderer: ChartRenderer, step: Awaitable[Any]) -> tuple[Any, float, float]:
    """`step`'s result, and the wall and CPU seconds (this process and its children) it took."""
    wall, cpu = time.perf_counter(), cpu_s(renderer)
    result = await step
    return result, time.perf_counter() - wall, cpu_s(renderer) - cpu


async def loop_lag_while(work: Awaitable[Any]) -> tuple[Any, float]:
    """`work`'s result, and the longest gap between two runs of a 5 ms ticker meanwhile."""
    longest = 0.0

    async def tick() -> None:
        nonlocal longest
        last = time.perf_counter()
        while True:
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            longest = max(longest, now - last - TICK_S)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        return await work, longest
    finally:
        ticker.cancel()


async def run(rows: int, members: int, runs: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await SQLiteStore.open(Path(folder) / "usage.db")
        renderer = ChartRenderer()
        try:
            fill_started = time.perf_counter()
            await fill(store, rows, members, seed)
            filled_s = time.perf_counter() - fill_started
            start, end = window("month", MONTH)
            rss_before, hwm_before = rss_mib_self(), peak_rss_mib_self()
            times: dict[str, list[tuple[float, float]]] = {}
            png = b""
            lags: list[float] = []
            for _ in range(runs):
                report, *spent = await timed(renderer, usage_report(store, GUILD_ID, start, end))
                times.setdefault("usage_report (totals, top members)", []).append(pair(spent))
                series, *spent = await timed(
                    renderer, usage_series(store, GUILD_ID, "month", start, end)
                )
                times.setdefault("usage_series (per feature per day)", []).append(pair(spent))
                spec, *spent = await timed(renderer, _spec(report, series))
                times.setdefault("chart_spec (labels)", []).append(pair(spent))
                (png, lag), *spent = await timed(renderer, loop_lag_while(renderer.render(spec)))
                lags.append(lag)
                times.setdefault("render (PNG, chart process)", []).append(pair(spent))
            steps: list[list[tuple[float, float]]] = list(times.values())
            times["data + chart"] = [
                (sum(step[i][0] for step in steps), sum(step[i][1] for step in steps))
                for i in range(runs)
            ]
            rss_chart, hwm_chart = rss_mib_self(), peak_rss_mib_self()
            assert renderer.pid is not None, "the drawing process ended between charts"
            drawing_hwm = peak_rss_mib(renderer.pid)
            csv_bytes = 0
            for _ in range(runs):
                data, *spent = await timed(renderer, ledger_csv(store, GUILD_ID, start, end))
                csv_bytes = len(data)
                del data
                times.setdefault("ledger_csv (apart, after the charts)", []).append(pair(spent))
        finally:
            await renderer.close()
            await store.close()
    print(
        f"\n{rows:,} ledger rows in {MONTH:%B %Y} by {members:,} members"
        f" (filled in {filled_s:.1f} s); {runs} runs\n"
    )
    rows_out = []
    for name, runs_spent in times.items():
        warm = runs_spent[1:] or runs_spent
        rows_out.append(
            (
                name,
                f"{runs_spent[0][0] * 1000:.0f} / {runs_spent[0][1] * 1000:.0f}",
                f"{statistics.median(s[0] for s in warm) * 1000:.0f}"
                f" / {statistics.median(s[1] for s in warm) * 1000:.0f}",
            )
        )
    print(table(("step", "first run: wall / CPU ms", "median of the others"), rows_out))
    width, height = figure_size_px(spec)
    total = times["data + chart"]
    warm_cpu = statistics.median(s[1] for s in (total[1:] or total))
    print()
    print(
        table(
            (
                "PNG",
                "loop's longest wait",
                "chart process peak RSS",
                "RSS: before, after the charts, after the CSVs",
                "peak RSS: before, charts, CSVs",
                "CSV",
            ),
            [
                (
                    f"{width}x{height}, {len(png) / 1024:.0f} KiB",
                    f"{max(lags) * 1000:.0f} ms",
                    f"{drawing_hwm:.0f} MiB",
                    f"{rss_before:.0f}, {rss_chart:.0f}, {rss_mib_self():.0f} MiB",
                    f"{hwm_before:.0f}, {hwm_chart:.0f}, {peak_rss_mib_self():.0f} MiB",
                    f"{csv_bytes / 1024 / 1024:.1f} MiB",
                )
            ],
        )
    )
    verdict = "met" if warm_cpu < TARGET_CPU_S else "MISSED"
    print(
        f"\nTarget: data + chart under {TARGET_CPU_S:.0f} s of CPU (median):"
        f" {warm_cpu:.2f} s, {verdict} (first run, starting the drawing process:"
        f" {total[0][1]:.2f} s)"
    )


def pair(spent: list[float]) -> tuple[float, float]:
    wall, cpu = spent
    return wall, cpu


async def _spec(report: Any, series: Any) -> Any:
    return chart_spec(report, series, "en-US", {})


def rss_mib_self() -> float:
    return rss_mib(os.getpid())


def peak_rss_mib_self() -> float:
    return peak_rss_mib(os.getpid())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="ledger rows in the month")
    parser.add_argument("--members", type=int, default=2_000, help="members using the bot")
    parser.add_argument("--runs", type=int, default=5, help="reports built")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(run(args.rows, args.members, args.runs, args.seed))


if __name__ == "__main__":
    main()
