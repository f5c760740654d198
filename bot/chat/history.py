"""Per-channel conversation memory, and the prompt that fits it into a model's context."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage.store import Store

#: Rough characters per token for budgeting; a real tokenizer is not worth its weight here.
CHARS_PER_TOKEN = 4
#: Per-message overhead of the chat format, in tokens.
MESSAGE_OVERHEAD_TOKENS = 4
#: What an attached image costs in the budget (OpenAI's "high detail" tile estimate).
IMAGE_TOKENS = 800
#: How far back in a conversation a reply's exchange is looked for, in rows.
EXCHANGE_SEARCH_ROWS = 200
#: A document's frame (its name, type and markers) in the budget, in tokens.
DOCUMENT_FRAME_TOKENS = 100


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    author_name: str
    content: str


@dataclass(frozen=True)
class Exchange:
    """Where one remembered exchange is: its prompt's and its answer's row ids."""

    prompt_id: int
    answer_id: int


@dataclass(frozen=True)
class Remembered:
    """One exchange as memory keeps it."""

    exchange: Exchange
    channel_id: int
    author_id: int
    author_name: str
    prompt: str
    answer: str
    model: str
    #: The Discord messages the answer was shown in, in order (empty: not recorded).
    message_ids: tuple[int, ...] = ()


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS


def as_message(turn: Turn) -> dict[str, Any]:
    """A stored turn as a chat message; user turns say who spoke, since channels are shared."""
    if turn.role == "user":
        return {"role": "user", "content": f"{turn.author_name}: {turn.content}"}
    return {"role": "assistant", "content": turn.content}


def fit_turns(turns: Sequence[Turn], budget_tokens: int, max_turns: int) -> list[Turn]:
    """The newest turns that fit the budget and the turn limit, oldest first.

    A history never starts with an orphaned assistant turn.
    """
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns[-max_turns:] if max_turns else ()):
        cost = estimate_tokens(as_message(turn)["content"])
        if used + cost > budget_tokens:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    return kept


def room_for_document(
    *,
    system_prompt: str,
    prompt: str,
    author_name: str,
    image_url: str | None,
    context_tokens: int,
    answer_tokens: int,
) -> int:
    """Characters of an attached document that fit the context beside the system prompt, the
    prompt, its image and the answer. The document comes before history: history gets what
    the document leaves (`build_messages` counts the document as part of the prompt)."""
    fixed = (
        estimate_tokens(system_prompt)
        + estimate_tokens(f"{author_name}: {prompt}")
        + answer_tokens
        + DOCUMENT_FRAME_TOKENS
        + (IMAGE_TOKENS if image_url else 0)
    )
    return max(context_tokens - fixed, 0) * CHARS_PER_TOKEN


def build_messages(
    *,
    system_prompt: str,
    turns: Sequence[Turn],
    prompt: str,
    author_name: str,
    image_url: str | None,
    context_tokens: int,
    answer_tokens: int,
    max_turns: int,
) -> list[dict[str, Any]]:
    """System prompt, as much recent history as fits, then the new prompt (with its image)."""
    text = f"{author_name}: {prompt}"
    fixed = estimate_tokens(system_prompt) + estimate_tokens(text) + answer_tokens
    if image_url:
        fixed += IMAGE_TOKENS
    history = fit_turns(turns, max(context_tokens - fixed, 0), max_turns)
    content: str | list[dict[str, Any]] = text
    if image_url:
        content = [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": image_url}},
        ]
    return [
        {"role": "system", "content": system_prompt},
        *(as_message(turn) for turn in history),
        {"role": "user", "content": content},
    ]


class History:
    """Stored turns per channel (a thread is its own channel)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def recent(self, channel_id: int, limit: int) -> list[Turn]:
        if limit <= 0:
            return []
        rows = await self._store.fetch_all(
            "SELECT role, author_name, content FROM messages WHERE channel_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (channel_id, limit),
        )
        return [Turn(role, name, content) for role, name, content in reversed(rows)]

    async def add_exchange(
        self,
        channel_id: int,
        *,
        author_id: int,
        author_name: str,
        prompt: str,
        answer: str,
        model: str,
        bot_id: int,
        bot_name: str,
    ) -> Exchange:
        """Store both sides of one exchange together, so memory never holds half of one;
        the rows' ids say where it is (the answer's buttons carry them)."""
        now = time.time()
        rows = await self._store.fetch_all(  # one statement: both rows land or neither does
            "INSERT INTO messages (channel_id, role, author_id, author_name, content, model,"
            " created_at) VALUES (?, 'user', ?, ?, ?, NULL, ?), (?, 'assistant', ?, ?, ?, ?, ?)"
            " RETURNING id, role",
            (
                *(channel_id, author_id, author_name, prompt, now),
                *(channel_id, bot_id, bot_name, answer, model, now),
            ),
        )
        ids = {role: int(row_id) for row_id, role in rows}
        return Exchange(ids["user"], ids["assistant"])

    async def exchange(self, exchange: Exchange) -> Remembered | None:
        """The exchange as memory keeps it, or None once forgotten (in part or whole)."""
        rows = await self._store.fetch_all(
            "SELECT id, channel_id, role, author_id, author_name, content, model, message_ids"
            " FROM messages WHERE id IN (?, ?)",
            (exchange.prompt_id, exchange.answer_id),
        )
        by_id = {int(row[0]): row for row in rows}
        prompt, answer = by_id.get(exchange.prompt_id), by_id.get(exchange.answer_id)
        if prompt is None or answer is None or prompt[2] != "user" or answer[2] != "assistant":
            return None
        if prompt[1] != answer[1]:
            return None
        return Remembered(
            exchange=exchange,
            channel_id=int(prompt[1]),
            author_id=int(prompt[3]),
            author_name=str(prompt[4]),
            prompt=str(prompt[5]),
            answer=str(answer[5]),
            model=str(answer[6] or ""),
            message_ids=tuple(int(i) for i in str(answer[7] or "").split()),
        )

    async def set_messages(self, exchange: Exchange, message_ids: Sequence[int]) -> None:
        """Record the Discord messages the exchange's answer was shown in."""
        await self._store.execute(
            "UPDATE messages SET message_ids = ? WHERE id = ?",
            (" ".join(str(i) for i in message_ids), exchange.answer_id),
        )

    async def remove_exchange(self, exchange: Exchange) -> int:
        """Forget one exchange (both rows); how many rows went."""
        return await self._store.execute(
            "DELETE FROM messages WHERE id IN (?, ?)", (exchange.prompt_id, exchange.answer_id)
        )

    async def copy_exchange(
        self, remembered: Remembered, channel_id: int, *, bot_id: int, bot_name: str
    ) -> Exchange:
        """Start `channel_id`'s memory (a new thread's) with a remembered exchange."""
        return await self.add_exchange(
            channel_id,
            author_id=remembered.author_id,
            author_name=remembered.author_name,
            prompt=remembered.prompt,
            answer=remembered.answer,
            model=remembered.model,
            bot_id=bot_id,
            bot_name=bot_name,
        )

    async def exchange_with(
        self, channel_id: int, answer_part: str, *, within: int = EXCHANGE_SEARCH_ROWS
    ) -> list[Turn]:
        """The newest remembered exchange (the prompt, then the answer) whose answer contains
        `answer_part` (a Discord message of it), among the conversation's last `within` rows;
        empty if none."""
        rows = await self._store.fetch_all(
            "SELECT role, author_name, content FROM messages WHERE channel_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (channel_id, within),
        )
        needle = answer_part.strip()
        for i, (role, name, content) in enumerate(rows):
            if role == "assistant" and needle and needle in content:
                answer = Turn(role, name, content)
                if i + 1 < len(rows) and rows[i + 1][0] == "user":
                    return [Turn(*rows[i + 1]), answer]
                return [answer]
        return []

    async def forget(self, channel_id: int) -> int:
        return await self._store.execute("DELETE FROM messages WHERE channel_id = ?", (channel_id,))
