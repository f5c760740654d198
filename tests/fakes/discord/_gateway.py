"""The fake gateway: HELLO, IDENTIFY -> READY + GUILD_CREATEs, heartbeats, RESUME, dispatch;
one session per shard (see ``_shards`` for Discord's sharding rules)."""

# ruff: noqa: ASYNC109 - the public API takes timeouts, as the tests that use it expect

from __future__ import annotations

import asyncio
import json
import uuid
import zlib
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from ._models import JSON
from ._shards import INVALID_SHARD, IdentifyLimit, IdentifyViolation, shard_of
from ._state import GUILD_MEMBERS_INTENT, FakeState, log

HEARTBEAT_INTERVAL_MS = 41250


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.zlib = zlib.compressobj() if compress == "zlib-stream" else None

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload)
        if self.zlib is not None:
            data = self.zlib.compress(text.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)


@dataclass
class _Session:
    """One shard's gateway session: what a RESUME continues."""

    shard_id: int
    session_id: str
    conn: _Connection | None
    seq: int = 0
    event_log: list[JSON] = field(default_factory=list)  # dispatches, replayed on RESUME


class GatewayMixin(FakeState):
    """Gateway state: one session per shard, each with a replayable event log.

    A bot that identifies without ``shard`` is shard 0 of 1. ``shard_count`` is the count of
    the latest IDENTIFY (every process of one bot must use the same).
    """

    def _init_gateway(self) -> None:
        self.sessions: dict[int, _Session] = {}  # shard id -> its session
        self.shard_count: int = 1
        #: ``GET /gateway/bot``'s answer and Discord's identify rules (see ``_shards``)
        self.identify_limit = IdentifyLimit()
        self.identifies: int = 0
        self.resumes: int = 0
        self.gateway_connections: list[str] = []  # URL paths + queries the bot connected to
        self._sockets: set[web.WebSocketResponse] = set()
        self._send_lock = asyncio.Lock()

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume"

    @property
    def connected(self) -> bool:
        """True while the bot has a live, identified or resumed connection on every shard
        that has a session."""
        return bool(self.sessions) and all(s.conn is not None for s in self.sessions.values())

    @property
    def session_id(self) -> str | None:
        """Shard 0's session id (None before the bot identified)."""
        session = self.sessions.get(0)
        return session.session_id if session else None

    @property
    def identify_violations(self) -> list[IdentifyViolation]:
        """IDENTIFYs refused for breaking the identify rate limit (expected: none)."""
        return self.identify_limit.violations

    def shard_of(self, guild_id: int | None) -> int:
        """The shard that receives the events of ``guild_id`` (None: DMs, shard 0)."""
        return shard_of(guild_id, self.shard_count)

    def has_session_for(self, guild_id: int | None) -> bool:
        return self.shard_of(guild_id) in self.sessions

    # --------------------------------------------------------------- dispatch

    async def _dispatch(
        self, event: str, data: JSON, *, guild_id: int | None = None, shard_id: int | None = None
    ) -> None:
        """Send a DISPATCH to ``shard_id``, else to the shard of ``guild_id`` (else of
        ``data["guild_id"]``; DMs and events without a guild: shard 0); buffered for RESUME
        while that shard is disconnected."""
        if shard_id is None:
            if guild_id is None and data.get("guild_id"):
                guild_id = int(data["guild_id"])
            shard_id = self.shard_of(guild_id)
        session = self.sessions.get(shard_id)
        if session is None:
            raise RuntimeError(
                f"fake Discord: no gateway session on shard {shard_id} to send {event} to"
                " (bot not ready?)"
            )
        async with self._send_lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.event_log.append(frame)
            if session.conn is not None:
                try:
                    await session.conn.send(frame)
                except (ConnectionError, RuntimeError) as exc:  # replayed on RESUME
                    log.debug("fake gateway: could not send %s: %s", event, exc)
        self.notify()

    async def _require_ready(self, timeout: float = 5.0) -> None:
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), timeout)
            except TimeoutError:
                raise RuntimeError(
                    "fake Discord: the bot never connected (await run_bot first)"
                ) from None

    # ------------------------------------------------------------- websocket

    async def _gateway_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        self.gateway_connections.append(request.path_qs)
        conn = _Connection(ws, request.query.get("compress"))
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    await self._gateway_op(conn, json.loads(msg.data))
                except Exception as exc:
                    log.exception("fake gateway: error handling %r", msg.data[:200])
                    self.errors.append(f"gateway: {exc!r}")
                self.notify()
        finally:
            self._sockets.discard(ws)
            for shard_id, session in list(self.sessions.items()):
                if session.conn is conn:
                    session.conn = None
                    if ws.close_code == 1000:  # the bot closed on purpose: its session ends
                        del self.sessions[shard_id]
            if not self.sessions:
                self.ready.clear()
            self.notify()
        return ws

    async def _gateway_op(self, conn: _Connection, msg: JSON) -> None:
        op, data = msg.get("op"), msg.get("d")
        if op == 1:  # heartbeat
            async with self._send_lock:
                await conn.send({"op": 11})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op == 8:
            await self._request_members(data or {})
        elif op in (3, 4):  # presence / voice state: accepted, ignored
            pass
        else:
            log.warning("fake gateway: unknown op %r", op)

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, shard_count = (int(n) for n in data.get("shard") or (0, 1))
        if not 0 <= shard_id < shard_count:
            await conn.ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        if not self.identify_limit.admit(shard_id):
            log.warning("fake gateway: shard %s identified too soon: INVALID_SESSION", shard_id)
            async with self._send_lock:
                await conn.send({"op": 9, "d": False})
            return
        self.identifies += 1
        self.shard_count = shard_count
        self.intents = int(data.get("intents", 0))
        async with self._send_lock:
            session = _Session(shard_id, uuid.uuid4().hex, conn)
            self.sessions[shard_id] = session
        guilds = [gid for gid in self.guild_ids() if self.shard_of(gid) == shard_id]
        ready: JSON = {
            "v": 10,
            "user": {
                **self.users[self.bot_user_id],
                "verified": True,
                "mfa_enabled": False,
                "flags": 0,
            },
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.resume_gateway_url,
            "session_type": "normal",
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
        }
        if data.get("shard"):
            ready["shard"] = data["shard"]
        await self._dispatch("READY", ready, shard_id=shard_id)
        for gid in guilds:
            await self._dispatch("GUILD_CREATE", self.guild_payload(gid), guild_id=gid)
        self.ready.set()
        self.notify()

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        session = next(
            (s for s in self.sessions.values() if s.session_id == data.get("session_id")), None
        )
        if data.get("token") != self.token or session is None:
            async with self._send_lock:
                await conn.send({"op": 9, "d": False})
            return
        last = int(data.get("seq") or 0)
        async with self._send_lock:
            for frame in session.event_log:
                if frame["s"] > last:
                    await conn.send(frame)
            session.seq += 1
            frame = {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}}
            session.event_log.append(frame)
            await conn.send(frame)
            session.conn = conn
        self.resumes += 1
        self.notify()

    async def _request_members(self, data: JSON) -> None:
        guild_id = int(data.get("guild_id") or self.guild_id)
        ids = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            self.full_member(uid, guild_id=guild_id)
            for uid in self.members
            if (not ids or uid in ids) and self.users[uid]["username"].lower().startswith(query)
        ]
        chunk: JSON = {
            "guild_id": str(guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # ----------------------------------------------------------- public API

    async def disconnect_gateway(
        self, resume: bool = True, *, shard_id: int = 0, timeout: float = 10.0
    ) -> None:
        """Drop one shard's gateway connection and wait until it is back.

        ``resume=True`` closes the socket with 4000: discord.py reconnects at once to
        ``resume_gateway_url`` and RESUMEs (missed events are replayed; no identify is spent).
        ``resume=False`` sends INVALID_SESSION (d=false): discord.py IDENTIFYs again on
        ``/gateway``, but only after its ``before_identify_hook`` (5 s by default; override it
        on the bot to be fast) and only once the identify window allows it.
        """
        session = self.sessions.get(shard_id)
        conn = session.conn if session else None
        if session is None or conn is None:
            raise RuntimeError(f"fake Discord: the bot is not connected on shard {shard_id}")
        if resume:
            before = self.resumes
            async with self._send_lock:
                session.conn = None
            await conn.ws.close(code=4000, message=b"fake disconnect")
            await self.wait_for(
                lambda: self.resumes > before and self.connected, timeout, what="(RESUME)"
            )
        else:
            before = self.identifies
            async with self._send_lock:
                del self.sessions[shard_id]
                if not self.sessions:
                    self.ready.clear()
                await conn.send({"op": 9, "d": False})
            await self.wait_for(
                lambda: self.identifies > before and shard_id in self.sessions,
                timeout,
                what="(re-IDENTIFY)",
            )

    async def _close_gateway(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake Discord shutting down")
        for session in self.sessions.values():
            session.conn = None

    def _member_added(self) -> bool:
        return bool((self.intents or 0) & GUILD_MEMBERS_INTENT)
