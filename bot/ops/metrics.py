"""Optional Prometheus metrics: commands, API calls (latency, errors by status), usage, refusals.

Off unless METRICS_PORT is set; they need prometheus-client (`pip install 'nexbot[metrics]'`).
Without it every method is a no-op and the bot logs one clear error at start. The ledger
(`bot.quota.ledger.Ledger`) reports every charged call and refusal, the bot every finished command.
Each `Metrics` has its own registry, so several bots in one process never collide.
prometheus-client and aiohttp's server (about 3 MiB) are imported only when metrics are on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.nexai import _errors as nexai_errors

if TYPE_CHECKING:
    from aiohttp import web
    from prometheus_client import CollectorRegistry

#: prometheus_client once imported (None: not installed); imported when metrics are first on.
prometheus_client: Any = ...

log = logging.getLogger(__name__)

#: Buckets of the API call histogram, in seconds (a streamed answer can take minutes).
LATENCY_BUCKETS_S = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
MISSING_CLIENT = (
    "METRICS_PORT is set but prometheus-client is not installed, so there are no metrics: "
    "install it with pip install 'nexbot[metrics]'"
)


def _prometheus() -> Any:
    """The prometheus_client module, imported on first use; None when it is not installed."""
    global prometheus_client
    if prometheus_client is ...:
        try:
            import prometheus_client as client

            prometheus_client = client
        except ImportError:  # the `metrics` extra is optional
            prometheus_client = None
    return prometheus_client


def outcome_of(error: BaseException | None) -> str:
    """How a charged call ended, as a label: ok, an HTTP status, or a kind of failure."""
    match error:
        case None:
            return "ok"
        case nexai_errors.NexaiStatusError():
            return str(error.status)
        case nexai_errors.NexaiTimeoutError():
            return "timeout"
        case nexai_errors.NexaiConnectionError():
            return "connection"
        case nexai_errors.MalformedResponseError():
            return "malformed"
        case nexai_errors.StreamInterruptedError():
            return "interrupted"
        case asyncio.CancelledError():
            return "cancelled"
    return "other"


class Metrics:
    """What the bot counts; every method is a cheap no-op when metrics are off."""

    def __init__(self, *, enabled: bool) -> None:
        client = _prometheus() if enabled else None
        self.enabled = client is not None
        self.registry: CollectorRegistry | None = None
        if client is None:
            return
        registry = self.registry = client.CollectorRegistry()
        counter = client.Counter
        self._commands = counter(
            "nexbot_commands", "Application commands run", ["command", "outcome"], registry=registry
        )
        self._calls = counter(
            "nexbot_api_calls",
            "Charged API calls by feature and outcome (ok, an HTTP status, timeout, connection,"
            " malformed, interrupted, cancelled, other)",
            ["feature", "outcome"],
            registry=registry,
        )
        self._latency = client.Histogram(
            "nexbot_api_call_seconds",
            "How long charged API calls took, reservation to settlement",
            ["feature"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )
        self._in_flight = client.Gauge(
            "nexbot_api_calls_in_flight", "Charged API calls running now", registry=registry
        )
        self._tokens = counter(
            "nexbot_tokens", "Tokens used by settled calls", ["feature"], registry=registry
        )
        self._units = counter(
            "nexbot_usage_units",
            "Units settled: ask requests, generated images, characters of speech, seconds of audio",
            ["feature", "unit"],
            registry=registry,
        )
        self._refusals = counter(
            "nexbot_refusals",
            "Requests refused before any API call (quota, busy, shutting_down)",
            ["feature", "reason"],
            registry=registry,
        )

    @classmethod
    def from_settings(cls, port: int | None) -> Metrics:
        """Metrics on when a port is set; says so loudly when the client is missing."""
        if port is not None and _prometheus() is None:
            log.error(MISSING_CLIENT)
        return cls(enabled=port is not None)

    def command(self, name: str, *, ok: bool = True) -> None:
        if self.enabled:
            self._commands.labels(name, "ok" if ok else "error").inc()

    def refused(self, feature: str, reason: str) -> None:
        if self.enabled:
            self._refusals.labels(feature, reason).inc()

    def call_started(self) -> None:
        if self.enabled:
            self._in_flight.inc()

    def call_ended(
        self,
        feature: str,
        seconds: float,
        error: BaseException | None = None,
        *,
        units: float = 0,
        unit: str = "",
        tokens: int = 0,
    ) -> None:
        """One charged call ended: settled (`error` None, with its units and tokens) or not."""
        if not self.enabled:
            return
        self._in_flight.dec()
        self._calls.labels(feature, outcome_of(error)).inc()
        self._latency.labels(feature).observe(seconds)
        if error is None:
            self._units.labels(feature, unit).inc(units)
            self._tokens.labels(feature).inc(tokens)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        if self.registry is None:
            return b""
        return bytes(_prometheus().generate_latest(self.registry))


class MetricsServer:
    """`GET /metrics` over HTTP, on the bot's own event loop."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self._metrics = metrics
        self._host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/metrics", self._serve)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _bound_port(runner, self.port)
        log.info("Metrics at http://%s:%s/metrics", self._host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.Response:
        from aiohttp import web

        client = _prometheus()
        assert client is not None  # the server only starts with metrics on
        body = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": client.CONTENT_TYPE_LATEST})


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    """The port really listened on (the system picks one when 0 was asked)."""
    address: Any = runner.addresses[0] if runner.addresses else None
    return int(address[1]) if isinstance(address, tuple) else asked
