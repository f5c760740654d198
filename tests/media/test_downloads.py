"""bot.media.downloads: a capped, chunked download from a real loopback server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.media.downloads import open_download
from bot.media.files import AudioTooLarge, DownloadFailed, SizeMismatch
from bot.nexai import NexaiClient, NexaiError
from tests.fakes.nexai import FakeNexai

BODY = bytes(range(256)) * 40  # 10,240 bytes


async def chunked(request: web.Request) -> web.StreamResponse:
    """No Content-Length: only counting the bytes can enforce a cap."""
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for start in range(0, len(BODY), 1024):
        await resp.write(BODY[start : start + 1024])
    await resp.write_eof()
    return resp


async def sized(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="audio/mpeg")


async def compressing(request: web.Request) -> web.Response:
    """Gzips the body for a client that accepts it (its Content-Length is then the gzip's)."""
    resp = web.Response(body=BODY, content_type="audio/mpeg")
    resp.enable_compression()
    return resp


@pytest_asyncio.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/sized", sized)
    app.router.add_get("/compressing", compressing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.mark.parametrize("path", ["/chunked", "/sized"])
async def test_a_body_within_the_cap_arrives_whole_in_chunks(
    server: str, session: aiohttp.ClientSession, path: str
) -> None:
    async with open_download(
        session, server + path, max_bytes=len(BODY), chunk_bytes=1000
    ) as download:
        chunks = [chunk async for chunk in download]
    assert b"".join(chunks) == BODY
    assert max(len(c) for c in chunks) <= 1000 and len(chunks) > 1
    assert download.complete and download.received == len(BODY)


async def test_the_cap_is_enforced_while_reading_when_no_length_is_announced(
    server: str, session: aiohttp.ClientSession
) -> None:
    async with open_download(
        session, server + "/chunked", max_bytes=3000, chunk_bytes=1000
    ) as download:
        received = 0
        with pytest.raises(AudioTooLarge):
            async for chunk in download:
                received += len(chunk)
    assert received <= 3000
    assert isinstance(download.error, AudioTooLarge) and not download.complete


async def test_an_announced_length_over_the_cap_is_refused_before_reading(
    server: str, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(AudioTooLarge):
        async with open_download(session, server + "/sized", max_bytes=100):
            pytest.fail("the body should not be offered")


async def test_a_missing_file_is_a_failed_download(
    server: str, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(DownloadFailed):
        async with open_download(session, server + "/gone", max_bytes=100):
            pytest.fail("the body should not be offered")


async def test_an_unreachable_host_is_a_failed_download(session: aiohttp.ClientSession) -> None:
    with pytest.raises(DownloadFailed):
        async with open_download(session, "http://127.0.0.1:9/x", max_bytes=100):
            pytest.fail("the body should not be offered")


# -- the size an upload declares ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected", "size"),
    [("/sized", None, len(BODY)), ("/chunked", None, None), ("/chunked", len(BODY), len(BODY))],
    ids=["content-length", "unknown", "expected"],
)
async def test_the_size_is_known_before_reading_from_the_expectation_or_the_content_length(
    server: str,
    session: aiohttp.ClientSession,
    path: str,
    expected: int | None,
    size: int | None,
) -> None:
    async with open_download(
        session, server + path, max_bytes=len(BODY), expected_bytes=expected
    ) as download:
        assert download.size == size
        assert b"".join([chunk async for chunk in download]) == BODY


async def test_a_content_length_other_than_the_expected_size_is_refused_before_reading(
    server: str, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(SizeMismatch) as caught:
        async with open_download(
            session, server + "/sized", max_bytes=len(BODY), expected_bytes=len(BODY) - 1
        ):
            pytest.fail("the body should not be offered")
    assert caught.value.fields == {"size": len(BODY) - 1}


async def test_a_body_longer_than_expected_stops_before_a_byte_past_the_size(
    server: str, session: aiohttp.ClientSession
) -> None:
    async with open_download(
        session, server + "/chunked", max_bytes=len(BODY), expected_bytes=2500, chunk_bytes=1000
    ) as download:
        received = 0
        with pytest.raises(SizeMismatch):
            async for chunk in download:
                received += len(chunk)
    assert received <= 2500
    assert isinstance(download.error, SizeMismatch) and not download.complete


async def test_a_body_shorter_than_expected_fails_after_its_last_byte(
    server: str, session: aiohttp.ClientSession
) -> None:
    async with open_download(
        session, server + "/chunked", max_bytes=2 * len(BODY), expected_bytes=len(BODY) + 1
    ) as download:
        received = 0
        with pytest.raises(SizeMismatch):
            async for chunk in download:
                received += len(chunk)
    assert received == len(BODY)
    assert isinstance(download.error, SizeMismatch) and not download.complete


@pytest.mark.parametrize("expected", [len(BODY) + 1, len(BODY) - 1], ids=["short", "long"])
async def test_an_upload_fed_by_a_download_of_the_wrong_size_is_abandoned_unanswered(
    server: str, session: aiohttp.ClientSession, expected: int
) -> None:
    """The upload declares the expected size; when the bytes do not add up, it stops at once
    (no wait for a timeout), the API never gets a whole request, and the cause is kept."""
    async with FakeNexai() as api:
        client = NexaiClient(session, api.base_url, api.api_key, total_timeout_s=5)
        async with open_download(
            session, server + "/chunked", max_bytes=2 * len(BODY), expected_bytes=expected
        ) as download:
            with pytest.raises(NexaiError):
                await client.transcribe(
                    "whisper-1",
                    download,
                    filename="a.mp3",
                    content_type="audio/mpeg",
                    size=download.size,
                )
        assert isinstance(download.error, SizeMismatch)
        assert api.calls("/audio/transcriptions") == []


async def test_the_file_is_asked_for_uncompressed_so_its_size_is_what_arrives(
    server: str, session: aiohttp.ClientSession
) -> None:
    async with open_download(
        session, server + "/compressing", max_bytes=len(BODY), expected_bytes=len(BODY)
    ) as download:
        assert b"".join([chunk async for chunk in download]) == BODY
    assert download.complete and download.received == len(BODY)
