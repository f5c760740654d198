"""The one way requests reach the API: the session, headers, timeouts, and ONE retry loop.

`Transport.attempts` sends a call and hands its 2xx response to a body that yields results;
a failure before the body yielded anything is retried when it cannot have been billed
(`retry_reason`), after the wait the server asked for or a jittered backoff. Plain calls
(`request`) and streams (`ChatStream`) both go through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
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
    """Holds the bot's one aiohttp session for the API; every call goes through `attempts`."""

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

    async def attempts(
        self, call: ApiCall, body: Callable[[aiohttp.ClientResponse], AsyncGenerator[T, None]]
    ) -> AsyncGenerator[T, None]:
        """What `body` yields from the call's 2xx response; the call is sent again after a
        retryable failure, as long as `body` has yielded nothing."""
        attempt = 0
        while True:
            delivered = False
            try:
                async with self._open(call) as resp, contextlib.aclosing(body(resp)) as results:
                    async for result in results:
                        delivered = True
                        yield result
                return
            except NexaiError as exc:
                exc.model = exc.model or call.model
                why = None if delivered or not call.retryable else self._retry(exc, attempt)
                if why is None:
                    raise
            reason, delay = why
            log.info(
                "retrying %s %s model=%s (retry %s of %s) in %.2fs: %s",
                call.method,
                call.path,
                call.model,
                attempt + 1,
                self._max_retries,
                delay,
                reason,
            )
            await asyncio.sleep(delay)
            attempt += 1

    async def request(
        self, call: ApiCall, read: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        """A plain call: `read` turns the 2xx response into the result."""

        async def once(resp: aiohttp.ClientResponse) -> AsyncGenerator[T, None]:
            started = time.monotonic()
            result = await read(resp)
            self.log_call(call, resp.status, started, getattr(result, "usage", None))
            yield result

        async with contextlib.aclosing(self.attempts(call, once)) as results:
            async for result in results:
                return result
        raise AssertionError("a call's body yields once or raises")  # pragma: no cover

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

    @contextlib.asynccontextmanager
    async def _open(self, call: ApiCall) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send the call once; yield a 2xx response. Transport failures become NexaiErrors;
        a connection that breaks while the 2xx answer is read is `answered`."""
        headers = {"Authorization": f"Bearer {self._api_key}", "User-Agent": USER_AGENT}
        if call.stream:
            headers["Accept"] = "text/event-stream"
        started = time.monotonic()
        answered = False
        try:
            # Awaited, then entered: `async with session.request()` keeps the finished request
            # coroutine (0.9 KiB) for as long as the answer streams.
            resp = await self._session.request(
                call.method,
                self._base_url + call.path,
                json=call.json,
                data=call.form() if call.form else None,
                headers=headers,
                timeout=call.timeout,
            )
            async with resp:
                if resp.status >= 400:
                    body = await resp.read()
                    self.log_call(call, resp.status, started)
                    raise make_status_error(
                        resp.status, body, resp.headers, secrets=(self._api_key,)
                    )
                answered = True
                yield resp
        except TimeoutError as exc:
            self.log_call(call, "timeout", started)
            raise NexaiTimeoutError(f"{call.method} {call.path} timed out") from exc
        except aiohttp.ClientError as exc:
            self.log_call(call, "connection error", started)
            raise NexaiConnectionError(
                f"{call.method} {call.path} failed: {type(exc).__name__}: {exc}",
                answered=answered,
            ) from exc

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
