"""Threads: created by members or the bot, posted in like channels, archived and unarchived.

Sources (Discord developer docs): Topics > Threads; Resources > Channel > "Start Thread from
Message", "Start Thread without Message", "Modify Channel" (thread fields), "Thread Metadata
Object"; Events > Gateway Events > "Thread Create" / "Thread Update".

- A public thread is a channel of type 11 with ``parent_id``, ``owner_id`` and
  ``thread_metadata`` (``archived``, ``auto_archive_duration``, ``archive_timestamp``,
  ``locked``, ``create_timestamp``); active threads come in GUILD_CREATE's ``threads``.
- Starting one answers the thread channel and sends THREAD_CREATE (``newly_created``); a
  thread started from a message has the message's id as its own.
- Modify Channel changes ``name``, ``archived``, ``locked``, ``auto_archive_duration`` and
  sends THREAD_UPDATE.
- "Sending a message in an archived thread unarchives it" unless it is locked; then only
  members with Manage Threads may (the fake's bot has it): others get 400 50083 "Operation
  not allowed on an archived thread".
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from ._messages import DiscordError, Files, MessagesMixin
from ._models import JSON, now_iso

PUBLIC_THREAD = 11
ARCHIVED_THREAD = 50083


class ThreadsMixin(MessagesMixin):
    def thread_payload(
        self, thread_id: int, name: str, parent_id: int, owner_id: int, duration_min: int = 1440
    ) -> JSON:
        now = now_iso()
        return {
            "id": str(thread_id),
            "type": PUBLIC_THREAD,
            "guild_id": str(self.guild_of(parent_id) or self.guild_id),
            "parent_id": str(parent_id),
            "owner_id": str(owner_id),
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": duration_min,
                "archive_timestamp": now,
                "locked": False,
                "create_timestamp": now,
            },
        }

    def start_thread(
        self,
        name: str,
        *,
        channel_id: int | None = None,
        message_id: int | None = None,
        owner_id: int | None = None,
    ) -> int:
        """A public thread under ``channel_id`` (from ``message_id`` if given); THREAD_CREATE."""
        parent = channel_id or self.channel_id
        if parent not in self.channels:
            raise ValueError(f"{parent} is not a text channel of the guild")
        thread_id = message_id or self.ids.next()
        payload = self.thread_payload(thread_id, name, parent, owner_id or self.user_id)
        self.threads[thread_id] = payload
        self._later("THREAD_CREATE", {**payload, "newly_created": True})
        self.notify()
        return thread_id

    def set_archived(self, thread_id: int, archived: bool, *, locked: bool = False) -> None:
        """Archive (or unarchive) a thread, as Discord does after its inactivity timeout."""
        meta = self.threads[thread_id]["thread_metadata"]
        meta.update(archived=archived, locked=locked, archive_timestamp=now_iso())
        self._later("THREAD_UPDATE", self.threads[thread_id])
        self.notify()

    def _later(self, event: str, data: JSON) -> None:  # implemented by InteractionsMixin
        raise NotImplementedError

    def before_post(self, channel_id: int, *, by_bot: bool) -> None:
        """A message is about to be posted in ``channel_id``: unarchive a thread, or refuse."""
        thread = self.threads.get(channel_id)
        if thread is None or not thread["thread_metadata"]["archived"]:
            return
        if thread["thread_metadata"]["locked"] and not by_bot:
            raise DiscordError(400, ARCHIVED_THREAD, "Operation not allowed on an archived thread")
        self.set_archived(channel_id, False)

    async def _start_thread(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        parent = int(m.group(1))
        if parent not in self.channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise DiscordError(400, 50035, "Invalid Form Body")
        message_id = int(m.group(2)) if m.lastindex and m.lastindex >= 2 else None
        if message_id is not None:
            msg = self.all_messages.get(message_id)
            if msg is None or msg.deleted or msg.channel_id != parent:
                raise DiscordError(404, 10008, "Unknown Message")
            if message_id in self.threads:
                raise DiscordError(
                    400, 160004, "A thread has already been created for this message"
                )
        thread_id = message_id or self.ids.next()
        payload = self.thread_payload(
            thread_id,
            name,
            parent,
            self.bot_user_id,
            int(body.get("auto_archive_duration") or 1440),
        )
        self.threads[thread_id] = payload
        await self._dispatch("THREAD_CREATE", {**payload, "newly_created": True})
        self.notify()
        return _json(payload, 201)

    async def _edit_channel(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        cid = int(m.group(1))
        thread = self.threads.get(cid)
        if thread is None:
            raise DiscordError(404, 10003, "Unknown Channel")  # only threads are modelled
        meta = thread["thread_metadata"]
        if "name" in body:
            thread["name"] = body["name"]
        for key in ("archived", "locked", "auto_archive_duration"):
            if key in body:
                meta[key] = body[key]
        if "archived" in body:
            meta["archive_timestamp"] = now_iso()
        await self._dispatch("THREAD_UPDATE", thread)
        self.notify()
        return _json(thread)


def _json(data: JSON, status: int = 200) -> web.Response:
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})
