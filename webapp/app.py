"""The aiohttp application factory: error middleware, routes, the inference service in
``cleanup_ctx``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from inference.colorizer import Colorizer
from inference.service import ColorizeBackend, InferenceService
from shared_state.rate_limit import Limiter, LocalLimiter
from webapp.errors import ApiError
from webapp.routes import ROUTES, STATIC_DIR
from webapp.state import (
    BRIDGE_KEY,
    CONFIG_KEY,
    INFERENCE_KEY,
    LIMITER_KEY,
    ChatBridge,
    WebAppConfig,
)

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Multipart boundaries and the small text fields on top of the image bytes.
FORM_OVERHEAD_BYTES = 64 * 1024


# Copied from refine_server/app.py (the two parts install apart): keep them the same.
def error_response(status: int, message: str, *, retry_after: int | None = None) -> web.Response:
    """``{"error": message}`` with ``status`` (and ``Retry-After`` in seconds when given)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes ``{"error": ...}``; unexpected ones are logged once, here."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, retry_after=exc.retry_after)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[CONFIG_KEY].max_upload_mb
        return error_response(413, f"The upload is larger than {limit:g} MB. Send a smaller image.")
    except web.HTTPException as exc:  # aiohttp's own 404 / 405 ...
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason)
    except Exception:
        logger.exception("Unexpected error on %s %s", request.method, request.path)
        return error_response(500, "Unexpected server error; the details are in the server log.")


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
    inference: ColorizeBackend | None = None,
    bridge: ChatBridge | None = None,
    max_queue: int = 16,
    limiter: Limiter | None = None,
) -> web.Application:
    """The web app. Give a loaded ``colorizer`` (the app runs its own :class:`InferenceService`,
    ``max_queue`` deep) or a running ``inference`` service it shares (the bot's). ``bridge`` and
    ``config.bot_token`` turn on the Mini App endpoints. ``limiter``: one shared by several
    processes (Redis); None counts ``config.requests_per_minute`` in this process."""
    if (colorizer is None) == (inference is None):
        raise ValueError("give exactly one of colorizer= or inference=")
    config = config or WebAppConfig()
    app = web.Application(
        client_max_size=int(config.max_upload_mb * 1_048_576) + FORM_OVERHEAD_BYTES,
        middlewares=[errors_middleware],
    )
    app[CONFIG_KEY] = config
    app[LIMITER_KEY] = limiter or LocalLimiter(config.requests_per_minute)
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
