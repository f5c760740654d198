"""What members do: talk, invoke commands, autocomplete, use context menus; guild changes."""

# ruff: noqa: ASYNC109 - the public API takes timeouts, as the tests that use it expect

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from ._models import JSON, FakeAttachment, FakeFile, FakeInteraction, FakeMessage
from ._rest import RestMixin
from ._state import DM_MESSAGES_INTENT, GUILD_MEMBERS_INTENT, GUILD_MESSAGES_INTENT, log

#: Discord's channel type of a category (Resources > Channel, "Channel Types").
GUILD_CATEGORY = 4


class InteractionsMixin(RestMixin):
    def _init_interactions(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ guild

    def _later(self, event: str, data: JSON) -> None:
        """Dispatch from sync code, if the bot has a session (in order, on the running loop)."""
        if not self.has_session_for(int(data["guild_id"]) if data.get("guild_id") else None):
            return
        task = asyncio.get_running_loop().create_task(self._dispatch(event, data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def add_member(
        self,
        user_id: int | None = None,
        name: str = "member",
        roles: Iterable[int] = (),
        permissions: int | None = None,
        *,
        bot: bool = False,
    ) -> int:
        """Add a guild member; ``permissions`` overrides the role-computed permissions; ``bot``
        makes it another bot (its user object's ``bot`` flag)."""
        uid = user_id or self.ids.next()
        self._add_user(uid, name, bot=bot)
        self.members[uid] = self._member_payload(uid, roles)
        if permissions is not None:
            self.member_permissions[uid] = permissions
        if (self.intents or 0) & GUILD_MEMBERS_INTENT:
            self._later(
                "GUILD_MEMBER_ADD", {**self.full_member(uid), "guild_id": str(self.guild_id)}
            )
        self.notify()
        return uid

    def add_role(self, name: str, permissions: int = 0) -> int:
        role_id = self.ids.next()
        self.roles[role_id] = self._role_payload(role_id, name, permissions, len(self.roles))
        self._later(
            "GUILD_ROLE_CREATE", {"guild_id": str(self.guild_id), "role": self.roles[role_id]}
        )
        self.notify()
        return role_id

    def add_channel(self, name: str, *, category_id: int | None = None) -> int:
        """Add a text channel to the guild, in ``category_id`` if given (its ``parent_id``)."""
        cid = self.ids.next()
        self.channels[cid] = self._text_channel_payload(cid, name, len(self.channels))
        if category_id is not None:
            if self.channels.get(category_id, {}).get("type") != GUILD_CATEGORY:
                raise ValueError(f"{category_id} is not a category of the guild")
            self.channels[cid]["parent_id"] = str(category_id)
        self._later("CHANNEL_CREATE", self.channels[cid])
        self.notify()
        return cid

    def add_category(self, name: str) -> int:
        """Add a category (Resources > Channel, "Channel Types": GUILD_CATEGORY = 4): a channel
        nobody posts in, the ``parent_id`` of the text channels in it."""
        cid = self.ids.next()
        payload = self._text_channel_payload(cid, name, len(self.channels))
        for key in ("topic", "last_message_id", "rate_limit_per_user", "nsfw"):
            payload.pop(key)
        self.channels[cid] = {**payload, "type": GUILD_CATEGORY}
        self._later("CHANNEL_CREATE", self.channels[cid])
        self.notify()
        return cid

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> tuple[int, int]:
        """Add a guild with one text channel ("general"); returns (guild id, channel id).

        ``shard=(shard_id, shard_count)`` picks a guild id whose events go to that shard.
        The guild has the same members as the main one (without roles) and only @everyone;
        a connected bot gets GUILD_CREATE on the guild's shard (as when it joins a guild).
        """
        gid = self.ids.on_shard(*shard) if shard else self.ids.next()
        self.other_guilds[gid] = name
        cid = self.ids.next()
        self.channels[cid] = self._text_channel_payload(cid, "general", 0, guild_id=gid)
        if self.has_session_for(gid):
            task = asyncio.get_running_loop().create_task(
                self._dispatch("GUILD_CREATE", self.guild_payload(gid), guild_id=gid)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.notify()
        return gid, cid

    # ---------------------------------------------------------- members talk

    async def send_message(
        self,
        content: str,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        mentions_bot: bool = False,
        attachments: Sequence[FakeAttachment] = (),
        flags: int = 0,
        reference_id: int | None = None,
        mention_author: bool = True,
    ) -> JSON:
        """A member posts a message (MESSAGE_CREATE); returns the full payload.

        ``reference_id`` makes it a reply; like Discord's client, the reply pings the author
        of the replied-to message (who then is in ``mentions``) unless ``mention_author`` is
        False (Resources > Message > "Allowed Mentions Object", ``replied_user``).

        ``mentions_bot`` puts ``<@bot>`` in front of the content unless it is already there.
        Without the Message Content intent the bot gets empty content (unless it is mentioned,
        or it is a DM), as on Discord; the stored message and the return value keep it.
        """
        await self._require_ready()
        uid = user_id or self.user_id
        cid = channel_id or self.channel_id
        if self.channel_payload(cid) is None:
            raise ValueError(f"unknown channel {cid}")
        if self.channels.get(cid, {}).get("type") == GUILD_CATEGORY:
            raise ValueError(f"{cid} is a category: nobody posts in one")
        mention = f"<@{self.bot_user_id}>"
        if mentions_bot and mention not in content:
            content = f"{mention} {content}"
        guild_id = self.guild_of(cid)
        self.before_post(cid, by_bot=False)
        ref: JSON | None = None
        allowed: JSON | None = None
        if reference_id is not None:
            allowed = {"parse": ["users", "roles", "everyone"], "replied_user": mention_author}
            target = self.all_messages[reference_id]
            ref = {"type": 0, "message_id": str(target.id), "channel_id": str(target.channel_id)}
            if target.guild_id:
                ref["guild_id"] = str(target.guild_id)
        msg = FakeMessage(
            id=self.ids.next(),
            channel_id=cid,
            content=content,
            flags=flags,
            attachments=[FakeFile(a.filename, a.content_type, a.data) for a in attachments],
            member_attachments=[self.host_attachment(cid, a) for a in attachments],
            message_reference=ref,
            allowed_mentions=allowed,
            author_id=uid,
            guild_id=guild_id,
            type=19 if ref else 0,
        )
        for att, file in zip(attachments, msg.attachments, strict=True):
            file.id, file.url = att.id, att.url
            file.duration_secs, file.waveform = att.duration_secs, att.waveform
        self.store_message(msg, by_bot=False)
        payload = self.message_payload(msg)
        intent = GUILD_MESSAGES_INTENT if guild_id else DM_MESSAGES_INTENT
        if (self.intents or 0) & intent:
            await self._dispatch("MESSAGE_CREATE", self.gateway_view(payload))
        else:
            log.info("fake Discord: bot lacks the intent for MESSAGE_CREATE in %s", cid)
        return payload

    async def delete_message(self, message_id: int) -> None:
        """A member or moderator deletes a message (MESSAGE_DELETE); replies to it then fail."""
        msg = self.all_messages[message_id]
        msg.deleted = True
        self.notify()
        intent = GUILD_MESSAGES_INTENT if msg.guild_id else DM_MESSAGES_INTENT
        if (self.intents or 0) & intent:
            data: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
            if msg.guild_id:
                data["guild_id"] = str(msg.guild_id)
            await self._dispatch("MESSAGE_DELETE", data)

    # ------------------------------------------------------------ commands

    def _find_command(
        self, name: str, cmd_type: int, guild: bool
    ) -> tuple[JSON | None, int | None]:
        keys: list[int | None] = [self.guild_id, None] if guild else [None]
        for key in keys:
            for cmd in self.commands.get(key, []):
                if cmd["name"] == name and cmd.get("type", 1) == cmd_type:
                    return cmd, key
        return None, None

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        if isinstance(value, FakeAttachment):
            return 11
        return 3

    def _option(
        self, name: str, opt_type: int, value: Any, resolved: JSON, channel_id: int, guild: bool
    ) -> JSON:
        if opt_type in (3, 4, 5, 10):
            cast: dict[int, Any] = {3: str, 4: int, 5: bool, 10: float}
            return {"name": name, "type": opt_type, "value": cast[opt_type](value)}
        if opt_type == 11:
            if not isinstance(value, FakeAttachment):
                raise TypeError(f"option {name!r} is an attachment: pass a FakeAttachment")
            payload = self.host_attachment(channel_id, value)
            resolved.setdefault("attachments", {})[payload["id"]] = payload
            return {"name": name, "type": 11, "value": payload["id"]}
        snowflake = int(getattr(value, "id", value))
        key = str(snowflake)
        if opt_type == 9:
            opt_type = 6 if snowflake in self.users else 8
        if opt_type == 6:
            resolved.setdefault("users", {})[key] = self.users[snowflake]
            if guild and snowflake in self.members:
                member = {
                    **self.members[snowflake],
                    "permissions": str(self.permissions_of(snowflake)),
                }
                resolved.setdefault("members", {})[key] = member
        elif opt_type == 7:
            channel = self.channel_payload(snowflake) or {}
            perms = self.permissions_of(self.user_id)
            resolved.setdefault("channels", {})[key] = {**channel, "permissions": str(perms)}
        elif opt_type == 8:
            resolved.setdefault("roles", {})[key] = self.roles[snowflake]
        return {"name": name, "type": opt_type, "value": key}

    def _interaction_payload(
        self,
        itype: int,
        data: JSON,
        *,
        user_id: int | None,
        channel_id: int | None,
        guild: bool,
        locale: str,
        permissions: int | None,
        installs: str = "guild",
        message: FakeMessage | None = None,
    ) -> JSON:
        uid = user_id or self.user_id
        if uid not in self.users:
            raise ValueError(f"unknown user {uid}: add_member() first")
        if installs not in ("guild", "user"):
            raise ValueError("installs is 'guild' (the server's app) or 'user' (the member's)")
        iid = self.ids.next()
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": f"fake-interaction-{iid}-{secrets.token_hex(16)}",
            "version": 1,
            "locale": locale,
            "app_permissions": str(self.permissions_of(self.bot_user_id)),
            "attachment_size_limit": self.upload_limit,
            "entitlements": [],
            "context": 0 if guild else 1,
        }
        if guild:
            if uid not in self.members:
                raise ValueError(f"user {uid} is not a guild member: add_member() first")
            cid = channel_id or self.channel_id
            channel = self.channels.get(cid) or self.threads.get(cid)
            if channel is None:
                raise ValueError(f"{cid} is not a guild text channel (guild=False for DMs)")
            perms = self.permissions_of(uid) if permissions is None else permissions
            gid = self.guild_of(cid) or self.guild_id
            payload["guild_id"] = str(gid)
            payload["guild"] = {"id": str(gid), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = self.full_member(uid, permissions=perms, guild_id=gid)
            owners = {"0": str(gid)}
            payload["channel"] = {**channel, "permissions": str(perms)}
        else:
            cid = channel_id or self.dm_channel_for(uid)
            payload["user"] = self.users[uid]
            owners = {"0": "0"}
            if cid in self.group_dms:
                if installs != "user":
                    raise ValueError("only a user-installed app's commands run in a group DM")
                payload["context"] = 2
                payload["channel"] = self.group_dm_payload(cid)
            else:
                payload["channel"] = self.dm_channel_payload(cid)
        if installs == "user":  # Interactions > "Authorizing Integration Owners Object"
            owners = {"1": str(uid)}
        payload["authorizing_integration_owners"] = owners
        payload["channel_id"] = str(cid)
        if message is not None:
            payload["message"] = self.message_payload(message)
        return payload

    def _command_data(
        self,
        name: str,
        options: dict[str, Any] | None,
        *,
        guild: bool,
        channel_id: int | None,
        subcommand: str | None,
        attachments: Sequence[FakeAttachment],
        focused: str | None = None,
        cmd_type: int = 1,
    ) -> JSON:
        cmd, key = self._find_command(name, cmd_type, guild)
        if cmd is None:
            log.warning(
                "fake Discord: command %r is not registered; option types are guessed", name
            )
        data: JSON = {
            "id": cmd["id"] if cmd else str(self.ids.next()),
            "name": name,
            "type": cmd_type,
        }
        if key is not None:
            data["guild_id"] = str(key)
        resolved: JSON = {}
        specs: list[JSON] = (cmd or {}).get("options", [])
        path: list[tuple[str, int]] = []
        parts = subcommand.split() if subcommand else []
        for i, part in enumerate(parts):
            spec = next((o for o in specs if o["name"] == part), None)
            path.append((part, spec["type"] if spec else (1 if i == len(parts) - 1 else 2)))
            specs = spec.get("options", []) if spec else []
        values = dict(options or {})
        free = [s["name"] for s in specs if s.get("type") == 11 and s["name"] not in values]
        for att in attachments:
            if not free:
                raise ValueError(f"no attachment option left for {att.filename!r} in {name!r}")
            values[free.pop(0)] = att
        by_name = {s["name"]: s for s in specs}
        cid = channel_id or (self.channel_id if guild else self.dm_channel_id)
        opts: list[JSON] = []
        for opt_name, value in values.items():
            opt_type = by_name[opt_name]["type"] if opt_name in by_name else self._infer_type(value)
            if opt_name == focused:
                opts.append({"name": opt_name, "type": opt_type, "value": value, "focused": True})
            else:
                opts.append(self._option(opt_name, opt_type, value, resolved, cid, guild))
        for part, part_type in reversed(path):
            opts = [{"name": part, "type": part_type, "options": opts}]
        data["options"] = opts
        if resolved:
            data["resolved"] = resolved
        return data

    def _check_reachable(self, cmd: JSON | None, payload: JSON) -> None:
        """Discord's client offers a command only where its ``integration_types`` and
        ``contexts`` allow (both default to guild install, guild and bot DM contexts)."""
        if cmd is None:
            return
        install = 1 if "1" in payload["authorizing_integration_owners"] else 0
        if install not in (cmd.get("integration_types") or [0]):
            raise ValueError(f"{cmd['name']!r} cannot be installed that way ({install})")
        if payload["context"] not in (cmd.get("contexts") or [0, 1]):
            raise ValueError(f"{cmd['name']!r} is not offered in context {payload['context']}")

    async def _send_interaction(self, itype: int, data: JSON, **kw: Any) -> FakeInteraction:
        await self._require_ready()
        payload = self._interaction_payload(itype, data, **kw)
        if itype in (2, 4):
            cmd, _ = self._find_command(data["name"], data.get("type", 1), "guild_id" in payload)
            self._check_reachable(cmd, payload)
        inter = FakeInteraction(self, payload)
        self.interactions.append(inter)
        self.interactions_by_id[inter.id] = inter
        self.interactions_by_token[inter.token] = inter
        await self._dispatch("INTERACTION_CREATE", payload)
        return inter

    async def invoke(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        guild: bool = True,
        locale: str = "en-US",
        permissions: int | None = None,
        attachments: Sequence[FakeAttachment] = (),
        subcommand: str | None = None,
        type: int = 2,
        installs: str = "guild",
    ) -> FakeInteraction:
        """A member runs slash command ``name`` (INTERACTION_CREATE); returns at once.

        Option types come from the registered command (else from the Python values);
        user/channel/role options take ids, attachment options take ``FakeAttachment``s
        (``attachments=`` fills the command's attachment options in order).
        ``subcommand`` may be "sub" or "group sub". Await ``.wait_done()`` for the answer.
        ``installs="user"``: the command of the app the member added to their own account
        (``authorizing_integration_owners`` {"1": user id}); ``channel_id`` may then be a
        group DM (``add_group_dm``, context 2 PRIVATE_CHANNEL).
        """
        data = self._command_data(
            name,
            options,
            guild=guild,
            channel_id=channel_id,
            subcommand=subcommand,
            attachments=attachments,
        )
        kw = {"user_id": user_id, "channel_id": channel_id, "guild": guild, "locale": locale}
        return await self._send_interaction(
            type, data, permissions=permissions, installs=installs, **kw
        )

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        options: dict[str, Any] | None = None,
        *,
        timeout: float = 5.0,
        subcommand: str | None = None,
        **kw: Any,
    ) -> list[JSON]:
        """Autocomplete option ``focused`` (typed so far: ``value``); returns the choices."""
        values = {**(options or {}), focused: value}
        data = self._command_data(
            name,
            values,
            guild=kw.get("guild", True),
            channel_id=kw.get("channel_id"),
            subcommand=subcommand,
            attachments=(),
            focused=focused,
        )
        kw.setdefault("user_id", None)
        kw.setdefault("channel_id", None)
        kw.setdefault("guild", True)
        kw.setdefault("locale", "en-US")
        kw.setdefault("permissions", None)
        inter = await self._send_interaction(4, data, **kw)
        await inter.wait_done(lambda i: i.choices is not None, timeout=timeout)
        return inter.choices or []

    async def _context_menu(
        self, name: str, cmd_type: int, target: int, resolved: JSON, kw: Any
    ) -> FakeInteraction:
        guild = kw.get("guild", True)
        cmd, key = self._find_command(name, cmd_type, guild)
        data: JSON = {
            "id": cmd["id"] if cmd else str(self.ids.next()),
            "name": name,
            "type": cmd_type,
            "target_id": str(target),
            "resolved": resolved,
        }
        if key is not None:
            data["guild_id"] = str(key)
        kw = {
            "user_id": None,
            "channel_id": None,
            "guild": True,
            "locale": "en-US",
            "permissions": None,
            **kw,
        }
        return await self._send_interaction(2, data, **kw)

    # ------------------------------------------------------------ components

    async def press_button(
        self,
        message_id: int,
        custom_id: str,
        *,
        user_id: int | None = None,
        locale: str = "en-US",
        permissions: int | None = None,
        installs: str = "guild",
    ) -> FakeInteraction:
        """A member presses the button ``custom_id`` under a stored message: an interaction of
        type 3 MESSAGE_COMPONENT whose ``data`` is ``{custom_id, component_type: 2}`` and whose
        ``message`` is the message (Interactions > Receiving and Responding > "Interaction
        Object", "Message Component Data Structure"). Only a button the message shows, and not
        disabled, can be pressed (as in Discord's client). The bot may answer with 4 or 5 (a
        new message), 6 DEFERRED_UPDATE_MESSAGE or 7 UPDATE_MESSAGE; after 6 or 7 ``original``
        is the pressed message (``@original`` edits and deletes it)."""
        msg = self.all_messages[message_id]
        if msg.deleted:
            raise ValueError(f"message {message_id} was deleted")
        shown = [c for row in msg.components for c in row.get("components", [])]
        button = next((c for c in shown if c.get("custom_id") == custom_id), None)
        if button is None or button.get("type") != 2 or button.get("disabled"):
            ids = [c.get("custom_id") for c in shown]
            raise ValueError(f"message {message_id} shows no button {custom_id!r} (it has {ids})")
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._send_interaction(
            3,
            data,
            user_id=user_id,
            channel_id=msg.channel_id,
            guild=msg.guild_id is not None,
            locale=locale,
            permissions=permissions,
            installs=installs,
            message=msg,
        )

    def add_group_dm(self, *user_ids: int) -> int:
        """A group DM of members; the bot is not in it (a user-installed app still answers
        there, through its interactions only: its REST calls to the channel get 403)."""
        cid = self.ids.next()
        self.group_dms[cid] = list(user_ids) or [self.user_id]
        return cid

    def group_dm_payload(self, channel_id: int) -> JSON:
        users = self.group_dms[channel_id]
        return {
            "id": str(channel_id),
            "type": 3,
            "name": None,
            "icon": None,
            "owner_id": str(users[0]),
            "recipients": [self.users[u] for u in users],
            "last_message_id": None,
            "flags": 0,
        }

    async def invoke_message_command(
        self, name: str, message_id: int, **kw: Any
    ) -> FakeInteraction:
        """Message context menu ``name`` on a stored message (the bot's or a member's)."""
        msg = self.all_messages[message_id]
        kw.setdefault("channel_id", msg.channel_id)
        kw.setdefault("guild", msg.guild_id is not None)
        resolved = {"messages": {str(msg.id): self.message_payload(msg)}}
        return await self._context_menu(name, 3, message_id, resolved, kw)

    async def invoke_user_command(
        self, name: str, target_user_id: int, **kw: Any
    ) -> FakeInteraction:
        """User context menu ``name`` on ``target_user_id``."""
        resolved: JSON = {}
        self._option("user", 6, target_user_id, resolved, self.channel_id, kw.get("guild", True))
        return await self._context_menu(name, 2, target_user_id, resolved, kw)
