"""The model capability table: the reference's rows, rows inferred from names, overrides."""

from __future__ import annotations

import pytest

from bot.nexai.capabilities import (
    REFERENCE_CAPABILITIES,
    CapabilityOverride,
    CapabilityTable,
    inferred_capabilities,
)


@pytest.mark.parametrize(
    ("model", "token_param", "reasoning", "endpoint"),
    [
        ("gpt-5.5", "max_completion_tokens", "silent", "chat"),
        ("gpt-5.4-mini", "max_completion_tokens", "silent", "chat"),
        ("gpt-4o", "max_tokens", "none", "chat"),
        ("gpt-5.3-codex", "max_completion_tokens", "silent", "responses"),
        ("grok-4-fast-reasoning", "max_tokens", "silent", "chat"),
        ("DeepSeek-R1", "max_tokens", "inline", "chat"),
    ],
)
def test_every_reference_model_has_its_row(
    model: str, token_param: str, reasoning: str, endpoint: str
) -> None:
    row = REFERENCE_CAPABILITIES[model]
    assert (row.token_param, row.reasoning, row.endpoint) == (token_param, reasoning, endpoint)


@pytest.mark.parametrize(
    ("model", "token_param", "reasoning", "endpoint", "vision"),
    [
        ("o4-mini", "max_completion_tokens", "silent", "chat", False),
        ("gpt-5-nano", "max_completion_tokens", "silent", "chat", False),
        ("gpt-5.2-codex-max", "max_completion_tokens", "silent", "responses", False),
        ("deepseek-r1-distill-llama-70b", "max_tokens", "inline", "chat", False),
        ("qwq-32b", "max_tokens", "inline", "chat", False),
        ("some-reasoning-model", "max_tokens", "silent", "chat", False),
        ("gpt-4.1-mini", "max_tokens", "none", "chat", True),
        ("llama-3.3-70b", "max_tokens", "none", "chat", False),
    ],
)
def test_unlisted_models_are_inferred_from_their_names(
    model: str, token_param: str, reasoning: str, endpoint: str, vision: bool
) -> None:
    row = inferred_capabilities(model)
    assert (row.token_param, row.reasoning, row.endpoint, row.vision) == (
        token_param,
        reasoning,
        endpoint,
        vision,
    )


def test_waits_default_by_kind_and_a_row_may_set_its_own() -> None:
    table = CapabilityTable(
        {"gpt-4o": CapabilityOverride(wait_s=5)}, chat_wait_s=60, reasoning_wait_s=240
    )
    assert table.wait_s("gpt-4o-mini") == 60
    assert table.wait_s("DeepSeek-R1") == table.wait_s("gpt-5.4") == 240
    assert table.wait_s("gpt-4o") == 5


def test_an_override_changes_only_what_it_sets() -> None:
    table = CapabilityTable({"DeepSeek-R1": CapabilityOverride(context_tokens=128_000)})
    row = table.get("DeepSeek-R1")
    assert row.context_tokens == 128_000 and row.reasoning == "inline"


@pytest.mark.parametrize(
    ("model", "takes_temperature"),
    [
        ("gpt-4o", True),
        ("DeepSeek-R1", True),
        ("grok-4-fast-reasoning", True),
        ("llama-3.3-70b", True),
        ("gpt-5.5", False),
        ("gpt-5.3-codex", False),
        ("o4-mini", False),
        ("gpt-5-nano", False),
    ],
)
def test_the_table_says_which_models_take_a_temperature(
    model: str, takes_temperature: bool
) -> None:
    assert CapabilityTable().get(model).temperature is takes_temperature


def test_an_operator_can_say_a_model_takes_no_temperature() -> None:
    table = CapabilityTable({"my-llama": CapabilityOverride(temperature=False)})
    assert table.get("my-llama").temperature is False
