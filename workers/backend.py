"""The one place that chooses where colorizing runs, for every front end (``INFERENCE_BACKEND``).

``local``: an :class:`~inference.service.InferenceService` on a model loaded in this process.
``celery``: a :class:`~workers.client.CeleryInference` sending jobs to ``pixelpainter worker``
processes (Celery and redis are imported only then: the ``[scale]`` extra).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from inference.colorizer import Colorizer, Style
from inference.service import ColorizeBackend, InferenceService
from shared_state.settings import ScaleSettings

if TYPE_CHECKING:
    from redis.asyncio import Redis


async def start_backend(
    scale: ScaleSettings,
    *,
    load: Callable[[], Colorizer],
    style: Style,
    max_batch: int,
    max_queue: int,
    redis: Redis | None = None,
    takes_hints: Callable[[], bool] = lambda: False,
) -> ColorizeBackend:
    """A started backend. ``load`` builds the model (run in a thread, local backend only);
    ``redis``: the caller's client for the celery backend (None: one is opened for it);
    ``takes_hints``: whether the workers' model reads color hints (celery backend only: the
    workers run the same ``GENERATOR_WEIGHTS``)."""
    if scale.inference_backend == "celery":
        from shared_state.connection import connect
        from shared_state.keys import Keys
        from workers.celery_app import create_celery
        from workers.client import CeleryInference

        assert scale.redis_url is not None  # ScaleSettings checks it
        url = scale.redis_url.get_secret_value()
        service: ColorizeBackend = CeleryInference(
            create_celery(url, prefix=scale.redis_prefix),
            redis if redis is not None else connect(url),
            Keys(scale.redis_prefix),
            style=style,
            max_queue=max_queue,
            timeout_s=scale.inference_timeout_s,
            owns_redis=redis is None,
            takes_hints=takes_hints(),
        )
    else:
        colorizer = await asyncio.to_thread(load)
        service = InferenceService(colorizer, max_batch=max_batch, max_queue=max_queue)
    await service.start()
    return service
