"""Settings: environment and .env, validation messages that name the setting."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import DEFAULT_BASE_URL, Settings, describe_errors

REQUIRED: dict[str, Any] = {"discord_token": "token-value", "nexai_api_key": "sk-billing-secret"}


def test_defaults_apply_when_only_secrets_are_given() -> None:
    settings = Settings(_env_file=None, **REQUIRED)
    assert settings.nexai_base_url == DEFAULT_BASE_URL
    assert settings.database_path == Path("nexbot.db")
    assert settings.dev_guild_id is None
    assert settings.has_vision("gpt-4o") and not settings.has_vision("gpt-5.4")


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


def test_vision_models_accept_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISION_MODELS", "gpt-4o, gpt-5.5")
    settings = Settings(_env_file=None, **REQUIRED)
    assert settings.vision_models == ["gpt-4o", "gpt-5.5"]


def test_unknown_model_gets_the_default_context_window() -> None:
    settings = Settings(_env_file=None, default_context_tokens=5000, **REQUIRED)
    assert settings.context_tokens("DeepSeek-R1") == 65_000
    assert settings.context_tokens("brand-new-model") == 5000


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
