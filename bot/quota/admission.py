"""Who may start an API call now: a few at a time per member, and nobody while the bot stops.

Every charged call (`bot.quota.ledger.Ledger.charge`) is admitted here first and released when it
ends, however it ends. A member with `per_member` calls in flight is refused (`TooBusy`), so
one member cannot occupy the bot. Once `drain()` was called every new call is refused
(`ShuttingDown`); the work already admitted may finish (`wait_idle`) or be cancelled
(`cancel_all`). Work means the whole task that made a call, so the last edits of an answer
(after its call was settled) are waited for too. Counts live in memory only.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from types import TracebackType

from bot.errors import UserFacingError

DEFAULT_MAX_INFLIGHT_PER_MEMBER = 2


class TooBusy(UserFacingError):
    """The member already has `limit` requests in flight."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"already {limit} requests in flight")


class ShuttingDown(UserFacingError):
    """The bot is stopping and takes no new work."""

    def __init__(self) -> None:
        super().__init__("the bot is shutting down")


class Admission:
    def __init__(self, per_member: int = DEFAULT_MAX_INFLIGHT_PER_MEMBER) -> None:
        if per_member < 1:
            raise ValueError("per_member must be at least 1")
        self.per_member = per_member
        self._by_member: Counter[int] = Counter()
        self._tasks: set[asyncio.Task[object]] = set()  # admitted once, not finished yet
        self._draining = False

    @property
    def in_flight(self) -> int:
        """Calls admitted and not released yet, over all members."""
        return self._by_member.total()

    @property
    def working(self) -> int:
        """Tasks that made a call and have not finished yet."""
        return sum(not task.done() for task in self._tasks)

    @property
    def draining(self) -> bool:
        return self._draining

    def in_flight_for(self, user_id: int) -> int:
        return self._by_member[user_id]

    def check(self, user_id: int) -> None:
        """Raise `ShuttingDown` or `TooBusy` if a call by `user_id` would be refused now."""
        if self._draining:
            raise ShuttingDown()
        if self._by_member[user_id] >= self.per_member:
            raise TooBusy(self.per_member)

    def admit(self, user_id: int) -> AdmissionPlace:
        """Hold one of `user_id`'s places for a `with` block; refused as `check` says."""
        return AdmissionPlace(self, user_id)

    def enter(self, user_id: int) -> None:
        """Take one of `user_id`'s places (refused as `check` says); `leave` gives it back."""
        self.check(user_id)
        self._by_member[user_id] += 1
        task = _current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def leave(self, user_id: int) -> None:
        self._by_member[user_id] -= 1
        if self._by_member[user_id] <= 0:
            del self._by_member[user_id]

    def drain(self) -> None:
        """Refuse every new call from now on; the work admitted goes on."""
        self._draining = True

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for every admitted task to finish; True if they all did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        current = asyncio.current_task()
        while pending := {t for t in self._tasks if t is not current and not t.done()}:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(pending, timeout=remaining)
        return True

    def cancel_all(self) -> int:
        """Cancel the admitted tasks still running; returns how many."""
        current = _current_task()
        tasks = [t for t in self._tasks if t is not current and not t.done()]
        for task in tasks:
            task.cancel()
        return len(tasks)


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no event loop: nothing to wait for or cancel
        return None


class AdmissionPlace:
    """`Admission.admit`'s block: a plain object, not a generator (one per call in flight)."""

    __slots__ = ("_admission", "_user_id")

    def __init__(self, admission: Admission, user_id: int) -> None:
        self._admission = admission
        self._user_id = user_id

    def __enter__(self) -> None:
        self._admission.enter(self._user_id)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._admission.leave(self._user_id)
