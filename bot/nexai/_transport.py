"""The one way requests reach the API: the session, headers, timeouts, and ONE retry loop.

`Transport.retrying` awaits one attempt of a call (`open` sends it, the attempt reads the 2xx
response) and awaits it again after a failure that cannot have been billed (`retry_reason`),
after the wait the server asked for or a jittered backoff. Plain calls (`request`) and streams
(`ChatStream`, until their first visible text) both go through it. Plain coroutines, not
async generators: a crowd of streams keeps no generator frames, wrappers or finalizer hooks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp

from bot.nexai._errors import (
    NexaiConnectionError,
    NexaiError,
    NexaiStatusError,
    NexaiTimeoutError,
    RateLimitError,
    ServerError,
    make_status_error,
)
from bot.nexai._payloads import ApiCall, Usage
from bot.nexai._retry import retry_delay
from bot.nexai.constants import (
    DEFAULT_BACKOFF_BASE_S,
    DEFAULT_MAX_BACKOFF_S,
    DEFAULT_MAX_RETRIES,
    MAX_RETRY_WAIT_S,
    USER_AGENT,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


def retry_reason(exc: NexaiError) -> str | None:
    """Why `exc` is worth another try, or None when it is not.

    Only failures that cannot have been billed are retried: a connection that failed before
    any answer, a 429 rate limit (also as an error event inside a stream: the upstream refused
    the work), and a 5xx answered instead of a stream. A timeout may mean the work is being
    done and paid for, and a 2xx answer that stalls or breaks was begun: neither is retried.
    """
    match exc:
        case NexaiConnectionError(answered=False):
            return "connection failed"
        case RateLimitError():
            return f"rate limited ({exc.code or exc.status})"
        case ServerError(in_stream=False):
            return f"HTTP {exc.status}"
    return None


class Transport:
    """Holds the bot's one aiohttp session for the API; every call goes through `retrying`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base_s: float = DEFAULT_BACKOFF_BASE_S,
        max_retry_wait_s: float = MAX_RETRY_WAIT_S,
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._max_retries = max(0, max_retries)
        self._backoff_base_s = backoff_base_s
        self._max_retry_wait_s = max_retry_wait_s
        self._rng = random.Random()

    async def retrying(self, call: ApiCall, attempt: Callable[[], Awaitable[T]]) -> T:
        """What `attempt()` returns; it is awaited again after a retryable failure (see
        `retry_reason`). An attempt must not have delivered anything when it fails: a stream
        retries only until its first visible text."""
        tries = 0
        while True:
            try:
                return await attempt()
            except NexaiError as exc:
                exc.model = exc.model or call.model
                why = self._retry(exc, tries) if call.retryable else None
                if why is None:
                    raise
            reason, delay = why
            log.info(
                "retrying %s %s model=%s (retry %s of %s) in %.2fs: %s",
                call.method,
                call.path,
                call.model,
                tries + 1,
                self._max_retries,
                delay,
                reason,
            )
            await asyncio.sleep(delay)
            tries += 1

    async def request(
        self, call: ApiCall, read: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        """A plain call: `read` turns the 2xx response into the result."""

        async def once() -> T:
            started = time.monotonic()
            resp = await self.open(call)
            try:
                result = await read(resp)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise self.failure(call, exc, started, answered=True) from exc
            finally:
                await release(resp)
            self.log_call(call, resp.status, started, getattr(result, "usage", None))
            return result

        return await self.retrying(call, once)

    def _retry(self, exc: NexaiError, attempt: int) -> tuple[str, float] | None:
        """(why, seconds to wait) before retrying after `exc`, or None to give up."""
        reason = retry_reason(exc)
        if reason is None or attempt >= self._max_retries:
            return None
        hint = exc.retry_after if isinstance(exc, NexaiStatusError) else None
        if hint is not None and hint > self._max_retry_wait_s:
            return None
        cap = min(DEFAULT_MAX_BACKOFF_S, self._max_retry_wait_s)
        return reason, retry_delay(attempt, hint, self._rng, base_s=self._backoff_base_s, max_s=cap)

    async def open(self, call: ApiCall) -> aiohttp.ClientResponse:
        """Send the call once: its 2xx response, for the caller to `release`. An error status,
        a timeout or a failed connection raises a NexaiError."""
        headers = {"Authorization": f"Bearer {self._api_key}", "User-Agent": USER_AGENT}
        if call.stream:
            headers["Accept"] = "text/event-stream"
        started = time.monotonic()
        try:
            resp = await self._session.request(
                call.method,
                self._base_url + call.path,
                json=call.json,
                data=call.form() if call.form else None,
                headers=headers,
                timeout=call.timeout,
            )
            if resp.status < 400:
                return resp
            try:
                body = await resp.read()
            finally:
                await release(resp)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self.failure(call, exc, started, answered=False) from exc
        self.log_call(call, resp.status, started)
        raise make_status_error(resp.status, body, resp.headers, secrets=(self._api_key,))

    def failure(
        self, call: ApiCall, exc: BaseException, started: float, *, answered: bool
    ) -> NexaiError:
        """The NexaiError for a timeout or an aiohttp error of `call`; `answered`: it came
        while a 2xx answer was read (a broken connection is then not retried)."""
        if isinstance(exc, TimeoutError):
            self.log_call(call, "timeout", started)
            return NexaiTimeoutError(f"{call.method} {call.path} timed out")
        self.log_call(call, "connection error", started)
        return NexaiConnectionError(
            f"{call.method} {call.path} failed: {type(exc).__name__}: {exc}", answered=answered
        )

    @staticmethod
    def log_call(
        call: ApiCall, status: int | str, started: float, usage: Usage | None = None
    ) -> None:
        """One DEBUG line per call: never the key, the prompt or the answer."""
        log.debug(
            "%s %s model=%s status=%s latency_ms=%.0f prompt_tokens=%s completion_tokens=%s",
            call.method,
            call.path,
            call.model,
            status,
            (time.monotonic() - started) * 1000,
            usage.prompt_tokens if usage else "-",
            usage.completion_tokens if usage else "-",
        )


async def release(resp: aiohttp.ClientResponse) -> None:
    """Give the response's connection back (closed instead if its body was not read to the
    end), as leaving `async with resp` does."""
    resp.release()
    await resp.wait_for_close()
