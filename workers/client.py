"""The front ends' side of ``INFERENCE_BACKEND=celery``: send a job, await its answer.

:class:`CeleryInference` is awaited like :class:`inference.service.InferenceService`
(``colorize``, ``queue_length``, ``latency_p50_ms``...), so the bot, the Mini App and
``pixelpainter serve`` do not care where the model runs. The answer comes back on a Redis list
of the job's own (``BLPOP``, on the asyncio client: the event loop never blocks).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import statistics
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any

from celery import Celery
from redis.asyncio import Redis

from inference.colorizer import Colorized, Style
from inference.errors import QueueFullError
from inference.hints import HintLike
from inference.images import SketchSource
from inference.service import RETRY_AFTER_S, PositionCallback
from shared_state.keys import Keys
from workers.celery_app import TASK_NAME, queue_name
from workers.protocol import decode_answer, make_job, taken_key

logger = logging.getLogger(__name__)

ANSWER_SLICE_S = 2.0
# A job neither taken by a worker nor waiting in the queue this long after it was sent is lost.
LOST_AFTER_S = 10.0
MAX_RESENDS = 3


class CeleryInference:
    """Colorize on Celery workers; create, ``await start()``, ``await close()``.

    ``max_queue``: past that many jobs waiting in the queue, :class:`QueueFullError` at once.
    ``timeout_s``: how long a caller waits for its answer (longer than the broker's visibility
    timeout, so that a job whose worker died is run again by another in time).
    """

    def __init__(
        self,
        celery: Celery,
        redis: Redis,
        keys: Keys,
        *,
        style: Style,
        max_queue: int = 64,
        timeout_s: float = 120.0,
        lost_after_s: float = LOST_AFTER_S,
        owns_redis: bool = False,
        takes_hints: bool = False,
    ) -> None:
        self.celery = celery
        self.redis = redis
        self.keys = keys
        self.style = style
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.lost_after_s = lost_after_s
        self._owns_redis = owns_redis
        self.takes_hints = takes_hints
        self._queue = queue_name(keys.prefix)
        self._latencies: deque[float] = deque(maxlen=200)
        self._admitted = 0
        self.images_done = 0

    async def start(self) -> None:
        """Check that the broker answers (a wrong REDIS_URL fails at start-up, not per job)."""
        await self.redis.ping()

    async def close(self) -> None:
        """Close the Celery app's broker connections (and the Redis client if it is ours)."""
        await asyncio.to_thread(self.celery.close)
        if self._owns_redis:
            await self.redis.aclose()

    async def __aenter__(self) -> CeleryInference:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def queue_length(self) -> int:
        """This process's jobs sent and not answered yet."""
        return self._admitted

    @property
    def latency_p50_ms(self) -> float | None:
        """Median time of recent jobs from sending to answer, in milliseconds."""
        return statistics.median(self._latencies) * 1000 if self._latencies else None

    async def waiting(self) -> int:
        """Jobs waiting in the shared queue (every front end's), not yet taken by a worker."""
        return int(await self.redis.llen(self._queue))

    async def workers(self) -> list[dict[str, Any]]:
        """The workers alive now (each refreshes its heartbeat every few seconds)."""
        names = [key async for key in self.redis.scan_iter(match=self.keys("worker", "*"))]
        values = await self.redis.mget(names) if names else []
        alive = []
        for name, value in zip(names, values, strict=True):
            if value is not None:
                info = json.loads(value)
                info["name"] = name.decode().removeprefix(self.keys("worker", ""))
                alive.append(info)
        return alive

    async def _wait_for_answer(self, job: dict[str, Any], deadline: float) -> bytes | None:
        """The answer pushed for ``job``, or None at ``deadline`` (``time.perf_counter``).

        Waits in slices shorter than the client's socket timeout (redis-py's default is 5 s):
        a long BLPOP would otherwise read as a dead connection. Between slices, a job that no
        worker has taken while the queue is empty was lost in transit (a worker killed between
        taking it from the queue and recording it as unacknowledged, a window of Celery's Redis
        transport) and is sent again; duplicates are harmless, the first answer wins.
        """
        key = job["reply_to"]
        sent = time.perf_counter()
        resends = 0
        while (left := deadline - time.perf_counter()) > 0:
            found = await self.redis.blpop([key], timeout=max(0.1, min(left, ANSWER_SLICE_S)))
            if found is not None:
                return found[1]
            if time.perf_counter() - sent > self.lost_after_s and resends < MAX_RESENDS:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.exists(taken_key(key))
                    pipe.llen(self._queue)
                    taken, waiting = await pipe.execute()
                if not taken and not waiting:
                    logger.warning("A colorize job was lost in transit; sending it again")
                    await asyncio.to_thread(self.celery.send_task, TASK_NAME, args=[job])
                    sent = time.perf_counter()
                    resends += 1
        return None

    async def colorize(
        self,
        source: SketchSource,
        on_position: PositionCallback | None = None,
        *,
        style: Style | None = None,
        hints: Sequence[HintLike] | None = None,
    ) -> Colorized:
        """Colorize one sketch on a worker; raises what :class:`InferenceService` raises.

        ``source`` must be the sketch's bytes (a worker has no access to this host's files).
        ``on_position(n)`` is awaited once, with the jobs waiting ahead in the shared queue.
        """
        if not isinstance(source, bytes | bytearray):
            raise TypeError("INFERENCE_BACKEND=celery colorizes sketches given as bytes")
        ahead = await self.waiting()
        if ahead >= self.max_queue:
            raise QueueFullError(ahead, RETRY_AFTER_S)
        reply_to = self.keys("reply", uuid.uuid4().hex)
        job = make_job(bytes(source), reply_to, style=style, hints=hints)
        started = time.perf_counter()
        self._admitted += 1
        try:
            # Publishing is one quick Redis command, but kombu's client blocks: off the loop.
            await asyncio.to_thread(self.celery.send_task, TASK_NAME, args=[job])
            if on_position is not None and ahead:
                with contextlib.suppress(Exception):
                    await on_position(ahead)
            answer = await self._wait_for_answer(job, started + self.timeout_s)
        finally:
            self._admitted -= 1
        if answer is None:
            # No worker (all down, or far behind): to the user, the service is busy.
            logger.warning("No colorize worker answered within %g s", self.timeout_s)
            raise QueueFullError(self._admitted, RETRY_AFTER_S)
        result = decode_answer(answer)
        self._latencies.append(time.perf_counter() - started)
        self.images_done += 1
        return result
