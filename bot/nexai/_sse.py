"""Server-Sent Events: the `data` of each event, however the bytes were split into reads.

The event stream format: https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

import json
from typing import Any

from bot.nexai._errors import MalformedResponseError
from bot.nexai.constants import MAX_SSE_LINE_BYTES

SSE_DONE = "[DONE]"


class SseReader:
    """Feed it each read of an event stream; it returns the `data` of the events that read
    completed and keeps only the unfinished line and event (a plain object, not a generator,
    so nothing of a read stays referenced while the stream waits for the next one)."""

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[str] = []
        self.ended = False

    def feed(self, chunk: bytes) -> list[str]:
        """The payloads `chunk` completed; an empty chunk is the end of the stream, which
        completes an event left without its blank line."""
        if not chunk:
            self.ended = True
            if self._pending:
                self._take_line(self._pending)
                self._pending = b""
            return [self._event()] if self._data else []
        if b"\n" not in chunk:
            self._pending += chunk
            if len(self._pending) > MAX_SSE_LINE_BYTES:
                raise MalformedResponseError("event stream line too long")
            return []
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        return [payload for raw in lines if (payload := self._take_line(raw)) is not None]

    def _take_line(self, raw: bytes) -> str | None:
        """Add one line to the event; a blank line ends it and returns its payload."""
        try:
            line = raw.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedResponseError("event stream is not UTF-8") from exc
        if not line:
            return self._event() if self._data else None
        if line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
        # comments (":...") and the event/id/retry fields are not needed
        return None

    def _event(self) -> str:
        payload = "\n".join(self._data)
        self._data.clear()
        return payload


def load_event(payload: str) -> dict[str, Any]:
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise MalformedResponseError("stream event is not JSON") from exc
    if not isinstance(event, dict):
        raise MalformedResponseError("stream event is not a JSON object")
    return event
