"""The aiohttp application factory: the error middleware, routes, the inference service in
``cleanup_ctx``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from inference.colorizer import Colorizer
from inference.service import InferenceService
from pixelpainter_common.rate_limit import RateLimiter
from webapp.errors import ApiError, error_response, json_errors
from webapp.routes import ROUTES, STATIC_DIR
from webapp.state import (
    BRIDGE_KEY,
    CONFIG_KEY,
    INFERENCE_KEY,
    LIMITER_KEY,
    ChatBridge,
    WebAppConfig,
)

# Multipart boundaries and the small text fields on top of the image bytes.
FORM_OVERHEAD_BYTES = 64 * 1024


def _inference_ctx(
    colorizer: Colorizer, max_queue: int
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        service = InferenceService(colorizer, max_queue=max_queue)
        await service.start()  # warms the model up off the loop
        app[INFERENCE_KEY] = service
        yield
        await service.close()

    return ctx


def create_app(
    config: WebAppConfig | None = None,
    *,
    colorizer: Colorizer | None = None,
    inference: InferenceService | None = None,
    bridge: ChatBridge | None = None,
    limiter: RateLimiter | None = None,
    max_queue: int = 16,
) -> web.Application:
    """The web app. Give a loaded ``colorizer`` (the app runs its own :class:`InferenceService`,
    ``max_queue`` deep) or a running ``inference`` service it shares (the bot's). ``bridge`` and
    ``config.bot_token`` turn on the Mini App endpoints; ``limiter``: one to share (the bot's, so
    a Telegram user has one budget in the chat and the Mini App), else the app's own."""
    if (colorizer is None) == (inference is None):
        raise ValueError("give exactly one of colorizer= or inference=")
    config = config or WebAppConfig()
    app = web.Application(
        client_max_size=int(config.max_upload_mb * 1_048_576) + FORM_OVERHEAD_BYTES,
        middlewares=[json_errors(config.max_upload_mb)],
    )
    app[CONFIG_KEY] = config
    app[LIMITER_KEY] = limiter or RateLimiter(config.requests_per_minute)
    if bridge is not None:
        app[BRIDGE_KEY] = bridge
    if inference is not None:
        app[INFERENCE_KEY] = inference
    else:
        assert colorizer is not None
        app.cleanup_ctx.append(_inference_ctx(colorizer, max_queue))
    app.add_routes(ROUTES)
    app.router.add_static("/static", STATIC_DIR)
    return app


__all__ = ["ApiError", "create_app", "error_response"]
