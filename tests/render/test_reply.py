"""Specification of streamed replies (bot.render), the rate-limit monitor and Discord targets."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast
from unittest.mock import AsyncMock, MagicMock

import aiohttp
import discord
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import rate_monitor
from bot.render.global_budget import GlobalBudget
from bot.render.rate_monitor import (
    GLOBAL_KEY,
    RateLimitMonitor,
    followup_route,
    message_create_route,
    message_edit_route,
    route_key,
    webhook_edit_route,
)
from bot.render.reply import CURSOR, MessageHandle, StreamedReply, _Signal
from bot.render.splitter import scan_fences, split_message
from bot.render.targets import InteractionTarget, ReplyChainTarget
from tests.render.test_splitter import five_thousand_char_answer

INTERVAL_S = 0.05
TOLERANCE_S = 0.002  # clock jitter between the streamer's stamp and the fake's


class Boom(Exception):
    """A Discord failure, as the fakes raise it."""


@dataclass
class FakeMessage:
    """A message on the fake Discord: every request on it, with its start time."""

    target: FakeTarget
    route_key: str = "channels/1"
    contents: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    deleted: bool = False
    files: list[tuple[str, bytes]] = field(default_factory=list)
    #: (the index of the content shown with them, the buttons) of each edit that showed some
    buttons: list[tuple[int, object]] = field(default_factory=list)

    async def edit(self, content: str, buttons: object = None) -> None:
        if buttons is not None:
            self.buttons.append((len(self.contents), buttons))
        await self.target.request(self, content)

    async def delete(self) -> None:
        self.deleted = True

    async def attach(self, filename: str, data: bytes) -> None:
        self.files.append((filename, data))

    @property
    def content(self) -> str:
        return self.contents[-1]


class FakeTarget:
    """A reply target that records requests, optionally slowly, failing or feeding a monitor."""

    route_key = "channels/1"
    max_parts: int | None = None

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        fail_on_request: int | None = None,
        on_request: Callable[[FakeMessage], None] | None = None,
    ) -> None:
        self.messages: list[FakeMessage] = []
        self.requests = 0
        self.latency_s = latency_s
        self.fail_on_request = fail_on_request
        self.on_request = on_request
        self.release = asyncio.Event()
        self.release.set()

    async def send_first(self, content: str) -> FakeMessage:
        assert not self.messages
        return await self._send(content)

    async def send_next(self, content: str, previous: MessageHandle) -> FakeMessage:
        assert previous is self.messages[-1]
        return await self._send(content)

    async def _send(self, content: str) -> FakeMessage:
        message = FakeMessage(self)
        await self.request(message, content)
        self.messages.append(message)
        return message

    async def request(self, message: FakeMessage, content: str) -> None:
        message.times.append(time.monotonic())
        message.in_flight += 1
        message.max_in_flight = max(message.max_in_flight, message.in_flight)
        self.requests += 1
        try:
            if self.requests == self.fail_on_request:
                raise Boom("Unknown Message")
            await self.release.wait()
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            message.contents.append(content)
            if self.on_request is not None:
                self.on_request(message)
        finally:
            message.in_flight -= 1

    @property
    def finals(self) -> list[str]:
        return [m.content for m in self.messages]


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def stream(reply: StreamedReply, text: str, *, chunk: int = 7, pause_s: float = 0.0) -> None:
    """Push ``text`` in chunks, like a model answer arriving (pause_s between chunks)."""
    for start in range(0, len(text), chunk):
        await reply.push(text[start : start + chunk])
        await asyncio.sleep(pause_s)


# --- streaming --------------------------------------------------------------------------------


async def test_edits_of_a_message_are_at_least_the_interval_apart() -> None:
    """Should edit one message no more often than once per interval while text streams in."""
    target = FakeTarget()
    reply = StreamedReply(target, limit=2000, edit_interval_s=INTERVAL_S)
    await stream(reply, "token " * 100, chunk=6, pause_s=0.003)
    await reply.finish()
    [message] = target.messages
    assert len(message.times) >= 4, "the message should be edited while it streams"
    assert min(gaps(message.times)) >= INTERVAL_S - TOLERANCE_S


async def test_an_edit_that_waited_its_turn_is_followed_an_interval_after_it_ended() -> None:
    """Should count the interval from the end of a request that took longer than it (one that
    waited for the bot's global budget, or a 429), so two edits never arrive back to back."""
    latency_s = 3 * INTERVAL_S
    target = FakeTarget(latency_s=latency_s)
    reply = StreamedReply(target, limit=2000, edit_interval_s=INTERVAL_S)
    await stream(reply, "token " * 100, chunk=6, pause_s=0.003)
    await reply.finish()
    [message] = target.messages
    assert len(message.times) >= 3
    ended = [start + latency_s for start in message.times]
    assert min(b - a for a, b in zip(ended, message.times[1:], strict=False)) >= (
        INTERVAL_S - TOLERANCE_S
    )


async def test_each_message_keeps_its_own_pace() -> None:
    """Should start the next message right away instead of waiting on one shared timer."""
    target = FakeTarget()
    reply = StreamedReply(target, limit=200, edit_interval_s=INTERVAL_S)
    await stream(reply, "word " * 120, chunk=20, pause_s=0.005)
    await reply.finish()
    assert len(target.messages) == 3
    for message in target.messages:
        assert min(gaps(message.times), default=INTERVAL_S) >= INTERVAL_S - TOLERANCE_S
    every = sorted(t for message in target.messages for t in message.times)
    assert min(gaps(every)) < INTERVAL_S / 2, "requests on different messages may come together"


async def test_final_messages_show_the_full_text_split_with_code_reopened() -> None:
    """Should end with exactly the split of the full text: pieces within the limit, the
    python block closed in one message and reopened with its language in the next."""
    text = five_thousand_char_answer()
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=0.01)
    await stream(reply, text, chunk=40, pause_s=0.0005)
    handles = await reply.finish()
    assert reply.text == text
    assert target.finals == split_message(text)
    assert [id(h) for h in handles] == [id(m) for m in target.messages]
    assert any(m.content.startswith("```python\n") for m in target.messages[1:])
    assert all(len(c) <= 2000 for m in target.messages for c in m.contents)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.sampled_from(["word ", "\n", "\n\n", "```py\n", "```\n", "x = 1\n", "    y\n", "~~~\n"]),
        max_size=120,
    ).map("".join),
    st.randoms(use_true_random=False),
)
def test_any_chunking_ends_with_the_split_of_the_full_text(text: str, rng: random.Random) -> None:
    """Should end with split_message(text) however the text was cut into deltas, with every
    request within the limit and balanced."""
    target = FakeTarget()

    async def run() -> None:
        reply = StreamedReply(target, limit=120, edit_interval_s=0.0)
        position = 0
        while position < len(text):
            size = rng.randint(1, 30)
            await reply.push(text[position : position + size])
            position += size
            if rng.random() < 0.5:
                await asyncio.sleep(0)
        await reply.finish()

    asyncio.run(run())
    expected = split_message(text, 120) or ["…"]
    assert target.finals == expected
    contents = [c for m in target.messages for c in m.contents]
    assert all(len(c) <= 120 and scan_fences(c) is None for c in contents)


