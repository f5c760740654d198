"""Admission: a few requests in flight per member, none while shutting down, always released."""

from __future__ import annotations

import asyncio

import pytest

from bot.interactions.replies import error_message
from bot.quota.admission import Admission, ShuttingDown, TooBusy
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, LimitSpec, QuotaExceeded
from bot.storage.store import Store

MEMBER = Caller(user_id=7, guild_id=None)
OTHER = Caller(user_id=8, guild_id=None)


class Boom(Exception):
    pass


def ledger_with(store: Store, admission: Admission, *limits: LimitSpec) -> Ledger:
    return Ledger(store, Quotas(store, limits), admission=admission)


async def outcomes(store: Store) -> list[str]:
    return [row[0] for row in await store.fetch_all("SELECT outcome FROM usage ORDER BY id")]


# -- the counter -------------------------------------------------------------------------------


def test_a_member_at_the_cap_is_refused_and_another_member_is_not() -> None:
    admission = Admission(per_member=2)
    with admission.admit(7), admission.admit(7):
        with pytest.raises(TooBusy) as refused, admission.admit(7):
            pass
        assert refused.value.limit == 2
        with admission.admit(8):
            assert admission.in_flight == 3
        assert admission.in_flight_for(7) == 2
    assert admission.in_flight == 0


def test_a_place_is_released_when_the_block_fails() -> None:
    admission = Admission(per_member=1)
    with pytest.raises(Boom), admission.admit(7):
        raise Boom
    assert admission.in_flight_for(7) == 0
    with admission.admit(7):  # the place is free again
        pass


async def test_a_place_is_released_when_the_task_is_cancelled() -> None:
    admission = Admission(per_member=1)
    entered = asyncio.Event()

    async def hold() -> None:
        with admission.admit(7):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(hold())
    await entered.wait()
    assert admission.in_flight_for(7) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert admission.in_flight == 0


def test_after_drain_everyone_is_refused_but_work_in_flight_goes_on() -> None:
    admission = Admission()
    with admission.admit(7):
        admission.drain()
        for user_id in (7, 8):
            with pytest.raises(ShuttingDown), admission.admit(user_id):
                pass
        assert admission.in_flight == 1
    assert admission.in_flight == 0


def test_the_cap_must_allow_one_request() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Admission(per_member=0)


async def test_wait_idle_waits_for_the_whole_task_not_only_its_call() -> None:
    admission = Admission()
    admitted, release, last_edit = asyncio.Event(), asyncio.Event(), asyncio.Event()
    done: list[str] = []

    async def answer() -> None:
        with admission.admit(7):
            admitted.set()
            await release.wait()
        await last_edit.wait()  # e.g. the final edit of a streamed answer, after settling
        done.append("answer")

    task = asyncio.create_task(answer())
    await admitted.wait()
    assert admission.working == 1
    assert not await admission.wait_idle(0)
    release.set()
    waiter = asyncio.create_task(admission.wait_idle(5))
    await asyncio.sleep(0)
    assert admission.in_flight == 0 and not waiter.done()
    last_edit.set()
    assert await waiter
    assert done == ["answer"] and task.done()


async def test_cancel_all_cancels_the_tasks_still_working() -> None:
    admission = Admission()
    both_in = asyncio.Barrier(3)

    async def stuck() -> None:
        with admission.admit(7):
            await both_in.wait()
            await asyncio.Event().wait()

    tasks = [asyncio.create_task(stuck()) for _ in range(2)]
    await both_in.wait()
    assert admission.cancel_all() == 2
    assert await admission.wait_idle(5)
    assert all(task.cancelled() for task in tasks)
    assert admission.in_flight == 0 and admission.working == 0


# -- through the ledger ------------------------------------------------------------------------


async def test_charge_releases_the_place_on_success_failure_and_cancellation(
    store: Store,
) -> None:
    admission = Admission(per_member=1)
    ledger = ledger_with(store, admission)
    async with ledger.charge(MEMBER, "ask", 1):
        assert admission.in_flight_for(MEMBER.user_id) == 1
    assert admission.in_flight == 0

    with pytest.raises(Boom):
        async with ledger.charge(MEMBER, "ask", 1):
            raise Boom
    assert admission.in_flight == 0

    entered = asyncio.Event()

    async def streaming() -> None:
        async with ledger.charge(MEMBER, "ask", 1):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(streaming())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert admission.in_flight == 0
    assert await outcomes(store) == ["ok", "refunded", "refunded"]


async def test_a_busy_member_is_refused_before_anything_is_reserved(store: Store) -> None:
    admission = Admission(per_member=1)
    ledger = ledger_with(store, admission)
    async with ledger.charge(MEMBER, "ask", 1):
        with pytest.raises(TooBusy):
            await ledger.check(MEMBER, "ask")
        with pytest.raises(TooBusy):
            async with ledger.charge(MEMBER, "ask", 1):
                pytest.fail("a refused charge must not run its block")
        async with ledger.charge(OTHER, "ask", 1):
            pass
    assert await outcomes(store) == ["ok", "ok"]


async def test_a_quota_refusal_frees_the_place_it_took(store: Store) -> None:
    admission = Admission(per_member=1)
    ledger = ledger_with(store, admission, LimitSpec("ask", "day", 1))
    async with ledger.charge(MEMBER, "ask", 1):
        pass
    with pytest.raises(QuotaExceeded):
        async with ledger.charge(MEMBER, "ask", 1):
            pytest.fail("over the limit")
    assert admission.in_flight == 0


async def test_a_draining_ledger_refuses_every_new_charge(store: Store) -> None:
    admission = Admission()
    ledger = ledger_with(store, admission)
    admission.drain()
    with pytest.raises(ShuttingDown):
        await ledger.check(MEMBER, "imagine", 2)
    with pytest.raises(ShuttingDown):
        async with ledger.charge(MEMBER, "imagine", 2):
            pytest.fail("shutting down")
    assert await outcomes(store) == []


# -- what the member reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "locale", "text"),
    [
        (
            TooBusy(2),
            "en-US",
            "You already have 2 requests running. Wait for one to finish.",
        ),
        (
            TooBusy(2),
            "vi",
            "Bạn đang có 2 yêu cầu chưa xong. Hãy đợi một yêu cầu xong rồi thử lại.",
        ),
        (TooBusy(1), "en-US", "You already have a request running. Wait for it to finish."),
        (ShuttingDown(), "en-GB", "The bot is restarting; please try again in a minute."),
        (ShuttingDown(), "vi", "Bot đang khởi động lại; vui lòng thử lại sau một phút."),
    ],
)
def test_refusals_are_explained_in_the_members_language(
    error: Exception, locale: str, text: str
) -> None:
    assert error_message(error, locale) == text
