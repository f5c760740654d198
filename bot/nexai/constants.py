"""Every limit and default of the API client, defined once (settings refer to these)."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://getnexai.net/api/v1"
USER_AGENT = "nexbot"

MODELS_PATH = "/models"
CHAT_PATH = "/chat/completions"
RESPONSES_PATH = "/responses"
IMAGES_PATH = "/images/generations"
SPEECH_PATH = "/audio/speech"
TRANSCRIPTIONS_PATH = "/audio/transcriptions"

#: Timeouts: connecting, waiting for the first byte (and between streamed chunks), the call.
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_FIRST_BYTE_TIMEOUT_S = 60.0
DEFAULT_TOTAL_TIMEOUT_S = 300.0
#: Uploading and transcribing audio may take longer than a chat answer.
TRANSCRIPTION_TIMEOUT_FACTOR = 2.0

#: Retries after a failure that cannot have been billed (see `_transport.retry_reason`).
DEFAULT_MAX_RETRIES = 2
#: Backoff grows as base * 2**attempt up to the ceiling, then full jitter picks in [0, that].
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_MAX_BACKOFF_S = 8.0
#: A server's wait hint longer than this is not waited out: the caller is told at once.
MAX_RETRY_WAIT_S = 20.0

#: Connections to the API at once (streamed answers each hold one while they run).
DEFAULT_MAX_CONNECTIONS = 500

#: The API refuses bigger uploads with 413; bytes are checked before sending.
MAX_TRANSCRIPTION_BYTES = 50 * 1024 * 1024
#: File extensions the transcription endpoint accepts; it goes by the upload's name (OpenAI
#: API reference, Create transcription: "flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, or webm").
TRANSCRIPTION_EXTENSIONS = frozenset(
    {".flac", ".m4a", ".mp3", ".mp4", ".mpeg", ".mpga", ".oga", ".ogg", ".wav", ".webm"}
)
#: Once a stream has shown text, it is read at most this often: the events that arrived in
#: between are parsed and handed on together, once, instead of one wake-up per token. Far
#: below the bot's edit pace (STREAM_EDIT_INTERVAL_S), so no edit shows less for it.
STREAM_READ_INTERVAL_S = 0.1
#: A single SSE line longer than this is treated as a malformed stream.
MAX_SSE_LINE_BYTES = 4 * 1024 * 1024
#: How much of a non-JSON error body is kept as the message.
MAX_ERROR_TEXT_CHARS = 300
