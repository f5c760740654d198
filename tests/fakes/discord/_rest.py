"""The fake REST API (and CDN): routing, rate-limit headers, injected 429s, route handlers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from ._limits import FormErrors, check_commands
from ._messages import DiscordError, Files
from ._models import (
    EPHEMERAL,
    JSON,
    LOADING,
    FakeFile,
    FakeInteraction,
    FakeMessage,
    sniff_content_type,
)
from ._ratelimits import Budget, RateLimiter, bucket_hash
from ._state import log
from ._threads import ThreadsMixin

#: Interactions > Receiving and Responding > Followup Messages: an app that is installed only
#: on the member's account (not in the server) may send 5 follow-ups per interaction; more get
#: 400 40094 "This interaction has hit the maximum number of follow up messages".
USER_INSTALL_MAX_FOLLOWUPS = 5

Handler = Callable[[web.Request, "re.Match[str]", JSON, Files], Awaitable[web.StreamResponse]]


@dataclass
class _RateRule:
    method: str
    path: re.Pattern[str]
    times: int
    retry_after: float


class RestMixin(ThreadsMixin):
    def _init_rest(self) -> None:
        self._rate_rules: list[_RateRule] = []
        #: per-route buckets with Discord's budgets and headers (see ``_ratelimits``)
        self.limiter = RateLimiter()
        self.typing: list[int] = []  # channel ids the bot sent "typing" to
        S, T = r"(\d+)", r"([^/]+)"  # a snowflake, a token
        routes: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/oauth2/applications/@me", self._get_app, True),
            ("GET", r"/applications/@me", self._get_app, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway, True),
            ("PUT", rf"/applications/{S}/commands", self._put_commands, True),
            ("GET", rf"/applications/{S}/commands", self._get_commands, True),
            ("PUT", rf"/applications/{S}/guilds/{S}/commands", self._put_commands, True),
            ("GET", rf"/applications/{S}/guilds/{S}/commands", self._get_commands, True),
            ("POST", rf"/interactions/{S}/{T}/callback", self._callback, False),
            ("POST", rf"/webhooks/{S}/{T}", self._followup, False),
            ("GET", rf"/webhooks/{S}/{T}/messages/(@original|\d+)", self._webhook_get, False),
            ("PATCH", rf"/webhooks/{S}/{T}/messages/(@original|\d+)", self._webhook_edit, False),
            ("DELETE", rf"/webhooks/{S}/{T}/messages/(@original|\d+)", self._webhook_delete, False),
            ("POST", rf"/channels/{S}/messages", self._post_message, True),
            ("GET", rf"/channels/{S}/messages", self._history, True),
            ("GET", rf"/channels/{S}/messages/{S}", self._get_message, True),
            ("PATCH", rf"/channels/{S}/messages/{S}", self._edit_message, True),
            ("DELETE", rf"/channels/{S}/messages/{S}", self._delete_message, True),
            ("PUT", rf"/channels/{S}/messages/{S}/reactions/([^/]+)/@me", self._react, True),
            ("DELETE", rf"/channels/{S}/messages/{S}/reactions/([^/]+)/@me", self._unreact, True),
            ("POST", rf"/channels/{S}/typing", self._typing, True),
            ("POST", rf"/channels/{S}/messages/{S}/threads", self._start_thread, True),
            ("POST", rf"/channels/{S}/threads", self._start_thread, True),
            ("PATCH", rf"/channels/{S}", self._edit_channel, True),
            ("GET", rf"/channels/{S}", self._get_channel, True),
            ("POST", r"/users/@me/channels", self._open_dm, True),
            ("GET", rf"/users/{S}", self._get_user, True),
            ("GET", rf"/guilds/{S}/members/{S}", self._get_member, True),
            ("GET", rf"/guilds/{S}/channels", self._get_guild_channels, True),
            ("GET", rf"/guilds/{S}", self._get_guild, True),
        ]
        self._routes = [(m, re.compile(p), h, a) for m, p, h, a in routes]

    def rate_limit(self, method: str, path_regex: str, times: int, retry_after: float) -> None:
        """Answer the next ``times`` calls matching ``method`` (or "*") and ``path_regex``
        (``re.search`` on the path after ``/api/v10``) with 429, then let them through."""
        self._rate_rules.append(
            _RateRule(method.upper(), re.compile(path_regex), times, retry_after)
        )

    def set_budget(self, bucket: str, limit: int, per_s: float) -> None:
        """Give a rate-limit bucket (a name in ``_ratelimits.ROUTES``, e.g. "message-edit")
        another budget: ``limit`` requests per ``per_s`` seconds per top-level resource."""
        if bucket not in self.limiter.budgets:
            raise KeyError(f"unknown bucket {bucket!r}: one of {sorted(self.limiter.budgets)}")
        self.limiter.budgets[bucket] = Budget(limit, per_s)

    @contextlib.contextmanager
    def budget(self, bucket: str, limit: int, per_s: float) -> Iterator[None]:
        """``set_budget`` for the block only; the bucket's previous budget comes back after."""
        before = self.limiter.budgets[bucket]
        self.set_budget(bucket, limit, per_s)
        try:
            yield
        finally:
            self.limiter.budgets[bucket] = before

    # ------------------------------------------------------------ plumbing

    @staticmethod
    def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        hdrs = {**(headers or {}), "Content-Type": "application/json"}
        return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        match = re.match(r"^/api/v\d+(/.*)$", request.path)
        path = match.group(1) if match else request.path
        method = request.method
        self.requests.append((method, path))
        if request.transport is not None:
            self.connections.add(request.transport.get_extra_info("peername")[:2])
        self.notify()
        if self.response_delay_s:
            await asyncio.sleep(self.response_delay_s)
        injected: float | None = None
        for rule in self._rate_rules:
            if rule.times > 0 and rule.method in ("*", method) and rule.path.search(path):
                rule.times -= 1
                injected = rule.retry_after
                break
        if injected is not None:
            name = self.limiter.classify(method, path)[0]
            refusal: JSON | None = {
                "message": "You are being rate limited.",
                "retry_after": injected,
                "global": False,
            }
            headers = {
                "X-RateLimit-Limit": "1",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + injected:.3f}",
                "X-RateLimit-Reset-After": f"{injected:.3f}",
                "X-RateLimit-Bucket": bucket_hash(name),
                "Retry-After": str(max(1, math.ceil(injected))),
                "X-RateLimit-Scope": "user",
            }
        else:
            verdict = self.limiter.check(method, path)
            headers, refusal = verdict.headers, verdict.refused
        if refusal is not None:
            self.rate_limited.append((method, path))
            # discord.py honours a 429 only when it carries Via (else: a Cloudflare ban)
            return self._json(refusal, 429, {**headers, "Via": "1.1 google"})
        for r_method, pattern, handler, auth in self._routes:
            found = pattern.fullmatch(path)
            if r_method != method or found is None:
                continue
            if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return self._json({"message": "401: Unauthorized", "code": 0}, 401, headers)
            try:
                body, files = await self._read_body(request)
                response = await handler(request, found, body, files)
            except DiscordError as exc:
                err: JSON = {"message": exc.message, "code": exc.code}
                if exc.errors:
                    err["errors"] = exc.errors
                log.info("fake Discord: %s %s -> %s %s", method, path, exc.status, exc.message)
                return self._json(err, exc.status, headers)
            except (
                Exception
            ) as exc:  # a bug in the fake: loud, but no 5xx (discord.py retries those)
                log.exception("fake Discord: error in %s %s", method, path)
                self.errors.append(f"{method} {path}: {exc!r}")
                return self._json(
                    {"message": f"fake Discord error: {exc!r}", "code": 0}, 400, headers
                )
            response.headers.update(headers)
            self.notify()
            return response
        log.warning("fake Discord: UNHANDLED route %s %s", method, path)
        self.unhandled.append((method, path))
        message = f"404: Not Found (the fake Discord has no route {method} {path})"
        return self._json({"message": message, "code": 0}, 404, headers)

    async def _read_body(self, request: web.Request) -> tuple[JSON, Files]:
        if not request.body_exists:
            return {}, {}
        if not request.content_type.startswith("multipart/"):
            raw = await request.read()
            try:
                return (json.loads(raw) if raw.strip() else {}), {}
            except ValueError:
                raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None
        payload: JSON = {}
        files: Files = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            data = bytes(await part.read(decode=True))
            if part.name == "payload_json":
                payload = json.loads(data)
            elif part.name and (m := re.fullmatch(r"files\[(\d+)\]", part.name)):
                filename = part.filename or f"file{m.group(1)}"
                content_type = sniff_content_type(filename, data, part.headers.get("Content-Type"))
                if len(data) > self.upload_limit:
                    raise DiscordError(413, 40005, "Request entity too large")
                files[int(m.group(1))] = FakeFile(filename, content_type, data)
        return payload, files

    # ----------------------------------------------------------- handlers

    async def _get_me(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        return self._json(
            {**self.users[self.bot_user_id], "verified": True, "mfa_enabled": False, "flags": 0}
        )

    async def _get_app(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        return self._json(
            {
                "id": str(self.application_id),
                "name": "nexbot-test",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.users[self.user_id],
                "verify_key": "0" * 64,
                "flags": 0,
                "bot": self.users[self.bot_user_id],
                "interactions_endpoint_url": None,
            }
        )

    async def _get_gateway(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        """Get Gateway / Get Gateway Bot (Topics > Gateway): the URL, the recommended shard
        count and the session start limit (see ``_shards``)."""
        if m.group(0).endswith("/bot"):
            limit = self.identify_limit
            return self._json(
                {
                    "url": self.gateway_url,
                    "shards": limit.recommended_shards,
                    "session_start_limit": limit.session_start_limit(),
                }
            )
        return self._json({"url": self.gateway_url})

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise DiscordError(
                403, 20012, "You are not authorized to perform this action on this application"
            )

    async def _put_commands(
        self, request: web.Request, m: re.Match[str], body: Any, files: Files
    ) -> web.Response:
        self._check_app(m.group(1))
        errors = FormErrors()
        check_commands(body, errors)
        if errors:
            raise DiscordError(400, 50035, "Invalid Form Body", errors.errors)
        guild = int(m.group(2)) if m.lastindex and m.lastindex >= 2 else None
        old = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(guild, [])}
        stored: list[JSON] = []
        for cmd in body:
            full = {"type": 1, "description": "", "options": [], **cmd}
            full["id"] = old.get((full["name"], full["type"])) or str(self.ids.next())
            full["application_id"] = str(self.application_id)
            full["version"] = str(self.ids.next())
            if guild is not None:
                full["guild_id"] = str(guild)
            stored.append(full)
        self.commands[guild] = stored
        self.command_syncs += 1
        return self._json(stored)

    async def _get_commands(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        self._check_app(m.group(1))
        guild = int(m.group(2)) if m.lastindex and m.lastindex >= 2 else None
        return self._json(self.commands.get(guild, []))

    async def _callback(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        inter = self.interactions_by_id.get(int(m.group(1)))
        if inter is None or inter.token != m.group(2):
            raise DiscordError(404, 10062, "Unknown interaction")
        if inter.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        limit = self.interaction_response_timeout
        if limit is not None and asyncio.get_running_loop().time() - inter.created > limit:
            raise DiscordError(404, 10062, "Unknown interaction")
        cb_type = int(body.get("type", 0))
        data = body.get("data") or {}
        info: JSON = {"id": str(inter.id), "type": inter.type}
        result: JSON = {"interaction": info}
        msg: FakeMessage | None = None
        if cb_type == 4:
            msg = self._create_bot_message(inter.channel_id, data, files, interaction=inter)
        elif cb_type == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            msg = self._create_bot_message(
                inter.channel_id, {}, {}, interaction=inter, extra_flags=flags, creating=False
            )
            inter.deferred = True
            inter.deferred_ephemeral = bool(flags & EPHEMERAL)
        elif cb_type in (6, 7) and inter.payload.get("message"):
            # DEFERRED_UPDATE_MESSAGE / UPDATE_MESSAGE: the response is the pressed message
            target = self.all_messages.get(int(inter.payload["message"]["id"]))
            if target is None or target.deleted:
                raise DiscordError(404, 10008, "Unknown Message")
            inter.original = target
            if cb_type == 7:
                self._apply_edit(target, data, files)
                await self._echo(target, "MESSAGE_UPDATE")
                result["resource"] = {"type": 7, "message": self.message_payload(target)}
        elif cb_type in (6, 7):
            raise DiscordError(400, 50035, "Invalid Form Body")  # only for component interactions
        inter.callbacks.append(body)
        if msg is not None:
            inter.original = msg
            info["response_message_id"] = str(msg.id)
            info["response_message_loading"] = msg.loading
            info["response_message_ephemeral"] = msg.ephemeral
            result["resource"] = {"type": cb_type, "message": self.message_payload(msg)}
            await self._echo(msg, "MESSAGE_CREATE")
        result.setdefault("resource", {"type": cb_type})
        self.notify()
        return self._json(result)

    def _interaction_for(self, request: web.Request, app_id: str, token: str) -> FakeInteraction:
        inter = self.interactions_by_token.get(token)
        if int(app_id) != self.application_id or inter is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        if asyncio.get_running_loop().time() - inter.created > self.interaction_token_ttl:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        if not inter.callbacks:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return inter

    async def _followup(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        inter = self._interaction_for(request, m.group(1), m.group(2))
        original = inter.original
        if (
            original is not None
            and original.loading
            and not original.deleted
            and not inter.followups
        ):
            # the first follow-up after a defer replaces the "thinking" message
            self._apply_edit(original, {k: v for k, v in body.items() if k != "flags"}, files)
            msg = original
            await self._echo(msg, "MESSAGE_UPDATE")
        else:
            owners = inter.payload.get("authorizing_integration_owners", {})
            created = [m for m in inter.followups if m is not inter.original]
            if "0" not in owners and len(created) >= USER_INSTALL_MAX_FOLLOWUPS:
                raise DiscordError(
                    400, 40094, "This interaction has hit the maximum number of follow up messages"
                )
            msg = self._create_bot_message(inter.channel_id, body, files, interaction=inter)
            await self._echo(msg, "MESSAGE_CREATE")
        inter.followups.append(msg)
        self.notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return self._json(self.message_payload(msg))
        return web.Response(status=204)

    def _webhook_message(self, inter: FakeInteraction, which: str) -> FakeMessage:
        if which == "@original":
            msg = inter.original
        else:
            msg = next((x for x in inter.messages if x.id == int(which)), None)
        if msg is None or msg.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _webhook_get(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        inter = self._interaction_for(request, m.group(1), m.group(2))
        return self._json(self.message_payload(self._webhook_message(inter, m.group(3))))

    async def _webhook_edit(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        inter = self._interaction_for(request, m.group(1), m.group(2))
        msg = self._webhook_message(inter, m.group(3))
        self._apply_edit(msg, body, files)
        await self._echo(msg, "MESSAGE_UPDATE")
        return self._json(self.message_payload(msg))

    async def _webhook_delete(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        inter = self._interaction_for(request, m.group(1), m.group(2))
        msg = self._webhook_message(inter, m.group(3))
        msg.deleted = True
        await self._echo(msg, "MESSAGE_DELETE")
        return web.Response(status=204)

    def _channel(self, channel_id: str) -> int:
        cid = int(channel_id)
        if cid in self.group_dms:  # the bot is not in members' group DMs
            raise DiscordError(403, 50001, "Missing Access")
        if self.channel_payload(cid) is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return cid

    def _channel_message(self, channel_id: str, message_id: str) -> FakeMessage:
        cid = self._channel(channel_id)
        msg = self.all_messages.get(int(message_id))
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != cid:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _post_message(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        cid = self._channel(m.group(1))
        self.before_post(cid, by_bot=True)
        msg = self._create_bot_message(cid, body, files)
        await self._echo(msg, "MESSAGE_CREATE")
        return self._json(self.message_payload(msg))

    async def _history(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        cid = self._channel(m.group(1))
        q = request.query
        msgs = [
            x
            for x in self.all_messages.values()
            if x.channel_id == cid and not x.deleted and not x.ephemeral
        ]
        if "before" in q:
            msgs = [x for x in msgs if x.id < int(q["before"])]
        if "after" in q:
            msgs = [x for x in msgs if x.id > int(q["after"])]
        msgs.sort(key=lambda x: x.id, reverse=True)
        if "after" in q:  # the oldest ones after the id, newest first
            msgs = msgs[-int(q.get("limit", 50)) :]
        return self._json([self.message_payload(x) for x in msgs[: int(q.get("limit", 50))]])

    async def _get_message(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        return self._json(self.message_payload(self._channel_message(m.group(1), m.group(2))))

    async def _edit_message(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        msg = self._channel_message(m.group(1), m.group(2))
        if msg.author_id != self.bot_user_id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(msg, body, files)
        await self._echo(msg, "MESSAGE_UPDATE")
        return self._json(self.message_payload(msg))

    async def _delete_message(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        msg = self._channel_message(m.group(1), m.group(2))
        msg.deleted = True
        await self._echo(msg, "MESSAGE_DELETE")
        return web.Response(status=204)

    async def _react(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        msg = self._channel_message(m.group(1), m.group(2))
        emoji = unquote(m.group(3))
        if emoji not in msg.reactions:
            msg.reactions.append(emoji)
        return web.Response(status=204)

    async def _unreact(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        msg = self._channel_message(m.group(1), m.group(2))
        emoji = unquote(m.group(3))
        if emoji in msg.reactions:
            msg.reactions.remove(emoji)
        return web.Response(status=204)

    async def _typing(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        self.typing.append(self._channel(m.group(1)))
        return web.Response(status=204)

    async def _get_channel(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        return self._json(self.channel_payload(self._channel(m.group(1))))

    async def _open_dm(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        user_id = int(body.get("recipient_id", 0))
        if user_id not in self.users:
            raise DiscordError(400, 50035, "Invalid Form Body")
        return self._json(self.dm_channel_payload(self.dm_channel_for(user_id)))

    async def _get_user(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        user = self.users.get(int(m.group(1)))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return self._json(user)

    def _check_guild(self, guild_id: str) -> None:
        if int(guild_id) not in self.guild_ids():
            raise DiscordError(404, 10004, "Unknown Guild")

    async def _get_member(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        self._check_guild(m.group(1))
        if int(m.group(2)) not in self.members:
            raise DiscordError(404, 10007, "Unknown Member")
        return self._json(self.full_member(int(m.group(2)), guild_id=int(m.group(1))))

    async def _get_guild_channels(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        self._check_guild(m.group(1))
        return self._json(self.guild_channels(int(m.group(1))))

    async def _get_guild(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        self._check_guild(m.group(1))
        guild = self.guild_payload(int(m.group(1)))
        for key in ("members", "channels", "threads", "presences", "voice_states"):
            guild.pop(key)
        return self._json(guild)

    async def _cdn_handler(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("GET", request.path))
        item = self.cdn.get(request.path)
        if item is None:
            return web.Response(status=404, text="Not Found")
        data, content_type = item
        return web.Response(body=data, headers={"Content-Type": content_type})
