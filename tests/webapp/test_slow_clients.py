"""Slow and piled-up clients on a real socket: bodies must arrive in time, connections are capped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from webapp.app import create_app
from webapp.listen import start_site
from webapp.state import WebAppConfig

HEAD = (
    "POST /colorize HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 10000\r\n\r\n"
)


@contextlib.asynccontextmanager
async def listening(config: WebAppConfig, colorizer) -> AsyncIterator[int]:
    """The web app on a free loopback port, as ``serve`` and the Mini App run it; the port."""
    app = create_app(config, colorizer=colorizer)
    runner, site = await start_site(app, "127.0.0.1", 0, max_connections=config.max_connections)
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


async def _status_of(reader: asyncio.StreamReader, timeout: float) -> int:
    line = await asyncio.wait_for(reader.readline(), timeout)
    return int(line.split()[1])


async def test_a_body_trickled_byte_by_byte_is_cut_off(tiny_colorizer):
    config = WebAppConfig(body_timeout_s=1.0)
    async with listening(config, tiny_colorizer) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HEAD.encode())
        started = time.monotonic()

        async def trickle() -> None:
            for byte in b"--XX\r\nContent-Disposition: form-data; name=sketch\r\n" * 10:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.2)

        dripping = asyncio.create_task(trickle())
        try:
            status = await _status_of(reader, timeout=8)  # bounded: the old server never answers
            rest = await asyncio.wait_for(reader.read(), 3)  # and the server hangs up
        finally:
            dripping.cancel()
            writer.close()
        assert status == 408 and b"took too long" in rest
        assert time.monotonic() - started < 4


async def test_connections_past_the_cap_get_503_at_once(tiny_colorizer):
    config = WebAppConfig(max_connections=3)
    async with listening(config, tiny_colorizer) as port:
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await asyncio.sleep(0.1)  # the server has taken them
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await _status_of(reader, timeout=5) == 503
        assert "Retry-After" in (await asyncio.wait_for(reader.read(), 5)).decode()
        writer.close()
        for _, idle_writer in idle:  # once the idle ones go, clients are served again
            idle_writer.close()
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert await _status_of(reader, timeout=5) == 200
        writer.close()