async def test_cursor_shows_while_streaming_and_is_gone_at_finish() -> None:
    """Should end a streaming message with the cursor and remove it at finish."""
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S)
    await reply.push("Hello")
    await asyncio.sleep(0)  # let the message be sent
    await reply.push(" world")
    await reply.finish()
    [message] = target.messages
    assert message.contents[0] == "Hello" + CURSOR
    assert message.contents[-1] == "Hello world"


async def test_an_edit_waiting_for_the_global_budget_shows_what_came_meanwhile() -> None:
    """Should lay an edit out only once the budget lets it go: text pushed while it waited
    goes with it, and the end goes at once, not behind streaming edits."""
    budget = GlobalBudget(1, window_s=0.3)
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=0.01, budget=budget)
    await reply.push("one")
    await asyncio.sleep(0.02)  # the first message is sent (an urgent request, not budgeted)
    async with budget.turn():  # someone else's request fills the window
        pass
    await reply.push(" two")
    await asyncio.sleep(0.05)  # the edit waits for its turn
    await reply.push(" three")
    await asyncio.sleep(0.4)
    await reply.push(" four")
    await reply.finish()
    [message] = target.messages
    assert message.contents[:2] == ["one" + CURSOR, "one two three" + CURSOR]
    assert message.contents[-1] == "one two three four"


