"""Quotas: which limit applies, fixed UTC windows and their resets, and the exact check."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_errors
from bot.interactions.replies import error_message
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import (
    Caller,
    Limit,
    LimitSpec,
    QuotaExceeded,
    applicable_limits,
    earlier_window,
    parse_limit_specs,
    window,
)
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import Store

GUILD = 1000
MEMBER = 7
OTHER = 8
ROLE_A = 501
ROLE_B = 502
EXEMPT_ROLE = 599


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, us, tzinfo=dt.UTC)


# -- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        ("hour", utc(2025, 3, 4, 10, 0, 0), utc(2025, 3, 4, 10), utc(2025, 3, 4, 11)),
        ("hour", utc(2025, 3, 4, 10, 59, 59, 999999), utc(2025, 3, 4, 10), utc(2025, 3, 4, 11)),
        ("hour", utc(2025, 3, 4, 23, 30), utc(2025, 3, 4, 23), utc(2025, 3, 5, 0)),
        ("day", utc(2025, 3, 4, 0, 0, 0), utc(2025, 3, 4), utc(2025, 3, 5)),
        ("day", utc(2025, 3, 4, 23, 59, 59, 999999), utc(2025, 3, 4), utc(2025, 3, 5)),
        ("day", utc(2025, 2, 28, 12), utc(2025, 2, 28), utc(2025, 3, 1)),
        ("day", utc(2024, 2, 28, 12), utc(2024, 2, 28), utc(2024, 2, 29)),
        ("day", utc(2025, 12, 31, 18), utc(2025, 12, 31), utc(2026, 1, 1)),
        ("month", utc(2025, 1, 31, 23, 59, 59), utc(2025, 1, 1), utc(2025, 2, 1)),
        ("month", utc(2025, 2, 1, 0, 0, 0), utc(2025, 2, 1), utc(2025, 3, 1)),
        ("month", utc(2024, 2, 29, 12), utc(2024, 2, 1), utc(2024, 3, 1)),
        ("month", utc(2025, 12, 31, 23, 59, 59), utc(2025, 12, 1), utc(2026, 1, 1)),
    ],
)
def test_windows_are_fixed_utc_hours_days_and_months(
    period: str, now: dt.datetime, start: dt.datetime, end: dt.datetime
) -> None:
    assert window(period, now) == (start, end)  # type: ignore[arg-type]


def test_window_of_a_non_utc_time_is_the_utc_one() -> None:
    """Should count in UTC even when given a local time (23:30 at UTC+2 is 21:30 UTC)."""
    local = dt.datetime(2025, 3, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert window("day", local) == (utc(2025, 3, 4), utc(2025, 3, 5))
    assert window("hour", local) == (utc(2025, 3, 4, 21), utc(2025, 3, 4, 22))


@pytest.mark.parametrize(
    ("period", "now", "back", "start"),
    [
        ("day", utc(2025, 3, 1, 8), 1, utc(2025, 2, 28)),
        ("month", utc(2025, 3, 15), 1, utc(2025, 2, 1)),
        ("month", utc(2025, 1, 15), 1, utc(2024, 12, 1)),
        ("month", utc(2025, 1, 15), 13, utc(2023, 12, 1)),
        ("hour", utc(2025, 1, 1, 0, 10), 1, utc(2024, 12, 31, 23)),
        ("day", utc(2025, 3, 1, 8), 0, utc(2025, 3, 1)),
    ],
)
def test_earlier_windows_step_back_across_month_and_year_ends(
    period: str, now: dt.datetime, back: int, start: dt.datetime
) -> None:
    assert earlier_window(period, now, back)[0] == start  # type: ignore[arg-type]


# -- which limit applies -----------------------------------------------------------------------


def per_member(
    limits: list[Limit], roles: tuple[int, ...] = (), exempt: tuple[int, ...] = ()
) -> list[Limit]:
    return applicable_limits(limits, MEMBER, roles, exempt)


SERVER = Limit("ask", "day", 10, "server")
ROLE_A_LIMIT = Limit("ask", "day", 20, "role", ROLE_A)
ROLE_B_LIMIT = Limit("ask", "day", 50, "role", ROLE_B)
MEMBER_LIMIT = Limit("ask", "day", 5, "member", MEMBER)
TOTAL = Limit("ask", "day", 100, "total")


def test_server_default_applies_to_a_member_without_other_limits() -> None:
    assert per_member([SERVER, ROLE_A_LIMIT]) == [SERVER]


def test_a_role_limit_beats_the_server_default_even_when_stricter() -> None:
    stricter = Limit("ask", "day", 2, "role", ROLE_A)
    assert per_member([SERVER, stricter], roles=(ROLE_A,)) == [stricter]


def test_a_member_limit_beats_role_and_server_limits() -> None:
    limits = [SERVER, ROLE_A_LIMIT, MEMBER_LIMIT]
    assert per_member(limits, roles=(ROLE_A,)) == [MEMBER_LIMIT]


def test_another_members_limit_does_not_apply() -> None:
    assert per_member([SERVER, Limit("ask", "day", 1, "member", OTHER)]) == [SERVER]


def test_several_limited_roles_give_the_most_generous_limit() -> None:
    limits = [SERVER, ROLE_A_LIMIT, ROLE_B_LIMIT]
    assert per_member(limits, roles=(ROLE_A, ROLE_B)) == [ROLE_B_LIMIT]
    assert per_member(list(reversed(limits)), roles=(ROLE_A, ROLE_B)) == [ROLE_B_LIMIT]


def test_each_period_resolves_on_its_own() -> None:
    """Should keep the server's hourly limit when a role only overrides the daily one."""
    hourly = Limit("ask", "hour", 3, "server")
    assert set(per_member([SERVER, hourly, ROLE_A_LIMIT], roles=(ROLE_A,))) == {
        hourly,
        ROLE_A_LIMIT,
    }


