"""Child processes of the test run, read from /proc (Linux): to find drawing processes left
running (`bot.quota.charts`)."""

from __future__ import annotations

import os
from pathlib import Path

CHART_MODULE = "bot.quota.charts"


def children() -> dict[int, list[str]]:
    """This process's living children (zombies left out): pid -> command line."""
    me = os.getpid()
    found: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) == me and state != "Z":
            found[int(entry.name)] = [arg.decode() for arg in cmdline.split(b"\0") if arg]
    return found


def chart_processes() -> list[int]:
    """Drawing processes (`python -m bot.quota.charts`) of this test run still running."""
    return sorted(pid for pid, argv in children().items() if argv[1:3] == ["-m", CHART_MODULE])


def running(pid: int) -> bool:
    """Whether `pid` is a process not yet ended (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
