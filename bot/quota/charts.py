"""The usage report's chart: what to draw (`ChartSpec`, text already in the reader's language),
drawing it as a PNG with matplotlib, and `ChartRenderer`, which draws off the event loop.

Drawing uses matplotlib's object-oriented API (a `Figure` with the Agg canvas, no pyplot), so
there is no global figure registry to leak into; each figure is cleared once saved. The image
has its own opaque background and dark text, readable in Discord's dark and light themes
alike (`THEME`, contrast checked by the tests). The numbers drawn are also stored in the PNG
as a text chunk (`DATA_KEY`), so the image says what it shows.

Bounds: a spec holds at most `MAX_BUCKETS` buckets, `MAX_PANELS` panels and `MAX_RANKED`
bars, and the figure's size follows from them, so one drawing takes a bounded time and memory
(see `bench/usage_chart.py`). `ChartRenderer` draws one chart at a time in a child process
with a capped address space, killed once a chart takes longer than `CHART_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import resource
import sys
import tempfile
from dataclasses import asdict, dataclass
from typing import Any

log = logging.getLogger(__name__)

#: How long a report waits for its chart (queueing included) before it goes without one.
CHART_TIMEOUT_S = 10.0
#: The chart process's address space (virtual memory; a month's chart draws within 192 MiB,
#: with a resident peak of ~107 MiB: bench/usage_chart.py).
CHART_MEMORY_BYTES = 512 * 1024 * 1024
#: A drawing process with no chart to draw for this long ends (the next one starts afresh).
CHART_IDLE_S = 300.0
#: More than any chart within the bounds below (a month's: ~130 KiB).
MAX_PNG_BYTES = 8 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BUCKETS = 31
MAX_PANELS = 4
MAX_RANKED = 10
#: Longest member name drawn (longer ones end with "…").
MAX_LABEL_CHARS = 22
#: The PNG text chunk holding the numbers drawn, as JSON.
DATA_KEY = "nexbot-usage"
DPI = 100
WIDTH_IN = 12.0


@dataclass(frozen=True)
class Theme:
    background: str = "#FFFFFF"
    text: str = "#1F2328"
    grid: str = "#D0D7DE"
    #: One colour per feature (Okabe-Ito hues, darkened to 3:1 on the background at least).
    series: tuple[str, ...] = ("#0072B2", "#C2410C", "#007A5A", "#9D3F8A")


THEME = Theme()


@dataclass(frozen=True)
class Panel:
    """One feature's use over time: `values[i]` in bucket i, in the unit `y_label` names."""

    title: str
    y_label: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class RankedBar:
    """One member of the top list: `parts[j]` calls of the feature `ChartSpec.legend[j]`."""

    label: str
    parts: tuple[int, ...]


