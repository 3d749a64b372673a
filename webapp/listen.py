"""Listening on a port with a bound on open connections (``serve`` and the bot's Mini App).

aiohttp accepts every connection it is offered, and a client that trickles its request holds one
as long as it likes. Bodies get a time limit in :mod:`webapp.routes`; here a connection past
``max_connections`` is answered 503 at once and closed, so slow clients cannot pile up.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

BUSY_RETRY_AFTER_S = 5
_BUSY_BODY = json.dumps({"error": "The server is busy. Please try again in a few seconds."})
BUSY_RESPONSE = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    f"Retry-After: {BUSY_RETRY_AFTER_S}\r\n"
    "Content-Type: application/json\r\n"
    f"Content-Length: {len(_BUSY_BODY)}\r\n"
    "Connection: close\r\n\r\n" + _BUSY_BODY
).encode()


async def start_site(
    app: web.Application, host: str, port: int, *, max_connections: int
) -> tuple[web.AppRunner, web.TCPSite]:
    """``app`` listening on ``host:port``; raises OSError (port taken...) with nothing left open."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    _cap_connections(runner.server, max_connections)
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    return runner, site


def _cap_connections(server: web.Server, limit: int) -> None:
    """Past ``limit`` open connections, a new one gets a 503 and is closed."""
    accept = server.connection_made

    def connection_made(handler: RequestHandler, transport: asyncio.Transport) -> None:
        accept(handler, transport)
        if len(server.connections) > limit:
            transport.write(BUSY_RESPONSE)
            transport.close()

    server.connection_made = connection_made  # type: ignore[method-assign]