def test_each_feature_resolves_on_its_own() -> None:
    images = Limit("imagine", "day", 2, "server")
    assert set(per_member([images, ROLE_A_LIMIT], roles=(ROLE_A,))) == {images, ROLE_A_LIMIT}


def test_the_server_total_applies_on_top_of_per_member_limits() -> None:
    assert set(per_member([SERVER, TOTAL, MEMBER_LIMIT])) == {MEMBER_LIMIT, TOTAL}


def test_an_exempt_role_skips_every_per_member_limit_but_not_the_total() -> None:
    limits = [SERVER, ROLE_A_LIMIT, MEMBER_LIMIT, TOTAL]
    assert per_member(limits, roles=(ROLE_A, EXEMPT_ROLE), exempt=(EXEMPT_ROLE,)) == [TOTAL]


def test_an_exempt_role_the_member_lacks_changes_nothing() -> None:
    assert per_member([SERVER], exempt=(EXEMPT_ROLE,)) == [SERVER]


# -- DM_LIMITS -----------------------------------------------------------------------------------


def test_limit_specs_parse_with_spaces_and_case() -> None:
    assert parse_limit_specs(" ask:day:50 , IMAGINE:Day:5,transcribe:month:1.5,") == [
        LimitSpec("ask", "day", 50),
        LimitSpec("imagine", "day", 5),
        LimitSpec("transcribe", "month", 1.5),
    ]
    assert parse_limit_specs("") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ask:day", "feature:period:amount"),
        ("chat:day:5", "feature must be"),
        ("ask:week:5", "period must be"),
        ("ask:day:lots", "must be a number"),
        ("ask:day:-1", "0 or more"),
        ("ask:day:nan", "0 or more"),
    ],
)
def test_bad_limit_specs_are_refused_naming_the_item(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_limit_specs(text)


def test_dm_limits_setting_is_validated_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DM_LIMITS", "ask:fortnight:3")
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, discord_token="t", nexai_api_key="k")
    (line,) = describe_errors(caught.value)
    assert line.startswith("DM_LIMITS is invalid") and "period must be" in line


def test_dm_limits_default_to_none() -> None:
    settings = Settings(_env_file=None, discord_token="t", nexai_api_key="k")
    assert settings.dm_limits == []
    assert settings.usage_retention_days == 90


# -- the check against the ledger -----------------------------------------------------------------


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now.timestamp()

    def __call__(self) -> float:
        return self.now


NOON = utc(2025, 6, 15, 12, 30)
MEMBER_CALLER = Caller(MEMBER, GUILD, 1, (GUILD, ROLE_A))


def ledger_of(store: Store, quotas: Quotas, now: dt.datetime = NOON) -> tuple[Ledger, Clock]:
    clock = Clock(now)
    return Ledger(store, quotas, clock=clock), clock


async def test_a_member_over_a_daily_limit_is_told_which_and_when_it_resets(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "day", 2, "role", ROLE_A), set_by=1)
    ledger, _ = ledger_of(store, quotas)
    for _ in range(2):
        async with ledger.charge(MEMBER_CALLER, "ask", 1):
            pass
    with pytest.raises(QuotaExceeded) as caught:
        await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    refusal = caught.value
    assert refusal.limit == Limit("ask", "day", 2, "role", ROLE_A)
    assert (refusal.used, refusal.remaining) == (2, 0)
    assert refusal.resets_at == utc(2025, 6, 16)
    text = error_message(refusal, "en-US")
    assert text == (
        f"You've used your daily limit of 2 ask requests (set for your role <@&{ROLE_A}>)."
        f" It resets <t:{int(utc(2025, 6, 16).timestamp())}:R>."
    )
    assert "Bạn đã dùng hết giới hạn theo ngày là 2 lượt hỏi" in error_message(refusal, "vi")


