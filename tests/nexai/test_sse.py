"""The event-stream reader on its own: bytes in, each event's `data` out, however split."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.nexai._errors import MalformedResponseError
from bot.nexai._sse import SseReader
from bot.nexai.constants import MAX_SSE_LINE_BYTES

STREAM = (
    ": a comment\r\n"
    'event: message\r\nid: 7\r\ndata: {"a": 1}\r\n\r\n'
    "data:first line\ndata: second line\n\n"
    "data: h\u00e9llo \U0001f600\n\n"
    "retry: 100\n\n"
    "data: [DONE]\n\n"
).encode()
PAYLOADS = ['{"a": 1}', "first line\nsecond line", "h\u00e9llo \U0001f600", "[DONE]"]


def read_all(reader: SseReader, chunks: list[bytes]) -> list[str]:
    payloads = [payload for chunk in chunks for payload in reader.feed(chunk)]
    return payloads + reader.feed(b"")


@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_events_come_whole_however_the_bytes_are_split(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    reader = SseReader()
    assert read_all(reader, chunks) == PAYLOADS
    assert reader.ended


def test_a_read_returns_only_the_events_it_completed() -> None:
    reader = SseReader()
    assert reader.feed(b"data: one\n\ndata: tw") == ["one"]
    assert reader.feed(b"o\n") == []
    assert reader.feed(b"\n") == ["two"]
    assert not reader.ended


def test_the_end_completes_an_event_left_without_its_blank_line() -> None:
    reader = SseReader()
    assert reader.feed(b"data: last") == []
    assert reader.feed(b"") == ["last"]
    assert reader.ended


def test_a_blank_line_without_data_is_no_event() -> None:
    assert read_all(SseReader(), [b"\n\n: keep-alive\n\n"]) == []


def test_a_line_without_end_past_the_limit_is_refused() -> None:
    reader = SseReader()
    reader.feed(b"data: ")
    with pytest.raises(MalformedResponseError, match="too long"):
        reader.feed(b"x" * MAX_SSE_LINE_BYTES)


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(MalformedResponseError, match="not UTF-8"):
        SseReader().feed(b"data: \xff\xfe\n\n")