async def test_buttons_come_with_the_final_edit_of_the_last_message() -> None:
    """Should show the buttons in the edit that ends the answer (one request, not two), made
    from every message of the answer, all sent by then."""
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S, limit=120)
    given: list[list[MessageHandle]] = []

    async def buttons(handles: list[MessageHandle]) -> object:
        given.append(handles)
        return "the buttons"

    await reply.push("word " * 20)
    await asyncio.sleep(0)  # the first message shows
    await reply.push("word " * 20)
    await reply.finish(buttons=buttons)
    first, last = target.messages
    assert given == [[first, last]]
    assert last.buttons == [(len(last.contents) - 1, "the buttons")]
    assert not first.buttons
    assert target.requests == len(first.contents) + len(last.contents)  # no edit of its own
    assert reply.buttons_shown


async def test_an_answer_sent_whole_gets_its_buttons_with_one_edit() -> None:
    """Should edit the buttons in when the last message was sent complete (it ended before
    its first send), keeping its text."""
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S)

    async def buttons(handles: list[MessageHandle]) -> object:
        return "the buttons"

    await reply.push("Short.")
    await reply.finish(buttons=buttons)  # before the message was sent
    [message] = target.messages
    assert message.contents == ["Short.", "Short."]
    assert message.buttons == [(1, "the buttons")]


async def test_cursor_in_an_open_code_block_sits_before_the_closing_fence() -> None:
    """Should close a code block that is still streaming, with the cursor inside it."""
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S)
    await reply.push("```py\nprint(1)")
    await asyncio.sleep(0)
    await reply.push("\n```")
    await reply.finish()
    assert target.messages[0].contents == [
        "```py\nprint(1)" + CURSOR + "\n```",
        "```py\nprint(1)\n```",
    ]


async def test_note_is_appended_to_the_last_piece() -> None:
    """Should append the note to the last message."""
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S)
    await reply.push("The answer is")
    await reply.finish(note="⚠️ answer cut off")
    assert target.finals == ["The answer is\n\n⚠️ answer cut off"]


async def test_note_that_does_not_fit_moves_text_to_a_new_last_piece() -> None:
    """Should keep the limit when the last piece is full: its end moves on, with the note."""
    target = FakeTarget()
    reply = StreamedReply(target, limit=200, edit_interval_s=INTERVAL_S)
    text = "word " * 39 + "end."
    await reply.push(text)
    await reply.finish(note="⚠️ answer cut off")
    assert len(target.finals) == 2
    assert all(len(c) <= 200 for c in target.finals)
    assert target.finals[-1].endswith("\n\n⚠️ answer cut off")
    assert " ".join(target.finals).replace("\n\n⚠️ answer cut off", "").split() == text.split()


@pytest.mark.parametrize("deltas", [[], ["  ", "\n\n"]])
async def test_empty_answer_shows_the_placeholder(deltas: list[str]) -> None:
    """Should show the caller's placeholder when the answer has no visible text."""
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S, empty_text="(no answer)")
    for delta in deltas:
        await reply.push(delta)
    await reply.finish(note="⚠️ stopped")
    assert target.finals == ["(no answer)\n\n⚠️ stopped"]


async def test_status_shows_until_the_first_text_replaces_it() -> None:
    """Should show a status line while nothing has arrived, then the answer in its place."""
    target = FakeTarget()
    reply = StreamedReply(target, limit=2000, edit_interval_s=INTERVAL_S)
    reply.set_status("-# Thinking… 3 s")
    await asyncio.sleep(INTERVAL_S / 2)
    reply.set_status("-# Thinking… 8 s")
    await asyncio.sleep(INTERVAL_S * 1.5)
    await reply.push("The answer.")
    reply.set_status("-# Thinking… 13 s")  # too late: text has arrived
    await reply.finish()
    [message] = target.messages
    assert message.contents[0] == "-# Thinking… 3 s"
    assert message.contents[-1] == "The answer."
    assert "-# Thinking… 13 s" not in message.contents


async def test_discard_deletes_a_status_that_no_answer_followed() -> None:
    target = FakeTarget()
    reply = StreamedReply(target, limit=2000, edit_interval_s=INTERVAL_S)
    reply.set_status("-# Thinking… 3 s")
    await asyncio.sleep(INTERVAL_S / 2)
    await reply.discard()
    [message] = target.messages
    assert message.deleted


async def test_push_does_not_wait_for_discord() -> None:
    """Should return from push() at once while a request is still in flight."""
    target = FakeTarget()
    target.release.clear()  # Discord hangs
    reply = StreamedReply(target, edit_interval_s=INTERVAL_S)
    await reply.push("first")
    await asyncio.sleep(0)
    for _ in range(300):
        await reply.push(" more")
    assert target.requests == 1 and not target.messages
    target.release.set()
    await reply.finish()
    assert target.finals == ["first" + " more" * 300]