@dataclass(frozen=True)
class ChartSpec:
    title: str
    x_label: str
    x_ticks: tuple[str, ...]
    panels: tuple[Panel, ...]
    ranking_title: str
    ranking_label: str
    legend: tuple[str, ...]
    ranking: tuple[RankedBar, ...]

    def __post_init__(self) -> None:
        if not 0 < len(self.x_ticks) <= MAX_BUCKETS:
            raise ValueError(f"{len(self.x_ticks)} buckets; 1 to {MAX_BUCKETS} allowed")
        if not 0 < len(self.panels) <= MAX_PANELS or len(self.ranking) > MAX_RANKED:
            raise ValueError("too many panels or ranked members")
        if any(len(p.values) != len(self.x_ticks) for p in self.panels):
            raise ValueError("every panel needs one value per bucket")
        if any(len(bar.parts) != len(self.legend) for bar in self.ranking):
            raise ValueError("every ranked bar needs one part per legend entry")

    def data(self) -> str:
        """The numbers and labels drawn, as JSON (stored in the PNG)."""
        return json.dumps(asdict(self), ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_data(cls, data: str | bytes) -> ChartSpec:
        fields = json.loads(data)
        return cls(
            title=fields["title"],
            x_label=fields["x_label"],
            x_ticks=tuple(fields["x_ticks"]),
            panels=tuple(
                Panel(p["title"], p["y_label"], tuple(p["values"])) for p in fields["panels"]
            ),
            ranking_title=fields["ranking_title"],
            ranking_label=fields["ranking_label"],
            legend=tuple(fields["legend"]),
            ranking=tuple(RankedBar(r["label"], tuple(r["parts"])) for r in fields["ranking"]),
        )


def read_png_data(png: bytes) -> dict[str, object]:
    """The `DATA_KEY` text chunk of a PNG drawn by `draw_png`, parsed (KeyError without it)."""
    position = 8
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            if key.decode("latin-1") == DATA_KEY:
                parsed: dict[str, object] = json.loads(value.decode("latin-1"))
                return parsed
        position += 12 + length
    raise KeyError(DATA_KEY)


def figure_size_px(spec: ChartSpec) -> tuple[int, int]:
    width = round(WIDTH_IN * DPI)
    return width, round(_height_in(spec) * DPI)


# The layout, in inches: fixed margins (no layout engine, so the figure is drawn once).
TITLE_IN = 0.7
PANEL_IN = 2.5  # a panel's block: its title, the bars, the ticks and the axis label
PANEL_AXES_IN = 1.45
RANKED_BAR_IN = 0.42
RANKING_EXTRA_IN = 1.3  # the ranking's title and legend above, ticks and label below
PANEL_LEFT_IN = 1.0
RANKING_LEFT_IN = 2.9  # member names
RIGHT_IN = 0.35


def _height_in(spec: ChartSpec) -> float:
    ranking = RANKING_EXTRA_IN + RANKED_BAR_IN * len(spec.ranking) if spec.ranking else 0.0
    return TITLE_IN + PANEL_IN * len(spec.panels) + ranking + 0.1


def draw_png(spec: ChartSpec) -> bytes:
    """The chart as PNG bytes: one bar panel per feature over the buckets, then the top members
    as stacked horizontal bars of calls per feature."""
    # Imported here, not at the top: only the chart process (`main`) draws, and importing
    # matplotlib and numpy costs ~40 MB that the bot itself should never hold.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    theme = THEME
    text: dict[str, Any] = {"color": theme.text, "parse_math": False}
    height = _height_in(spec)
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI)

    def axes_at(top_in: float, axes_in: float, left_in: float) -> Any:
        """Axes whose top edge is `top_in` below the figure's top, `axes_in` tall."""
        box = (
            left_in / WIDTH_IN,
            (height - top_in - axes_in) / height,
            (WIDTH_IN - left_in - RIGHT_IN) / WIDTH_IN,
            axes_in / height,
        )
        ax = figure.add_axes(box)
        _style(ax, theme)
        return ax

    try:
        figure.set_facecolor(theme.background)
        figure.text(
            0.5,
            1 - 0.4 / height,
            spec.title,
            ha="center",
            va="center",
            fontsize=17,
            fontweight="bold",
            **text,
        )
        step = max(1, -(-len(spec.x_ticks) // 16))  # at most 16 labels on the time axis
        positions = list(range(len(spec.x_ticks)))
        top = TITLE_IN
        for index, panel in enumerate(spec.panels):
            ax = axes_at(top + 0.45, PANEL_AXES_IN, PANEL_LEFT_IN)
            top += PANEL_IN
            colour = theme.series[index % len(theme.series)]
            ax.bar(positions, panel.values, color=colour, width=0.8, zorder=2)
            ax.set_title(panel.title, loc="left", fontsize=15, fontweight="bold", **text)
            ax.set_ylabel(panel.y_label, fontsize=12, **text)
            ax.set_xlim(-0.6, len(positions) - 0.4)
            ax.set_xticks(positions[::step], labels=list(spec.x_ticks[::step]), fontsize=11)
            whole = all(float(value).is_integer() for value in panel.values)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=whole, min_n_ticks=1))
            ax.set_ylim(bottom=0, top=max(panel.values) * 1.1 or 1.0)
            ax.set_xlabel(spec.x_label, fontsize=12, **text)
            _plain_tick_labels(ax)
        if spec.ranking:
            ax = axes_at(top + 0.55, RANKED_BAR_IN * len(spec.ranking), RANKING_LEFT_IN)
            ax.grid(axis="y", visible=False)
            ax.grid(axis="x", color=theme.grid, linewidth=0.8, zorder=0)
            ranked = list(reversed(spec.ranking))  # the first at the top
            lefts = [0] * len(ranked)
            for part, name in enumerate(spec.legend):
                widths = [bar.parts[part] for bar in ranked]
                colour = theme.series[part % len(theme.series)]
                ax.barh(range(len(ranked)), widths, left=lefts, color=colour, label=name, zorder=2)
                lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
            for row, total in enumerate(lefts):
                ax.text(total, row, f" {total}", va="center", fontsize=11, **text)
            ax.set_xlim(0, max(1, max(lefts)) * 1.08)
            ax.set_ylim(-0.6, len(ranked) - 0.4)
            labels = [_shorten(bar.label) for bar in ranked]
            ax.set_yticks(range(len(ranked)), labels=labels, fontsize=12)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=1))
            ax.set_title(spec.ranking_title, loc="left", fontsize=15, fontweight="bold", **text)
            ax.set_xlabel(spec.ranking_label, fontsize=12, **text)
            legend = ax.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                ncols=len(spec.legend),
                fontsize=11,
                frameon=False,
                labelcolor=theme.text,
            )
            for item in legend.get_texts():
                item.set_parse_math(False)
            _plain_tick_labels(ax)
        out = io.BytesIO()
        figure.savefig(
            out,
            format="png",
            facecolor=theme.background,
            metadata={"Software": "nexbot", DATA_KEY: spec.data()},
        )
        return out.getvalue()
    finally:
        figure.clear()


