"""Plain data the fake Discord records: messages, files, attachments, interactions."""

# ruff: noqa: ASYNC109 - the public API takes timeouts, as the tests that use it expect

from __future__ import annotations

import asyncio
import datetime
import inspect
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from ._state import FakeState

JSON = dict[str, Any]

#: Message flags used by the fake.
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_VOICE_MESSAGE = 1 << 13
#: The permission that gates voice messages (Discord developer docs, Permissions).
SEND_VOICE_MESSAGES = 1 << 46

#: What a plain member may do in the default guild (the @everyone role).
EVERYONE_PERMISSIONS: int = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    read_message_history=True,
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    use_external_emojis=True,
    use_application_commands=True,
    send_voice_messages=True,
    change_nickname=True,
    create_instant_invite=True,
    connect=True,
    speak=True,
).value

#: The bot's own role adds these on top of @everyone.
BOT_ROLE_PERMISSIONS: int = discord.Permissions(manage_messages=True, manage_threads=True).value

#: Default upload limit (bytes) per file, as on an unboosted server.
UPLOAD_LIMIT = 10 * 1024 * 1024


_MAGIC: list[tuple[bytes, int, str]] = [
    (b"OggS", 0, "audio/ogg"),
    (b"\x89PNG", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"WAVE", 8, "audio/wav"),
    (b"ID3", 0, "audio/mpeg"),
    (b"fLaC", 0, "audio/flac"),
    (b"%PDF", 0, "application/pdf"),
]


def sniff_content_type(filename: str, data: bytes, sent: str | None = None) -> str | None:
    """The content type Discord would report: from the bytes, else the name, else as sent."""
    for magic, offset, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    return mimetypes.guess_type(filename)[0] or sent


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


class Snowflakes:
    """Monotonic, time-based snowflake ids (``created_at`` of every object is about now)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = discord.utils.time_snowflake(datetime.datetime.now(datetime.UTC))
        self._last = max(self._last + 1, now)
        return self._last

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose ``(id >> 22) % shard_count`` is ``shard_id`` (a guild id whose
        events go to that shard); its timestamp is at most ``shard_count`` ms ahead."""
        stamp = (self.next() >> 22) + 1
        while stamp % shard_count != shard_id:
            stamp += 1
        self._last = stamp << 22
        return self._last


@dataclass
class FakeFile:
    """A file the bot uploaded (multipart ``files[n]``), or an attachment it kept on edit."""

    filename: str
    content_type: str | None
    data: bytes
    id: int = 0
    url: str = ""
    description: str | None = None
    duration_secs: float | None = None
    waveform: str | None = None


@dataclass
class FakeAttachment:
    """A file a member attaches (to a message or an attachment option).

    ``id``/``url`` are filled in by the fake when it is used; the URL serves ``data``.
    """

    filename: str
    data: bytes
    content_type: str | None = None
    flags: int = 0
    duration_secs: float | None = None
    waveform: str | None = None
    description: str | None = None
    id: int = 0
    url: str = ""


@dataclass
class FakeMessage:
    """A message as the fake stores it (the bot's, or a member's from ``send_message``)."""

    id: int
    channel_id: int
    content: str
    flags: int = 0
    allowed_mentions: JSON | None = None
    attachments: list[FakeFile] = field(default_factory=list)
    embeds: list[JSON] = field(default_factory=list)
    message_reference: JSON | None = None
    edits: list[str] = field(default_factory=list)
    #: ``time.monotonic()`` of the creation and of each edit in ``edits``
    edit_times: list[float] = field(default_factory=list)
    ephemeral: bool = False
    interaction_token: str | None = None
    deleted: bool = False
    # extras beyond the contract
    author_id: int = 0
    guild_id: int | None = None
    components: list[JSON] = field(default_factory=list)
    member_attachments: list[JSON] = field(default_factory=list)  # payloads (members' messages)
    type: int = 0
    tts: bool = False
    webhook_id: int | None = None
    reactions: list[str] = field(default_factory=list)  # emoji the bot reacted with
    timestamp: str = field(default_factory=now_iso)
    edited_timestamp: str | None = None
    #: who the message really pings (``allowed_mentions`` and reply pings resolved)
    pinged: list[int] = field(default_factory=list)
    pinged_roles: list[int] = field(default_factory=list)
    pinged_everyone: bool = False

    @property
    def loading(self) -> bool:
        """True while this is an interaction's unanswered "thinking…" placeholder."""
        return bool(self.flags & LOADING)


class FakeInteraction:
    """An interaction the fake sent (``invoke``, ``autocomplete``...) and the bot's answers."""

    def __init__(self, fake: FakeState, payload: JSON) -> None:
        self._fake = fake
        self.payload = payload
        self.id: int = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.name: str = payload.get("data", {}).get("name", "")
        self.channel_id: int = int(payload["channel_id"])
        self.guild_id: int | None = int(payload["guild_id"]) if "guild_id" in payload else None
        self.created: float = asyncio.get_running_loop().time()
        self.callbacks: list[JSON] = []
        self.deferred: bool = False
        self.deferred_ephemeral: bool = False
        self.original: FakeMessage | None = None
        self.followups: list[FakeMessage] = []

    def __repr__(self) -> str:
        kinds = [c.get("type") for c in self.callbacks]
        n = len(self.followups)
        return f"<FakeInteraction {self.name!r} id={self.id} callbacks={kinds} followups={n}>"

    @property
    def response_type(self) -> int | None:
        """The type of the first callback (4 reply, 5 defer, 8 autocomplete, 9 modal, ...)."""
        return self.callbacks[0].get("type") if self.callbacks else None

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices, once the type-8 callback arrived."""
        for cb in self.callbacks:
            if cb.get("type") == 8:
                return list((cb.get("data") or {}).get("choices", []))
        return None

    @property
    def messages(self) -> list[FakeMessage]:
        """Original response (if any) followed by follow-ups, without duplicates."""
        out: list[FakeMessage] = [self.original] if self.original is not None else []
        out += [m for m in self.followups if m is not self.original]
        return out

    @property
    def done(self) -> bool:
        """A response the user can see exists.

        A reply (4), update (7), autocomplete result (8) or modal (9) counts at once; a
        defer (5) counts once the "thinking" message was edited or a follow-up was sent.
        """
        types = {c.get("type") for c in self.callbacks}
        if types & {4, 7, 8, 9}:
            return True
        if self.followups:
            return True
        return self.original is not None and not self.original.loading

    async def wait_done(
        self,
        predicate: Callable[[FakeInteraction], bool] | Callable[[], bool] | None = None,
        timeout: float = 5.0,
    ) -> FakeInteraction:
        """Wait until ``predicate(self)`` (or ``predicate()``) holds, by default :attr:`done`.

        Returns ``self``; raises ``TimeoutError`` with what the fake saw.
        """
        check: Callable[..., bool] = predicate or (lambda i: i.done)
        try:
            takes_none = not inspect.signature(check).parameters
        except (TypeError, ValueError):
            takes_none = False
        if takes_none:
            await self._fake.wait_for(check, timeout=timeout, what=repr(self))
        else:
            await self._fake.wait_for(lambda: check(self), timeout=timeout, what=repr(self))
        return self
