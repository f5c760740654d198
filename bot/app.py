"""The Bot: owns the HTTP session, the database and the API client; loads the cogs."""

from __future__ import annotations

import hashlib
import json
import logging

import aiohttp
import discord
from discord.ext import commands

from bot.alerts import Alerts
from bot.chat import ChatService
from bot.config import Settings
from bot.errors import on_app_command_error
from bot.guild_settings import GuildSettings
from bot.history import History
from bot.i18n import VIETNAMESE, CommandTranslator
from bot.models import ModelCatalog
from bot.nexai import NexaiClient
from bot.quotas import Quotas
from bot.render import RateLimitMonitor
from bot.store import Store
from bot.usage import Ledger

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.ask",
    "cogs.imagine",
    "cogs.speech",
    "cogs.transcribe",
    "cogs.limits",
    "cogs.usage",
    "cogs.settings",
)
COMMANDS_HASH_KEY = "commands_hash"


class NexBot(commands.Bot):
    """Resources are made in `setup_hook` (inside the event loop) and closed in `close`."""

    store: Store
    session: aiohttp.ClientSession
    nexai: NexaiClient
    catalog: ModelCatalog
    history: History
    ledger: Ledger
    chat: ChatService
    quotas: Quotas
    guild_settings: GuildSettings
    alerts: Alerts

    def __init__(self, settings: Settings, **options: object) -> None:
        self.settings = settings
        self.rate_limits = RateLimitMonitor()
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=self.rate_limits.trace_config(),
            **options,  # type: ignore[arg-type]
        )

    async def setup_hook(self) -> None:
        settings = self.settings
        self.store = await Store.open(settings.database_path)
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=settings.nexai_total_timeout_s, connect=settings.nexai_connect_timeout_s
            )
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
        )
        fallback = sorted({settings.default_chat_model, *settings.model_context_tokens})
        self.catalog = ModelCatalog(self.nexai, fallback)
        self.catalog.start()
        self.history = History(self.store)
        self.quotas = Quotas(self.store, settings.dm_limits)
        self.ledger = Ledger(self.store, self.quotas)
        self.guild_settings = GuildSettings(self.store)
        self.alerts = Alerts(self.store, self.guild_settings, self)
        await self.ledger.refund_open()
        self.chat = ChatService(settings, self.nexai, self.history, self.ledger, self.rate_limits)
        await self.tree.set_translator(CommandTranslator())
        self.tree.error(on_app_command_error)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()

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

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if hasattr(self, "catalog"):
                await self.catalog.close()
            if hasattr(self, "session"):
                await self.session.close()
            if hasattr(self, "store"):
                await self.store.close()