async def test_one_request_at_a_time_per_message_when_discord_is_slow() -> None:
    """Should never have two requests in flight on one message, even when Discord is slower
    than the edit interval."""
    target = FakeTarget(latency_s=0.03)
    reply = StreamedReply(target, limit=200, edit_interval_s=0.01)
    await stream(reply, "slow " * 80, chunk=10, pause_s=0.004)
    await reply.finish()
    assert [m.max_in_flight for m in target.messages] == [1, 1]


async def test_monitor_slows_edits_when_the_bucket_runs_low() -> None:
    """Should wait for the bucket to reset when Discord says no request is left."""
    monitor = RateLimitMonitor()
    low = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.1"}
    target = FakeTarget(on_request=lambda message: monitor.record(message.route_key, 200, low))
    reply = StreamedReply(target, edit_interval_s=0.01, pacer=monitor)
    await stream(reply, "tick " * 60, chunk=5, pause_s=0.004)
    await reply.finish()
    [message] = target.messages
    assert len(message.times) >= 2
    assert min(gaps(message.times)) >= 0.1 - TOLERANCE_S


class WindowBucket:
    """Discord's bucket: ``limit`` requests per ``per_s``, the window opening at its first
    request (Topics > Rate Limits), announced as the headers of each response."""

    def __init__(self, limit: int, per_s: float) -> None:
        self.limit, self.per_s = limit, per_s
        self.opened = -math.inf
        self.used = 0

    def take(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self.opened >= self.per_s:
            self.opened, self.used = now, 0
        self.used += 1
        reset_after = self.opened + self.per_s - now
        remaining = self.limit - self.used
        return {
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset-After": str(reset_after),
        }


async def test_streaming_edits_leave_a_windows_last_request_to_the_end() -> None:
    """Should not spend a window's last request on a streaming edit (discord.py would hold that
    edit, and its response, until the reset); the final edit may take it."""
    monitor = RateLimitMonitor()
    bucket = WindowBucket(limit=3, per_s=0.2)
    spent_by: list[str] = []

    def respond(message: FakeMessage) -> None:
        headers = bucket.take()
        monitor.record(message.route_key, 200, headers)
        if headers["X-RateLimit-Remaining"] == "0":
            spent_by.append(message.content)

    target = FakeTarget(on_request=respond)
    reply = StreamedReply(target, edit_interval_s=0.01, pacer=monitor)
    await stream(reply, "tick " * 120, chunk=5, pause_s=0.005)
    await reply.finish()
    [message] = target.messages
    assert len(message.contents) >= 5  # several windows
    assert all(not content.endswith(CURSOR) for content in spent_by)


async def test_a_new_part_may_take_a_windows_last_request() -> None:
    """Should send the next part of a long answer at the usual spacing (the reset window
    shared by the requests left), not keep the window's last request from it: only edits of
    a streaming message leave that one."""
    monitor = RateLimitMonitor()
    last_one = {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset-After": "1.0"}  # spacing 0.5

    def respond(message: FakeMessage) -> None:
        if not message.content.endswith(CURSOR):  # the first part, settled: one request left
            monitor.record("channels/1", 200, last_one)

    target = FakeTarget(on_request=respond)
    reply = StreamedReply(target, edit_interval_s=0.01, pacer=monitor, limit=120)
    await reply.push("word " * 10)
    await asyncio.sleep(0.05)
    await reply.push("word " * 30)
    await asyncio.sleep(0.75)  # past the spacing, before the reset
    assert len(target.messages) == 2
    await reply.finish()


async def test_failed_request_is_raised_to_the_caller() -> None:
    """Should stop and raise Discord's error from the next push() or finish()."""
    target = FakeTarget(fail_on_request=2)
    reply = StreamedReply(target, edit_interval_s=0.01)
    with pytest.raises(Boom):
        await stream(reply, "lost " * 40, chunk=5, pause_s=0.002)
        await reply.finish()
    with pytest.raises(Boom):
        await reply.push("more")


async def test_cancel_stops_all_messages() -> None:
    """Should stop updating when cancelled."""
    target = FakeTarget()
    target.release.clear()
    reply = StreamedReply(target, edit_interval_s=0.01)
    await reply.push("abandoned")
    await asyncio.sleep(0)
    reply.cancel()
    target.release.set()
    await asyncio.sleep(0)
    assert target.messages == []


def test_too_small_limit_is_refused() -> None:
    """Should refuse a limit that leaves no room for text."""
    with pytest.raises(ValueError):
        StreamedReply(FakeTarget(), limit=50)


# --- rate-limit monitor ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("PATCH", "/api/v10/channels/123/messages/456", "PATCH /channels/123/messages/:id"),
        ("POST", "/api/v10/channels/123/messages", "POST /channels/123/messages"),
        ("POST", "/api/v10/channels/123/typing", "POST /channels/123/typing"),
        (
            "PATCH",
            "/api/v10/webhooks/77/a-B_c.d/messages/@original",
            "PATCH /webhooks/77/a-B_c.d/messages/:id",
        ),
        ("POST", "/api/v10/webhooks/77/tok", "POST /webhooks/77/tok"),
        ("POST", "/api/v10/interactions/9/tok/callback", "POST /interactions/9/tok/callback"),
        ("GET", "/api/v10/guilds/5/members/6", "GET /guilds/5/members/:id"),
        ("GET", "/api/v10/users/@me", None),
    ],
)
def test_route_key_is_the_method_and_the_path_with_its_major_parameter(
    method: str, path: str, key: str | None
) -> None:
    """Should key a route by its method and path, keeping the id Discord buckets by."""
    assert route_key(method, path) == key


