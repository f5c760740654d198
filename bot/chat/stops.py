"""Stopping an answer while it streams: a switch per answer, found by its message's id.

A Stop press may land on any process of the bot; only the process that streams the answer
holds its switch, so `AnswerStops.stop` says whether the answer was streaming here.
"""

from __future__ import annotations

import asyncio


class StopSwitch:
    """Armed by the streaming task while the answer's text arrives; `stop()` cancels it there."""

    def __init__(self) -> None:
        self.requested = False
        self._task: asyncio.Task[object] | None = None

    def arm(self) -> None:
        """From now on `stop()` cancels the current task (the one reading the stream)."""
        self._task = asyncio.current_task()

    def disarm(self) -> None:
        self._task = None

    @property
    def armed(self) -> bool:
        return self._task is not None

    def stop(self) -> bool:
        """Cancel the stream; False if it is not streaming (any more)."""
        if self._task is None or self.requested:
            return False
        self.requested = True
        self._task.cancel()
        return True


class AnswerStops:
    """The switches of the answers streaming in this process, by their first message's id."""

    def __init__(self) -> None:
        self._switches: dict[int, StopSwitch] = {}

    def register(self, message_id: int, switch: StopSwitch) -> None:
        self._switches[message_id] = switch

    def forget(self, message_id: int) -> None:
        self._switches.pop(message_id, None)

    def stop(self, message_id: int) -> bool:
        """Stop the answer whose first message is `message_id`; False if none streams here."""
        switch = self._switches.get(message_id)
        return switch is not None and switch.stop()

    def __len__(self) -> int:
        return len(self._switches)