def _plain_tick_labels(ax: Any) -> None:
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_parse_math(False)


def _style(ax: Any, theme: Theme) -> None:
    ax.set_facecolor(theme.background)
    ax.tick_params(colors=theme.text, labelcolor=theme.text)
    for side, spine in ax.spines.items():
        spine.set_visible(side in ("left", "bottom"))
        spine.set_color(theme.grid)
    ax.grid(axis="y", color=theme.grid, linewidth=0.8, zorder=0)


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


class ChartUnavailable(Exception):
    """The chart could not be drawn in time (or at all); the report goes without it."""


class _ProcessGone(ChartUnavailable):
    """The drawing process ended before it answered (killed, crashed, out of memory)."""


class ChartRenderer:
    """Draws charts in a child process of its own (`python -m bot.quota.charts`), so the event
    loop never waits on matplotlib and the bot's memory never holds it (~70 MB once imported).

    The child draws one chart at a time and stays for the next (matplotlib imported once)
    until `idle_s` without a chart. Its address space is capped at `memory_bytes`; a caller
    waits at most `timeout_s`, queueing included, and a child that overran or answered
    nonsense is killed. A child found ended when a chart comes (killed from outside, say) is
    replaced, and the chart is drawn by the new one. `close()` ends the child; the next chart
    starts a new one.
    """

    def __init__(
        self,
        timeout_s: float = CHART_TIMEOUT_S,
        memory_bytes: int = CHART_MEMORY_BYTES,
        idle_s: float = CHART_IDLE_S,
    ) -> None:
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self.idle_s = idle_s
        self._turn = asyncio.Lock()
        self._child: asyncio.subprocess.Process | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._idle_stop: asyncio.Task[None] | None = None
        #: Charts begun so far: an idle stop goes ahead only if none has begun since.
        self._charts = 0
        #: Calls of `close()` so far: a chart cut short by one does not start a new child.
        self._closes = 0

    @property
    def pid(self) -> int | None:
        """The drawing process's id while it runs."""
        return self._child.pid if self._child is not None else None

    async def render(self, spec: ChartSpec) -> bytes:
        """The chart as a PNG; ChartUnavailable when it can't be drawn within `timeout_s`."""
        try:
            return await asyncio.wait_for(self._render(spec), self.timeout_s)
        except TimeoutError:
            log.warning("A usage chart took longer than %s s; sent without it", self.timeout_s)
            raise ChartUnavailable(f"no chart within {self.timeout_s:g} s") from None

    async def _render(self, spec: ChartSpec) -> bytes:
        request = spec.data().encode()
        async with self._turn:
            self._charts += 1
            if self._idle is not None:
                self._idle.cancel()
            closes = self._closes
            try:
                started = self._child is None or self._child.returncode is not None
                try:
                    return await self._draw(request)
                except _ProcessGone:
                    if started or closes != self._closes:
                        raise
                    log.warning("The chart process had ended; drawing in a new one")
                    await self._stop()
                    return await self._draw(request)
            except BaseException:  # cancelled (timed out), crashed, nonsense: start afresh
                await self._stop()
                raise
            finally:
                if closes == self._closes:
                    loop = asyncio.get_running_loop()
                    self._idle = loop.call_later(self.idle_s, self._stop_when_idle, self._charts)
                else:  # closed meanwhile, maybe while this chart was starting its process
                    await self._stop()

    async def _draw(self, request: bytes) -> bytes:
        child = self._child
        if child is None or child.returncode is not None:
            child = self._child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                __name__,
                str(self.memory_bytes),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=_child_env(),
            )
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(b"%d\n" % len(request) + request)
            await child.stdin.drain()
            header = await child.stdout.readline()
            if not header:
                raise _ProcessGone("the chart process ended before it answered")
            size = int(header)
            if not 0 < size <= MAX_PNG_BYTES:
                raise ChartUnavailable(f"the chart process answered {size} bytes")
            png = await child.stdout.readexactly(size)
        except (OSError, asyncio.IncompleteReadError) as error:  # a broken pipe, cut short
            log.error("The chart process failed: %s", error)
            raise _ProcessGone(f"the chart process failed: {error}") from error
        except ValueError as error:
            raise ChartUnavailable(f"the chart process answered nonsense: {error}") from error
        if not png.startswith(PNG_SIGNATURE):
            raise ChartUnavailable("the chart process sent no PNG")
        return png

    def _stop_when_idle(self, charts: int) -> None:
        self._idle = None
        self._idle_stop = asyncio.create_task(self._stop_if_idle(charts), name="chart-idle")

    async def _stop_if_idle(self, charts: int) -> None:
        async with self._turn:
            if self._charts == charts:  # no chart began while this waited for its turn
                log.debug("The chart process was idle for %s s; ending it", self.idle_s)
                await self._stop()

    async def close(self) -> None:
        """End the drawing process, if any, and wait until it has ended (a chart being drawn
        meanwhile fails; a chart whose process was still starting ends it once done). The next
        chart starts a new one."""
        self._closes += 1
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        idle_stop, self._idle_stop = self._idle_stop, None
        if idle_stop is not None and not idle_stop.done():
            idle_stop.cancel()
            await asyncio.gather(idle_stop, return_exceptions=True)
        await self._stop()

    async def _stop(self) -> None:
        """Kill the child and wait for it (callers may overlap: each waits for the end)."""
        child = self._child
        if child is None:
            return
        if child.returncode is None:
            child.kill()
        await child.wait()
        if self._child is child:
            self._child = None


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # matplotlib caches its font list here; a writable, lasting folder spares each chart the
    # scan (the Docker image's user has no writable home).
    env.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "nexbot-matplotlib"))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's BLAS threads are not used here
    return env


def main(argv: list[str]) -> int:
    """The drawing process: cap the address space, then for each request on stdin (its length
    in bytes on a line, then the spec as JSON) write the PNG's length on a line, then the PNG
    (length 0: it could not be drawn). Ends when stdin closes."""
    limit = int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while header := stdin.readline():
        request = stdin.read(int(header))
        try:
            png = draw_png(ChartSpec.from_data(request))
        except MemoryError:
            raise
        except Exception:
            log.exception("Could not draw a usage chart")
            png = b""
        stdout.write(b"%d\n" % len(png) + png)
        stdout.flush()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main(sys.argv))
