"""Reading an attached document: a capped download, then its text from a bounded thread pool.

Extraction (PDF parsing above all) is CPU work, so it runs in a small pool of threads, never
on the event loop; more documents at once wait their turn. The wait is bounded: past the read
timeout (plus a little grace) the member is told the file took too long, and the extraction
itself stops between pages at the same deadline, so a thread never runs on for long.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import aiohttp

from bot.chat.document_kinds import (
    DEFAULT_DOCUMENT_MAX_BYTES,
    DEFAULT_DOCUMENT_MAX_CHARS,
    DEFAULT_DOCUMENT_MAX_PAGES,
    DEFAULT_DOCUMENT_READ_TIMEOUT_S,
    DocumentFile,
)
from bot.chat.documents import (
    Document,
    ReadTooSlow,
    check_document,
    extract_text,
    too_large,
)
from bot.media.downloads import open_download
from bot.media.files import AudioTooLarge, DownloadFailed, SizeMismatch

log = logging.getLogger(__name__)

#: Documents read at once; more wait their turn (the wait counts against the timeout).
READ_WORKERS = 2
#: Beyond the read timeout, the time a page already being read may take to end.
READ_GRACE_S = 5.0


class DocumentReader:
    """Checks, downloads and reads attached documents, within the operator's caps."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        max_bytes: int = DEFAULT_DOCUMENT_MAX_BYTES,
        max_pages: int = DEFAULT_DOCUMENT_MAX_PAGES,
        max_chars: int = DEFAULT_DOCUMENT_MAX_CHARS,
        timeout_s: float = DEFAULT_DOCUMENT_READ_TIMEOUT_S,
        workers: int = READ_WORKERS,
    ) -> None:
        self._session = session
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.max_chars = max_chars
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="documents")

    def check(self, file: DocumentFile) -> str:
        """The file's kind, judged by Discord's claims; raises DocumentError before any
        download when it is not a document or too large."""
        return check_document(file, self.max_bytes)

    async def read(self, file: DocumentFile) -> Document:
        """The document's text; raises DocumentError (refused, damaged, too slow) or
        MediaError (the download failed)."""
        kind = self.check(file)
        data = await self._download(file)
        loop = asyncio.get_running_loop()
        extract = partial(
            extract_text,
            data,
            file.filename,
            kind,
            max_pages=self.max_pages,
            max_chars=self.max_chars,
            timeout_s=self.timeout_s,
        )
        try:
            async with asyncio.timeout(self.timeout_s + READ_GRACE_S):
                return await loop.run_in_executor(self._pool, extract)
        except TimeoutError:
            log.warning("Reading %s (%s bytes) timed out", file.filename, len(data))
            raise ReadTooSlow(filename=file.filename) from None

    async def _download(self, file: DocumentFile) -> bytes:
        chunks: list[bytes] = []
        try:
            async with open_download(
                self._session, file.url, max_bytes=self.max_bytes, expected_bytes=file.size
            ) as download:
                async for chunk in download:
                    chunks.append(chunk)
        except AudioTooLarge as error:  # Discord's claim was wrong: the cap still holds
            raise too_large(file.filename, str(error.fields["size"]), self.max_bytes) from None
        except SizeMismatch:  # its wording is about transcription; a retry is the remedy
            raise DownloadFailed() from None
        return b"".join(chunks)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
