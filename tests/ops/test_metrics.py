"""Metrics: what the ledger reports, labels for outcomes, and a no-op without prometheus-client."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import nexai
from bot.ops import metrics as metrics_module
from bot.ops.metrics import Metrics, outcome_of
from bot.quota.admission import Admission, ShuttingDown, TooBusy
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.quota.rules import Caller, LimitSpec, QuotaExceeded
from bot.storage.store import Store

MEMBER = Caller(user_id=7)


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.parametrize(
    ("error", "label"),
    [
        (None, "ok"),
        (nexai.RateLimitError("slow down", status=429), "429"),
        (nexai.ServerError("oops", status=503), "503"),
        (nexai.PaymentRequiredError("broke", status=402), "402"),
        (nexai.NexaiTimeoutError("late"), "timeout"),
        (nexai.NexaiConnectionError("gone"), "connection"),
        (nexai.MalformedResponseError("garbage"), "malformed"),
        (nexai.StreamInterruptedError("cut", delivered=0), "interrupted"),
        (asyncio.CancelledError(), "cancelled"),
        (ValueError("bug"), "other"),
    ],
)
def test_a_calls_outcome_is_ok_its_status_or_its_kind_of_failure(
    error: BaseException | None, label: str
) -> None:
    assert outcome_of(error) == label


async def test_the_ledger_reports_calls_units_tokens_and_refusals(store: Store) -> None:
    metrics = Metrics(enabled=True)
    admission = Admission(per_member=1)
    quotas = Quotas(store, [LimitSpec("imagine", "day", 3)])
    ledger = Ledger(store, quotas, admission=admission, metrics=metrics)

    async with ledger.charge(MEMBER, "ask", 1) as charge:
        charge.settle(tokens=42)
        with pytest.raises(TooBusy):
            await ledger.check(MEMBER, "ask")
    async with ledger.charge(MEMBER, "imagine", 2) as charge:
        pass
    with pytest.raises(QuotaExceeded):
        async with ledger.charge(MEMBER, "imagine", 2):
            pass
    with pytest.raises(nexai.RateLimitError):
        async with ledger.charge(MEMBER, "tts", 10):
            raise nexai.RateLimitError("slow down", status=429)
    admission.drain()
    with pytest.raises(ShuttingDown):
        async with ledger.charge(MEMBER, "ask", 1):
            pass

    found = samples(metrics)
    assert found[("nexbot_api_calls_total", (("feature", "ask"), ("outcome", "ok")))] == 1
    assert found[("nexbot_api_calls_total", (("feature", "tts"), ("outcome", "429")))] == 1
    assert found[("nexbot_tokens_total", (("feature", "ask"),))] == 42
    assert found[("nexbot_usage_units_total", (("feature", "imagine"), ("unit", "images")))] == 2
    assert found[("nexbot_api_call_seconds_count", (("feature", "ask"),))] == 1
    assert found[("nexbot_api_calls_in_flight", ())] == 0
    refusals = {
        labels: value for (name, labels), value in found.items() if name == "nexbot_refusals_total"
    }
    assert refusals == {
        (("feature", "ask"), ("reason", "busy")): 1,
        (("feature", "imagine"), ("reason", "quota")): 1,
        (("feature", "ask"), ("reason", "shutting_down")): 1,
    }


def test_commands_are_counted_by_name_and_outcome() -> None:
    metrics = Metrics(enabled=True)
    metrics.command("ask")
    metrics.command("ask")
    metrics.command("settings show", ok=False)
    found = samples(metrics)
    assert found[("nexbot_commands_total", (("command", "ask"), ("outcome", "ok")))] == 2
    key = ("nexbot_commands_total", (("command", "settings show"), ("outcome", "error")))
    assert found[key] == 1


def test_two_bots_in_one_process_keep_separate_metrics() -> None:
    first, second = Metrics(enabled=True), Metrics(enabled=True)
    first.command("ask")
    assert ("nexbot_commands_total", (("command", "ask"), ("outcome", "ok"))) not in samples(second)


def test_metrics_off_cost_nothing_and_expose_nothing() -> None:
    metrics = Metrics.from_settings(None)
    assert not metrics.enabled
    metrics.command("ask")
    metrics.refused("ask", "busy")
    metrics.call_started()
    metrics.call_ended("ask", 1.0, units=1, unit="requests", tokens=5)
    assert metrics.exposition() == b""


def test_without_prometheus_client_a_metrics_port_logs_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(metrics_module, "prometheus_client", None)
    with caplog.at_level(logging.ERROR, logger="bot.ops.metrics"):
        metrics = Metrics.from_settings(9108)
    assert not metrics.enabled
    assert "pip install 'nexbot[metrics]'" in caplog.text
    assert caplog.records[0].message.startswith("METRICS_PORT is set but prometheus-client")