@pytest.mark.parametrize(
    ("route", "key"),
    [
        (message_create_route(1), route_key("POST", "/api/v10/channels/1/messages")),
        (message_edit_route(1), route_key("PATCH", "/api/v10/channels/1/messages/2")),
        (webhook_edit_route(7, "t"), route_key("PATCH", "/webhooks/7/t/messages/@original")),
        (webhook_edit_route(7, "t"), route_key("PATCH", "/webhooks/7/t/messages/3")),
        (followup_route(7, "t"), route_key("POST", "/api/v10/webhooks/7/t")),
    ],
)
def test_named_routes_match_the_requests_discord_py_makes(route: str, key: str) -> None:
    assert route == key


def test_a_response_on_another_route_never_speaks_for_the_edit_bucket() -> None:
    """Should keep a channel's edit wait when its typing bucket (plenty left) answers after:
    Discord limits editing, sending and typing in one channel in separate buckets."""
    monitor = RateLimitMonitor(clock=FakeClock())
    edit, typing = message_edit_route(1), "POST /channels/1/typing"
    low = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4", "X-RateLimit-Bucket": "e"}
    plenty = {
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset-After": "5",
        "X-RateLimit-Bucket": "t",
    }
    monitor.record(edit, 200, low)
    monitor.record(typing, 200, plenty)
    monitor.record(message_create_route(1), 200, {**plenty, "X-RateLimit-Bucket": "c"})
    assert monitor.delay_for(edit) == pytest.approx(4.0)
    assert monitor.delay_for(typing) == 0.0


def test_routes_that_discord_says_share_a_bucket_share_its_wait() -> None:
    """Should follow X-RateLimit-Bucket: two routes named the same bucket wait together, per
    major parameter (another channel's bucket of the same name is its own)."""
    monitor = RateLimitMonitor(clock=FakeClock())
    shared = {"X-RateLimit-Bucket": "abc", "X-RateLimit-Reset-After": "2"}
    monitor.record("DELETE /channels/1/messages/:id", 200, {**shared, "X-RateLimit-Remaining": "5"})
    monitor.record(message_edit_route(1), 200, {**shared, "X-RateLimit-Remaining": "0"})
    monitor.record(message_edit_route(2), 200, {**shared, "X-RateLimit-Remaining": "5"})
    assert monitor.delay_for("DELETE /channels/1/messages/:id") == pytest.approx(2.0)
    assert monitor.delay_for(message_edit_route(2)) == 0.0


@pytest.mark.parametrize(
    ("remaining", "reset_after", "delay"),
    [
        ("5", "4", 0.0),
        ("4", "4", 0.0),
        ("3", "4", 1.0),
        ("2", "3", 1.0),
        ("1", "4", 2.0),
        ("0", "2.5", 2.5),
    ],
)
def test_delay_grows_as_the_bucket_runs_low(remaining: str, reset_after: str, delay: float) -> None:
    """Should not wait while plenty remains, space the last requests and the reset evenly over
    the reset window, and wait for the reset when none is left."""
    monitor = RateLimitMonitor(clock=FakeClock())
    headers = {"X-RateLimit-Remaining": remaining, "X-RateLimit-Reset-After": reset_after}
    monitor.record("channels/1", 200, headers)
    assert monitor.delay_for("channels/1") == pytest.approx(delay)
    assert monitor.delay_for("channels/2") == 0.0


