"""Settings, read from the environment and `.env` (environment wins), validated at start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.chat.document_kinds import (
    DEFAULT_DOCUMENT_MAX_BYTES,
    DEFAULT_DOCUMENT_MAX_CHARS,
    DEFAULT_DOCUMENT_MAX_PAGES,
    DEFAULT_DOCUMENT_READ_TIMEOUT_S,
)
from bot.nexai.capabilities import (
    DEFAULT_CHAT_WAIT_S,
    DEFAULT_CONTEXT_TOKENS,
    DEFAULT_REASONING_WAIT_S,
    CapabilityOverride,
    CapabilityTable,
)
from bot.nexai.constants import (
    DEFAULT_BACKOFF_BASE_S,
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_FIRST_BYTE_TIMEOUT_S,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TOTAL_TIMEOUT_S,
)
from bot.quota.rules import LimitSpec, parse_limit_specs
from bot.render.global_budget import DEFAULT_CONNECTIONS, DEFAULT_REQUESTS_PER_S


class DatabaseSettings(BaseSettings):
    """Where the bot keeps its state: enough for `nexbot migrate-db` on its own."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    #: postgresql://user:password@host/db: PostgreSQL, shared by several bot processes.
    #: Unset: the SQLite file at DATABASE_PATH.
    database_url: SecretStr | None = None
    database_path: Path = Path("nexbot.db")
    database_busy_timeout_ms: int = Field(default=2_000, ge=0, le=60_000)
    database_pool_size: int = Field(default=10, ge=1, le=100)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (unset it to use DATABASE_PATH)")
        return value

    @property
    def database_url_value(self) -> str | None:
        return self.database_url.get_secret_value() if self.database_url else None


