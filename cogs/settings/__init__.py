"""/settings (moderators): the Settings cog (`_cog.py`) with its chat mixin (`_chat.py`).

A package, so that unloading the extension drops both modules: the `/settings` group they
share is made again, empty, when the extension is loaded again."""

from bot.app import NexBot
from cogs.settings._cog import Settings


async def setup(bot: NexBot) -> None:
    await bot.add_cog(Settings(bot))