def test_spare_requests_wait_for_the_reset() -> None:
    """Should keep the last `spare` requests of a window for others: wait until the reset."""
    monitor = RateLimitMonitor(clock=FakeClock())
    for channel, remaining, reset_after in (("channels/1", "1", "4"), ("channels/2", "2", "3")):
        headers = {"X-RateLimit-Remaining": remaining, "X-RateLimit-Reset-After": reset_after}
        monitor.record(channel, 200, headers)
    assert monitor.delay_for("channels/1") == pytest.approx(2)
    assert monitor.delay_for("channels/1", spare=1) == pytest.approx(4)
    assert monitor.delay_for("channels/2", spare=1) == pytest.approx(1)


def test_the_pace_is_counted_from_the_response_not_from_each_question() -> None:
    """Should let the next request go one spacing after the response that set it, however often
    the streamer asks meanwhile (a pace recomputed from "now" would recede to the reset)."""
    clock = FakeClock()
    monitor = RateLimitMonitor(clock=clock)
    headers = {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset-After": "4"}
    monitor.record("channels/1", 200, headers)
    assert monitor.delay_for("channels/1") == pytest.approx(1.0)
    clock.now += 0.5
    assert monitor.delay_for("channels/1") == pytest.approx(0.5)
    clock.now += 0.5
    assert monitor.delay_for("channels/1") == 0.0


def test_delay_shrinks_as_time_passes() -> None:
    """Should count down to the reset and then allow requests again."""
    clock = FakeClock()
    monitor = RateLimitMonitor(clock=clock)
    monitor.record(
        "channels/1", 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "2"}
    )
    clock.now += 1.5
    assert monitor.delay_for("channels/1") == pytest.approx(0.5)
    clock.now += 1
    assert monitor.delay_for("channels/1") == 0.0


def test_429_retry_after_holds_the_route() -> None:
    """Should wait out a 429's Retry-After on its route, and on every route when global."""
    monitor = RateLimitMonitor(clock=FakeClock())
    monitor.record("channels/1", 429, {"Retry-After": "3"})
    assert monitor.delay_for("channels/1") == pytest.approx(3)
    assert monitor.delay_for("channels/2") == 0.0
    monitor.record("channels/2", 429, {"Retry-After": "5", "X-RateLimit-Global": "true"})
    assert monitor.delay_for("webhooks/1/t") == pytest.approx(5)
    assert monitor.delay_for(GLOBAL_KEY) == pytest.approx(5)


@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "soon"])
def test_malformed_headers_are_ignored(bad: str) -> None:
    """Should not wait forever (or crash) on a header that is not a sane number."""
    monitor = RateLimitMonitor(clock=FakeClock())
    monitor.record(
        "channels/1", 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": bad}
    )
    monitor.record("channels/2", 429, {"Retry-After": bad})
    assert monitor.delay_for("channels/1") == 0.0
    assert monitor.delay_for("channels/2") == 0.0


