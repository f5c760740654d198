"""The Bot: owns the HTTP session, the database and the API client; loads the cogs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import uuid
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.catalog import ModelCatalog
from bot.chat.document_reader import DocumentReader
from bot.chat.history import History
from bot.chat.personas import Personas
from bot.chat.service import ChatService
from bot.config import Settings
from bot.i18n import VIETNAMESE
from bot.interactions.acks_first import AcksFirst
from bot.interactions.guards import SERVER_INSTALL
from bot.interactions.replies import on_app_command_error
from bot.interactions.translator import CommandTranslator
from bot.media.audio import Transcoder
from bot.media.voice_notes import VoiceNoteChannels
from bot.nexai import NexaiClient
from bot.ops.alerts import Alerts
from bot.ops.health import Heartbeat
from bot.ops.identify import IdentifyPacer, budget_warning
from bot.ops.metrics import Metrics, MetricsServer
from bot.ops.processes import ProcessRegistry
from bot.quota.admission import Admission
from bot.quota.charts import ChartRenderer
from bot.quota.ledger import Ledger
from bot.quota.quotas import Quotas
from bot.render import RateLimitMonitor
from bot.render.global_budget import GlobalBudget
from bot.storage.backends import open_store
from bot.storage.channel_settings import ChannelSettings
from bot.storage.chat_places import ChatPlaces
from bot.storage.guild_settings import GuildSettings
from bot.storage.identify_slots import IdentifySlots
from bot.storage.store import Store

log = logging.getLogger(__name__)

#: discord.py's cache of recent messages (None: none).
MESSAGE_CACHE_SIZE: int | None = None

EXTENSIONS = (
    "cogs.ask",
    "cogs.answers",
    "cogs.imagine",
    "cogs.speech",
    "cogs.transcribe",
    "cogs.limits",
    "cogs.usage",
    "cogs.settings",
    "cogs.persona",
)
COMMANDS_HASH_KEY = "commands_hash"
#: After the grace period, cancelled answers get this long to say that they stopped.
CANCEL_WAIT_S = 5.0


class NexBot(commands.AutoShardedBot):
    """Resources are made in `setup_hook` (inside the event loop) and closed in `close`.

    Always sharded: the shards in SHARD_IDS of SHARD_COUNT, or all the shards Discord
    recommends (one for most bots, which then behaves as a plain `commands.Bot`). Shards
    identify in turn across every process of the bot (`before_identify_hook`).
    """

    store: Store
    session: aiohttp.ClientSession
    nexai: NexaiClient
    catalog: ModelCatalog
    history: History
    ledger: Ledger
    chat: ChatService
    quotas: Quotas
    guild_settings: GuildSettings
    channel_settings: ChannelSettings
    chat_places: ChatPlaces
    personas: Personas
    voice_notes: VoiceNoteChannels
    transcoder: Transcoder
    documents: DocumentReader
    alerts: Alerts
    processes: ProcessRegistry
    identify_pacer: IdentifyPacer

    def __init__(self, settings: Settings, **options: object) -> None:
        self.settings = settings
        self.rate_limits = RateLimitMonitor()
        self.global_budget = GlobalBudget(settings.discord_requests_per_s)
        self.admission = Admission(settings.max_inflight_per_member)
        self.acks_first = AcksFirst()
        self.metrics = Metrics.from_settings(settings.metrics_port)
        self.metrics_server: MetricsServer | None = None
        self.heartbeat = Heartbeat(settings.health_file, self.gateway_connected)
        self.charts = ChartRenderer()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._close_task: asyncio.Task[None] | None = None
        intents = discord.Intents.default()
        intents.message_content = True
        if settings.shard_ids is not None:  # else all `shard_count` shards
            options = {"shard_ids": settings.shard_ids, **options}
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=self.global_budget.attach(self.rate_limits.trace_config()),
            # The bot never reads discord.py's message cache (events carry what it needs):
            # 1000 messages by default, each with its author, about 1 MiB per 400.
            max_messages=MESSAGE_CACHE_SIZE,
            shard_count=settings.shard_count,
            allowed_installs=SERVER_INSTALL,  # a command says when a member may install it
            # Per host, so a shard's gateway connection never waits for REST's.
            connector=aiohttp.TCPConnector(
                limit=0, limit_per_host=settings.discord_max_connections
            ),
            **options,  # type: ignore[arg-type]
        )

    async def setup_hook(self) -> None:
        settings = self.settings
        self.store = await open_store(
            settings.database_url_value,
            settings.database_path,
            busy_timeout_ms=settings.database_busy_timeout_ms,
            pool_size=settings.database_pool_size,
        )
        self.identify_pacer = IdentifyPacer(IdentifySlots(self.store))
        await self._read_session_start_limit()
        self.session = aiohttp.ClientSession(
            # aiohttp's default of 100 connections queued answers past 100 at once (bench/).
            connector=aiohttp.TCPConnector(limit=settings.nexai_max_connections),
            timeout=aiohttp.ClientTimeout(
                total=settings.nexai_total_timeout_s, connect=settings.nexai_connect_timeout_s
            ),
        )
        self.nexai = NexaiClient(
            self.session,
            settings.nexai_base_url,
            settings.nexai_api_key.get_secret_value(),
            max_retries=settings.nexai_max_retries,
            backoff_base_s=settings.nexai_retry_backoff_s,
            connect_timeout_s=settings.nexai_connect_timeout_s,
            first_byte_timeout_s=settings.nexai_first_byte_timeout_s,
            total_timeout_s=settings.nexai_total_timeout_s,
            capabilities=settings.capability_table(),
        )
        fallback = sorted({settings.default_chat_model, *self.nexai.capabilities.listed()})
        self.catalog = ModelCatalog(self.nexai, fallback)
        self.catalog.start()
        self.history = History(self.store)
        self.quotas = Quotas(self.store, settings.dm_limits)
        run_id = uuid.uuid4().hex
        self.ledger = Ledger(
            self.store,
            self.quotas,
            admission=self.admission,
            metrics=self.metrics,
            process_id=run_id,
        )
        self.processes = ProcessRegistry(
            self.store, self.ledger, dead_after_s=settings.process_dead_after_s, id=run_id
        )
        self.guild_settings = GuildSettings(self.store)
        self.channel_settings = ChannelSettings(self.store)
        self.chat_places = ChatPlaces(self.store)
        self.personas = Personas(settings, self.guild_settings, self.chat_places)
        self.voice_notes = VoiceNoteChannels(self.store)
        self.transcoder = Transcoder()
        self.documents = DocumentReader(
            self.session,
            max_bytes=settings.document_max_bytes,
            max_pages=settings.document_max_pages,
            max_chars=settings.document_max_chars,
            timeout_s=settings.document_read_timeout_s,
        )
        self.alerts = Alerts(self.store, self.guild_settings, self)
        await self.processes.start()
        self.chat = ChatService(
            settings, self.nexai, self.history, self.ledger, self.rate_limits, self.global_budget
        )
        await self.tree.set_translator(CommandTranslator())
        self.tree.error(self._on_app_command_error)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        await self._serve_metrics()
        self.heartbeat.start()

    async def _serve_metrics(self) -> None:
        settings = self.settings
        if not self.metrics.enabled or settings.metrics_port is None:
            return
        server = MetricsServer(self.metrics, settings.metrics_host, settings.metrics_port)
        try:
            await server.start()
        except OSError as error:  # the bot still serves its users
            log.error(
                "No metrics: cannot listen on %s:%s (%s)",
                settings.metrics_host,
                settings.metrics_port,
                error,
            )
            return
        self.metrics_server = server

    async def _read_session_start_limit(self) -> None:
        """Learn `max_concurrency` and warn when today's identify budget is short."""
        try:
            recommended, _, limit = await self.http.get_bot_gateway()
        except discord.DiscordException as error:
            log.warning(
                "Could not read Discord's session start limit (%s): shards identify one per 5 s",
                error,
            )
            return
        self.identify_pacer.max_concurrency = max(1, int(limit["max_concurrency"]))
        count = self.shard_count or recommended
        shards = list(self.shard_ids) if self.shard_ids else list(range(count))
        log.info(
            "Running shards %s of %s; %s identifies at once per 5 s, %s left today",
            ",".join(map(str, shards)),
            count,
            limit["max_concurrency"],
            limit["remaining"],
        )
        warning = budget_warning(limit["remaining"], limit["reset_after"], len(shards))
        if warning is not None:
            log.warning("%s", warning)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for the shard's turn among every process of the bot (replaces discord.py's
        5 s sleep, which paces one process only). RESUMEs do not come here: they are free."""
        await self.identify_pacer.wait_turn(shard_id or 0)

    def gateway_connected(self) -> bool:
        """Ready, and every shard's websocket open with a measured heartbeat latency."""
        shards = self.shards
        return (
            self.is_ready()
            and not self.is_closed()
            and bool(shards)
            and all(
                not shard.is_closed() and math.isfinite(shard.latency) for shard in shards.values()
            )
        )

    async def on_ready(self) -> None:
        self.heartbeat.beat()  # at once, not at the next round of the heartbeat task

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        self.metrics.command(command.qualified_name)

    async def _on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if interaction.command is not None:
            self.metrics.command(interaction.command.qualified_name, ok=False)
        await on_app_command_error(interaction, error)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: mentions are chat, handled by the ask cog's listener."""

    async def sync_commands(self) -> bool:
        """Sync the command tree only when it changed since the last sync (hash in the DB)."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        scope = f"guild:{guild.id}" if guild else "global"
        # Translations are applied during the sync, so they are part of what changed.
        blob = json.dumps([payload, VIETNAMESE], sort_keys=True).encode()
        digest = hashlib.sha256(blob).hexdigest()
        key = f"{COMMANDS_HASH_KEY}:{scope}"
        if await self.store.get_meta(key) == digest:
            log.info("Commands unchanged (%s); not syncing", scope)
            return False
        synced = await self.tree.sync(guild=guild)
        await self.store.set_meta(key, digest)
        log.info("Synced %s commands (%s)", len(synced), scope)
        return True

    async def shutdown(self, grace_s: float) -> None:
        """Stop taking work, let the work in flight finish for up to `grace_s`, then close.

        New API calls are refused at once ("the bot is restarting"), while the gateway stays
        open so that those refusals and the last answers still reach Discord. Work still
        running after `grace_s` is cancelled (a streamed answer ends with a note) and gets
        `CANCEL_WAIT_S` to wind down. Later calls wait for the first one.
        """
        if self._shutdown_task is None:
            self._shutdown_task = asyncio.create_task(self._shutdown(grace_s), name="shutdown")
        await asyncio.shield(self._shutdown_task)

    async def _shutdown(self, grace_s: float) -> None:
        admission = self.admission
        admission.drain()
        if admission.working:
            log.info(
                "Shutting down: waiting up to %s s for %s requests to finish",
                grace_s,
                admission.working,
            )
        if not await admission.wait_idle(grace_s):
            log.warning(
                "Shutting down: cancelled %s requests still running after %s s",
                admission.cancel_all(),
                grace_s,
            )
            if not await admission.wait_idle(CANCEL_WAIT_S):
                log.warning("Shutting down: %s requests did not stop", admission.working)
        await self.close()
        log.info("Shut down cleanly")

    async def close(self) -> None:
        """Close the gateway, then background tasks, the HTTP session and the database.

        Safe to call any number of times, also concurrently: every call waits for the first.
        """
        if self._close_task is None:
            self._close_task = asyncio.create_task(self._close(), name="close")
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        try:
            await super().close()
        finally:
            await self.heartbeat.close()
            await self.charts.close()
            if self.metrics_server is not None:
                await self.metrics_server.close()
            if hasattr(self, "catalog"):
                await self.catalog.close()
            if hasattr(self, "session"):
                await self.session.close()
            if hasattr(self, "transcoder"):
                self.transcoder.close()
            if hasattr(self, "documents"):
                self.documents.close()
            if hasattr(self, "processes"):
                await self.processes.close()
            if hasattr(self, "store"):
                await self.store.close()
