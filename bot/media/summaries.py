"""Short summaries of long voice-note transcripts, for channels in "summary" mode.

A summary is one non-streamed chat call, charged to the note's author as one `ask` (limits
apply as to /ask); the whole transcript goes along as a `.txt` file.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from bot.i18n import t
from bot.media.files import OutFile, TextReply, fit_message, slug
from bot.nexai import MalformedResponseError, NexaiClient
from bot.quota.ledger import Ledger
from bot.quota.rules import Caller

#: What the model is asked to do with a transcript.
SUMMARY_INSTRUCTIONS = (
    "You summarise transcripts of voice messages from a Discord channel. Write a short summary "
    "(at most three sentences, or a few bullet points for a list of items) in the language of "
    "the transcript. Reply with the summary only."
)
#: The answer's budget: a summary is short (reasoning models get the usual extra).
SUMMARY_MAX_TOKENS = 400


class Summarizer:
    def __init__(self, client: NexaiClient, ledger: Ledger, *, reasoning_max_tokens: int) -> None:
        self._client = client
        self._ledger = ledger
        self._reasoning_max_tokens = reasoning_max_tokens

    async def summarise(self, caller: Caller, transcript: str, model: str) -> str:
        """A short summary of `transcript` by `model`, charged to `caller` as one `ask`.

        Raises QuotaExceeded (and the other refusals of a charge), NexaiError, or
        MalformedResponseError when the model wrote nothing."""
        max_tokens = SUMMARY_MAX_TOKENS
        if self._client.capabilities.get(model).reasons:
            max_tokens += self._reasoning_max_tokens
        messages = [
            {"role": "system", "content": SUMMARY_INSTRUCTIONS},
            {"role": "user", "content": transcript},
        ]
        async with self._ledger.charge(caller, "ask", 1, model) as charge:
            result = await self._client.chat(model, messages, max_tokens=max_tokens)
            charge.settle(tokens=result.usage.total, tokens_estimated=result.usage.estimated)
        summary = result.text.strip()  # reasoning already hidden by the client
        if not summary:
            raise MalformedResponseError("the summary was empty")
        return summary


def summary_reply(
    transcript: str, summary: str, source_filename: str, locale: str, *, header: str = ""
) -> TextReply:
    """The summary as a message, and the whole transcript as a `.txt` file."""
    name = slug(PurePosixPath(source_filename).stem, fallback="audio")
    label = header + t(
        "📝 Summary ({chars} characters of speech; the whole transcript is in the file):",
        locale,
        chars=len(transcript),
    )
    return TextReply(
        fit_message(f"{label}\n", summary),
        (OutFile(f"{name}-transcript.txt", transcript.encode()),),
    )
