"""Per-route rate-limit buckets, their headers, and 429s, as Discord announces and enforces them.

Source: Discord developer docs, Topics > Rate Limits.

- "Per-route rate limits exist for many individual endpoints, and may include the HTTP
  method"; they "account for top-level resources within the path": channels (channel_id),
  guilds (guild_id) and webhooks (webhook_id + webhook_token). So each route below keeps one
  window per top-level resource, and ``/channels/1`` and ``/channels/2`` never share one.
- "Header Format": every response carries ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``
  (epoch seconds), ``-Reset-After`` (seconds) and ``-Bucket``, "a unique string denoting the
  rate limit being encountered (non-inclusive of top-level resources in the path)": the same
  for ``/channels/1/messages`` and ``/channels/2/messages``, different for message create,
  edit and typing.
- "Exceeding A Rate Limit": a 429 with JSON ``message``, ``retry_after`` (seconds, float) and
  ``global``, and headers ``Retry-After`` and ``X-RateLimit-Scope`` (``user`` for a per-route
  limit, ``global`` plus ``X-RateLimit-Global: true`` for the global one). A refused request
  uses up nothing.
- "Global Rate Limit": 50 requests per second per bot; "Interaction endpoints are not bound to
  the bot's Global Rate Limit" (callbacks and the interaction's webhook routes).

The docs give no per-route numbers ("should not be hard coded"); the defaults are what Discord
announces in its headers in practice (e.g. 5 messages or 5 edits per 5 s in one channel).
Tests may set others with ``FakeDiscord.set_budget``; whoever needs to stream fast says so.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass

from ._models import JSON

#: Topics > Rate Limits > "Global Rate Limit": 50 requests per second.
GLOBAL_BUDGET = (50, 1.0)


@dataclass(frozen=True)
class Budget:
    """``limit`` requests per ``per_s`` seconds (a window opens at its first request)."""

    limit: int
    per_s: float


_S, _T = r"\d+", r"[^/]+"
#: (bucket name, method, path regex whose group 1 is the top-level resource, budget,
#: bound by the global limit). The first match wins.
ROUTES: list[tuple[str, str, str, Budget, bool]] = [
    ("message-create", "POST", rf"/(channels/{_S})/messages", Budget(5, 5.0), True),
    ("message-edit", "PATCH", rf"/(channels/{_S})/messages/{_S}", Budget(5, 5.0), True),
    ("message-delete", "DELETE", rf"/(channels/{_S})/messages/{_S}", Budget(5, 1.0), True),
    ("typing", "POST", rf"/(channels/{_S})/typing", Budget(5, 5.0), True),
    ("reaction", "*", rf"/(channels/{_S})/messages/{_S}/reactions/.*", Budget(1, 0.25), True),
    (
        "thread-create",
        "POST",
        rf"/(channels/{_S})(?:/messages/{_S})?/threads",
        Budget(5, 5.0),
        True,
    ),
    ("channel-edit", "PATCH", rf"/(channels/{_S})", Budget(5, 5.0), True),
    ("interaction-callback", "POST", rf"/(interactions/{_S}/{_T})/callback", Budget(5, 5.0), False),
    ("followup-create", "POST", rf"/(webhooks/{_S}/{_T})", Budget(5, 5.0), False),
    ("webhook-edit", "PATCH", rf"/(webhooks/{_S}/{_T})/messages/.*", Budget(5, 5.0), False),
    ("webhook-delete", "DELETE", rf"/(webhooks/{_S}/{_T})/messages/.*", Budget(5, 5.0), False),
    ("webhook-get", "GET", rf"/(webhooks/{_S}/{_T})/messages/.*", Budget(5, 5.0), False),
]
#: Any other route: its own bucket per method and path shape, per top-level resource.
OTHER_BUDGET = Budget(50, 1.0)
_TOP_LEVEL = re.compile(rf"/((?:channels|guilds)/{_S}|webhooks/{_S}/{_T})")


@dataclass
class _Window:
    opened_at: float
    count: int = 0


@dataclass(frozen=True)
class Verdict:
    """What the limiter says about one request: its headers, and a 429 body if refused."""

    headers: dict[str, str]
    refused: JSON | None = None


class RateLimiter:
    """Buckets per (route, top-level resource), plus the global limit."""

    def __init__(self) -> None:
        self.budgets: dict[str, Budget] = {name: budget for name, *_, budget, _g in ROUTES}
        self.global_budget = Budget(*GLOBAL_BUDGET)
        self._routes = [
            (name, method, re.compile(pattern), bound)
            for name, method, pattern, _b, bound in ROUTES
        ]
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global: _Window | None = None
        #: Multiplies every window (0.1: Discord's budgets at ten times its speed, for suites
        #: that also run the bot's own pacing ten times faster). 1.0 is Discord's.
        self.time_scale = 1.0

    def classify(self, method: str, path: str) -> tuple[str, str, bool]:
        """(bucket name, top-level resource, bound by the global limit) of a request."""
        for name, r_method, pattern, bound in self._routes:
            if r_method in ("*", method) and (found := pattern.fullmatch(path)):
                return name, found.group(1), bound
        top = _TOP_LEVEL.search(path)
        resource = top.group(1) if top else ""
        shape = re.sub(r"/\d+", "/:id", path.replace(resource, ":top", 1) if resource else path)
        return f"{method} {shape}", resource, True

    def budget(self, name: str) -> Budget:
        """The budget of a bucket, with its window scaled by ``time_scale``."""
        budget = self.budgets.get(name, OTHER_BUDGET)
        return Budget(budget.limit, budget.per_s * self.time_scale)

    def check(self, method: str, path: str, now: float | None = None) -> Verdict:
        """Count one request (unless refused) and say what Discord would answer about it."""
        now = time.monotonic() if now is None else now
        name, resource, bound = self.classify(method, path)
        budget = self.budget(name)
        window = self._window((name, resource), budget, now)
        if bound:
            global_s = self.global_budget.per_s * self.time_scale
            self._global = self._global or _Window(now)
            if now - self._global.opened_at >= global_s:
                self._global = _Window(now)
            if self._global.count >= self.global_budget.limit:
                retry = self._global.opened_at + global_s - now
                return Verdict(self._global_headers(retry), _refusal(retry, glob=True))
        if window.count >= budget.limit:
            retry = window.opened_at + budget.per_s - now
            headers = self._headers(name, budget, window, now)
            headers["Retry-After"] = str(max(1, math.ceil(retry)))
            headers["X-RateLimit-Scope"] = "user"
            return Verdict(headers, _refusal(retry, glob=False))
        window.count += 1
        if bound and self._global is not None:
            self._global.count += 1
        return Verdict(self._headers(name, budget, window, now))

    def _window(self, key: tuple[str, str], budget: Budget, now: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now - window.opened_at >= budget.per_s:
            window = self._windows[key] = _Window(now)
        return window

    @staticmethod
    def _headers(name: str, budget: Budget, window: _Window, now: float) -> dict[str, str]:
        reset_after = max(0.0, window.opened_at + budget.per_s - now)
        return {
            "X-RateLimit-Limit": str(budget.limit),
            "X-RateLimit-Remaining": str(max(0, budget.limit - window.count)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(name),
        }

    @staticmethod
    def _global_headers(retry: float) -> dict[str, str]:
        return {
            "Retry-After": str(max(1, math.ceil(retry))),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
        }


def bucket_hash(name: str) -> str:
    """A stable opaque id per bucket, the same for every top-level resource (as on Discord)."""
    return hashlib.md5(name.encode()).hexdigest()[:16]


def _refusal(retry_after: float, *, glob: bool) -> JSON:
    """Topics > Rate Limits > "Exceeding A Rate Limit" > "Example Exceeded User Rate Limit
    Response"."""
    return {
        "message": "You are being rate limited.",
        "retry_after": round(max(retry_after, 0.001), 3),
        "global": glob,
    }
