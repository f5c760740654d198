"""Shapes of the nexai API: the dataclasses the client returns, request bodies, answer parsing.

Chat messages use the OpenAI chat shape; codex models go to the Responses API, so their
messages are converted here (system messages become `instructions`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.nexai._errors import MalformedResponseError
from bot.nexai.capabilities import ModelCapabilities
from bot.nexai.reasoning import strip_think


@dataclass(frozen=True)
class Usage:
    """Tokens of one call; `estimated` when the API sent no usage and they were counted here."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Model:
    id: str
    owned_by: str | None = None


@dataclass(frozen=True)
class ChatResult:
    text: str
    model: str
    usage: Usage


@dataclass(frozen=True)
class Transcript:
    """A transcription. `duration_s`: the seconds of audio the API billed (whisper's
    `usage.seconds`, or verbose_json's `duration`); `tokens`: the total tokens billed by
    token-priced models (gpt-4o-*-transcribe), which report no duration."""

    text: str
    language: str | None = None
    duration_s: float | None = None
    tokens: int | None = None


@dataclass(frozen=True)
class ApiCall:
    """One API call, described so the retry loop can send it again."""

    method: str
    path: str
    model: str
    timeout: aiohttp.ClientTimeout
    json: dict[str, Any] | None = None
    form: Callable[[], aiohttp.FormData] | None = None
    retryable: bool = True
    stream: bool = False


#: Characters per token, for estimates when the API sends no usage.
CHARS_PER_TOKEN = 4


def estimate_usage(body: dict[str, Any] | None, answer_chars: int) -> Usage:
    """A rough count (characters / 4) of a call's tokens, for answers that came without one."""
    prompt = json.dumps((body or {}).get("messages") or (body or {}).get("input") or "")
    return Usage(
        -(-len(prompt) // CHARS_PER_TOKEN), -(-answer_chars // CHARS_PER_TOKEN), estimated=True
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_usage(data: Any, prompt_key: str, completion_key: str) -> Usage:
    if not isinstance(data, dict):
        return Usage()
    return Usage(_int(data.get(prompt_key)), _int(data.get(completion_key)))


def _text_of(content: Any) -> str:
    """The text of OpenAI-style content: a string, or the text of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _responses_part(part: Any, text_type: str) -> Any:
    if not isinstance(part, dict):
        return part
    kind = part.get("type")
    if kind == "text":
        return {"type": text_type, "text": part.get("text", "")}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        converted: dict[str, Any] = {"type": "input_image", "image_url": url}
        if isinstance(image, dict) and image.get("detail"):
            converted["detail"] = image["detail"]
        return converted
    return part  # already in Responses shape, or unknown: the API will judge


def responses_input(messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """Chat messages as Responses `(instructions, input)`: system messages become instructions."""
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role", "user")
        content = message.get("content", "")
        if role in ("system", "developer"):
            instructions.append(_text_of(content))
            continue
        if isinstance(content, list):
            text_type = "output_text" if role == "assistant" else "input_text"
            content = [_responses_part(part, text_type) for part in content]
        items.append({"role": role, "content": content})
    return ("\n\n".join(instructions) if instructions else None), items


def chat_body(
    model: str,
    capabilities: ModelCapabilities,
    messages: list[dict[str, Any]],
    max_tokens: int | None,
    temperature: float | None,
    stream: bool,
) -> dict[str, Any]:
    """The request body for the model's endpoint, with its token parameter; `temperature` only
    to a model whose row says it takes one."""
    body: dict[str, Any] = {"model": model}
    if capabilities.endpoint == "responses":
        instructions, body["input"] = responses_input(messages)
        if instructions is not None:
            body["instructions"] = instructions
        if max_tokens is not None:
            body["max_output_tokens"] = max_tokens
    else:
        body["messages"] = messages
        if max_tokens is not None:
            body[capabilities.token_param] = max_tokens
        if stream:
            body["stream_options"] = {"include_usage": True}
    if temperature is not None and capabilities.temperature:
        body["temperature"] = temperature
    if stream:
        body["stream"] = True
    return body


def parse_chat(data: dict[str, Any], model: str, *, inline: bool = False) -> ChatResult:
    try:
        choice = data["choices"][0]
        text = _text_of(choice["message"].get("content"))
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise MalformedResponseError("chat completion without choices[0].message") from exc
    usage = parse_usage(data.get("usage"), "prompt_tokens", "completion_tokens")
    truncated = choice.get("finish_reason") == "length"
    text = strip_think(text, inline=inline, truncated=truncated)
    return ChatResult(text, str(data.get("model") or model), usage)


def parse_response(data: dict[str, Any], model: str) -> ChatResult:
    output = data.get("output")
    if not isinstance(output, list):
        raise MalformedResponseError("response without an output list")
    texts = [
        part.get("text", "")
        for item in output
        if isinstance(item, dict) and item.get("type") == "message"
        for part in item.get("content") or ()
        if isinstance(part, dict) and part.get("type") == "output_text"
    ]
    usage = parse_usage(data.get("usage"), "input_tokens", "output_tokens")
    return ChatResult(strip_think("".join(texts)), str(data.get("model") or model), usage)


async def read_json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    body = await resp.read()
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(f"expected JSON, got {resp.content_type}") from exc
    if not isinstance(data, dict):
        raise MalformedResponseError("expected a JSON object")
    return data
