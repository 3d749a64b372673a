"""The one base of every local stand-in server: an aiohttp app on its own 127.0.0.1 port.

The port is chosen once, so a server can be stopped and started again at the same URL (a refine
server going down and coming back), and it works both as ``await X().start()`` / ``stop()`` and
as ``async with X() as x``.
"""

from __future__ import annotations

from typing import Self

from aiohttp import web

from tests.support.net import free_port


class LocalServer:
    """Subclasses return their routes from ``routes()``; ``url`` is ``http://127.0.0.1:PORT``."""

    client_max_size = 64 * 1024 * 1024

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> Self:
        app = web.Application(client_max_size=self.client_max_size)
        app.add_routes(self.routes())
        # handler_cancellation: a handler that holds a request ends when its client goes away.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
