"""`nexbot` in a process of its own, logged into a loopback FakeDiscord that the test runs.

    FAKE_DISCORD_PORT=... DISCORD_TOKEN=... python -m tests.e2e.bot_process

Points discord.py at the fake on that port (what ``FakeDiscord.install`` does in-process), makes
start-up quick (``guild_ready_timeout``), then runs the real entry point, `bot.__main__.main`,
so signals, logging and the exit code are the ones operators get.
"""

from __future__ import annotations

import functools
import os

from bot import __main__ as cli
from tests.fakes.discord import FakeDiscord


def main() -> None:
    fake = FakeDiscord(token=os.environ["DISCORD_TOKEN"])
    fake.port = int(os.environ["FAKE_DISCORD_PORT"])
    fake.install()
    cli.run = functools.partial(cli.run, guild_ready_timeout=0.1)
    cli.main(["run"])


if __name__ == "__main__":
    main()
