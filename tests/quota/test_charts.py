"""The report's chart: its data from the ledger (buckets per feature), the PNG drawn from it,
the theme's contrast, and drawing in a child process within time and memory bounds: the
process reused, ended when idle, replaced when it died, killed when it overran (real child
processes, each ended by the end of its test)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image

from bot.quota.charts import (
    MAX_BUCKETS,
    THEME,
    ChartRenderer,
    ChartSpec,
    ChartUnavailable,
    Panel,
    RankedBar,
    draw_png,
    figure_size_px,
    read_png_data,
)
from bot.quota.reports import usage_series
from bot.quota.rules import window
from bot.storage.store import Store
from tests.processes import chart_processes, running

GUILD = 1000
DAY = dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def add_usage(
    store: Store,
    at: dt.datetime,
    feature: str = "ask",
    units: float = 1,
    outcome: str = "ok",
    guild_id: int = GUILD,
    user_id: int = 7,
) -> None:
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO usage (guild_id, user_id, feature, units, outcome, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (guild_id, user_id, feature, units, outcome, at.timestamp()),
        )


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE and png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def spec(*, labels: tuple[str, ...] = ("alice", "bob"), buckets: int = 24) -> ChartSpec:
    return ChartSpec(
        title="Usage 2026-03-14 UTC",
        x_label="Hour of the day (UTC)",
        x_ticks=tuple(f"{h:02}" for h in range(buckets)),
        panels=(
            Panel("/ask", "ask requests", tuple(float(h % 5) for h in range(buckets))),
            Panel("/tts", "characters of speech", tuple(float(h * 40) for h in range(buckets))),
        ),
        ranking_title="Top members",
        ranking_label="calls",
        legend=("/ask", "/tts"),
        ranking=tuple(RankedBar(label, (9 - i, i)) for i, label in enumerate(labels)),
    )


# -- the data: use per feature per bucket, from the ledger ------------------------------------


async def test_a_days_series_sums_each_features_use_per_utc_hour(store: Store) -> None:
    await add_usage(store, DAY + hours(0.1))
    await add_usage(store, DAY + hours(0.9), units=2)
    await add_usage(store, DAY + hours(23.99))
    await add_usage(store, DAY + hours(5.5), feature="transcribe", units=90)
    start, end = window("day", DAY)
    series = await usage_series(store, GUILD, "day", start, end)
    assert series.buckets == 24 and series.bucket_s == 3600
    assert list(series.units) == ["ask", "transcribe"]
    assert series.units["ask"][0] == 3 and series.units["ask"][23] == 1
    assert sum(series.units["ask"]) == 4
    assert series.units["transcribe"][5] == 90 and sum(series.units["transcribe"]) == 90


async def test_a_series_counts_only_the_windows_counted_rows_of_its_server(
    store: Store,
) -> None:
    await add_usage(store, DAY + hours(1), outcome="refunded")
    await add_usage(store, DAY + hours(1), guild_id=GUILD + 1)
    await add_usage(store, DAY - dt.timedelta(seconds=1))
    await add_usage(store, DAY + hours(24))
    await add_usage(store, DAY + hours(2), outcome="reserved")
    start, end = window("day", DAY)
    series = await usage_series(store, GUILD, "day", start, end)
    assert series.units == {"ask": [0.0, 0.0, 1.0] + [0.0] * 21}


@pytest.mark.parametrize(
    ("period", "moment", "buckets"),
    [
        ("hour", DAY + hours(10.5), 12),
        ("day", DAY, 24),
        ("month", dt.datetime(2026, 2, 10, tzinfo=dt.UTC), 28),
        ("month", dt.datetime(2026, 3, 10, tzinfo=dt.UTC), 31),
    ],
)
async def test_buckets_are_five_minutes_of_an_hour_hours_of_a_day_days_of_a_month(
    store: Store, period: str, moment: dt.datetime, buckets: int
) -> None:
    start, end = window(period, moment)  # type: ignore[arg-type]
    await add_usage(store, end - dt.timedelta(seconds=1))
    series = await usage_series(store, GUILD, period, start, end)  # type: ignore[arg-type]
    assert series.buckets == buckets
    assert series.units["ask"][-1] == 1 and sum(series.units["ask"]) == 1


async def test_a_period_without_counted_use_has_an_empty_series(store: Store) -> None:
    await add_usage(store, DAY + hours(3), outcome="refunded")
    start, end = window("day", DAY)
    assert (await usage_series(store, GUILD, "day", start, end)).empty


# -- the drawing -----------------------------------------------------------------------------


def test_the_chart_is_a_png_of_the_figures_size_carrying_the_numbers_drawn() -> None:
    drawn = spec()
    png = draw_png(drawn)
    width, height = png_size(png)
    assert (width, height) == figure_size_px(drawn)
    assert 800 <= width <= 1600 and 400 <= height <= 2400 and len(png) < 1_000_000
    data = read_png_data(png)
    assert data["panels"] == [
        {"title": p.title, "y_label": p.y_label, "values": list(p.values)} for p in drawn.panels
    ]
    assert data["ranking"] == [
        {"label": "alice", "parts": [9, 0]},
        {"label": "bob", "parts": [8, 1]},
    ]


def test_member_names_with_tex_markup_are_drawn_as_plain_text() -> None:
    """Should not parse `$...$` in names as mathtext (a broken formula would fail the chart)."""
    png = draw_png(spec(labels=(r"$\notacommand{$", "50$ & $x^")))
    assert read_png_data(png)["ranking"][0]["label"] == r"$\notacommand{$"  # type: ignore[index]


def test_a_spec_with_more_buckets_than_a_month_is_refused() -> None:
    with pytest.raises(ValueError, match="buckets"):
        spec(buckets=MAX_BUCKETS + 1)


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_charts_own_background_keeps_text_and_bars_readable_in_any_discord_theme() -> None:
    """The image is opaque, so Discord's dark or light theme never sits behind its text; text
    meets WCAG's 4.5:1 and bars its 3:1 for graphics against the chart's background."""
    assert contrast(THEME.text, THEME.background) >= 4.5
    assert all(contrast(colour, THEME.background) >= 3 for colour in THEME.series)


def test_the_png_is_opaque_on_the_themes_background() -> None:
    """Should leave no transparent pixel, so Discord's dark or light theme never shows through
    behind the text (the contrast checked above is then the contrast seen)."""
    with Image.open(io.BytesIO(draw_png(spec()))) as image:
        rgba = image.convert("RGBA")
        assert rgba.getchannel("A").getextrema() == (255, 255)
        background = tuple(int(THEME.background[i : i + 2], 16) for i in (1, 3, 5))
        width, height = rgba.size
        for corner in [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]:
            pixel = rgba.getpixel(corner)
            assert isinstance(pixel, tuple) and pixel[:3] == background


# -- drawing off the event loop, within a time bound -----------------------------------------

Renderers = Callable[..., ChartRenderer]


@pytest_asyncio.fixture
async def renderers() -> AsyncIterator[Renderers]:
    """Makes `ChartRenderer`s (keyword arguments as its own), and closes each at the end of
    the test: every drawing process the test started has then ended."""
    made: list[ChartRenderer] = []

    def make(**options: Any) -> ChartRenderer:
        made.append(ChartRenderer(**options))
        return made[-1]

    yield make
    for renderer in made:
        await renderer.close()
        assert renderer.pid is None
    assert chart_processes() == []


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def process_of(renderer: ChartRenderer) -> int:
    pid = renderer.pid
    assert pid is not None and running(pid)
    return pid


async def test_drawing_leaves_the_event_loop_free(renderers: Renderers) -> None:
    renderer = renderers()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        png = await renderer.render(spec())
    finally:
        ticker.cancel()
    assert png.startswith(PNG_SIGNATURE)
    assert ticks >= 5


async def test_the_chart_process_draws_what_the_spec_says(renderers: Renderers) -> None:
    drawn = spec()
    png = await renderers().render(drawn)
    assert png_size(png) == figure_size_px(drawn)
    assert ChartSpec.from_data(json.dumps(read_png_data(png))) == drawn


async def test_a_second_chart_is_drawn_by_the_same_process(renderers: Renderers) -> None:
    """Should keep the drawing process (matplotlib imported once) for the next chart."""
    renderer = renderers()
    await renderer.render(spec())
    first = process_of(renderer)
    png = await renderer.render(spec(labels=("carol",)))
    assert read_png_data(png)["ranking"] == [{"label": "carol", "parts": [9, 0]}]
    assert process_of(renderer) == first
    assert chart_processes() == [first]


async def test_an_idle_process_ends_and_the_next_chart_starts_a_new_one(
    renderers: Renderers,
) -> None:
    renderer = renderers(idle_s=0.3)
    await renderer.render(spec())
    first = process_of(renderer)
    await until(lambda: not running(first) and renderer.pid is None)
    assert chart_processes() == []
    png = await renderer.render(spec())
    assert png.startswith(PNG_SIGNATURE)
    assert process_of(renderer) != first


@pytest.mark.parametrize("noticed", [False, True], ids=["at-once", "once-reaped"])
async def test_a_process_that_died_is_replaced_and_the_chart_still_drawn(
    renderers: Renderers, noticed: bool
) -> None:
    """Should draw the next chart in a new process, whether or not the old one's end was
    noticed before the chart came."""
    renderer = renderers()
    await renderer.render(spec())
    first = process_of(renderer)
    os.kill(first, signal.SIGKILL)
    if noticed:
        await until(lambda: not running(first))
    drawn = spec(labels=("after",))
    png = await renderer.render(drawn)
    assert ChartSpec.from_data(json.dumps(read_png_data(png))) == drawn
    second = process_of(renderer)
    assert second != first and chart_processes() == [second]


async def test_a_chart_past_the_time_bound_is_killed_and_fails_with_a_clear_error(
    renderers: Renderers,
) -> None:
    """Should kill a process that does not answer in time (here: stopped), tell why, and draw
    the next chart in a new one."""
    renderer = renderers()
    await renderer.render(spec())
    hung = process_of(renderer)
    os.kill(hung, signal.SIGSTOP)
    renderer.timeout_s = 0.5
    started = time.monotonic()
    with pytest.raises(ChartUnavailable, match=r"^no chart within 0\.5 s$"):
        await renderer.render(spec())
    assert time.monotonic() - started < 5
    assert not running(hung) and renderer.pid is None
    renderer.timeout_s = 30
    assert (await renderer.render(spec())).startswith(PNG_SIGNATURE)
    assert process_of(renderer) != hung


async def test_a_chart_that_takes_too_long_is_given_up(renderers: Renderers) -> None:
    renderer = renderers(timeout_s=0.001)
    with pytest.raises(ChartUnavailable, match="no chart within"):
        await renderer.render(spec())
    assert chart_processes() == []


async def test_a_chart_that_needs_more_memory_than_its_cap_is_given_up(
    renderers: Renderers,
) -> None:
    """Should fail the drawing process, not the bot, when the address space cap is reached."""
    renderer = renderers(memory_bytes=64 * 1024 * 1024)
    with pytest.raises(ChartUnavailable):
        await renderer.render(spec())
    assert chart_processes() == []


async def test_closing_the_renderer_ends_its_process(renderers: Renderers) -> None:
    """Should leave no drawing process once closed (the bot closes its renderer at shutdown)."""
    renderer = renderers()
    await renderer.render(spec())
    pid = process_of(renderer)
    assert chart_processes() == [pid]
    await renderer.close()
    assert renderer.pid is None and not running(pid)
    assert chart_processes() == []


async def test_a_chart_cut_short_by_closing_fails_and_starts_no_process(
    renderers: Renderers,
) -> None:
    renderer = renderers()
    await renderer.render(spec())
    hung = process_of(renderer)
    os.kill(hung, signal.SIGSTOP)
    drawing = asyncio.create_task(renderer.render(spec()))
    await asyncio.sleep(0.1)
    await renderer.close()
    with pytest.raises(ChartUnavailable):
        await drawing
    assert renderer.pid is None and chart_processes() == []


async def test_closing_while_a_chart_starts_its_process_leaves_no_process(
    renderers: Renderers,
) -> None:
    """Should end the process a chart was starting when `close()` came (the chart may still
    be drawn, or fail)."""
    renderer = renderers()
    drawing = asyncio.create_task(renderer.render(spec()))
    for _ in range(10_000):  # until the process exists; its pipes may not be connected yet
        if chart_processes():
            break
        await asyncio.sleep(0)
    else:
        pytest.fail("no chart process started")
    await renderer.close()
    with contextlib.suppress(ChartUnavailable):
        await drawing
    assert renderer.pid is None and chart_processes() == []
