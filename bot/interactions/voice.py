"""Voice messages on Discord: one Ogg Opus attachment with its duration and waveform, flag
IS_VOICE_MESSAGE (1 << 13), no text (Discord developer docs, Resources > Message: "Create
Message" flags and the attachment's `duration_secs` and `waveform`).

discord.py has no helper to send one, so it goes through discord.py's own HTTP client and
message routes, whose rate limiting then applies. A voice message needs Send Messages and Send
Voice Messages where it is posted.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord.http import handle_message_parameters

from bot.media.audio import VoiceClip
from bot.media.speaking import Spoken

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
VOICE_FILENAME = "voice-message.ogg"


class VoiceFile(discord.File):
    """An Ogg Opus file whose attachment metadata carries Discord's voice fields."""

    def __init__(self, clip: VoiceClip) -> None:
        super().__init__(io.BytesIO(clip.ogg), filename=VOICE_FILENAME)
        self.clip = clip

    def to_dict(self, index: int) -> dict[str, Any]:
        payload = dict(super().to_dict(index))
        payload["duration_secs"] = round(self.clip.duration_s, 2)
        payload["waveform"] = self.clip.waveform
        return payload


def voice_message_refusal(interaction: discord.Interaction) -> str | None:
    """Why a voice message cannot be posted where `interaction` happened, else None."""
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):
        return "the command's channel is not one the bot can post in"
    if interaction.guild_id is None:
        return None
    return _missing(interaction.app_permissions)


def _missing(permissions: discord.Permissions) -> str | None:
    missing = [
        name
        for name, allowed in (
            ("Send Messages", permissions.send_messages),
            ("Send Voice Messages", permissions.send_voice_messages),
        )
        if not allowed
    ]
    return f"missing {' and '.join(missing)}" if missing else None


async def reply_with_speech(client: discord.Client, to: discord.Message, spoken: Spoken) -> None:
    """Reply to `to` with `spoken` as a voice message, or as its audio file where a voice
    message cannot be sent (and a log line saying why)."""
    channel, guild = to.channel, to.guild
    refusal = None if spoken.clip else "the audio could not be transcoded"
    if (
        refusal is None
        and guild is not None
        and not isinstance(channel, discord.PartialMessageable)
    ):
        refusal = _missing(channel.permissions_for(guild.me))
    if spoken.clip is not None and refusal is None:
        try:
            await send_voice_message(client, channel.id, spoken.clip, reply_to=to.id)
            return
        except discord.HTTPException as error:
            refusal = f"Discord refused it ({error.status} {error.code}: {error.text})"
    log.info("Spoken answer sent as a file, not a voice message: %s", refusal)
    await to.reply(
        file=discord.File(io.BytesIO(spoken.audio), filename=spoken.filename),
        mention_author=False,
        allowed_mentions=NO_MENTIONS,
    )


async def send_voice_message(
    client: discord.Client, channel_id: int, clip: VoiceClip, *, reply_to: int | None = None
) -> int:
    """Post `clip` as a voice message in the channel (a reply to `reply_to`); its id."""
    reference: Any = discord.utils.MISSING
    if reply_to is not None:
        reference = discord.MessageReference(
            message_id=reply_to, channel_id=channel_id, fail_if_not_exists=False
        ).to_message_reference_dict()
    with handle_message_parameters(
        file=VoiceFile(clip),
        flags=discord.MessageFlags(voice=True),
        allowed_mentions=NO_MENTIONS,
        message_reference=reference,
    ) as params:
        message = await client.http.send_message(channel_id, params=params)
    return int(message["id"])
