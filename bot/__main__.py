"""`nexbot` (or `python -m bot`): run the bot; `nexbot check`: verify token, key and database."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import aiohttp
import discord
from pydantic import ValidationError

from bot.config import Settings, describe_errors
from bot.nexai import NexaiClient, NexaiError
from bot.store import Store

log = logging.getLogger("bot")

CHECK_TIMEOUT_S = 15.0


def load_settings() -> Settings:
    """Settings, or exit with one line per bad setting (no traceback)."""
    try:
        return Settings()  # required fields come from the environment
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"nexbot: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def setup_logging(level: str) -> None:
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(logging.WARNING)


async def run(settings: Settings) -> None:
    from bot.app import NexBot  # imported late: `check` needs none of the cogs

    async with NexBot(settings) as bot:
        await bot.start(settings.discord_token.get_secret_value())


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
        except NexaiError as error:
            results.append(("nexai API key", False, f"{type(error).__name__}: {error}"))

    try:
        store = await Store.open(settings.database_path)
        version = await store.schema_version()
        await store.close()
        results.append(("Database", True, f"{settings.database_path} (schema {version})"))
    except Exception as error:
        results.append(("Database", False, f"{settings.database_path}: {error}"))

    for name, ok, detail in results:
        print(f"{'ok ' if ok else 'FAIL'} {name}: {detail}")
    return all(ok for _, ok, _ in results)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nexbot", description=__doc__)
    parser.add_argument("command", nargs="?", default="run", choices=("run", "check"))
    args = parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings.log_level)
    if args.command == "check":
        raise SystemExit(0 if asyncio.run(check(settings)) else 1)
    try:
        asyncio.run(run(settings))
    except discord.LoginFailure:
        print("nexbot: DISCORD_TOKEN was rejected by Discord (see .env.example)", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
