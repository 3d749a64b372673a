"""The aiohttp application factory: the error middleware, routes, the inference service and the
image encoding threads in ``cleanup_ctx``."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from inference.colorizer import Colorizer
from inference.engine import default_threads
from inference.service import ColorizeBackend, InferenceService
from shared_state.rate_limit import Limiter, LocalLimiter
from webapp.errors import ApiError, error_response, json_errors
from webapp.routes import ROUTES, STATIC_DIR
from webapp.state import (
    BRIDGE_KEY,
    CONFIG_KEY,
    ENCODER_KEY,
    INFERENCE_KEY,
    LIMITER_KEY,
    ChatBridge,
    WebAppConfig,
)

# Multipart boundaries and the small text fields on top of the image bytes.
FORM_OVERHEAD_BYTES = 64 * 1024
# Image encoding threads: one editor document's three PNGs side by side; more threads than
# cores would only take turns.
ENCODER_THREADS = 3


StartInference = Callable[[], Awaitable[ColorizeBackend]]


async def _encoder_ctx(app: web.Application) -> AsyncIterator[None]:
    threads = min(ENCODER_THREADS, default_threads())
    pool = ThreadPoolExecutor(threads, thread_name_prefix="webapp-encode")
    app[ENCODER_KEY] = pool
    yield
    # Handlers are done by now; an encoding whose client left ends on its own, unwaited.
    pool.shutdown(wait=False, cancel_futures=True)


def _inference_ctx(start: StartInference) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        service = await start()  # warms the model up off the loop, or reaches the workers
        app[INFERENCE_KEY] = service
        yield
        await service.close()

    return ctx


async def _start_local(colorizer: Colorizer, max_queue: int) -> ColorizeBackend:
    service = InferenceService(colorizer, max_queue=max_queue)
    await service.start()
    return service


def create_app(
    config: WebAppConfig | None = None,
    *,
    colorizer: Colorizer | None = None,
    inference: ColorizeBackend | None = None,
    start_inference: StartInference | None = None,
    bridge: ChatBridge | None = None,
    max_queue: int = 16,
    limiter: Limiter | None = None,
) -> web.Application:
    """The web app. Give a loaded ``colorizer`` (the app runs its own :class:`InferenceService`,
    ``max_queue`` deep), a running ``inference`` service it shares (the bot's), or
    ``start_inference`` that starts one with the app (``workers.backend.start_backend``).
    ``bridge`` and ``config.bot_token`` turn on the Mini App endpoints; ``limiter``: one to share
    (the bot's, so a Telegram user has one budget in the chat and the Mini App; or one in Redis
    for several processes), else the app's own."""
    if [colorizer, inference, start_inference].count(None) != 2:
        raise ValueError("give exactly one of colorizer=, inference= or start_inference=")
    config = config or WebAppConfig()
    app = web.Application(
        client_max_size=int(config.max_upload_mb * 1_048_576) + FORM_OVERHEAD_BYTES,
        middlewares=[json_errors(config.max_upload_mb)],
    )
    app[CONFIG_KEY] = config
    app[LIMITER_KEY] = limiter or LocalLimiter(config.requests_per_minute)
    app.cleanup_ctx.append(_encoder_ctx)
    if bridge is not None:
        app[BRIDGE_KEY] = bridge
    if inference is not None:
        app[INFERENCE_KEY] = inference
    else:
        if start_inference is None:
            assert colorizer is not None
            start_inference = functools.partial(_start_local, colorizer, max_queue)
        app.cleanup_ctx.append(_inference_ctx(start_inference))
    app.add_routes(ROUTES)
    app.router.add_static("/static", STATIC_DIR)
    return app


__all__ = ["ApiError", "create_app", "error_response"]