def test_monitor_forgets_the_oldest_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should keep a bounded number of routes, dropping the least recently updated."""
    monkeypatch.setattr(rate_monitor, "MAX_TRACKED_ROUTES", 2)
    monitor = RateLimitMonitor(clock=FakeClock())
    empty = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "9"}
    for channel in (1, 2, 3):
        monitor.record(f"channels/{channel}", 200, empty)
    assert monitor.delay_for("channels/1") == 0.0
    assert monitor.delay_for("channels/3") == pytest.approx(9)


def test_monitor_forgets_buckets_whose_window_is_over() -> None:
    """Should hold no state for routes whose reset and hold have passed (one per answer's
    interaction token), yet keep what still holds a route back."""
    clock = FakeClock()
    monitor = RateLimitMonitor(clock=clock)
    for token in range(100):
        route = f"PATCH /webhooks/1/token{token}/messages/:id"
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "5"}
        monitor.record(route, 200, {**headers, "X-RateLimit-Bucket": "edit"})
    monitor.record("POST /channels/7/messages", 429, {"Retry-After": "30"})
    clock.now += 6
    monitor.record("POST /channels/8/messages", 200, {"X-RateLimit-Remaining": "4"})
    assert monitor.delay_for("PATCH /webhooks/1/token0/messages/:id") == 0.0
    assert monitor.delay_for("POST /channels/7/messages") == pytest.approx(24)
    assert not any("token" in key for key in monitor._buckets)
    assert not monitor._bucket_of


async def test_trace_config_reads_headers_of_real_responses() -> None:
    """Should record the rate-limit headers of responses that pass through an aiohttp session,
    each for its own route's bucket."""

    async def edit(request: web.Request) -> web.Response:
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4"}
        return web.json_response({}, headers={**headers, "X-RateLimit-Bucket": "edit"})

    async def typing(request: web.Request) -> web.Response:
        headers = {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "5"}
        return web.Response(status=204, headers={**headers, "X-RateLimit-Bucket": "typing"})

    app = web.Application()
    app.router.add_patch("/api/v10/channels/{channel}/messages/{message}", edit)
    app.router.add_post("/api/v10/channels/{channel}/typing", typing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    monitor = RateLimitMonitor()
    try:
        async with aiohttp.ClientSession(trace_configs=[monitor.trace_config()]) as session:
            url = f"http://127.0.0.1:{port}/api/v10/channels/42/messages/1"
            async with session.patch(url, json={"content": "x"}) as response:
                assert response.status == 200
            # the channel's typing bucket (another one, plenty left) answers after the edit
            typing_url = f"http://127.0.0.1:{port}/api/v10/channels/42/typing"
            async with session.post(typing_url) as response:
                assert response.status == 204
    finally:
        await runner.cleanup()
    assert 3.5 < monitor.delay_for(message_edit_route(42)) <= 4
    assert monitor.delay_for(message_edit_route(43)) == 0.0
    assert monitor.delay_for(message_create_route(42)) == 0.0


# --- Discord targets ---------------------------------------------------------------------------

NONE_PAYLOAD = discord.AllowedMentions.none().to_dict()


def fake_interaction(*, age_s: float = 0.0) -> MagicMock:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.application_id = 10
    interaction.token = "tok"
    interaction.channel_id = 20
    interaction.created_at = discord.utils.utcnow() - datetime.timedelta(seconds=age_s)
    interaction.channel = MagicMock(spec=discord.TextChannel)
    interaction.channel.send = AsyncMock(return_value=MagicMock(spec=discord.Message))
    interaction.edit_original_response = AsyncMock()
    interaction.followup = MagicMock()
    interaction.followup.send = AsyncMock(return_value=MagicMock(spec=discord.WebhookMessage))
    return interaction


async def test_interaction_target_edits_the_response_then_sends_follow_ups() -> None:
    """Should put the first piece in the deferred response and the next in follow-ups, all
    without mentions and on the interaction's webhook route."""
    interaction = fake_interaction()
    target = InteractionTarget(cast(discord.Interaction, interaction), ephemeral=True)
    first = await target.send_first("one")
    await first.edit("one!")
    second = await target.send_next("two", first)
    await second.edit("two!")

    assert first.route_key == second.route_key == webhook_edit_route(10, "tok")
    assert target.route_key == followup_route(10, "tok")
    for call in interaction.edit_original_response.await_args_list:
        assert call.kwargs["allowed_mentions"].to_dict() == NONE_PAYLOAD
    assert [c.kwargs["content"] for c in interaction.edit_original_response.await_args_list] == [
        "one",
        "one!",
    ]
    send = interaction.followup.send.await_args
    assert send.args == ("two",)
    assert send.kwargs["ephemeral"] is True and send.kwargs["wait"] is True
    assert send.kwargs["allowed_mentions"].to_dict() == NONE_PAYLOAD
    follow_up = interaction.followup.send.return_value
    assert follow_up.edit.await_args.kwargs["content"] == "two!"
    assert follow_up.edit.await_args.kwargs["allowed_mentions"].to_dict() == NONE_PAYLOAD


async def test_interaction_target_continues_in_the_channel_before_the_token_expires() -> None:
    """Should send plain channel messages once the 15-minute token is nearly spent."""
    interaction = fake_interaction(age_s=14 * 60 + 5)
    target = InteractionTarget(cast(discord.Interaction, interaction))
    previous = await target.send_first("one")
    await target.send_next("two", previous)
    assert interaction.edit_original_response.await_count == 0
    assert interaction.followup.send.await_count == 0
    assert [c.args for c in interaction.channel.send.await_args_list] == [("one",), ("two",)]
    assert target.route_key == message_create_route(20)


async def test_ephemeral_interaction_never_falls_back_to_the_channel() -> None:
    """Should keep a private answer private, even late."""
    interaction = fake_interaction(age_s=14 * 60 + 5)
    target = InteractionTarget(cast(discord.Interaction, interaction), ephemeral=True)
    await target.send_next("two", await target.send_first("one"))
    assert interaction.channel.send.await_count == 0
    assert interaction.followup.send.await_count == 1


async def test_reply_chain_target_replies_to_its_previous_part() -> None:
    """Should reply to the question, then each part to the one before, without mentions."""
    question = MagicMock(spec=discord.Message)
    question.channel.id = 30
    parts = [MagicMock(spec=discord.Message) for _ in range(2)]
    kept = [MagicMock(spec=discord.PartialMessage) for _ in parts]  # what the bot holds
    for part, partial in zip(parts, kept, strict=True):
        part.channel = MagicMock(spec=discord.TextChannel)
        part.channel.get_partial_message.return_value = partial
    question.reply = AsyncMock(return_value=parts[0])
    kept[0].reply = AsyncMock(return_value=parts[1])
    target = ReplyChainTarget(cast(discord.Message, question))
    first = await target.send_first("one")
    second = await target.send_next("two", first)
    await second.edit("two!")
    for call in (question.reply.await_args, kept[0].reply.await_args):
        assert call.kwargs["mention_author"] is False
        assert call.kwargs["allowed_mentions"].to_dict() == NONE_PAYLOAD
    assert kept[1].edit.await_args.kwargs["content"] == "two!"
    assert second.route_key == message_edit_route(30)
    assert target.route_key == message_create_route(30)


# --- long answers (max_parts) -----------------------------------------------------------------

OVERFLOW = "-# 📄 whole answer in answer.md"


async def test_a_long_answer_opens_no_more_than_max_parts_and_attaches_the_whole_text() -> None:
    """Should never open more than max_parts messages, end the last with the overflow note
    and attach the whole text as answer.md when the answer ends."""
    text = five_thousand_char_answer() * 2
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=0.005, max_parts=2, overflow_note=OVERFLOW)
    await stream(reply, text, chunk=40, pause_s=0.0005)
    assert len(target.messages) <= 2
    await reply.finish()
    assert reply.overflowed
    first, last = target.messages
    assert first.content == split_message(text)[0]
    assert last.content.endswith("\n\n" + OVERFLOW)
    assert all(len(c) <= 2000 for m in target.messages for c in m.contents)
    assert all(scan_fences(m.content) is None for m in target.messages)
    assert last.files == [("answer.md", text.encode())]
    assert first.files == []


