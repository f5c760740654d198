"""The nexai API client; re-exports only."""

from bot.nexai._client import NexaiClient, parse_transcript
from bot.nexai._errors import (
    AnswerDeadlineError,
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
    ModelNotFoundError,
    NexaiConnectionError,
    NexaiError,
    NexaiStatusError,
    NexaiTimeoutError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    make_status_error,
)
from bot.nexai._payloads import ChatResult, Model, Transcript, Usage
from bot.nexai._stream import ChatStream
from bot.nexai._transport import retry_reason
from bot.nexai.capabilities import uses_responses_api
from bot.nexai.constants import MAX_TRANSCRIPTION_BYTES, TRANSCRIPTION_EXTENSIONS

__all__ = [
    "MAX_TRANSCRIPTION_BYTES",
    "TRANSCRIPTION_EXTENSIONS",
    "AnswerDeadlineError",
    "AuthenticationError",
    "BadRequestError",
    "ChatResult",
    "ChatStream",
    "MalformedResponseError",
    "Model",
    "ModelNotFoundError",
    "NexaiClient",
    "NexaiConnectionError",
    "NexaiError",
    "NexaiStatusError",
    "NexaiTimeoutError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "StreamInterruptedError",
    "Transcript",
    "Usage",
    "make_status_error",
    "parse_transcript",
    "retry_reason",
    "uses_responses_api",
]
