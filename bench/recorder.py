"""A FakeDiscord that timestamps what the bot does for each answer, and the per-answer record.

Each answer under measurement has a channel of its own, so every callback, message and edit
is told apart by its channel id. Times are the fake's event-loop clock when it handled the
request (``FakeInteraction.created`` uses the same clock).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from aiohttp import web

from bot.render import CURSOR
from tests.fakes.discord import DiscordError, FakeDiscord, FakeInteraction, FakeMessage
from tests.fakes.discord._models import JSON, FakeFile

Files = dict[int, FakeFile]
CURSOR_MARK = CURSOR.strip()
#: Discord buckets edits per channel over a few seconds (about 5 per 5 s in practice).
DISCORD_EDIT_WINDOW_S = 5.0


@dataclass
class Answer:
    """What happened for one /ask or mention, as the fake saw it (loop times, seconds)."""

    channel_id: int
    started: float = 0.0
    acked: float | None = None  # the interaction callback (defer) arrived
    first_text: float | None = None  # the first message content the user could read
    final: float | None = None  # content without the streaming cursor arrived
    final_text: str = ""
    edits: dict[int, list[float]] = field(default_factory=dict)  # message id -> PATCH times

    def since_start(self, moment: float | None) -> float | None:
        return None if moment is None else moment - self.started

    def max_edits_per_window(self, window_s: float) -> int:
        """The most edits of one message inside any ``window_s``-long half-open window.

        Times are arrivals at the fake: edits the bot sent 1 s apart may arrive a little
        closer when one of them waited longer on the way (see ``min_edit_gap``).
        """
        most = 0
        for times in self.edits.values():
            ordered = sorted(times)
            low = 0
            for high, moment in enumerate(ordered):
                while moment - ordered[low] >= window_s:
                    low += 1
                most = max(most, high - low + 1)
        return most

    def min_edit_gap(self) -> float | None:
        gaps = [
            later - earlier
            for times in self.edits.values()
            for earlier, later in zip(sorted(times), sorted(times)[1:], strict=False)
        ]
        return min(gaps) if gaps else None


class RecordingDiscord(FakeDiscord):
    """FakeDiscord plus a record of callbacks, bot messages and edits in watched channels."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[int, Answer] = {}
        self.finished = 0
        self.all_finished = asyncio.Event()  # every watched answer is final
        self.rejected_callbacks = 0  # callbacks refused (too late, twice...)
        self._webhook_channels: dict[str, int] = {}

    def add_guild_channel(self, guild_id: int, name: str) -> int:
        """Another text channel in ``guild_id`` (one made by ``add_guild``), before ``start``."""
        cid = self.ids.next()
        position = len(self.guild_channels(guild_id))
        self.channels[cid] = self._text_channel_payload(cid, name, position, guild_id=guild_id)
        return cid

    def watch(self, channel_ids: list[int]) -> list[Answer]:
        """Start recording these channels (forgetting earlier ones)."""
        self.answers = {cid: Answer(cid) for cid in channel_ids}
        self.finished = 0
        self.all_finished = asyncio.Event()
        self.rejected_callbacks = 0
        return list(self.answers.values())

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _callback(
        self, request: web.Request, m: re.Match[str], body: JSON, files: Files
    ) -> web.Response:
        try:
            response = await super()._callback(request, m, body, files)
        except DiscordError:
            self.rejected_callbacks += 1
            raise
        inter = self.interactions_by_id.get(int(m.group(1)))
        answer = self.answers.get(inter.channel_id) if inter else None
        if answer is not None and answer.acked is None:
            answer.acked = self._now()
        return response

    def _create_bot_message(
        self,
        channel_id: int,
        body: JSON,
        files: Files,
        *,
        interaction: FakeInteraction | None = None,
        extra_flags: int = 0,
        creating: bool = True,
    ) -> FakeMessage:
        msg = super()._create_bot_message(
            channel_id,
            body,
            files,
            interaction=interaction,
            extra_flags=extra_flags,
            creating=creating,
        )
        self._saw_content(msg, msg.content, edit=False)
        return msg

    def _apply_edit(self, msg: FakeMessage, body: JSON, files: Files) -> None:
        super()._apply_edit(msg, body, files)
        if "content" in body:
            self._saw_content(msg, msg.content, edit=True)

    def _saw_content(self, msg: FakeMessage, content: str, *, edit: bool) -> None:
        answer = self.answers.get(msg.channel_id)
        if answer is None:
            return
        now = self._now()
        if edit:
            answer.edits.setdefault(msg.id, []).append(now)
        if not content:
            return
        if answer.first_text is None:
            answer.first_text = now
        if answer.final is None and CURSOR_MARK not in content:
            answer.final = now
            answer.final_text = content
            self.finished += 1
            if self.finished == len(self.answers):
                self.all_finished.set()