class Settings(DatabaseSettings):
    """Everything the operator can set. Every field is documented in `.env.example`."""

    discord_token: SecretStr
    nexai_api_key: SecretStr
    nexai_base_url: str = DEFAULT_BASE_URL
    #: A bot process not heard from for this long is dead: its open reservations are refunded.
    process_dead_after_s: float = Field(default=60.0, ge=1, le=3600)
    default_chat_model: str = "gpt-4o-mini"
    dev_guild_id: int | None = None
    #: nexbot's own loggers; other libraries log at INFO or above unless in DEBUG_LOGGERS.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Other loggers to run at DEBUG by name, e.g. "aiosqlite,discord.gateway" (costly).
    debug_loggers: Annotated[list[str], NoDecode] = []

    system_prompt: str = (
        "You are nexbot, a helpful assistant in a Discord server. Answer concisely and use "
        "Discord markdown."
    )
    #: Rows of the model capability table (bot/capabilities.py) to add or override, as JSON:
    #: {"model": {"token_param", "reasoning", "context_tokens", "vision", "endpoint", "wait_s"}}.
    model_capabilities: dict[str, CapabilityOverride] = {}
    default_context_tokens: int = Field(default=DEFAULT_CONTEXT_TOKENS, ge=1_000)
    history_max_turns: int = Field(default=20, ge=0, le=200)
    answer_max_tokens: int = Field(default=2_000, ge=16)
    #: Added to a reasoning model's token budget: its hidden reasoning counts against it.
    reasoning_max_tokens: int = Field(default=16_000, ge=0)
    #: Longest wait for the first text of an answer, retries included (reasoning models:
    #: REASONING_WAIT_S, or a model's own `wait_s`); then "nexai did not answer in time".
    chat_wait_s: float = Field(default=DEFAULT_CHAT_WAIT_S, gt=0, le=900)
    reasoning_wait_s: float = Field(default=DEFAULT_REASONING_WAIT_S, gt=0, le=1800)
    #: While nothing has arrived, the reply shows "Thinking… N s" after this long.
    wait_notice_after_s: float = Field(default=3.0, ge=0)
    stream_edit_interval_s: float = Field(default=1.0, ge=0.05)
    #: An answer longer than this many messages shows only them, the last ending with a
    #: note, and the whole answer comes as an attached answer.md.
    long_answer_parts: int = Field(default=3, ge=1, le=10)
    #: Requests a second the bot allows itself on routes bound by Discord's global limit (50
    #: per bot token, shared by every process of the bot): urgent ones first when short.
    discord_requests_per_s: int = Field(default=DEFAULT_REQUESTS_PER_S, ge=1, le=50)
    #: Connections open at once to each Discord host (REST, the CDN); more requests queue.
    discord_max_connections: int = Field(default=DEFAULT_CONNECTIONS, ge=1)
    #: Documents attached to a prompt (text, Markdown, CSV, JSON, code, PDF): larger files
    #: are refused; past the pages or characters, only the start is read (with a note).
    document_max_bytes: int = Field(default=DEFAULT_DOCUMENT_MAX_BYTES, ge=1024)
    document_max_pages: int = Field(default=DEFAULT_DOCUMENT_MAX_PAGES, ge=1)
    document_max_chars: int = Field(default=DEFAULT_DOCUMENT_MAX_CHARS, ge=1_000)
    document_read_timeout_s: float = Field(default=DEFAULT_DOCUMENT_READ_TIMEOUT_S, gt=0, le=300)

    #: Per-member limits in DMs, e.g. "ask:day:50,imagine:day:5" (transcribe in minutes).
    dm_limits: Annotated[list[LimitSpec], NoDecode] = []
    #: Usage rows older than this are deleted (at start and daily); 32+ keeps monthly limits exact.
    usage_retention_days: int = Field(default=90, ge=32)

    nexai_connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S, gt=0)
    nexai_first_byte_timeout_s: float = Field(default=DEFAULT_FIRST_BYTE_TIMEOUT_S, gt=0)
    nexai_total_timeout_s: float = Field(default=DEFAULT_TOTAL_TIMEOUT_S, gt=0)
    nexai_max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=10)
    nexai_max_connections: int = Field(default=DEFAULT_MAX_CONNECTIONS, ge=1)
    nexai_retry_backoff_s: float = Field(default=DEFAULT_BACKOFF_BASE_S, ge=0)

    default_image_model: str = "gpt-image-2"
    image_models: Annotated[list[str], NoDecode] = ["gpt-image-2", "gpt-image-1.5"]
    tts_model: str = "tts-1"
    tts_voices: Annotated[list[str], NoDecode] = Field(
        default=["alloy", "echo", "fable", "onyx", "nova", "shimmer"], min_length=1
    )
    transcribe_model: str = "whisper-1"
    voice_note_concurrency: int = Field(default=2, ge=1, le=32)
    #: In a channel in "summary" mode, transcripts longer than this (characters) are summarised.
    voice_summary_min_chars: int = Field(default=600, ge=0)

    #: A member's requests to the API at once; more are refused until one finishes.
    max_inflight_per_member: int = Field(default=2, ge=1, le=100)
    #: On SIGTERM/SIGINT, answers in flight get this long to finish before they are cancelled.
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    #: Rewritten every 15 s while connected to Discord; `nexbot health` checks its age.
    health_file: Path = Path("/tmp/nexbot-health")
    health_max_age_s: float = Field(default=120.0, ge=30)
    #: Prometheus metrics at http://METRICS_HOST:METRICS_PORT/metrics; unset = off.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"

    #: Shards of the bot in all; unset: the count Discord recommends (GET /gateway/bot).
    shard_count: int | None = Field(default=None, ge=1)
    #: The shards this process runs, e.g. "0-3" or "0,2"; unset: all. Needs SHARD_COUNT.
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    @field_validator("nexai_base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("dm_limits", mode="before")
    @classmethod
    def _parse_dm_limits(cls, value: object) -> object:
        return parse_limit_specs(value) if isinstance(value, str) else value

    @field_validator("discord_token", "nexai_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("image_models", "tts_voices", "debug_loggers", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        return parse_shard_ids(value) if isinstance(value, str) else value

    @field_validator("shard_ids")
    @classmethod
    def _check_shard_ids(cls, value: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError(
                "needs SHARD_COUNT: every process must use the same shard count (set it on all)"
            )
        beyond = [shard for shard in value if not 0 <= shard < count]
        if beyond:
            raise ValueError(f"shard {beyond[0]} is outside 0-{count - 1} (SHARD_COUNT={count})")
        return sorted(set(value))

    def capability_table(self) -> CapabilityTable:
        return CapabilityTable(
            self.model_capabilities,
            default_context_tokens=self.default_context_tokens,
            chat_wait_s=self.chat_wait_s,
            reasoning_wait_s=self.reasoning_wait_s,
        )


def parse_shard_ids(text: str) -> list[int] | None:
    """ "0-3" -> [0, 1, 2, 3]; "0,2" -> [0, 2]; "0-1,4" -> [0, 1, 4]; "" -> None (all)."""
    shards: list[int] = []
    for part in (item.strip() for item in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(
                f"{part!r} is not a shard id or range (write e.g. 0-3 or 0,2)"
            ) from None
        if high < low:
            raise ValueError(f"{part!r}: a range goes from low to high (e.g. 0-3)")
        shards.extend(range(low, high + 1))
    return shards or None


def describe_errors(error: ValidationError) -> list[str]:
    """One line per bad setting, naming its environment variable and what to do."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        if problem["type"] == "missing":
            lines.append(f"{name} is not set: add it to the environment or .env (see .env.example)")
        else:
            lines.append(f"{name} is invalid: {problem['msg']} (see .env.example)")
    return lines
