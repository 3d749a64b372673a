"""``pixelpainter serve``: the web app on its own, with a model loaded from the inference settings."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal

from aiohttp import web

from inference.settings import InferenceSettings, load_colorizer, model_takes_hints
from shared_state.rate_limit import Limiter
from shared_state.settings import ScaleSettings
from webapp.app import create_app
from webapp.listen import start_site
from webapp.state import WebAppConfig
from workers.backend import start_backend

logger = logging.getLogger(__name__)


def _shared_limiter(scale: ScaleSettings, config: WebAppConfig) -> Limiter | None:
    """The per-client limit in Redis (``REDIS_URL``), or None to count in this process."""
    if scale.redis_url is None:
        return None
    from shared_state.connection import connect
    from shared_state.keys import Keys
    from shared_state.rate_limit import RedisRateLimiter

    redis = connect(scale.redis_url.get_secret_value())
    return RedisRateLimiter(redis, Keys(scale.redis_prefix), "serve", config.requests_per_minute)


def serve(
    settings: InferenceSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    config: WebAppConfig | None = None,
    max_queue: int = 16,
    scale: ScaleSettings | None = None,
) -> None:
    """Load the model (raises WeightsError before binding), or with ``INFERENCE_BACKEND=celery``
    reach the workers, then serve until interrupted. With ``REDIS_URL``, several ``serve``
    processes behind one proxy share the per-client limit."""
    scale = scale or ScaleSettings.model_construct()  # defaults: local, no Redis
    config = config or WebAppConfig()
    if scale.inference_backend == "celery":
        start = functools.partial(
            start_backend,
            scale,
            load=functools.partial(load_colorizer, settings),
            style=settings.inference_style,
            max_batch=4,
            max_queue=max_queue,
            takes_hints=functools.partial(model_takes_hints, settings),
        )
        app = create_app(config, start_inference=start, limiter=_shared_limiter(scale, config))
    else:
        colorizer = load_colorizer(settings)
        app = create_app(
            config, colorizer=colorizer, max_queue=max_queue, limiter=_shared_limiter(scale, config)
        )
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
