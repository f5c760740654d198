"""Discord's size limits for what the bot shows, and lists that stay within them.

Sources: Discord developer docs, Resources > Message: "Embed Limits" (title 256, description
4096, 25 fields, field name 256, field value 1024, footer 2048, author name 256, 6000 across
all embeds of a message) and Create Message (``content`` at most 2000 characters).
A list that does not fit shows what fits and says how many more there are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

MESSAGE_CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_MAX_FIELDS = 25
EMBED_TOTAL_LIMIT = 6000


def fit_items(
    items: Sequence[str], limit: int, more: Callable[[int], str], separator: str = ", "
) -> str:
    """``items`` joined by ``separator``, at most ``limit`` characters long.

    When not all fit, the first ones that do are followed by ``more(n)`` (e.g. "… and 12
    more"), n being how many were left out; the result still fits in ``limit``.
    """
    joined = separator.join(items)
    if len(joined) <= limit:
        return joined
    shown: list[str] = []
    used = 0
    for count, item in enumerate(items):
        extra = len(item) + (len(separator) if shown else 0)
        tail = separator + more(len(items) - count - 1) if count + 1 < len(items) else ""
        if used + extra + len(tail) > limit:
            break
        shown.append(item)
        used += extra
    left = len(items) - len(shown)
    suffix = more(left)
    text = separator.join([*shown, suffix]) if shown else suffix
    return text[:limit]


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to ``limit`` characters, ending in ``ellipsis`` when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))] + ellipsis
