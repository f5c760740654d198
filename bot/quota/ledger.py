"""The usage ledger: every API call is reserved before it is made and settled or refunded after.

A reservation is a row with outcome 'reserved'; settling sets the real units, refunding marks
it 'refunded' (it then counts for nothing). Quotas (bot/quotas.py) count reserved and settled
rows, so a reservation holds its units while the call is in flight. With a `Quotas`, the limit
check and the reservation are one transaction: `reserve` (and so `charge`) raises
`QuotaExceeded` before any API call, and concurrent calls can never overspend a limit.
Reservations that arrive together share that transaction (a group commit, `Quotas.refusals`):
one BEGIN/COMMIT and one read of the counters they touch instead of one of each per call.

Quotas read running counters (`usage_counters`, migration 5), not the ledger: triggers adjust
them in the same statement as every change of a row (reserve, settle, refund, delete), in the
windows of the row's created_at, so each write here stays a single atomic statement.

`charge` is the one door of every API call: with an `Admission` it also refuses a member who
has too many calls in flight (`TooBusy`) and every call once the bot is shutting down
(`ShuttingDown`), and it reports each call and refusal to `Metrics`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from types import TracebackType

from bot.errors import StorageError, UserFacingError
from bot.ops.metrics import Metrics
from bot.quota.admission import Admission, ShuttingDown, TooBusy
from bot.quota.quotas import Ask, Quotas
from bot.quota.rules import PERIODS, UNIT_NAMES, Caller, Feature, QuotaExceeded, window_at
from bot.storage.store import Queries, Store

log = logging.getLogger(__name__)

#: How long the early quota check (before an interaction is acknowledged) may take.
EARLY_CHECK_BUDGET_S = 0.5
#: Most reservations decided in one transaction (a group commit); more wait for the next.
RESERVE_BATCH = 256
#: Ledger rows deleted per statement when pruning (~50 ms of the connection each).
PRUNE_BATCH = 5_000


class _Pending:
    """A reservation waiting in the queue, and where its decision goes."""

    def __init__(self, ask: Ask, model: str | None) -> None:
        self.ask = ask
        self.model = model
        self.decided: asyncio.Future[int | QuotaExceeded] = (
            asyncio.get_running_loop().create_future()
        )


class Charge:
    """An open reservation; `settle` may correct the units (e.g. real audio length)."""

    def __init__(self, reservation_id: int, units: float) -> None:
        self.id = reservation_id
        self.units = units
        self.tokens = 0
        self.tokens_estimated = False

    def settle(
        self,
        *,
        units: float | None = None,
        tokens: int | None = None,
        tokens_estimated: bool = False,
    ) -> None:
        """Correct the units, and record tokens (`tokens_estimated`: counted by the bot)."""
        if units is not None:
            self.units = units
        if tokens is not None:
            self.tokens = tokens
            self.tokens_estimated = tokens_estimated


class Ledger:
    def __init__(
        self,
        store: Store,
        quotas: Quotas | None = None,
        *,
        admission: Admission | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
        process_id: str | None = None,
    ) -> None:
        self._store = store
        self._process_id = process_id  # the run its reservations belong to (ops/processes)
        self._quotas = quotas
        self._admission = admission
        self._metrics = metrics or Metrics(enabled=False)
        self._clock = clock
        self._queue: list[_Pending] = []  # reservations waiting for the next group
        self._deciding: asyncio.Task[None] | None = None
        self._refunds: set[asyncio.Task[None]] = set()

    async def reserve(
        self, caller: Caller, feature: Feature, units: float, model: str | None
    ) -> int:
        """Record a reservation and return its id; raise `QuotaExceeded` if a limit forbids it.

        Reservations that arrive together are decided together (a group commit): one
        transaction checks each against every limit that applies, counting the ones granted
        before it, and inserts the granted rows, so no concurrent reservation can slip in
        between a check and its insert. If the transaction fails, each of its reservations
        fails with the error (`StorageError`) and none is recorded.
        """
        pending = _Pending(Ask(caller, feature, units, self._clock()), model)
        self._queue.append(pending)
        if self._deciding is None:
            self._deciding = asyncio.create_task(self._decide_queued(), name="ledger-reserve")
        try:
            decided = await asyncio.shield(pending.decided)
        except asyncio.CancelledError:
            # The caller gave up; a reservation made for it anyway is refunded.
            pending.decided.add_done_callback(self._refund_abandoned)
            raise
        if isinstance(decided, QuotaExceeded):
            raise decided
        return decided

    async def _decide_queued(self) -> None:
        """Decide what is queued, RESERVE_BATCH at a time, until nothing is left."""
        try:
            while self._queue:
                group = self._queue[:RESERVE_BATCH]
                del self._queue[:RESERVE_BATCH]
                try:
                    decisions = await self._decide(group)
                except Exception as error:
                    log.warning("%s reservations failed together: %s", len(group), error)
                    for pending in group:
                        pending.decided.set_exception(StorageError(str(error)))
                    continue
                except BaseException:
                    for pending in [*group, *self._queue]:
                        pending.decided.cancel()
                    self._queue.clear()
                    raise
                for pending, decision in zip(group, decisions, strict=True):
                    pending.decided.set_result(decision)
        finally:
            self._deciding = None

    async def _decide(self, group: list[_Pending]) -> list[int | QuotaExceeded]:
        """One transaction: every limit check of `group`, in order, then the granted rows."""
        asks = [pending.ask for pending in group]
        async with self._store.transaction() as db:
            # Other processes' reservations for the same servers wait until this one commits.
            await db.lock(sorted({ask.caller.guild_id or 0 for ask in asks}))
            refusals = await self._quotas.refusals(asks, db) if self._quotas else [None] * len(asks)
            granted = [p for p, refusal in zip(group, refusals, strict=True) if refusal is None]
            ids = iter(await self._insert(db, granted) if granted else [])
        return [next(ids) if refusal is None else refusal for refusal in refusals]

    async def _insert(self, db: Queries, granted: list[_Pending]) -> list[int]:
        """The granted reservations' rows, in one statement (one round trip to a database
        server however many); their ids in the order given."""
        values = ", ".join(["(?, ?, ?, ?, ?, ?, 'reserved', ?, ?)"] * len(granted))
        rows = await db.fetch_all(
            "INSERT INTO usage (guild_id, channel_id, user_id, feature, units, model, outcome,"
            f" created_at, process_id) VALUES {values} RETURNING id",
            [
                value
                for pending in granted
                for value in (
                    pending.ask.caller.guild_id,
                    pending.ask.caller.channel_id,
                    pending.ask.caller.user_id,
                    pending.ask.feature,
                    pending.ask.units,
                    pending.model,
                    pending.ask.now,
                    self._process_id,
                )
            ],
        )
        # One statement numbers its rows in turn; RETURNING's own order is not promised.
        return sorted(int(row[0]) for row in rows)

    def _refund_abandoned(self, decided: asyncio.Future[int | QuotaExceeded]) -> None:
        if decided.cancelled() or decided.exception() is not None:
            return
        reservation = decided.result()
        if isinstance(reservation, int):
            task = asyncio.create_task(self.refund(reservation), name="ledger-refund")
            self._refunds.add(task)
            task.add_done_callback(self._refunds.discard)

    async def check(self, caller: Caller, feature: Feature, units: float = 1) -> None:
        """Raise what `charge` would refuse with now (`QuotaExceeded`, `TooBusy`,
        `ShuttingDown`); reserves nothing.

        A cheap early refusal (e.g. before deferring an interaction); `charge` decides.
        """
        try:
            if self._admission is not None:
                self._admission.check(caller.user_id)
            if self._quotas is not None:
                refusal = await self._early_refusal(caller, feature, units)
                if refusal is not None:
                    raise refusal
        except UserFacingError as error:
            self._metrics.refused(feature, refusal_reason(error))
            raise

    async def _early_refusal(
        self, caller: Caller, feature: Feature, units: float
    ) -> QuotaExceeded | None:
        """The quota refusal, if the database answers within EARLY_CHECK_BUDGET_S.

        Interactions die unanswered after 3 s; on a busy database the early check gives up
        and leaves the decision to `charge`, which always checks."""
        assert self._quotas is not None
        try:
            async with asyncio.timeout(EARLY_CHECK_BUDGET_S):
                return await self._quotas.refusal(caller, feature, units, self._clock())
        except TimeoutError:
            log.info(
                "Early %s quota check took over %s s; the charge decides",
                feature,
                EARLY_CHECK_BUDGET_S,
            )
            return None

    async def prune(self, retention_days: float) -> int:
        """Delete finished rows older than `retention_days`, and the counters of windows that
        ended by then; returns how many rows.

        Counters go first, so the rows' delete trigger finds nothing to adjust in ended
        windows. Rows go PRUNE_BATCH at a time, so other calls get the connection in between."""
        cutoff = self._clock() - retention_days * 86_400
        # A counter whose window ended before the cutoff starts before the cutoff's window.
        starts = [int(window_at(period, cutoff)[0].timestamp()) for period in PERIODS]
        await self._store.execute(
            "DELETE FROM usage_counters WHERE window_start < CASE period"
            f" {' '.join(f'WHEN {p!r} THEN CAST(? AS BIGINT)' for p in PERIODS)} END",
            starts,
        )
        pruned = 0
        while True:
            deleted = await self._store.execute(
                "DELETE FROM usage WHERE id IN (SELECT id FROM usage WHERE created_at < ?"
                " AND outcome != 'reserved' LIMIT ?)",
                (cutoff, PRUNE_BATCH),
            )
            pruned += deleted
            if deleted < PRUNE_BATCH:
                break
        if pruned:
            log.info("Pruned %s usage rows older than %s days", pruned, retention_days)
        return pruned

    async def settle(
        self, reservation_id: int, units: float, tokens: int = 0, tokens_estimated: bool = False
    ) -> None:
        await self._store.execute(
            "UPDATE usage SET outcome = 'ok', units = ?, tokens = ?, tokens_estimated = ?,"
            " settled_at = ? WHERE id = ? AND outcome = 'reserved'",
            (units, tokens, int(tokens_estimated), self._clock(), reservation_id),
        )

    async def refund(self, reservation_id: int) -> None:
        await self._store.execute(
            "UPDATE usage SET outcome = 'refunded', settled_at = ?"
            " WHERE id = ? AND outcome = 'reserved'",
            (self._clock(), reservation_id),
        )

    async def refund_orphans(self) -> int:
        """Refund the open reservations of runs no longer registered (a crash, or a shutdown
        that could not finish its calls): `bot.ops.processes` removes the dead ones."""
        refunded = await self._store.execute(
            "UPDATE usage SET outcome = 'refunded', settled_at = ? WHERE outcome = 'reserved'"
            " AND (process_id IS NULL OR process_id NOT IN (SELECT id FROM processes))",
            (time.time(),),
        )
        if refunded:
            log.warning("Refunded %s reservations left open by a stopped process", refunded)
        return refunded

    def charge(
        self, caller: Caller, feature: Feature, units: float, model: str | None = None
    ) -> Charging:
        """Admit and reserve `units` for an `async with` block (it gets the `Charge`); settle
        when the block ends normally, refund when it raises.

        Refusals (`TooBusy`, `ShuttingDown`, `QuotaExceeded`) come before any API call.
        """
        return Charging(self, caller, feature, units, model)

    def _admit(self, caller: Caller) -> None:
        """Take one of the caller's places in flight (see `bot.quota.admission`)."""
        if self._admission is not None:
            self._admission.enter(caller.user_id)

    def _release(self, caller: Caller) -> None:
        if self._admission is not None:
            self._admission.leave(caller.user_id)