async def test_a_refused_reservation_writes_nothing(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "day", 0, "server"), set_by=1)
    ledger, _ = ledger_of(store, quotas)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    assert await store.fetch_value("SELECT COUNT(*) FROM usage") == 0


async def test_refunded_calls_do_not_count_and_open_reservations_do(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "hour", 2, "server"), set_by=1)
    ledger, _ = ledger_of(store, quotas)
    with pytest.raises(RuntimeError):
        async with ledger.charge(MEMBER_CALLER, "ask", 1):
            raise RuntimeError("the API failed")
    await ledger.reserve(MEMBER_CALLER, "ask", 1, None)  # in flight
    await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(MEMBER_CALLER, "ask", 1, None)


async def test_concurrent_reservations_never_overspend(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "day", 3, "member", MEMBER), set_by=1)
    ledger, _ = ledger_of(store, quotas)
    results = await asyncio.gather(
        *(ledger.reserve(MEMBER_CALLER, "ask", 1, None) for _ in range(20)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, int) for r in results) == 3
    assert sum(isinstance(r, QuotaExceeded) for r in results) == 17


async def test_usage_in_an_earlier_window_does_not_count(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "day", 1, "server"), set_by=1)
    ledger, clock = ledger_of(store, quotas, utc(2025, 6, 30, 23, 59, 59))
    await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    with pytest.raises(QuotaExceeded):
        await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    clock.now = utc(2025, 7, 1).timestamp()
    await ledger.reserve(MEMBER_CALLER, "ask", 1, None)


async def test_the_server_total_counts_every_member_and_binds_exempt_roles(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("imagine", "month", 3, "total"), set_by=1)
    await quotas.set_limit(GUILD, Limit("imagine", "month", 1, "server"), set_by=1)
    await quotas.set_exempt(GUILD, EXEMPT_ROLE, True, by=1)
    ledger, _ = ledger_of(store, quotas)
    await ledger.reserve(Caller(OTHER, GUILD), "imagine", 1, None)
    vip = Caller(MEMBER, GUILD, role_ids=(EXEMPT_ROLE,))
    await ledger.reserve(vip, "imagine", 2, None)  # over the per-member 1: exempt
    with pytest.raises(QuotaExceeded) as caught:
        await ledger.reserve(vip, "imagine", 1, None)
    assert caught.value.limit.scope == "total"
    assert caught.value.resets_at == utc(2025, 7, 1)
    assert "This server has used its monthly total of 3 generated images" in error_message(
        caught.value, "en"
    )


async def test_transcribe_limits_are_minutes_against_ledger_seconds(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("transcribe", "day", 60, "server"), set_by=1)  # 1 min
    ledger, _ = ledger_of(store, quotas)
    await ledger.reserve(MEMBER_CALLER, "transcribe", 45, None)
    with pytest.raises(QuotaExceeded) as caught:
        await ledger.reserve(MEMBER_CALLER, "transcribe", 30, None)
    assert caught.value.remaining == 15
    assert error_message(caught.value, "en").startswith(
        "This needs 0.5 minutes of audio, but only 0.25 are left of your daily limit of 1"
        " (the server default)."
    )


async def test_of_several_broken_limits_the_one_that_resets_last_is_named(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "hour", 1, "server"), set_by=1)
    await quotas.set_limit(GUILD, Limit("ask", "day", 1, "server"), set_by=1)
    ledger, _ = ledger_of(store, quotas)
    await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    with pytest.raises(QuotaExceeded) as caught:
        await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    assert caught.value.limit.period == "day"


async def test_dms_use_the_operators_limits_and_guilds_do_not(store: Store) -> None:
    quotas = Quotas(store, [LimitSpec("ask", "day", 1)])
    ledger, _ = ledger_of(store, quotas)
    dm = Caller(MEMBER)
    await ledger.reserve(dm, "ask", 1, None)
    with pytest.raises(QuotaExceeded) as caught:
        await ledger.reserve(dm, "ask", 1, None)
    assert "(the bot's limit for direct messages)" in error_message(caught.value, "en")
    for _ in range(3):
        await ledger.reserve(MEMBER_CALLER, "ask", 1, None)  # no limits in the guild


