"""Creating, validating and editing the bot's messages (shared by channel and webhook routes)."""

from __future__ import annotations

import time

from ._gateway import GatewayMixin
from ._limits import FormErrors, check_message
from ._models import (
    EPHEMERAL,
    IS_VOICE_MESSAGE,
    JSON,
    LOADING,
    SEND_VOICE_MESSAGES,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    now_iso,
)
from ._state import DM_MESSAGES_INTENT, GUILD_MESSAGES_INTENT

Files = dict[int, FakeFile]


class DiscordError(Exception):
    """Raised by handlers: becomes a Discord-style JSON error response."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def form_error(field: str, code: str, message: str) -> DiscordError:
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


class MessagesMixin(GatewayMixin):
    def _resolve_files(
        self, body: JSON, files: Files, kept: list[FakeFile] | None = None
    ) -> list[FakeFile]:
        """Attachments of a message from ``attachments`` metadata + uploaded ``files[n]``."""
        existing = {f.id: f for f in kept or []}
        out: list[FakeFile] = []
        used: set[int] = set()
        meta = body.get("attachments")
        for entry in meta or []:
            att_id = int(entry.get("id", -1))
            if att_id in existing:
                out.append(existing[att_id])
            elif att_id in files:
                f = files[att_id]
                used.add(att_id)
                for key in ("description", "duration_secs", "waveform"):
                    if entry.get(key) is not None:
                        setattr(f, key, entry[key])
                out.append(f)
        if meta is None:
            out = list(kept or [])
        out += [f for i, f in sorted(files.items()) if i not in used]
        return out

    @staticmethod
    def _validate(body: JSON, files: list[FakeFile], *, creating: bool) -> None:
        content = body.get("content") or ""
        embeds = body.get("embeds") or []
        errors = FormErrors()
        check_message(body, len(files), errors)
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", errors.errors)
        flags = int(body.get("flags") or 0)
        if flags & IS_VOICE_MESSAGE:
            if content or embeds:
                raise DiscordError(400, 50159, "Voice messages do not support additional content.")
            if len(files) != 1 or not (files[0].content_type or "").startswith("audio/"):
                raise DiscordError(
                    400, 50160, "Voice messages must have a single audio attachment."
                )
            if files[0].duration_secs is None or files[0].waveform is None:
                raise DiscordError(400, 50161, "Voice messages must have supporting metadata.")
        has_anything = (
            content or embeds or files or body.get("components") or body.get("sticker_ids")
        )
        if creating and not has_anything and not body.get("poll"):
            raise DiscordError(400, 50006, "Cannot send an empty message")

    def _create_bot_message(
        self,
        channel_id: int,
        body: JSON,
        files: Files,
        *,
        interaction: FakeInteraction | None = None,
        extra_flags: int = 0,
        creating: bool = True,
    ) -> FakeMessage:
        attachments = self._resolve_files(body, files)
        self._validate(body, attachments, creating=creating)
        voice = int(body.get("flags") or 0) & IS_VOICE_MESSAGE
        if voice and self.is_guild_channel(channel_id) and not self._may_send_voice():
            # Voice messages are gated on Send Voice Messages alone (Discord developer docs,
            # Permissions: SEND_VOICE_MESSAGES), not on Attach Files.
            raise DiscordError(403, 50013, "Missing Permissions")
        for f in attachments:
            self.host_file(channel_id, f)
        ref = body.get("message_reference")
        if ref is not None and interaction is None:
            ref_msg = self.all_messages.get(int(ref.get("message_id") or 0))
            if ref_msg is None or ref_msg.deleted:
                if ref.get("fail_if_not_exists", True):
                    raise form_error(
                        "message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message"
                    )
                ref = None
            else:
                ref = {
                    "type": 0,
                    "message_id": str(ref_msg.id),
                    "channel_id": str(ref_msg.channel_id),
                }
                if ref_msg.guild_id:
                    ref["guild_id"] = str(ref_msg.guild_id)
        msg_type = 19 if ref else 0
        if interaction is not None:
            msg_type = 20 if interaction.payload["data"].get("type", 1) == 1 else 23
        msg = FakeMessage(
            id=self.ids.next(),
            channel_id=channel_id,
            content=body.get("content") or "",
            flags=(int(body.get("flags") or 0) | extra_flags),
            allowed_mentions=body.get("allowed_mentions"),
            attachments=attachments,
            embeds=list(body.get("embeds") or []),
            message_reference=ref,
            author_id=self.bot_user_id,
            guild_id=self.guild_of(channel_id),
            components=list(body.get("components") or []),
            type=msg_type,
            tts=bool(body.get("tts")),
            webhook_id=self.application_id if interaction is not None else None,
            interaction_token=interaction.token if interaction is not None else None,
        )
        self.store_message(msg, by_bot=True)
        return msg

    def _may_send_voice(self) -> bool:
        return bool(self.permissions_of(self.bot_user_id) & SEND_VOICE_MESSAGES)

    def _apply_edit(self, msg: FakeMessage, body: JSON, files: Files) -> None:
        attachments = self._resolve_files(body, files, kept=msg.attachments)
        self._validate(body, attachments, creating=False)
        if msg.flags & IS_VOICE_MESSAGE and not msg.loading:
            raise DiscordError(400, 50162, "Voice messages cannot be edited.")
        for f in attachments:
            if not f.url:
                self.host_file(msg.channel_id, f)
        msg.attachments = attachments
        if "content" in body:
            msg.content = body["content"] or ""
            msg.edits.append(msg.content)
            msg.edit_times.append(time.monotonic())
            self.resolve_pings(msg)
        for key in ("embeds", "components"):
            if key in body:
                setattr(msg, key, list(body[key] or []))
        if body.get("allowed_mentions") is not None:
            msg.allowed_mentions = body["allowed_mentions"]
        if body.get("flags") is not None:
            msg.flags = (msg.flags & EPHEMERAL) | int(body["flags"])
        if msg.loading:
            msg.flags &= ~LOADING
        else:
            msg.edited_timestamp = now_iso()
        msg.ephemeral = bool(msg.flags & EPHEMERAL)
        self.notify()

    async def _echo(self, msg: FakeMessage, event: str) -> None:
        """Gateway echo of the bot's own message changes, as Discord sends them."""
        if not self.echo_bot_messages or msg.ephemeral or not self.has_session_for(msg.guild_id):
            return
        intent = GUILD_MESSAGES_INTENT if msg.guild_id else DM_MESSAGES_INTENT
        if not (self.intents or 0) & intent:
            return
        if event == "MESSAGE_DELETE":
            data: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
        else:
            data = self.message_payload(msg)
        await self._dispatch(event, data)
