"""`nexbot` (or `python -m bot`): run the bot; `nexbot check`: verify token, key and database;
`nexbot health`: exit 0 while the running bot is connected to Discord (Docker's HEALTHCHECK);
`nexbot migrate-db --to postgresql://...`: copy the SQLite database into an empty PostgreSQL one.

The bot stops gracefully on SIGTERM or SIGINT: new requests are refused, answers in flight get
SHUTDOWN_GRACE_S to finish, then the rest is cancelled and everything is closed (exit code 0).
A second signal cancels what is still running at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import discord
from pydantic import ValidationError

from bot.config import DatabaseSettings, Settings, describe_errors
from bot.errors import StorageError
from bot.nexai import NexaiClient, NexaiError
from bot.ops.health import check_heartbeat
from bot.storage.backends import open_store
from bot.storage.sqlite import SQLiteStore
from bot.storage.store import redact_url

log = logging.getLogger("bot")

T = TypeVar("T")

CHECK_TIMEOUT_S = 15.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def load_settings(exit_code: int = 2) -> Settings:
    """Settings, or exit with one line per bad setting (no traceback)."""
    try:
        return Settings()  # required fields come from the environment
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"nexbot: {line}", file=sys.stderr)
        raise SystemExit(exit_code) from None


#: nexbot's own loggers (modules log under their `__name__`): LOG_LEVEL sets them.
OWN_LOGGERS = ("bot", "cogs")
#: Every other logger (aiosqlite, discord.py, asyncio, aiohttp) logs from this level, whatever
#: LOG_LEVEL says: at DEBUG, aiosqlite writes two lines per database operation on its one
#: worker thread and discord.py one per gateway event. DEBUG_LOGGERS names exceptions.
THIRD_PARTY_LEVEL = logging.INFO
#: Third-party loggers quieter still: a line per HTTP request or gateway heartbeat.
QUIET_LOGGERS = {"discord.http": logging.WARNING, "discord.gateway": logging.WARNING}


def setup_logging(level: str, debug_loggers: Sequence[str] = ()) -> None:
    """Log to stderr: nexbot's own loggers at `level`, everything else at INFO or above,
    and each logger named in `debug_loggers` (DEBUG_LOGGERS) at DEBUG."""
    own = logging.getLevelNamesMapping()[level]
    discord.utils.setup_logging(level=max(own, THIRD_PARTY_LEVEL), root=True)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(own, quiet))
    for name in debug_loggers:
        logging.getLogger(name).setLevel(logging.DEBUG)


async def run(settings: Settings, **options: Any) -> None:
    """Run the bot until it is closed, or a stop signal has shut it down gracefully."""
    from bot.app import NexBot  # imported late: `check` needs none of the cogs

    loop = asyncio.get_running_loop()
    async with NexBot(settings, **options) as bot:
        stopping: asyncio.Task[None] | None = None

        def on_signal(signum: int) -> None:
            nonlocal stopping
            name = signal.Signals(signum).name
            if stopping is None:
                grace_s = settings.shutdown_grace_s
                log.info(
                    "%s received: shutting down (up to %s s for answers in flight)", name, grace_s
                )
                stopping = loop.create_task(bot.shutdown(grace_s), name="shutdown-on-signal")
            else:
                log.warning("%s received again: cancelling what is still running", name)
                bot.admission.cancel_all()

        handled = handle_signals(loop, on_signal)
        try:
            await bot.start(settings.discord_token.get_secret_value())
        finally:
            for signum in handled:
                loop.remove_signal_handler(signum)
            if stopping is not None:
                await stopping


def handle_signals(
    loop: asyncio.AbstractEventLoop, handler: Callable[[int], None]
) -> list[signal.Signals]:
    """Call `handler(signum)` on SIGTERM and SIGINT; returns the signals it could take over."""
    handled = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, handler, signum)
        except (NotImplementedError, RuntimeError):  # not on this platform or thread
            log.warning("Cannot handle %s: stopping will not be graceful", signum.name)
            continue
        handled.append(signum)
    return handled


def health(settings: Settings) -> bool:
    """Print one line about the heartbeat file and return whether it is fresh."""
    ok, reason = check_heartbeat(settings.health_file, settings.health_max_age_s)
    print(f"nexbot: {reason}", file=sys.stdout if ok else sys.stderr)
    return ok


async def check(settings: Settings) -> bool:
    """Print one line per part and return whether all are fine."""
    results: list[tuple[str, bool, str]] = []
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        http = discord.http.HTTPClient(asyncio.get_running_loop())
        try:
            user = await http.static_login(settings.discord_token.get_secret_value())
            results.append(("Discord token", True, f"logged in as {user['username']}"))
        except discord.LoginFailure:
            results.append(("Discord token", False, "rejected by Discord (check DISCORD_TOKEN)"))
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            results.append(("Discord token", False, f"could not reach Discord: {error}"))
        finally:
            await http.close()

        client = NexaiClient(
            session,
            settings.nexai_base_url,
            settings.nexai_api_key.get_secret_value(),
            max_retries=0,
            total_timeout_s=CHECK_TIMEOUT_S,
        )
        try:
            models = await client.list_models()
            results.append(("nexai API key", True, f"{len(models)} models available"))
            results += model_results(settings, {model.id for model in models})
        except NexaiError as error:
            results.append(("nexai API key", False, f"{type(error).__name__}: {error}"))

    url = settings.database_url_value
    where = redact_url(url) if url else str(settings.database_path)
    try:
        store = await open_store(url, settings.database_path)
        version = await store.schema_version()
        await store.close()
        results.append(("Database", True, f"{where} (schema {version})"))
    except Exception as error:
        results.append(("Database", False, f"{where}: {error}"))

    for name, ok, detail in results:
        print(f"{'ok ' if ok else 'FAIL'} {name}: {detail}")
    return all(ok for _, ok, _ in results)


def configured_models(settings: Settings) -> list[tuple[str, str, bool]]:
    """(model, the setting that names it, whether the bot uses it without anyone choosing it)."""
    used = [
        (settings.default_chat_model, "DEFAULT_CHAT_MODEL"),
        (settings.default_image_model, "DEFAULT_IMAGE_MODEL"),
        *((model, "IMAGE_MODELS") for model in settings.image_models),
        (settings.tts_model, "TTS_MODEL"),
        (settings.transcribe_model, "TRANSCRIBE_MODEL"),
    ]
    vision = [
        (model, "vision (capability table)")
        for model in settings.capability_table().vision_models()
    ]
    rows: dict[str, tuple[str, str, bool]] = {}
    for model, setting in used:
        rows.setdefault(model, (model, setting, True))
    for model, setting in vision:
        rows.setdefault(model, (model, setting, False))
    return list(rows.values())


def model_results(settings: Settings, offered: set[str]) -> list[tuple[str, bool, str]]:
    """One line per configured model: offered by GET /models or not. A model the bot uses by
    default fails the check; an optional one (a vision model) is only pointed out."""
    results = []
    for model, setting, required in configured_models(settings):
        if model in offered:
            results.append((f"Model {model}", True, f"{setting}: offered by the API"))
        elif required:
            results.append((f"Model {model}", False, f"{setting}: not offered by GET /models"))
        else:
            results.append(
                (f"Model {model}", True, f"{setting}: not offered by GET /models (optional)")
            )
    return results


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop where it is installed (a faster event loop: every streamed token
    is a network read), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def migrate_db(source: Path, target_url: str) -> bool:
    """Copy the SQLite database at `source` into the empty PostgreSQL one at `target_url`."""
    from bot.storage.copy import copy_database  # asyncpg: only for this command
    from bot.storage.postgres import PostgresStore

    shown = redact_url(target_url)
    try:
        sqlite = await SQLiteStore.open(source)
        try:
            postgres = await PostgresStore.open(target_url)
            try:
                copied = await copy_database(sqlite, postgres)
            finally:
                await postgres.close()
        finally:
            await sqlite.close()
    except StorageError as error:
        print(f"nexbot: could not copy {source} to {shown}: {error}")
        return False
    print(f"Copied {source} to {shown}: {copied}")
    print("Set DATABASE_URL to it and start the bot.")
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nexbot", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="run", choices=("run", "check", "health", "migrate-db")
    )
    parser.add_argument("--to", metavar="POSTGRESQL_URL", help="migrate-db: the empty target")
    parser.add_argument("--from", dest="source", type=Path, help="migrate-db: the SQLite file")
    args = parser.parse_args(argv)
    if args.command == "migrate-db":
        if not args.to or not args.to.startswith(("postgresql://", "postgres://")):
            parser.error("migrate-db needs --to postgresql://user:password@host/database")
        source = args.source or DatabaseSettings().database_path
        if not source.is_file():
            parser.error(f"no SQLite database at {source} (set DATABASE_PATH or --from)")
        setup_logging("INFO")
        raise SystemExit(0 if asyncio.run(migrate_db(source, args.to)) else 1)
    if args.command == "health":  # for Docker, 0 is healthy, 1 unhealthy (2 is reserved)
        raise SystemExit(0 if health(load_settings(exit_code=1)) else 1)
    settings = load_settings()
    setup_logging(settings.log_level, settings.debug_loggers)
    if args.command == "check":
        raise SystemExit(0 if asyncio.run(check(settings)) else 1)
    try:
        run_loop(run(settings))
    except discord.LoginFailure:
        print("nexbot: DISCORD_TOKEN was rejected by Discord (see .env.example)", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
