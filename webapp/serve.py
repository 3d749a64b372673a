"""``pixelpainter serve``: the web app on its own, with a model loaded from the inference settings."""

from __future__ import annotations

import logging

from aiohttp import web

from inference.settings import InferenceSettings, load_colorizer
from webapp.app import create_app
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
    app = create_app(config, colorizer=colorizer, max_queue=max_queue)
    print(f"PixelPainter web app on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
