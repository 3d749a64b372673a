"""``pixelpainter serve``: the web app on its own, with a model loaded from weights."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from inference.colorizer import Colorizer
from webapp.app import create_app
from webapp.state import WebAppConfig

logger = logging.getLogger(__name__)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    weights: Path | None = None,
    threads: int | None = None,
    config: WebAppConfig | None = None,
    max_queue: int = 16,
) -> None:
    """Load the model (raises WeightsError before binding), then serve until interrupted."""
    colorizer = Colorizer.load(weights, threads=threads)
    app = create_app(config, colorizer=colorizer, max_queue=max_queue)
    print(f"PixelPainter web app on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
