"""Checks that hold for every test module."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from tests.processes import chart_processes


@pytest.fixture(scope="module", autouse=True)
def _no_chart_process_left() -> Iterator[None]:
    """Every drawing process a module's tests start (their own `ChartRenderer`s, or a bot's)
    must have ended once the module's fixtures are torn down. One left running is killed, so
    it can't outlive the run, and reported."""
    before = set(chart_processes())
    yield
    left = [pid for pid in chart_processes() if pid not in before]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"chart processes left running: {left}"
