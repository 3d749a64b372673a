"""HTTP handlers (design.md's refine server API) and their route table. Handlers stay thin."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from refine_server.errors import ApiError
from refine_server.images import finish
from refine_server.refiner import BadOutput, RefineParams
from refine_server.schema import read_refine_request
from refine_server.state import REFINER_KEY, SETTINGS_KEY, STARTED_KEY, WORKER_KEY
from refine_server.worker import JobTimeout, QueueFull, WorkerClosed

logger = logging.getLogger(__name__)

# A model that failed to load will not appear by itself; ask again after an operator restart.
MODEL_MISSING_RETRY_S = 300


async def health(request: web.Request) -> web.Response:
    """Liveness, no token needed."""
    return web.json_response({"status": "ok"})


async def status(request: web.Request) -> web.Response:
    """Models, accelerator, ControlNet, queue length, busy flag and uptime."""
    refiner, worker = request.app[REFINER_KEY], request.app[WORKER_KEY]
    return web.json_response(
        {
            "models": refiner.models,
            "gpu": refiner.gpu,
            "controlnet": refiner.controlnet,
            "queue": worker.waiting,
            "busy": worker.busy,
            "uptime_s": round(time.monotonic() - request.app[STARTED_KEY], 1),
        }
    )


async def refine(request: web.Request) -> web.Response:
    """Refine the uploaded GAN image; answer a PNG of the same size."""
    settings, refiner, worker = (
        request.app[SETTINGS_KEY],
        request.app[REFINER_KEY],
        request.app[WORKER_KEY],
    )
    started = time.perf_counter()
    form = await read_refine_request(request, max_pixels=settings.max_image_pixels)
    if form.model not in refiner.models:
        loaded = ", ".join(refiner.models)
        raise ApiError(
            503,
            f"model {form.model!r} is not loaded on this server (loaded: {loaded})",
            retry_after=MODEL_MISSING_RETRY_S,
        )
    params = RefineParams(
        model=form.model, strength=form.strength, prompt=form.prompt, seed=form.seed
    )
    try:
        refined = await worker.submit(
            lambda should_stop: refiner.refine(form.image, form.sketch, params, should_stop)
        )
    except QueueFull as exc:
        raise ApiError(
            503,
            f"the GPU queue is full ({worker.queue_size} waiting); try again in {exc.retry_after} s",
            retry_after=exc.retry_after,
        ) from exc
    except JobTimeout as exc:
        raise ApiError(
            503,
            f"the refinement did not finish within {exc.timeout_s:g} s; the GPU is busy, try again later",
            retry_after=exc.retry_after,
        ) from exc
    except WorkerClosed as exc:
        raise ApiError(
            503, "the server is shutting down; try again shortly", retry_after=30
        ) from exc
    except BadOutput as exc:
        logger.error("Model %s produced a broken image (seed %d): %s", form.model, form.seed, exc)
        raise ApiError(
            500, "the model produced a broken image; try again with another seed"
        ) from exc
    png = await asyncio.to_thread(finish, refined, form.image, color_match=settings.color_match)
    return web.Response(
        body=png,
        content_type="image/png",
        headers={
            "X-Refine-Seconds": f"{time.perf_counter() - started:.3f}",
            "X-Seed": str(form.seed),
            "X-Model": form.model,
        },
    )


ROUTES = [
    web.get("/health", health),
    web.get("/status", status),
    web.post("/refine", refine),
]
PUBLIC_PATHS = frozenset({"/health"})
