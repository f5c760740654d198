"""Settings: environment and .env, validation messages that name the setting."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_errors
from bot.nexai.constants import DEFAULT_BASE_URL

REQUIRED: dict[str, Any] = {"discord_token": "token-value", "nexai_api_key": "sk-billing-secret"}


def test_defaults_apply_when_only_secrets_are_given() -> None:
    settings = Settings(_env_file=None, **REQUIRED)
    assert settings.nexai_base_url == DEFAULT_BASE_URL
    assert settings.database_path == Path("nexbot.db")
    assert settings.dev_guild_id is None
    table = settings.capability_table()
    assert table.get("gpt-4o").vision and not table.get("gpt-5.4").vision


def test_secrets_never_appear_in_repr() -> None:
    settings = Settings(_env_file=None, **REQUIRED)
    assert "sk-billing-secret" not in repr(settings)
    assert "token-value" not in str(settings.model_dump())


def test_environment_beats_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DISCORD_TOKEN=from-file\nNEXAI_API_KEY=k\nDEFAULT_CHAT_MODEL=gpt-4o\n")
    monkeypatch.setenv("DEFAULT_CHAT_MODEL", "gpt-5.4")
    settings = Settings(_env_file=env_file)
    assert settings.discord_token.get_secret_value() == "from-file"
    assert settings.default_chat_model == "gpt-5.4"


def test_model_capabilities_override_only_the_fields_they_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "MODEL_CAPABILITIES",
        '{"gpt-5.5": {"vision": true}, "my-llama": {"context_tokens": 8000, "wait_s": 30}}',
    )
    table = Settings(_env_file=None, **REQUIRED).capability_table()
    gpt55 = table.get("gpt-5.5")
    assert gpt55.vision and gpt55.token_param == "max_completion_tokens"
    assert gpt55.context_tokens == 1_050_000
    assert table.get("my-llama").context_tokens == 8000
    assert table.wait_s("my-llama") == 30
    assert "gpt-5.5" in table.vision_models() and "my-llama" in table.listed()


def test_a_bad_model_capability_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_CAPABILITIES", '{"x": {"reasoning": "loud"}}')
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **REQUIRED)
    assert describe_errors(caught.value)[0].startswith("MODEL_CAPABILITIES is invalid")


def test_unknown_model_gets_the_default_context_window_and_wait() -> None:
    settings = Settings(
        _env_file=None,
        default_context_tokens=5000,
        chat_wait_s=40,
        reasoning_wait_s=200,
        **REQUIRED,
    )
    table = settings.capability_table()
    assert table.get("DeepSeek-R1").context_tokens == 65_000
    assert table.get("brand-new-model").context_tokens == 5000
    assert table.wait_s("brand-new-model") == 40
    assert table.wait_s("DeepSeek-R1") == table.wait_s("o4-mini") == 200


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "t"}, "NEXAI_API_KEY is not set"),
        ({"DISCORD_TOKEN": " ", "NEXAI_API_KEY": "k"}, "DISCORD_TOKEN is invalid"),
        (
            {"DISCORD_TOKEN": "t", "NEXAI_API_KEY": "k", "DEV_GUILD_ID": "abc"},
            "DEV_GUILD_ID is invalid",
        ),
        (
            {"DISCORD_TOKEN": "t", "NEXAI_API_KEY": "k", "NEXAI_BASE_URL": "ftp://x"},
            "NEXAI_BASE_URL is invalid",
        ),
        ({"DISCORD_TOKEN": "t", "NEXAI_API_KEY": "k", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL is invalid"),
    ],
)
def test_bad_setting_is_named_in_one_line(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISCORD_TOKEN", "NEXAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    lines = describe_errors(caught.value)
    assert any(line.startswith(expected) for line in lines), lines
    assert all("\n" not in line for line in lines)


def test_debug_loggers_are_a_comma_separated_list_of_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEBUG_LOGGERS", "aiosqlite, discord.gateway,")
    settings = Settings(_env_file=None, **REQUIRED)
    assert settings.debug_loggers == ["aiosqlite", "discord.gateway"]


@pytest.mark.parametrize(
    ("shard_ids", "expected"),
    [("0-3", [0, 1, 2, 3]), ("0,2", [0, 2]), (" 2, 0-1 ", [0, 1, 2]), ("", None)],
)
def test_shard_ids_take_ranges_and_lists(
    shard_ids: str, expected: list[int] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", shard_ids)
    settings = Settings(_env_file=None, **REQUIRED)
    assert (settings.shard_count, settings.shard_ids) == (4, expected)


def test_sharding_is_automatic_when_not_set() -> None:
    settings = Settings(_env_file=None, **REQUIRED)
    assert (settings.shard_count, settings.shard_ids) == (None, None)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0-2"}, "SHARD_IDS is invalid: Value error, shard 2 is"),
        ({"SHARD_IDS": "1"}, "SHARD_IDS is invalid: Value error, needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "SHARD_IDS is invalid: Value error, 'one'"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT is invalid"),
    ],
)
def test_shard_settings_that_cannot_work_stop_start_up_with_one_line(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **REQUIRED)
    lines = describe_errors(caught.value)
    assert any(line.startswith(expected) for line in lines), lines
