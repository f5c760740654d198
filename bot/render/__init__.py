"""Showing a streamed answer in Discord's terms, without discord.py: the reply that edits
itself, the code-fence-aware splitter, subtext, the rate-limit monitor and the global budget
(re-exports only). `bot.render.targets` is where those replies meet discord.py."""

from bot.render.global_budget import GlobalBudget
from bot.render.rate_monitor import RateLimitMonitor
from bot.render.reply import (
    CURSOR,
    EDIT_INTERVAL_S,
    EMPTY_TEXT,
    MessageHandle,
    ReplyTarget,
    StreamedReply,
)

__all__ = [
    "CURSOR",
    "EDIT_INTERVAL_S",
    "EMPTY_TEXT",
    "GlobalBudget",
    "MessageHandle",
    "RateLimitMonitor",
    "ReplyTarget",
    "StreamedReply",
]
