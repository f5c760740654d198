"""The fake gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatch."""

# ruff: noqa: ASYNC109 - the public API takes timeouts, as the tests that use it expect

from __future__ import annotations

import asyncio
import json
import uuid
import zlib

from aiohttp import WSMsgType, web

from ._models import JSON
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


class GatewayMixin(FakeState):
    """Gateway state: one session at a time, with a replayable event log."""

    def _init_gateway(self) -> None:
        self.session_id: str | None = None
        self.seq: int = 0
        self.event_log: list[JSON] = []  # dispatches of the current session (for RESUME)
        self.identifies: int = 0
        self.resumes: int = 0
        self.gateway_connections: list[str] = []  # URL paths + queries the bot connected to
        self._conn: _Connection | None = None
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
        """True while the bot has a live, identified or resumed gateway connection."""
        return self._conn is not None

    # --------------------------------------------------------------- dispatch

    async def _dispatch(self, event: str, data: JSON) -> None:
        """Send a DISPATCH to the bot (buffered for RESUME while it is disconnected)."""
        if self.session_id is None:
            raise RuntimeError(
                f"fake Discord: no gateway session to send {event} to (bot not ready?)"
            )
        async with self._send_lock:
            self.seq += 1
            frame = {"op": 0, "t": event, "s": self.seq, "d": data}
            self.event_log.append(frame)
            if self._conn is not None:
                try:
                    await self._conn.send(frame)
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
            if self._conn is conn:
                self._conn = None
                if ws.close_code == 1000:  # the bot closed on purpose: its session ends
                    self.ready.clear()
                    self.session_id = None
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
        self.ready.clear()
        self.identifies += 1
        self.intents = int(data.get("intents", 0))
        async with self._send_lock:
            self.session_id = uuid.uuid4().hex
            self.seq = 0
            self.event_log = []
            self._conn = conn
        ready: JSON = {
            "v": 10,
            "user": {
                **self.users[self.bot_user_id],
                "verified": True,
                "mfa_enabled": False,
                "flags": 0,
            },
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": self.session_id,
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
        await self._dispatch("READY", ready)
        await self._dispatch("GUILD_CREATE", self.guild_payload())
        self.ready.set()
        self.notify()

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        if data.get("token") != self.token or data.get("session_id") != self.session_id:
            async with self._send_lock:
                await conn.send({"op": 9, "d": False})
            return
        last = int(data.get("seq") or 0)
        async with self._send_lock:
            for frame in self.event_log:
                if frame["s"] > last:
                    await conn.send(frame)
            self.seq += 1
            frame = {"op": 0, "t": "RESUMED", "s": self.seq, "d": {}}
            self.event_log.append(frame)
            await conn.send(frame)
            self._conn = conn
        self.resumes += 1
        self.notify()

    async def _request_members(self, data: JSON) -> None:
        ids = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            self.full_member(uid)
            for uid in self.members
            if (not ids or uid in ids) and self.users[uid]["username"].lower().startswith(query)
        ]
        chunk: JSON = {
            "guild_id": str(self.guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # ----------------------------------------------------------- public API

    async def disconnect_gateway(self, resume: bool = True, *, timeout: float = 10.0) -> None:
        """Drop the bot's gateway connection and wait until it is back.

        ``resume=True`` closes the socket with 4000: discord.py reconnects at once to
        ``resume_gateway_url`` and RESUMEs (missed events are replayed). ``resume=False``
        sends INVALID_SESSION (d=false): discord.py IDENTIFYs again on ``/gateway``, but only
        after its ``before_identify_hook`` (5 s by default; override it on the bot to be fast).
        """
        conn = self._conn
        if conn is None:
            raise RuntimeError("fake Discord: the bot is not connected")
        if resume:
            before = self.resumes
            async with self._send_lock:
                self._conn = None
            await conn.ws.close(code=4000, message=b"fake disconnect")
            await self.wait_for(
                lambda: self.resumes > before and self.connected, timeout, what="(RESUME)"
            )
        else:
            before = self.identifies
            self.ready.clear()
            async with self._send_lock:
                self._conn = None
                self.session_id = None
                await conn.send({"op": 9, "d": False})
            await self.wait_for(
                lambda: self.identifies > before and self.ready.is_set(),
                timeout,
                what="(re-IDENTIFY)",
            )

    async def _close_gateway(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake Discord shutting down")
        self._conn = None

    def _member_added(self) -> bool:
        return bool((self.intents or 0) & GUILD_MEMBERS_INTENT)
