"""CPU time and memory of a process, read from /proc (Linux), and a sampler for peak RSS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from types import TracebackType

from bot.ops.tasks import cancel_and_wait

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
RSS_SAMPLE_INTERVAL_S = 0.05
CPU_SAMPLE_INTERVAL_S = 0.5
MIN_CPU_SAMPLE_S = 0.1  # shorter intervals are too coarse for 10 ms clock ticks


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process (all its threads) has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS_PER_S


def status_kib(pid: int, key: str) -> int:
    """A ``kB`` line of /proc/<pid>/status, e.g. ``VmRSS`` or ``VmHWM`` (peak RSS)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def rss_mib(pid: int) -> float:
    return status_kib(pid, "VmRSS") / 1024


def peak_rss_mib(pid: int) -> float:
    return status_kib(pid, "VmHWM") / 1024


class RssSampler:
    """Samples a process's RSS while the ``async with`` block runs; ``peak_mib`` is the most."""

    def __init__(self, pid: int, interval_s: float = RSS_SAMPLE_INTERVAL_S) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_mib = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RssSampler:
        self.peak_mib = rss_mib(self.pid)
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await cancel_and_wait(self._task)
        with contextlib.suppress(OSError):
            self.peak_mib = max(self.peak_mib, rss_mib(self.pid))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.peak_mib = max(self.peak_mib, rss_mib(self.pid))
            except OSError:  # the process ended
                return


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return (total - idle) / CLOCK_TICKS_PER_S, total / CLOCK_TICKS_PER_S


class CpuSampler:
    """CPU use of some processes (share of one core) and of the machine (share of all cores)
    per ``interval_s`` while the ``async with`` block runs; ``peaks`` holds the busiest
    interval of each."""

    def __init__(self, pids: dict[str, int], interval_s: float = CPU_SAMPLE_INTERVAL_S) -> None:
        self.pids = pids
        self.interval_s = interval_s
        self.peaks: dict[str, float] = dict.fromkeys([*pids, "machine"], 0.0)
        self._task: asyncio.Task[None] | None = None
        self._before: dict[str, float] = {}
        self._then = 0.0

    async def __aenter__(self) -> CpuSampler:
        self._before, self._then = self._read(), time.monotonic()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await cancel_and_wait(self._task)
        with contextlib.suppress(OSError):
            self._sample()  # the last, partial interval (or the only one of a short block)

    def _read(self) -> dict[str, float]:
        values = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        busy, total = machine_busy_seconds()
        values["machine"], values["machine total"] = busy, total
        return values

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self._sample()
            except OSError:  # a process ended
                return

    def _sample(self) -> None:
        now, moment = self._read(), time.monotonic()
        elapsed = moment - self._then
        if elapsed < MIN_CPU_SAMPLE_S:
            return
        for name in self.pids:
            share = (now[name] - self._before[name]) / elapsed
            self.peaks[name] = max(self.peaks[name], share)
        total = now["machine total"] - self._before["machine total"]
        if total > 0:
            share = (now["machine"] - self._before["machine"]) / total
            self.peaks["machine"] = max(self.peaks["machine"], share)
        self._before, self._then = now, moment