class Charging:
    """`Ledger.charge`'s block. A plain object, not an async generator: every answer in flight
    holds one (with the generator's frame, wrapper and finalizer hook, 1.2 KiB more each)."""

    __slots__ = ("_caller", "_charge", "_feature", "_ledger", "_model", "_started", "_units")

    def __init__(
        self, ledger: Ledger, caller: Caller, feature: Feature, units: float, model: str | None
    ) -> None:
        self._ledger = ledger
        self._caller = caller
        self._feature: Feature = feature
        self._units = units
        self._model = model
        self._charge: Charge | None = None
        self._started = 0.0

    async def __aenter__(self) -> Charge:
        ledger, feature = self._ledger, self._feature
        try:
            ledger._admit(self._caller)
            try:
                reservation = await ledger.reserve(self._caller, feature, self._units, self._model)
            except BaseException:
                ledger._release(self._caller)
                raise
        except UserFacingError as refusal:  # busy, shutting down, over a limit
            ledger._metrics.refused(feature, refusal_reason(refusal))
            raise
        self._charge = Charge(reservation, self._units)
        ledger._metrics.call_started()
        self._started = time.monotonic()
        return self._charge

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ledger, feature, charge = self._ledger, self._feature, self._charge
        assert charge is not None  # entered
        metrics = ledger._metrics
        try:
            if exc is not None:
                metrics.call_ended(feature, time.monotonic() - self._started, exc)
                await ledger.refund(charge.id)
                return
            await ledger.settle(charge.id, charge.units, charge.tokens, charge.tokens_estimated)
            metrics.call_ended(
                feature,
                time.monotonic() - self._started,
                units=charge.units,
                unit=UNIT_NAMES[feature],
                tokens=charge.tokens,
            )
        finally:
            ledger._release(self._caller)


def refusal_reason(error: BaseException) -> str:
    """The `reason` label of a refusal: busy, shutting_down, quota (else other)."""
    match error:
        case TooBusy():
            return "busy"
        case ShuttingDown():
            return "shutting_down"
        case QuotaExceeded():
            return "quota"
    return "other"
