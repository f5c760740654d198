"""Server-Sent Events: the `data` of each event, however the bytes were split into reads."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp

from bot.nexai._errors import MalformedResponseError
from bot.nexai.constants import MAX_SSE_LINE_BYTES

SSE_DONE = "[DONE]"


async def sse_batches(content: aiohttp.StreamReader) -> AsyncGenerator[list[str], None]:
    """The `data` of each Server-Sent Event, however the bytes were split into reads: one list
    per read, of the events that read completed (reads that complete none yield nothing)."""
    pending = b""
    data: list[str] = []
    async for chunk in content.iter_any():
        pending += chunk
        if b"\n" not in chunk:
            if len(pending) > MAX_SSE_LINE_BYTES:
                raise MalformedResponseError("event stream line too long")
            continue
        *lines, pending = pending.split(b"\n")
        batch = [payload for raw in lines if (payload := _take_line(raw, data)) is not None]
        if batch:
            yield batch
    if pending:
        _take_line(pending, data)
    if data:
        yield ["\n".join(data)]


def _take_line(raw: bytes, data: list[str]) -> str | None:
    """Add one SSE line to the event in `data`; a blank line ends it and returns its payload."""
    try:
        line = raw.rstrip(b"\r").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedResponseError("event stream is not UTF-8") from exc
    if not line:
        payload = "\n".join(data) if data else None
        data.clear()
        return payload
    if line.startswith("data:"):
        value = line[5:]
        data.append(value[1:] if value.startswith(" ") else value)
    # comments (":...") and the event/id/retry fields are not needed
    return None


def load_event(payload: str) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise MalformedResponseError("stream event is not JSON") from exc
    if not isinstance(event, dict):
        raise MalformedResponseError("stream event is not a JSON object")
    return event
