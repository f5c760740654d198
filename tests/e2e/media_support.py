"""Helpers shared by the media end-to-end tests (/imagine, /tts, /transcribe, voice notes)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from tests.e2e.conftest import BotEnv
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeAttachment, FakeDiscord, FakeMessage

OGG_HEADER = b"OggS\x00\x02"


@dataclass(frozen=True)
class UsageRow:
    feature: str
    units: float
    outcome: str
    model: str | None


async def usage_rows(env: BotEnv, user_id: int) -> list[UsageRow]:
    """The ledger rows charged to `user_id`, oldest first."""
    rows = await env.bot.store.fetch_all(
        "SELECT feature, units, outcome, model FROM usage WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    return [UsageRow(*row) for row in rows]


def voice_attachment(seconds: float = 2.5, size: int = 2_000) -> FakeAttachment:
    """A voice message's attachment, as Discord's clients send it (Ogg Opus with metadata)."""
    return FakeAttachment(
        "voice-message.ogg",
        OGG_HEADER + bytes(size - len(OGG_HEADER)),
        content_type="audio/ogg",
        duration_secs=seconds,
        waveform=base64.b64encode(bytes(range(0, 256, 8))).decode(),
    )


def pings_nobody(message: FakeMessage) -> bool:
    mentions = message.allowed_mentions or {}
    return mentions.get("parse") == [] and not mentions.get("users") and not mentions.get("roles")


async def post_voice_note(
    fake: FakeDiscord, channel_id: int, *, user_id: int | None = None, seconds: float = 2.5
) -> dict[str, Any]:
    """A member posts a voice message in the channel; returns its payload."""
    return await fake.send_message(
        "",
        channel_id=channel_id,
        user_id=user_id,
        attachments=[voice_attachment(seconds)],
        flags=IS_VOICE_MESSAGE,
    )


def replies_to(fake: FakeDiscord, payload: dict[str, Any]) -> list[FakeMessage]:
    """The bot's replies to a member's message, in order."""
    return [
        m
        for m in fake.bot_messages(int(payload["channel_id"]))
        if (m.message_reference or {}).get("message_id") == payload["id"]
    ]
