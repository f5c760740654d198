"""What each model can do and how it must be called: one table.

The reference's models have entries here; any other model id gets one inferred from its name
(codex models use /responses, gpt-5.x and o-series take `max_completion_tokens` and reason
silently, R1-style models think inline); the operator overrides or adds entries with
MODEL_CAPABILITIES, field by field. Knows nothing about Discord or HTTP.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: `max_tokens` (most models) or `max_completion_tokens` (gpt-5.x and o-series refuse the
#: former with 400 `unsupported_parameter`; their hidden reasoning counts against the latter).
TokenParam = Literal["max_tokens", "max_completion_tokens"]
#: How a model reasons: `none`; `silent` (nothing on the wire while it thinks: gpt-5.x,
#: o-series, codex); `field` (reasoning in `reasoning_content` deltas); `inline` (in the text,
#: in `<think>...</think>`, often without the opening tag: DeepSeek-R1 and kin).
Reasoning = Literal["none", "silent", "field", "inline"]
#: `chat` is POST /chat/completions, `responses` POST /responses (codex models).
Endpoint = Literal["chat", "responses"]

DEFAULT_CONTEXT_TOKENS = 32_000
#: How long a member may wait for the first text, whatever the retries (CHAT_WAIT_S).
DEFAULT_CHAT_WAIT_S = 90.0
#: The same for reasoning models, which are silent while they think (REASONING_WAIT_S).
DEFAULT_REASONING_WAIT_S = 300.0

_SILENT_REASONERS = re.compile(r"^(gpt-5|o\d)", re.IGNORECASE)
_INLINE_REASONERS = re.compile(r"(deepseek-r1|-r1\b|qwq)", re.IGNORECASE)
_NAMED_REASONERS = re.compile(r"(reasoning|reasoner|thinking)", re.IGNORECASE)
_VISION = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4-turbo)", re.IGNORECASE)


class ModelCapabilities(BaseModel):
    """One model's row. `wait_s` None: the default wait for its kind (chat or reasoning)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_param: TokenParam = "max_tokens"
    reasoning: Reasoning = "none"
    context_tokens: int = Field(default=DEFAULT_CONTEXT_TOKENS, ge=1_000)
    vision: bool = False
    endpoint: Endpoint = "chat"
    wait_s: float | None = Field(default=None, gt=0)
    #: Whether the model takes a `temperature` (gpt-5.x, o-series and codex refuse any but the
    #: default with 400 `unsupported_value`: a persona's temperature is not sent to them).
    temperature: bool = True

    @property
    def reasons(self) -> bool:
        return self.reasoning != "none"


class CapabilityOverride(BaseModel):
    """An operator's entry in MODEL_CAPABILITIES: only the fields it sets replace the row's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_param: TokenParam | None = None
    reasoning: Reasoning | None = None
    context_tokens: int | None = Field(default=None, ge=1_000)
    vision: bool | None = None
    endpoint: Endpoint | None = None
    wait_s: float | None = Field(default=None, gt=0)
    temperature: bool | None = None


_GPT5 = ModelCapabilities(
    token_param="max_completion_tokens",
    reasoning="silent",
    context_tokens=128_000,
    temperature=False,
)
_CODEX = _GPT5.model_copy(update={"endpoint": "responses"})
_GPT4O = ModelCapabilities(context_tokens=128_000, vision=True)

#: The models the API reference lists, and what they are.
REFERENCE_CAPABILITIES: dict[str, ModelCapabilities] = {
    "gpt-5.5": _GPT5.model_copy(update={"context_tokens": 1_050_000}),
    "gpt-4o": _GPT4O,
    "gpt-4o-mini": _GPT4O,
    "gpt-5.4-mini": _GPT5,
    "gpt-5.1-codex-mini": _CODEX,
    "gpt-5.3-codex": _CODEX,
    "gpt-5.4": _GPT5,
    "grok-4-fast-reasoning": ModelCapabilities(reasoning="silent", context_tokens=128_000),
    "DeepSeek-R1": ModelCapabilities(reasoning="inline", context_tokens=65_000),
}


def uses_responses_api(model: str) -> bool:
    """Codex models are served by POST /responses."""
    return "codex" in model.lower()


def inferred_capabilities(
    model: str, context_tokens: int = DEFAULT_CONTEXT_TOKENS
) -> ModelCapabilities:
    """The row of a model the table does not list, from what its name says."""
    if uses_responses_api(model):
        return _CODEX.model_copy(update={"context_tokens": context_tokens})
    if _SILENT_REASONERS.match(model):
        return _GPT5.model_copy(update={"context_tokens": context_tokens})
    reasoning: Reasoning = "none"
    if _INLINE_REASONERS.search(model):
        reasoning = "inline"
    elif _NAMED_REASONERS.search(model):
        reasoning = "silent"
    return ModelCapabilities(
        reasoning=reasoning, context_tokens=context_tokens, vision=bool(_VISION.match(model))
    )


class CapabilityTable:
    """Every model's row: the reference's, else inferred, with the operator's overrides on top;
    `wait_s` always resolved."""

    def __init__(
        self,
        overrides: dict[str, CapabilityOverride] | None = None,
        *,
        default_context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        chat_wait_s: float = DEFAULT_CHAT_WAIT_S,
        reasoning_wait_s: float = DEFAULT_REASONING_WAIT_S,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._default_context_tokens = default_context_tokens
        self._chat_wait_s = chat_wait_s
        self._reasoning_wait_s = reasoning_wait_s
        self._rows: dict[str, ModelCapabilities] = {}

    def get(self, model: str) -> ModelCapabilities:
        row = self._rows.get(model)
        if row is None:
            row = self._rows[model] = self._resolve(model)
        return row

    def _resolve(self, model: str) -> ModelCapabilities:
        row = REFERENCE_CAPABILITIES.get(model) or inferred_capabilities(
            model, self._default_context_tokens
        )
        if (override := self._overrides.get(model)) is not None:
            row = row.model_copy(update=override.model_dump(exclude_none=True))
        if row.wait_s is None:
            wait_s = self._reasoning_wait_s if row.reasons else self._chat_wait_s
            row = row.model_copy(update={"wait_s": wait_s})
        return row

    def listed(self) -> list[str]:
        """The models with an explicit row (the reference's and the operator's)."""
        return sorted({*REFERENCE_CAPABILITIES, *self._overrides})

    def vision_models(self) -> list[str]:
        return [model for model in self.listed() if self.get(model).vision]

    def wait_s(self, model: str) -> float:
        wait_s = self.get(model).wait_s
        assert wait_s is not None  # resolved in _resolve
        return wait_s
