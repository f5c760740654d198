"""Which models exist (from GET /models, cached and refreshed in the background)."""

from __future__ import annotations

import asyncio
import logging

from bot.nexai import NexaiClient, NexaiError
from bot.ops.tasks import cancel_and_wait

log = logging.getLogger(__name__)

REFRESH_INTERVAL_S = 600.0
RETRY_INTERVAL_S = 60.0
#: Autocomplete shows at most this many choices (Discord's limit).
MAX_CHOICES = 25
#: Model ids containing one of these are not chat models.
NON_CHAT_MARKERS = (
    "image", "dall-e", "tts", "whisper", "transcribe", "embedding", "moderation", "speech",
    "audio", "realtime",
)  # fmt: skip


def is_chat_model(model_id: str) -> bool:
    lowered = model_id.lower()
    return not any(marker in lowered for marker in NON_CHAT_MARKERS)


class ModelCatalog:
    """The API's model list. Until the first fetch succeeds it knows `fallback` only."""

    def __init__(self, client: NexaiClient, fallback: list[str]) -> None:
        self._client = client
        self._fallback = fallback
        self._ids: list[str] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def known(self) -> bool:
        return bool(self._ids)

    def chat_models(self) -> list[str]:
        return [model for model in (self._ids or self._fallback) if is_chat_model(model)]

    def accepts_chat(self, model_id: str) -> bool:
        """Whether `model_id` may be used for chat; lenient while the list is unknown."""
        if not is_chat_model(model_id):
            return False
        return model_id in self._ids if self._ids else True

    def suggest(self, query: str) -> list[str]:
        query = query.lower().strip()
        models = self.chat_models()
        ranked = sorted(
            (m for m in models if query in m.lower()),
            key=lambda m: (not m.lower().startswith(query), m),
        )
        return ranked[:MAX_CHOICES]

    async def refresh(self) -> bool:
        try:
            models = await self._client.list_models()
        except NexaiError as error:
            log.warning("Could not fetch the model list: %s", error)
            return False
        self._ids = sorted(model.id for model in models)
        log.debug("Model list refreshed: %s models", len(self._ids))
        return True

    def start(self) -> None:
        """Refresh now and then every REFRESH_INTERVAL_S, in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep_fresh(), name="model-catalog")

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _keep_fresh(self) -> None:
        while True:
            ok = await self.refresh()
            await asyncio.sleep(REFRESH_INTERVAL_S if ok else RETRY_INTERVAL_S)
