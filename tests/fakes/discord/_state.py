"""The fake's world: users, one guild, channels, messages; payload builders; change waiting."""

# ruff: noqa: ASYNC109 - the public API takes timeouts, as the tests that use it expect

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from ._limits import pinged
from ._models import (
    BOT_ROLE_PERMISSIONS,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    JSON,
    UPLOAD_LIMIT,
    FakeAttachment,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    Snowflakes,
    now_iso,
    sniff_content_type,
)

log = logging.getLogger("tests.fakes.discord")

MESSAGE_CONTENT_INTENT = 1 << 15
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_MESSAGES_INTENT = 1 << 9
DM_MESSAGES_INTENT = 1 << 12


class FakeState:
    """State and payload builders shared by the REST, gateway and interaction parts."""

    token: str = "fake-bot-token"

    def __init__(self, *, token: str | None = None) -> None:
        if token is not None:
            self.token = token
        self.ids = Snowflakes()
        self.application_id: int = self.ids.next()
        self.bot_user_id: int = self.application_id  # as on Discord for current apps
        self.guild_id: int = self.ids.next()
        self.channel_id: int = self.ids.next()
        self.other_channel_id: int = self.ids.next()
        self.user_id: int = self.ids.next()  # the default member who talks/invokes
        self.dm_channel_id: int = self.ids.next()
        self.bot_role_id: int = self.ids.next()
        self.port: int = 0
        self.upload_limit: int = UPLOAD_LIMIT
        #: seconds a bot has for the first interaction callback (None: no limit)
        self.interaction_response_timeout: float | None = 3.0
        #: seconds an interaction token works for edits/follow-ups
        self.interaction_token_ttl: float = 15 * 60
        #: send MESSAGE_CREATE/UPDATE/DELETE for the bot's own (non-ephemeral) messages
        self.echo_bot_messages: bool = True

        #: guilds besides ``guild_id`` (``add_guild``): id -> name; same members, no roles
        self.other_guilds: dict[int, str] = {}
        self.users: dict[int, JSON] = {}
        self.members: dict[int, JSON] = {}  # user_id -> member payload (without "user")
        self.member_permissions: dict[int, int] = {}  # explicit overrides
        self.roles: dict[int, JSON] = {}
        self.channels: dict[int, JSON] = {}
        self.threads: dict[int, JSON] = {}  # thread channels (see _threads), archived ones too
        self.dm_channels: dict[int, int] = {}  # user_id -> DM channel id
        self.dm_recipients: dict[int, int] = {}  # DM channel id -> user_id
        #: group DMs of members (``add_group_dm``), which the bot is not in: id -> user ids
        self.group_dms: dict[int, list[int]] = {}

        self.messages: defaultdict[int, list[FakeMessage]] = defaultdict(list)
        self.all_messages: dict[int, FakeMessage] = {}  # bot's and members', by id
        self.cdn: dict[str, tuple[bytes, str]] = {}  # url path -> (data, content type)
        self.commands: dict[str | int | None, list[JSON]] = {}
        self.command_syncs: int = 0
        self.requests: list[tuple[str, str]] = []
        #: the client end (host, port) of every connection a REST call came on
        self.connections: set[tuple[str, int]] = set()
        #: seconds every REST call takes before its answer (a round trip to Discord)
        self.response_delay_s = 0.0
        self.rate_limited: list[tuple[str, str]] = []
        self.unhandled: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.interactions: list[FakeInteraction] = []
        self.interactions_by_id: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.intents: int | None = None
        self.ready = asyncio.Event()
        self._changed = asyncio.Event()

        self._add_user(self.bot_user_id, "nexbot-test", bot=True)
        self.roles[self.guild_id] = self._role_payload(
            self.guild_id, "@everyone", EVERYONE_PERMISSIONS, 0
        )
        self.roles[self.bot_role_id] = self._role_payload(
            self.bot_role_id, "nexbot-test", BOT_ROLE_PERMISSIONS, 1, managed=True
        )
        for position, (cid, name) in enumerate(
            [(self.channel_id, "general"), (self.other_channel_id, "random")]
        ):
            self.channels[cid] = self._text_channel_payload(cid, name, position)
        self.members[self.bot_user_id] = self._member_payload(self.bot_user_id, [self.bot_role_id])
        self._add_user(self.user_id, "member")
        self.members[self.user_id] = self._member_payload(self.user_id, [])
        self.dm_channels[self.user_id] = self.dm_channel_id
        self.dm_recipients[self.dm_channel_id] = self.user_id

    # ----------------------------------------------------------------- waiting

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notify(self) -> None:
        """Wake every ``wait_for`` (called on each state change; tests may call it too)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, *, what: str = ""
    ) -> None:
        """Wait until ``predicate()`` is true; re-checked on every change of the fake's state."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            event = self._changed
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                if predicate():
                    return
                raise TimeoutError(self._timeout_report(timeout, what)) from None

    def _timeout_report(self, timeout: float, what: str) -> str:
        lines = [f"fake Discord: condition not met within {timeout}s {what}".rstrip()]
        lines.append(f"  last requests: {self.requests[-8:]}")
        if self.unhandled:
            lines.append(f"  UNHANDLED routes: {self.unhandled}")
        if self.errors:
            lines.append(f"  errors: {self.errors[-5:]}")
        return "\n".join(lines)

    async def _dispatch(self, event: str, data: JSON) -> None:  # implemented by the gateway
        raise NotImplementedError

    # ------------------------------------------------------------- the world

    def _add_user(self, user_id: int, name: str, *, bot: bool = False) -> JSON:
        user = {
            "id": str(user_id),
            "username": name,
            "global_name": None if bot else name.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }
        self.users[user_id] = user
        return user

    def _role_payload(
        self, role_id: int, name: str, permissions: int, position: int, *, managed: bool = False
    ) -> JSON:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": managed,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }

    def _text_channel_payload(
        self, channel_id: int, name: str, position: int, guild_id: int | None = None
    ) -> JSON:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id or self.guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }

    def _member_payload(self, user_id: int, roles: Iterable[int], nick: str | None = None) -> JSON:
        return {
            "roles": [str(r) for r in roles],
            "joined_at": now_iso(),
            "nick": nick,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
            "avatar": None,
        }

    def permissions_of(self, user_id: int) -> int:
        """Guild-wide permissions of a member: an explicit override, else role union."""
        if user_id in self.member_permissions:
            return self.member_permissions[user_id]
        perms = int(self.roles[self.guild_id]["permissions"])
        for role_id in self.members.get(user_id, {}).get("roles", []):
            role = self.roles.get(int(role_id))
            if role is not None:
                perms |= int(role["permissions"])
        return perms

    def full_member(
        self, user_id: int, *, permissions: int | None = None, guild_id: int | None = None
    ) -> JSON:
        """A member with its user; in another guild than ``guild_id`` it has no roles."""
        member = dict(self.members[user_id])
        if guild_id is not None and guild_id != self.guild_id:
            member["roles"] = []
        member["user"] = self.users[user_id]
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def guild_ids(self) -> list[int]:
        return [self.guild_id, *self.other_guilds]

    def guild_of(self, channel_id: int) -> int | None:
        """The guild of a channel or thread; None for a DM (or an unknown channel)."""
        channel = self.channels.get(channel_id) or self.threads.get(channel_id)
        return int(channel["guild_id"]) if channel else None

    def guild_channels(self, guild_id: int) -> list[JSON]:
        return [c for c in self.channels.values() if int(c["guild_id"]) == guild_id]

    def guild_payload(self, guild_id: int | None = None) -> JSON:
        """GUILD_CREATE of ``guild_id`` (default: the main guild). Other guilds have the same
        members (without roles), only the @everyone role, and their own channels."""
        gid = guild_id or self.guild_id
        main = gid == self.guild_id
        members = [self.full_member(uid, guild_id=gid) for uid in self.members]
        roles = (
            list(self.roles.values())
            if main
            else [self._role_payload(gid, "@everyone", EVERYONE_PERMISSIONS, 0)]
        )
        threads = [
            t
            for t in self.threads.values()
            if not t["thread_metadata"]["archived"] and int(t["guild_id"]) == gid
        ]
        return {
            "id": str(gid),
            "name": "Fake Guild" if main else self.other_guilds[gid],
            "icon": None,
            "owner_id": str(self.user_id),
            "unavailable": False,
            "large": False,
            "member_count": len(members),
            "members": members,
            "roles": roles,
            "channels": self.guild_channels(gid),
            "threads": threads,
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": self.members[self.bot_user_id]["joined_at"],
            "preferred_locale": "en-US",
            "system_channel_id": self.guild_channels(gid)[0]["id"],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "afk_timeout": 300,
            "application_id": None,
        }

    def dm_channel_payload(self, channel_id: int) -> JSON:
        user = self.users[self.dm_recipients[channel_id]]
        return {
            "id": str(channel_id),
            "type": 1,
            "recipients": [user],
            "last_message_id": None,
            "flags": 0,
        }

    def channel_payload(self, channel_id: int) -> JSON | None:
        if channel_id in self.channels:
            return self.channels[channel_id]
        if channel_id in self.threads:
            return self.threads[channel_id]
        if channel_id in self.dm_recipients:
            return self.dm_channel_payload(channel_id)
        return None

    def dm_channel_for(self, user_id: int) -> int:
        """The DM channel between the bot and ``user_id`` (created on first use)."""
        if user_id not in self.dm_channels:
            cid = self.ids.next()
            self.dm_channels[user_id] = cid
            self.dm_recipients[cid] = user_id
        return self.dm_channels[user_id]

    def is_guild_channel(self, channel_id: int) -> bool:
        return self.guild_of(channel_id) is not None

    # ---------------------------------------------------------------- files

    def host_attachment(self, channel_id: int, att: FakeAttachment) -> JSON:
        """Give a member's attachment an id and URL on the fake CDN; return its payload."""
        att.id = self.ids.next()
        content_type = att.content_type or sniff_content_type(att.filename, att.data)
        path = f"/attachments/{channel_id}/{att.id}/{att.filename}"
        self.cdn[path] = (att.data, content_type or "application/octet-stream")
        att.url = self.url + path
        payload: JSON = {
            "id": str(att.id),
            "filename": att.filename,
            "size": len(att.data),
            "url": att.url,
            "proxy_url": att.url,
            "flags": att.flags,
        }
        if content_type:
            payload["content_type"] = content_type
        if att.description is not None:
            payload["description"] = att.description
        if att.duration_secs is not None:
            payload["duration_secs"] = att.duration_secs
        if att.waveform is not None:
            payload["waveform"] = att.waveform
        return payload

    def host_file(self, channel_id: int, file: FakeFile) -> None:
        """Give a file the bot uploaded an id and URL on the fake CDN."""
        file.id = self.ids.next()
        path = f"/attachments/{channel_id}/{file.id}/{file.filename}"
        self.cdn[path] = (file.data, file.content_type or "application/octet-stream")
        file.url = self.url + path

    @staticmethod
    def file_payload(file: FakeFile) -> JSON:
        payload: JSON = {
            "id": str(file.id),
            "filename": file.filename,
            "size": len(file.data),
            "url": file.url,
            "proxy_url": file.url,
            "flags": 0,
        }
        if file.content_type:
            payload["content_type"] = file.content_type
        for key in ("description", "duration_secs", "waveform"):
            if getattr(file, key) is not None:
                payload[key] = getattr(file, key)
        return payload

    # ------------------------------------------------------------- messages

    def resolve_pings(self, msg: FakeMessage) -> None:
        """Who ``msg`` pings, as Discord resolves it (see ``_limits.pinged``): its content's
        mentions as ``allowed_mentions`` lets them through, plus the replied-to author when
        the reply pings (Resources > Message > "Allowed Mentions Object", ``replied_user``)."""
        replied: int | None = None
        if msg.message_reference is not None and msg.type == 19:
            ref = self.all_messages.get(int(msg.message_reference.get("message_id") or 0))
            replied = ref.author_id if ref is not None and ref.author_id != msg.author_id else None
        msg.pinged, msg.pinged_roles, msg.pinged_everyone = pinged(
            msg.content,
            msg.allowed_mentions,
            replied_author=replied,
            known_users=self.users,
            known_roles=self.roles,
        )

    def message_payload(self, msg: FakeMessage, *, with_reference: bool = True) -> JSON:
        author = self.users.get(msg.author_id) or self._add_user(msg.author_id, "unknown")
        attachments = msg.member_attachments or [self.file_payload(f) for f in msg.attachments]
        payload: JSON = {
            "id": str(msg.id),
            "channel_id": str(msg.channel_id),
            "type": msg.type,
            "author": author,
            "content": msg.content,
            "timestamp": msg.timestamp,
            "edited_timestamp": msg.edited_timestamp,
            "tts": msg.tts,
            "mention_everyone": msg.pinged_everyone,
            "mentions": [self.users[u] for u in msg.pinged if u in self.users],
            "mention_roles": [str(r) for r in msg.pinged_roles],
            "attachments": attachments,
            "embeds": msg.embeds,
            "components": msg.components,
            "pinned": False,
            "flags": msg.flags,
            "reactions": [
                {"emoji": {"id": None, "name": e}, "count": 1, "me": True} for e in msg.reactions
            ],
        }
        if msg.guild_id is not None:
            payload["guild_id"] = str(msg.guild_id)
            if msg.author_id in self.members and msg.webhook_id is None:
                payload["member"] = dict(self.members[msg.author_id])
        if msg.webhook_id is not None:
            payload["webhook_id"] = str(msg.webhook_id)
            payload["application_id"] = str(self.application_id)
        if msg.interaction_token is not None:
            inter = self.interactions_by_token.get(msg.interaction_token)
            if inter is not None:
                user = inter.payload.get("member", {}).get("user") or inter.payload.get("user")
                payload["interaction_metadata"] = {
                    "id": str(inter.id),
                    "type": inter.type,
                    "name": inter.name,
                    "user": user,
                    "authorizing_integration_owners": inter.payload.get(
                        "authorizing_integration_owners", {}
                    ),
                }
        if msg.message_reference is not None:
            payload["message_reference"] = msg.message_reference
            if with_reference:
                ref_id = int(msg.message_reference.get("message_id", 0) or 0)
                ref = self.all_messages.get(ref_id)
                payload["referenced_message"] = (
                    None
                    if ref is None or ref.deleted
                    else self.message_payload(ref, with_reference=False)
                )
        return payload

    def store_message(self, msg: FakeMessage, *, by_bot: bool) -> None:
        msg.ephemeral = bool(msg.flags & EPHEMERAL)
        if not msg.edits:
            msg.edits.append(msg.content)
            msg.edit_times.append(time.monotonic())
        self.resolve_pings(msg)
        self.all_messages[msg.id] = msg
        if by_bot:
            self.messages[msg.channel_id].append(msg)
        self.notify()

    def bot_messages(self, channel_id: int | None = None) -> list[FakeMessage]:
        """Messages the bot created, in order: in one channel, or (None) in every channel."""
        if channel_id is not None:
            return list(self.messages.get(channel_id, []))
        every = [m for msgs in self.messages.values() for m in msgs]
        return sorted(every, key=lambda m: m.id)

    async def wait_bot_message(
        self,
        predicate: Callable[[FakeMessage], bool],
        *,
        channel_id: int | None = None,
        timeout: float = 5.0,
    ) -> FakeMessage:
        """Wait for (and return) the first bot message matching ``predicate``."""
        found: list[FakeMessage] = []

        def check() -> bool:
            found[:] = [m for m in self.bot_messages(channel_id) if predicate(m)][:1]
            return bool(found)

        await self.wait_for(check, timeout, what="(bot message)")
        return found[0]

    async def wait_reply(self, message: int | JSON, *, timeout: float = 5.0) -> FakeMessage:
        """Wait for the bot's reply (``message_reference``) to a message id or payload."""
        ref = str(message["id"] if isinstance(message, dict) else message)
        return await self.wait_bot_message(
            lambda m: (m.message_reference or {}).get("message_id") == ref, timeout=timeout
        )

    def gateway_view(self, payload: JSON) -> JSON:
        """A message payload as the bot receives it, honouring the Message Content intent."""
        intents = self.intents or 0
        if intents & MESSAGE_CONTENT_INTENT or "guild_id" not in payload:
            return payload
        bot = str(self.bot_user_id)
        if payload["author"]["id"] == bot or any(u["id"] == bot for u in payload["mentions"]):
            return payload
        return {**payload, "content": "", "embeds": [], "attachments": [], "components": []}
