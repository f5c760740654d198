"""A heartbeat file for Docker's HEALTHCHECK: fresh while the bot holds its gateway connection.

The running bot rewrites the file (the time, in seconds since the epoch) every
`HEARTBEAT_INTERVAL_S` while it is connected; `nexbot health` (`check_heartbeat`) fails when
the file is missing or older than HEALTH_MAX_AGE_S. Nothing here knows Discord: the bot hands
in how to tell that it is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.ops.tasks import cancel_and_wait

log = logging.getLogger(__name__)

#: How often a connected bot rewrites the file.
HEARTBEAT_INTERVAL_S = 15.0
#: How often a bot that is not connected (yet) looks again.
RECHECK_INTERVAL_S = 1.0


def write_heartbeat(path: Path, now: float | None = None) -> None:
    """Replace the file at once (write a sibling, then rename), so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(f"{time.time() if now is None else now:.3f}\n")
    os.replace(partial, path)


def check_heartbeat(path: Path, max_age_s: float, now: float | None = None) -> tuple[bool, str]:
    """Whether the heartbeat at `path` is fresher than `max_age_s`, and one line saying why."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return False, f"no heartbeat file at {path}: the bot is not connected to Discord (yet)"
    except OSError as error:
        return False, f"cannot read the heartbeat file {path}: {error.strerror or error}"
    try:
        beat = float(text.strip())
    except ValueError:
        return False, f"the heartbeat file {path} holds no time: {text.strip()[:40]!r}"
    age = (time.time() if now is None else now) - beat
    if age > max_age_s:
        return False, (
            f"last heartbeat {age:.0f} s ago (more than {max_age_s:g} s): the bot has lost "
            "its Discord connection"
        )
    return True, f"connected to Discord (last heartbeat {max(age, 0):.0f} s ago)"


class Heartbeat:
    """Keeps the file fresh while `is_connected()`; removes it when closed."""

    def __init__(
        self,
        path: Path,
        is_connected: Callable[[], bool],
        *,
        interval_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        self.path = path
        self._is_connected = is_connected
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._failing = False  # warn once per run of failed writes

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="heartbeat")

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)

    def beat(self) -> bool:
        """Write the file if connected; True if it was written."""
        if not self._is_connected():
            return False
        try:
            write_heartbeat(self.path)
        except OSError as error:
            if not self._failing:
                log.warning("Could not write the heartbeat file %s: %s", self.path, error)
            self._failing = True
            return False
        self._failing = False
        return True

    async def _run(self) -> None:
        while True:
            wrote = self.beat()
            await asyncio.sleep(self._interval_s if wrote else RECHECK_INTERVAL_S)
