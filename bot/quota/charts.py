"""The usage report's chart: what to draw (`ChartSpec`, text already in the reader's language),
drawing it as a PNG with matplotlib, and `ChartRenderer`, which draws off the event loop.

Drawing uses matplotlib's object-oriented API (a `Figure` with the Agg canvas, no pyplot), so
there is no global figure registry to leak into; each figure is cleared once saved. The image
has its own opaque background and dark text, readable in Discord's dark and light themes
alike (`THEME`, contrast checked by the tests). The numbers drawn are also stored in the PNG
as a text chunk (`DATA_KEY`), so the image says what it shows.

Bounds: a spec holds at most `MAX_BUCKETS` buckets, `MAX_PANELS` panels and `MAX_RANKED`
bars, and the figure's size follows from them, so one drawing takes a bounded time and memory
(see `bench/usage_chart.py`). `ChartRenderer` draws one chart at a time on its own thread and
gives up waiting after `CHART_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

#: How long a report waits for its chart (queueing included) before it goes without one.
CHART_TIMEOUT_S = 10.0
MAX_BUCKETS = 31
MAX_PANELS = 4
MAX_RANKED = 10
#: Longest member name drawn (longer ones end with "…").
MAX_LABEL_CHARS = 24
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


def _height_in(spec: ChartSpec) -> float:
    ranking = 1.4 + 0.45 * len(spec.ranking) if spec.ranking else 0.0
    return 1.0 + 2.2 * len(spec.panels) + ranking


def draw_png(spec: ChartSpec) -> bytes:
    """The chart as PNG bytes: one bar panel per feature over the buckets, then the top members
    as stacked horizontal bars of calls per feature."""
    # Imported here, not at the top: matplotlib and numpy add ~25 MB to a process, which the
    # bot pays only once a moderator asks for a report with usage in it.
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    theme = THEME
    text = {"color": theme.text, "parse_math": False}
    rows = len(spec.panels) + (1 if spec.ranking else 0)
    ratios = [2.0] * len(spec.panels) + ([0.8 + 0.45 * len(spec.ranking)] if spec.ranking else [])
    figure = Figure(figsize=(WIDTH_IN, _height_in(spec)), dpi=DPI, layout="constrained")
    try:
        figure.set_facecolor(theme.background)
        axes = figure.subplots(rows, 1, squeeze=False, height_ratios=ratios)[:, 0]
        figure.suptitle(spec.title, fontsize=17, fontweight="bold", **text)
        step = max(1, -(-len(spec.x_ticks) // 16))  # at most 16 labels on the time axis
        positions = list(range(len(spec.x_ticks)))
        for index, (ax, panel) in enumerate(zip(axes, spec.panels, strict=False)):
            colour = theme.series[index % len(theme.series)]
            _style(ax, theme)
            ax.bar(positions, panel.values, color=colour, width=0.8, zorder=2)
            ax.set_title(panel.title, loc="left", fontsize=15, fontweight="bold", **text)
            ax.set_ylabel(panel.y_label, fontsize=12, **text)
            ax.set_xlim(-0.6, len(positions) - 0.4)
            ax.set_xticks(positions[::step], labels=list(spec.x_ticks[::step]), fontsize=11)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, min_n_ticks=1))
            ax.set_ylim(bottom=0, top=max(1.0, max(panel.values) * 1.1))
            ax.set_xlabel(spec.x_label, fontsize=12, **text)
        if spec.ranking:
            ax = axes[-1]
            _style(ax, theme, grid_axis="x")
            ranked = list(reversed(spec.ranking))  # the first at the top
            lefts = [0] * len(ranked)
            for part, name in enumerate(spec.legend):
                widths = [bar.parts[part] for bar in ranked]
                colour = theme.series[part % len(theme.series)]
                ax.barh(range(len(ranked)), widths, left=lefts, color=colour, label=name, zorder=2)
                lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
            for row, total in enumerate(lefts):
                ax.text(total, row, f" {total}", va="center", fontsize=11, **text)
            ax.set_xlim(0, max(lefts) * 1.08)
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
        for ax in axes:
            for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
                label.set_parse_math(False)
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


def _style(ax: object, theme: Theme, grid_axis: str = "y") -> None:
    ax.set_facecolor(theme.background)  # type: ignore[attr-defined]
    ax.tick_params(colors=theme.text, labelcolor=theme.text)  # type: ignore[attr-defined]
    for side, spine in ax.spines.items():  # type: ignore[attr-defined]
        spine.set_visible(side in ("left", "bottom"))
        spine.set_color(theme.grid)
    ax.grid(axis=grid_axis, color=theme.grid, linewidth=0.8, zorder=0)  # type: ignore[attr-defined]


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


class ChartUnavailable(Exception):
    """The chart could not be drawn in time (or at all); the report goes without it."""


class ChartRenderer:
    """Draws charts on one thread of its own, off the event loop: one figure at a time (the
    next ones queue), and a caller waits at most `timeout_s`, queueing included."""

    def __init__(self, timeout_s: float = CHART_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")

    async def render(self, spec: ChartSpec) -> bytes:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(
                loop.run_in_executor(self._pool, draw_png, spec), self.timeout_s
            )
        except TimeoutError:
            log.warning("A usage chart took longer than %s s; sent without it", self.timeout_s)
            raise ChartUnavailable("timed out") from None
        except Exception as error:  # matplotlib's errors have no common base
            log.exception("Could not draw a usage chart")
            raise ChartUnavailable(str(error)) from error

    def close(self) -> None:
        """Drop queued drawings; one in progress finishes on its thread."""
        self._pool.shutdown(wait=False, cancel_futures=True)
