"""The whole start-up, in order: load models → serve → tunnel → publish → notify; and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from refine_server.announce import AnnounceResult, ServerInfo, announce
from refine_server.app import create_app
from refine_server.refiner import Refiner
from refine_server.settings import Settings
from refine_server.state import REFINER_KEY
from refine_server.tunnel import Tunnel, TunnelError, open_tunnel

logger = logging.getLogger(__name__)


@dataclass
class RunningServer:
    """A started server: its local port, public URL (None if the tunnel failed) and announcement."""

    app: web.Application
    port: int
    public_url: str | None
    announced: AnnounceResult | None


@contextlib.asynccontextmanager
async def running_server(
    settings: Settings, *, refiner: Refiner | None = None, warm_up: bool = True
) -> AsyncIterator[RunningServer]:
    """Start everything; on exit close the tunnel and the app (worker, pipelines)."""
    app = create_app(settings, refiner=refiner, warm_up=warm_up)
    # handler_cancellation: a client that goes away cancels its handler, so its GPU job too.
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()  # cleanup_ctx: models load and warm up here, before any request
    tunnel: Tunnel | None = None
    try:
        site = web.TCPSite(runner, settings.host, settings.refine_port)
        await site.start()
        port = runner.addresses[0][1]
        logger.info("Serving on %s:%d", settings.host, port)
        try:
            tunnel = await asyncio.to_thread(open_tunnel, settings, port)
        except TunnelError as exc:
            logger.error("No tunnel, so nothing is published (%s); serving locally only", exc)
        announced = None
        if tunnel is not None:
            loaded = app[REFINER_KEY]
            info = ServerInfo(
                url=tunnel.public_url,
                models=loaded.models,
                gpu=loaded.gpu,
                controlnet=loaded.controlnet,
                started_at=int(time.time()),
            )
            announced = await announce(settings, info)
        yield RunningServer(
            app=app,
            port=port,
            public_url=tunnel.public_url if tunnel else None,
            announced=announced,
        )
    finally:
        if tunnel is not None:
            await asyncio.to_thread(tunnel.close)
        await runner.cleanup()


async def serve_forever(settings: Settings) -> None:
    """Run until Ctrl-C or SIGTERM, then close the tunnel and the app."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, non-main thread
            loop.add_signal_handler(signum, stop.set)
    async with running_server(settings) as server:
        if server.public_url:
            logger.info("Ready at %s", server.public_url)
        await stop.wait()
        logger.info("Shutting down")
