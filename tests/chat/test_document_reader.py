"""DocumentReader: a capped download from a real loopback server, then extraction in a
bounded pool of threads with a time bound."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.chat import document_reader
from bot.chat.document_kinds import DocumentFile
from bot.chat.document_reader import DocumentReader
from bot.chat.documents import Document, DocumentTooLarge, NotText, ReadTooSlow, extract_text
from bot.media.files import DownloadFailed
from tests.chat.pdfs import make_pdf

TEXT = b"name,score\nAn,9\n"
PDF_BYTES = make_pdf(["Hello PDF"])


async def csv(request: web.Request) -> web.Response:
    return web.Response(body=TEXT, content_type="text/csv")


async def pdf(request: web.Request) -> web.Response:
    return web.Response(body=PDF_BYTES, content_type="application/pdf")


async def endless(request: web.Request) -> web.StreamResponse:
    """More bytes than Discord said the file has, without a Content-Length."""
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for _ in range(10):
        await resp.write(b"x" * 1024)
    await resp.write_eof()
    return resp


@pytest_asyncio.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/scores.csv", csv)
    app.router.add_get("/report.pdf", pdf)
    app.router.add_get("/endless.txt", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def reader_of(session: aiohttp.ClientSession) -> Iterator[Any]:
    readers: list[DocumentReader] = []

    def make(**kw: Any) -> DocumentReader:
        readers.append(DocumentReader(session, **kw))
        return readers[-1]

    yield make
    for reader in readers:
        reader.close()


async def test_text_file_is_downloaded_and_read(server: str, reader_of: Any) -> None:
    file = DocumentFile(server + "/scores.csv", "scores.csv", len(TEXT), "text/csv")
    document = await reader_of().read(file)
    assert document.text == "name,score\nAn,9" and document.kind == "CSV"


async def test_pdf_is_read_in_the_pool_not_on_the_event_loop(
    server: str, reader_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []

    def recording(*args: Any, **kw: Any) -> Document:
        threads.append(threading.current_thread().name)
        return extract_text(*args, **kw)

    monkeypatch.setattr(document_reader, "extract_text", recording)
    file = DocumentFile(server + "/report.pdf", "report.pdf", len(PDF_BYTES), "application/pdf")
    document = await reader_of().read(file)
    assert "Hello PDF" in document.text
    assert threads and threads[0].startswith("documents")


async def test_not_text_is_refused_without_a_download(reader_of: Any) -> None:
    file = DocumentFile("http://127.0.0.1:9/never", "song.mp3", 10, "audio/mpeg")
    with pytest.raises(NotText):
        await reader_of().read(file)


async def test_body_past_the_cap_is_refused_whatever_discord_said(
    server: str, reader_of: Any
) -> None:
    file = DocumentFile(server + "/endless.txt", "endless.txt", 2048, "text/plain")
    with pytest.raises(DocumentTooLarge) as refused:
        await reader_of(max_bytes=2048).read(file)
    assert refused.value.fields["filename"] == "endless.txt"


async def test_body_shorter_than_discord_said_is_a_failed_download(
    server: str, reader_of: Any
) -> None:
    file = DocumentFile(server + "/scores.csv", "scores.csv", len(TEXT) + 5, "text/csv")
    with pytest.raises(DownloadFailed):
        await reader_of().read(file)


async def test_slow_extraction_is_refused_in_bounded_time(
    server: str, reader_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(document_reader, "READ_GRACE_S", 0.0)
    monkeypatch.setattr(document_reader, "extract_text", lambda *a, **kw: time.sleep(1.0))
    file = DocumentFile(server + "/scores.csv", "scores.csv", len(TEXT), "text/csv")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ReadTooSlow):
        await reader_of(timeout_s=0.2).read(file)
    assert loop.time() - started < 0.8


async def test_reads_past_the_pool_size_wait_their_turn(
    server: str, reader_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = peak = 0
    lock = threading.Lock()

    def counting(*args: Any, **kw: Any) -> Document:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return extract_text(*args, **kw)

    monkeypatch.setattr(document_reader, "extract_text", counting)
    reader = reader_of(workers=2)
    file = DocumentFile(server + "/scores.csv", "scores.csv", len(TEXT), "text/csv")
    documents = await asyncio.gather(*(reader.read(file) for _ in range(5)))
    assert len(documents) == 5 and peak == 2
