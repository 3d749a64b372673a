"""``pixelpainter serve``: the web app on its own, with a model loaded from the inference settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from inference.settings import InferenceSettings, load_colorizer
from webapp.app import create_app
from webapp.listen import start_site
from webapp.state import WebAppConfig

logger = logging.getLogger(__name__)


def serve(
    settings: InferenceSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    config: WebAppConfig | None = None,
    max_queue: int = 16,
) -> None:
    """Load the model (raises WeightsError before binding), then serve until interrupted."""
    colorizer = load_colorizer(settings)
    config = config or WebAppConfig()
    app = create_app(config, colorizer=colorizer, max_queue=max_queue)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(app, host, port, config.max_connections))


async def _serve(app: web.Application, host: str, port: int, max_connections: int) -> None:
    runner, _ = await start_site(app, host, port, max_connections=max_connections)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"PixelPainter web app on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