async def test_changes_take_effect_at_once_and_report_what_they_replaced(store: Store) -> None:
    quotas = Quotas(store)
    ledger, _ = ledger_of(store, quotas)
    await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    assert await quotas.set_limit(GUILD, Limit("ask", "day", 1, "server"), set_by=1) is None
    with pytest.raises(QuotaExceeded):
        await ledger.check(MEMBER_CALLER, "ask")
    previous = await quotas.set_limit(GUILD, Limit("ask", "day", 5, "server"), set_by=1)
    assert previous == Limit("ask", "day", 1, "server")
    await ledger.check(MEMBER_CALLER, "ask")
    removed = await quotas.remove_limit(GUILD, Limit("ask", "day", 0, "server"))
    assert removed == Limit("ask", "day", 5, "server")
    assert await quotas.remove_limit(GUILD, Limit("ask", "day", 0, "server")) is None
    assert await quotas.guild_limits(GUILD) == ()


async def test_status_lists_each_applicable_limit_with_its_use(store: Store) -> None:
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("tts", "month", 1000, "member", MEMBER), set_by=1)
    await quotas.set_limit(GUILD, Limit("tts", "day", 5000, "total"), set_by=1)
    ledger, _ = ledger_of(store, quotas)
    await ledger.reserve(MEMBER_CALLER, "tts", 300, None)
    await ledger.reserve(Caller(OTHER, GUILD), "tts", 200, None)
    statuses = {s.limit.scope: s for s in await quotas.status(MEMBER_CALLER, NOON.timestamp())}
    assert (statuses["member"].used, statuses["member"].remaining) == (300, 700)
    assert statuses["member"].resets_at == utc(2025, 7, 1)
    assert (statuses["total"].used, statuses["total"].remaining) == (500, 4500)


async def test_pruning_keeps_recent_rows_and_open_reservations(store: Store) -> None:
    ledger, clock = ledger_of(store, Quotas(store), utc(2025, 1, 1))
    old_done = await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    await ledger.settle(old_done, 1)
    old_open = await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    clock.now = utc(2025, 6, 1).timestamp()
    recent = await ledger.reserve(MEMBER_CALLER, "ask", 1, None)
    assert await ledger.prune(90) == 1
    assert [row[0] for row in await store.fetch_all("SELECT id FROM usage ORDER BY id")] == [
        old_open,
        recent,
    ]


async def test_a_transaction_rolls_back_on_error_and_never_interleaves(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            raise RuntimeError
    assert await store.get_meta("a") is None

    async def bump(key: str) -> None:
        async with store.transaction() as db:
            await db.execute("INSERT INTO meta (key, value) VALUES (?, '0')", (key,))
            await asyncio.sleep(0)  # let the other coroutine try to start its transaction
            await db.execute("UPDATE meta SET value = '1' WHERE key = ?", (key,))

    await asyncio.gather(*(bump(f"k{i}") for i in range(10)))
    assert all([await store.get_meta(f"k{i}") == "1" for i in range(10)])


async def test_a_slow_early_check_leaves_the_decision_to_the_charge(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should not hold an interaction past Discord's 3 s when the database is slow."""
    quotas = Quotas(store)
    await quotas.set_limit(GUILD, Limit("ask", "day", 0, "server"), set_by=1)
    stalled = asyncio.Event()

    async def slow_refusal(*args: object) -> None:
        await stalled.wait()  # never answers within the budget

    monkeypatch.setattr("bot.quota.ledger.EARLY_CHECK_BUDGET_S", 0.01)
    monkeypatch.setattr(quotas, "refusal", slow_refusal)
    ledger, _ = ledger_of(store, quotas)
    async with asyncio.timeout(5):
        await ledger.check(MEMBER_CALLER, "ask")  # gives up quietly instead of waiting
    monkeypatch.undo()
    with pytest.raises(QuotaExceeded):
        async with ledger.charge(MEMBER_CALLER, "ask", 1):
            pass


async def test_200_cold_early_checks_load_the_guilds_limits_and_exempt_roles_once(
    sqlite_store: SQLiteStore,
) -> None:
    store = sqlite_store
    await Quotas(store).set_limit(GUILD, Limit("ask", "day", 50, "server"), set_by=1)
    await Quotas(store).set_exempt(GUILD, EXEMPT_ROLE, True, by=1)
    ledger, _ = ledger_of(store, Quotas(store))  # a freshly started bot: nothing cached
    statements: list[str] = []
    await store.conn.set_trace_callback(statements.append)
    callers = [Caller(user, GUILD, user, (GUILD,)) for user in range(1, 201)]
    await asyncio.gather(*(ledger.check(caller, "ask") for caller in callers))
    assert sum("FROM limits" in sql for sql in statements) == 1
    assert sum("FROM exempt_roles" in sql for sql in statements) == 1
