"""Acknowledgements first: work that follows one interaction's acknowledgement waits (briefly)
while other interactions still wait for theirs.

When a crowd arrives at once (200 members use /ask together), the interactions come in over
some tens of milliseconds, and each one that has deferred goes on to its real work: reading
the channel's memory, reserving its quota, opening a stream to the API. On one event loop that
work delays the acknowledgements still to come, and Discord drops an interaction not
acknowledged within 3 s. Here the work after a defer waits until no interaction is between
arriving and being acknowledged and none arrived for QUIET_S (the crowd is over), for at most
ACKS_FIRST_MAX_WAIT_S; with no crowd it waits at most QUIET_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterator

#: The longest the work after an acknowledgement waits for the others' acknowledgements.
ACKS_FIRST_MAX_WAIT_S = 0.25
#: A crowd is over once no interaction has arrived for this long (and none waits for its ack).
QUIET_S = 0.02


class AcksFirst:
    def __init__(
        self,
        max_wait_s: float = ACKS_FIRST_MAX_WAIT_S,
        quiet_s: float = QUIET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_wait_s = max_wait_s
        self._quiet_s = quiet_s
        self._clock = clock
        self._acknowledging = 0
        self._last_arrival = -math.inf

    @property
    def acknowledging(self) -> int:
        """Interactions between arriving and being acknowledged (or refused)."""
        return self._acknowledging

    @contextlib.contextmanager
    def until_acknowledged(self) -> Iterator[None]:
        """Around what an interaction does up to and including its acknowledgement."""
        self._acknowledging += 1
        self._last_arrival = self._clock()
        try:
            yield
        finally:
            self._acknowledging -= 1

    async def wait_turn(self) -> None:
        """Return once no interaction waits for its acknowledgement and none arrived for
        QUIET_S (the crowd is over), or after ACKS_FIRST_MAX_WAIT_S. Waiting for the quiet, not
        only for the count to reach 0, keeps released work off the loop while a crowd is still
        arriving one interaction at a time."""
        deadline = self._clock() + self._max_wait_s
        while True:
            now = self._clock()
            quiet_for = now - self._last_arrival
            if now >= deadline or (self._acknowledging == 0 and quiet_for >= self._quiet_s):
                return
            await asyncio.sleep(min(self._quiet_s, deadline - now))
