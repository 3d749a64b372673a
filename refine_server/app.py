"""The aiohttp application factory: middlewares, routes, and resources in ``cleanup_ctx``."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from refine_server.errors import ApiError, Handler, json_errors
from refine_server.refiner import Refiner
from refine_server.routes import PUBLIC_PATHS, ROUTES
from refine_server.settings import Settings
from refine_server.state import REFINER_KEY, SETTINGS_KEY, STARTED_KEY, WORKER_KEY
from refine_server.worker import GpuWorker

logger = logging.getLogger(__name__)

# Multipart boundaries and the small text fields on top of the image bytes.
FORM_OVERHEAD_BYTES = 64 * 1024


def auth_middleware(token: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Bearer-token check on everything but ``PUBLIC_PATHS``; an empty token means open mode."""
    expected = token.encode()

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if expected and request.path not in PUBLIC_PATHS:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            # Constant-time comparison: response timing must not leak the token.
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), expected
            ):
                raise ApiError(
                    401, "missing or wrong token: send 'Authorization: Bearer <REFINE_TOKEN>'"
                )
        return await handler(request)

    return check_token


def _refiner_ctx(
    refiner: Refiner | None, *, warm_up: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        loaded = refiner
        if loaded is None:
            loaded = await asyncio.to_thread(Refiner.load, app[SETTINGS_KEY])
        if warm_up:
            started = time.perf_counter()
            await asyncio.to_thread(loaded.warm_up)
            logger.info("Warm-up done in %.1f s", time.perf_counter() - started)
        app[REFINER_KEY] = loaded
        yield

    return ctx


async def _worker_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    worker = GpuWorker(queue_size=settings.queue_size, timeout_s=settings.request_timeout_s)
    worker.start()
    app[WORKER_KEY] = worker
    app[STARTED_KEY] = time.monotonic()
    yield
    await worker.close()


def create_app(
    settings: Settings, *, refiner: Refiner | None = None, warm_up: bool = True
) -> web.Application:
    """The refine server. Without ``refiner`` the configured models load (once) at start-up."""
    settings.check_auth()
    app = web.Application(
        client_max_size=settings.max_upload_bytes + FORM_OVERHEAD_BYTES,
        middlewares=[
            json_errors(settings.max_upload_mb),
            auth_middleware(settings.refine_token.get_secret_value()),
        ],
    )
    app[SETTINGS_KEY] = settings
    app.router.add_routes(ROUTES)
    app.cleanup_ctx.append(_refiner_ctx(refiner, warm_up=warm_up))
    app.cleanup_ctx.append(_worker_ctx)
    return app
