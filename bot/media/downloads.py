"""Streaming downloads with a size cap, so a file can go from Discord to the API in pieces.

`open_download` starts the GET (a bad status or a too-large Content-Length is refused before
anything else happens) and yields a `CappedDownload`: an async iterable of chunks that counts
what it reads and stops past `max_bytes`, whatever the headers said. Only a few chunks are
ever held at once.

The download knows its `size` before the first byte (the size the caller expects, else the
server's Content-Length), so an upload can declare its length. Bytes that do not add up to
that size, or a Content-Length that contradicts the expected size, raise `SizeMismatch`
(before any byte past the size is handed on).

A consumer such as aiohttp's upload hides the iterator's exception behind its own; the
download keeps it in `error`, so the caller can say what really went wrong.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from bot.media.files import AudioTooLarge, DownloadFailed, MediaError, SizeMismatch, megabytes

log = logging.getLogger(__name__)

DOWNLOAD_CHUNK_BYTES = 256 * 1024
DOWNLOAD_CONNECT_TIMEOUT_S = 10.0
#: The body is read at the pace of the upload it feeds, so only a stalled read times out.
DOWNLOAD_READ_TIMEOUT_S = 60.0
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(
    total=None, connect=DOWNLOAD_CONNECT_TIMEOUT_S, sock_read=DOWNLOAD_READ_TIMEOUT_S
)
#: The file's own bytes, never a compressed transfer: what is counted (and what the
#: Content-Length says) is then the file's size, which the upload declares.
IDENTITY = {"Accept-Encoding": "identity"}


class CappedDownload:
    """The body of an open download, as chunks; raises `AudioTooLarge` past `max_bytes`, and
    `SizeMismatch` when `size` is known and the body turns out longer or shorter."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        max_bytes: int,
        chunk_bytes: int,
        size: int | None = None,
    ) -> None:
        self._response = response
        self.max_bytes = max_bytes
        self._chunk_bytes = chunk_bytes
        #: The number of bytes the body will have, when known before reading it.
        self.size = size
        self.received = 0
        self.complete = False
        self.error: MediaError | None = None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(self._chunk_bytes):
                self.received += len(chunk)
                if self.received > self.max_bytes:
                    raise AudioTooLarge(
                        size=f"> {megabytes(self.max_bytes)}",
                        limit=megabytes(self.max_bytes, round_up=False),
                    )
                if self.size is not None and self.received > self.size:
                    raise self._mismatch()
                yield chunk
            if self.size is not None and self.received != self.size:
                raise self._mismatch()
        except MediaError as exc:
            self.error = exc
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Download of %s broke after %s bytes: %s", self.url, self.received, exc)
            self.error = DownloadFailed()
            raise self.error from exc
        self.complete = True

    def _mismatch(self) -> SizeMismatch:
        log.warning(
            "Download of %s: %s bytes expected, %s%s received",
            self.url,
            self.size,
            "more than " if self.received > (self.size or 0) else "",
            self.received,
        )
        return SizeMismatch(size=self.size)

    @property
    def url(self) -> str:
        """The URL without its query (Discord's CDN signs URLs; logs need not carry that)."""
        return str(self._response.url.with_query(None))


@asynccontextmanager
async def open_download(
    session: aiohttp.ClientSession,
    url: str,
    *,
    max_bytes: int,
    expected_bytes: int | None = None,
    chunk_bytes: int = DOWNLOAD_CHUNK_BYTES,
) -> AsyncIterator[CappedDownload]:
    """GET `url`; yield its body as a `CappedDownload`; close the response afterwards.

    `expected_bytes` is the size the file should have (Discord's attachment size): the
    download's `size`, checked against the Content-Length and against the bytes read.
    """
    try:
        response = await session.get(url, headers=IDENTITY, timeout=DOWNLOAD_TIMEOUT)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Could not download %s: %s", url.split("?")[0], exc)
        raise DownloadFailed() from exc
    declared = response.content_length
    size = expected_bytes if expected_bytes is not None else declared
    download = CappedDownload(response, max_bytes, chunk_bytes, size)
    try:
        if response.status != 200:
            log.warning("Download of %s answered %s", download.url, response.status)
            raise DownloadFailed()
        if declared is not None and declared > max_bytes:
            raise AudioTooLarge(
                size=megabytes(declared), limit=megabytes(max_bytes, round_up=False)
            )
        if declared is not None and declared != size:
            log.warning(
                "Download of %s: %s bytes expected, %s announced", download.url, size, declared
            )
            raise SizeMismatch(size=size)
        yield download
    finally:
        if download.complete:
            response.release()
        else:
            response.close()