async def test_a_capped_answer_puts_the_ending_note_under_the_overflow_note() -> None:
    text = "word " * 1000
    target = FakeTarget()
    reply = StreamedReply(target, limit=500, edit_interval_s=0.0, max_parts=1, overflow_note="x")
    await stream(reply, text, chunk=50)
    await reply.finish(note="-# cut off")
    [message] = target.messages
    assert message.content.endswith("word\n\nx\n-# cut off")
    assert len(message.content) <= 500
    assert message.files == [("answer.md", text.encode())]


@pytest.mark.parametrize("length", [100, 1900, 3900, 5900])
async def test_an_answer_within_max_parts_is_unchanged(length: int) -> None:
    """Should show an answer that fits max_parts messages as before, with no file."""
    text = ("word " * 1200)[:length].strip()
    target = FakeTarget()
    reply = StreamedReply(target, edit_interval_s=0.0, max_parts=3, overflow_note=OVERFLOW)
    await stream(reply, text, chunk=100)
    await reply.finish()
    assert not reply.overflowed
    assert target.finals == split_message(text)
    assert not any(m.files for m in target.messages)


async def test_a_signal_wakes_its_waiter_and_stays_set_until_cleared() -> None:
    signal = _Signal()
    waiter = asyncio.create_task(signal.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    signal.set()
    await asyncio.wait_for(waiter, 1)
    await asyncio.wait_for(signal.wait(), 1)  # still set: returns at once
    signal.clear()
    again = asyncio.create_task(signal.wait())
    await asyncio.sleep(0.01)
    assert not again.done()
    again.cancel()
    with pytest.raises(asyncio.CancelledError):
        await again
    signal.set()  # after a cancelled wait: nothing to wake, no error
    await asyncio.wait_for(signal.wait(), 1)
