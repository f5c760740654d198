"""One wave of the load benchmark: what each answer did, the tables, and the targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.recorder import DISCORD_EDIT_WINDOW_S, Answer
from bench.report import ms, p50_95_99, percentile, table

DISCORD_ACK_LIMIT_S = 3.0
ACK_RATIO_TARGET = 1.2
#: @mention first reply p99 at ACK_RATIO_AT against the defer-only bot's.
MENTION_RATIO_TARGET = 4.0
ACK_RATIO_AT = 200
CPU_TARGET_MS = 15.0
RSS_TARGET_MIB = 75.0
RSS_TARGET_AT = 200


@dataclass
class Wave:
    kind: str
    cold: bool  # the first wave after the bot started (empty caches)
    mode: str  # "slash" or "mention"
    n: int
    answers: list[Answer]
    expected: str
    wall_s: float
    rest_calls: int
    rate_limited: int  # requests the fake Discord refused with a 429 (retries included)
    bot_cpu_s: float
    peak_rss_mib: float
    driver_cpu_s: float  # this process: the fake Discord (and the upstream with --upstream driver)
    upstream_cpu_s: float  # the upstream's own process (0 with --upstream driver)
    machine_busy: float  # share of all the machine's CPUs that was busy during the wave
    cpu_peaks: dict[str, float]  # the busiest second of each process (and the machine)
    rejected_callbacks: int

    def times(self, attr: str) -> list[float]:
        values = [a.since_start(getattr(a, attr)) for a in self.answers]
        return [v for v in values if v is not None]

    @property
    def unanswered(self) -> int:
        return sum(1 for a in self.answers if a.final is None)

    @property
    def wrong(self) -> int:
        return sum(1 for a in self.answers if a.final is not None and a.final_text != self.expected)

    @property
    def late_acks(self) -> int:
        """Acknowledged after 3 s, or refused by the fake for being too late (10062)."""
        late = sum(1 for t in self.times("acked") if t > DISCORD_ACK_LIMIT_S)
        return late + self.rejected_callbacks

    @property
    def finished(self) -> int:
        return self.n - self.unanswered

    def cpu_ms_per_answer(self) -> float:
        return self.bot_cpu_s / self.finished * 1000 if self.finished else math.nan

    def cpu_per_100(self) -> str:
        return f"{self.bot_cpu_s * 100 / self.finished:.2f}" if self.finished else "-"

    def cpu_shares(self) -> str:
        """Average CPU use during the wave, in % of one core, and how busy the machine was."""
        peaks = self.cpu_peaks
        names = ("bot", "discord", "upstream")
        cores = "/".join(f"{peaks.get(name, 0.0) * 100:.0f}" for name in names)
        return f"{cores} ({peaks['machine'] * 100:.0f}%)"

    def max_edits(self, window_s: float) -> int:
        return max((a.max_edits_per_window(window_s) for a in self.answers), default=0)

    def edit_pace(self) -> str:
        """Most edits of one message in 1 s / in 5 s, and the shortest gap between two."""
        per_1s, per_5s = self.max_edits(1.0), self.max_edits(DISCORD_EDIT_WINDOW_S)
        return f"{per_1s} / {per_5s} ({ms(self.min_edit_gap())} ms)"

    def min_edit_gap(self) -> float:
        gaps = [g for a in self.answers if (g := a.min_edit_gap()) is not None]
        return min(gaps) if gaps else math.nan


def slash_table(waves: Sequence[Wave]) -> str:
    rows = [
        [
            w.kind,
            "cold" if w.cold else "warm",
            w.n,
            p50_95_99(w.times("acked")),
            p50_95_99(w.times("first_text")),
            p50_95_99(w.times("final")),
            w.unanswered,
            w.late_acks,
            f"{w.rest_calls / w.n:.1f}",
            w.rate_limited,
            w.edit_pace(),
            w.cpu_per_100(),
            f"{w.peak_rss_mib:.0f}",
            w.cpu_shares(),
        ]
        for w in waves
    ]
    headers = [
        "bot",
        "start",
        "N",
        "ack ms p50/p95/p99",
        "first text ms p50/p95/p99",
        "final ms p50/p95/p99",
        "unanswered",
        "ack > 3 s or refused",
        "REST/answer",
        "429s",
        "edits/msg max in 1 s / 5 s (min gap)",
        "bot CPU s/100 answers",
        "peak RSS MiB",
        "peak CPU % bot/discord/upstream (machine)",
    ]
    return table(headers, rows)


def mention_table(waves: Sequence[Wave]) -> str:
    rows = [
        [
            w.kind,
            "cold" if w.cold else "warm",
            w.n,
            p50_95_99(w.times("first_text")),
            p50_95_99(w.times("final")),
            w.unanswered,
            f"{w.rest_calls / w.n:.1f}",
            w.rate_limited,
            w.edit_pace(),
            w.cpu_per_100(),
            f"{w.peak_rss_mib:.0f}",
            w.cpu_shares(),
        ]
        for w in waves
    ]
    headers = [
        "bot",
        "start",
        "N",
        "first reply ms p50/p95/p99",
        "final ms p50/p95/p99",
        "unanswered",
        "REST/answer",
        "429s",
        "edits/msg max in 1 s / 5 s (min gap)",
        "bot CPU s/100 answers",
        "peak RSS MiB",
        "peak CPU % bot/discord/upstream (machine)",
    ]
    return table(headers, rows)


def targets(waves: Sequence[Wave]) -> list[str]:
    """One line per target, with the figure and whether it was met."""
    by = {(w.kind, w.mode, w.n): w for w in waves}
    lines = []
    nex, base = by.get(("nexbot", "slash", ACK_RATIO_AT)), by.get(("defer-only", "slash", 200))
    if nex and base:
        p99, p99_base = percentile(nex.times("acked"), 99), percentile(base.times("acked"), 99)
        ratio = p99 / p99_base if p99_base else math.inf
        ok = ratio <= ACK_RATIO_TARGET and p99 < DISCORD_ACK_LIMIT_S
        lines.append(
            f"ack p99 at {ACK_RATIO_AT}: {ms(p99)} ms vs defer-only {ms(p99_base)} ms ="
            f" {ratio:.2f}x (target <= {ACK_RATIO_TARGET}x, < 3 s): {'met' if ok else 'MISSED'}"
        )
    nex = by.get(("nexbot", "mention", ACK_RATIO_AT))
    base = by.get(("defer-only", "mention", ACK_RATIO_AT))
    if nex and base:
        p99 = percentile(nex.times("first_text"), 99)
        p99_base = percentile(base.times("first_text"), 99)
        ratio = p99 / p99_base if p99_base else math.inf
        ok = ratio <= MENTION_RATIO_TARGET
        lines.append(
            f"@mention first reply p99 at {ACK_RATIO_AT}: {ms(p99)} ms vs defer-only"
            f" {ms(p99_base)} ms = {ratio:.2f}x (target <= {MENTION_RATIO_TARGET}x):"
            f" {'met' if ok else 'MISSED'}"
        )
    for w in waves:
        if w.kind == "nexbot":
            label = f"{w.mode} N={w.n}"
            ok = w.unanswered == 0 and w.wrong == 0
            lines.append(
                f"{label}: unanswered {w.unanswered}, wrong {w.wrong}, late acks {w.late_acks}"
                f": {'met' if ok else 'MISSED'}"
            )
            wrong = (a.final_text for a in w.answers if a.final and a.final_text != w.expected)
            if example := next(wrong, ""):
                lines.append(f"{label}: a wrong answer reads {example[:120]!r}")
            cpu = w.cpu_ms_per_answer()
            lines.append(
                f"{label}: bot CPU {cpu:.1f} ms per answer (target <= {CPU_TARGET_MS:.0f}):"
                f" {'met' if cpu <= CPU_TARGET_MS else 'MISSED'}"
            )
            if w.n == RSS_TARGET_AT:
                ok = w.peak_rss_mib <= RSS_TARGET_MIB
                lines.append(
                    f"{label}: peak RSS {w.peak_rss_mib:.0f} MiB with {w.n} in flight"
                    f" (target <= {RSS_TARGET_MIB:.0f}): {'met' if ok else 'MISSED'}"
                )
    return lines
