"""Colorizing for asyncio callers: model work off the event loop, grouped into micro-batches.

Decoding and post-processing run in a small thread pool; the model runs in one thread of its
own, taking up to ``max_batch`` waiting sketches at a time. The queue is bounded: past
``max_queue`` admitted requests, :class:`QueueFullError` is raised at once instead of letting
memory and latency grow without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from inference.colorizer import Colorized, Colorizer, Prepared, Style
from inference.errors import QueueFullError
from inference.hints import HintLike
from inference.images import SketchSource

logger = logging.getLogger(__name__)

PositionCallback = Callable[[int], Awaitable[None]]
# What a caller turned away by a full queue is told to wait (a batch takes well under a second).
RETRY_AFTER_S = 10


class ColorizeBackend(Protocol):
    """What front ends await, wherever the model runs: :class:`InferenceService` in this
    process, or ``workers.client.CeleryInference`` on workers (``INFERENCE_BACKEND``)."""

    @property
    def style(self) -> Style:
        """The default style of results."""
        ...

    @property
    def queue_length(self) -> int: ...

    @property
    def takes_hints(self) -> bool:
        """Whether the model reads color hints."""
        ...

    @property
    def latency_p50_ms(self) -> float | None: ...

    images_done: int

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def colorize(
        self,
        source: SketchSource,
        on_position: PositionCallback | None = None,
        *,
        style: Style | None = None,
        hints: Sequence[HintLike] | None = None,
    ) -> Colorized: ...


@dataclass(eq=False)
class _Job:
    prepared: Prepared
    future: asyncio.Future[np.ndarray]
    on_position: PositionCallback | None
    position: int = -1
    enqueued: float = field(default_factory=time.perf_counter)


class InferenceService:
    """Micro-batching front of a :class:`Colorizer`; create, ``await start()``, ``await close()``."""

    def __init__(
        self,
        colorizer: Colorizer,
        *,
        max_batch: int = 4,
        max_queue: int = 64,
        batch_window_ms: float = 3.0,
        prep_threads: int = 2,
    ) -> None:
        if max_batch < 1 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be at least 1")
        self.colorizer = colorizer
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.batch_window_s = batch_window_ms / 1000
        self._prep_pool = ThreadPoolExecutor(prep_threads, thread_name_prefix="colorize-io")
        self._model_pool = ThreadPoolExecutor(1, thread_name_prefix="colorize-model")
        self._waiting: deque[_Job] = deque()
        self._admitted = 0
        self._running = 0
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._latencies: deque[float] = deque(maxlen=200)
        self.images_done = 0
        self.batches_run = 0

    async def start(self) -> None:
        """Warm the model up off the loop and start the batching worker."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._model_pool, self.colorizer.warm_up)
        self._wake = asyncio.Event()
        self._worker = asyncio.create_task(self._run(), name="colorize-batcher")

    async def close(self) -> None:
        """Stop the worker; requests still waiting get ``CancelledError``."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for job in self._waiting:
            job.future.cancel()
        self._waiting.clear()
        self._prep_pool.shutdown(wait=False, cancel_futures=True)
        self._model_pool.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> InferenceService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def takes_hints(self) -> bool:
        """Whether the model reads color hints (see :attr:`Colorizer.takes_hints`)."""
        return self.colorizer.takes_hints

    @property
    def style(self) -> Style:
        """The default style of results (the colorizer's)."""
        return self.colorizer.style

    @property
    def queue_length(self) -> int:
        """Requests admitted and not finished yet (decoding, waiting or on the model)."""
        return self._admitted

    @property
    def latency_p50_ms(self) -> float | None:
        """Median time of recent requests from admission to result, in milliseconds."""
        return statistics.median(self._latencies) * 1000 if self._latencies else None

    async def colorize(
        self,
        source: SketchSource,
        on_position: PositionCallback | None = None,
        *,
        style: Style | None = None,
        hints: Sequence[HintLike] | None = None,
    ) -> Colorized:
        """Colorize one sketch. ``on_position(n)`` is awaited when n images are ahead of it;
        ``style`` (None: the colorizer's own) is the color layer's style; ``hints`` color hints
        in the sketch's pixels (see :meth:`Colorizer.colorize`).

        Raises :class:`SketchError` for unusable input, :class:`HintsError` for unusable hints,
        :class:`QueueFullError` when full.
        """
        if self._worker is None or self._wake is None:
            raise RuntimeError("InferenceService.start() has not been awaited")
        if self._admitted >= self.max_queue:
            raise QueueFullError(self._admitted, RETRY_AFTER_S)
        self._admitted += 1
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            prepared = await loop.run_in_executor(
                self._prep_pool, functools.partial(self.colorizer.prepare, hints=hints), source
            )
            job = _Job(prepared, loop.create_future(), on_position)
            self._waiting.append(job)
            self._wake.set()
            await self._announce_positions()
            output = await job.future
            result = await loop.run_in_executor(
                self._prep_pool,
                functools.partial(self.colorizer.finish, style=style),
                prepared,
                output,
            )
        finally:
            self._admitted -= 1
        self._latencies.append(time.perf_counter() - started)
        self.images_done += 1
        return result

    async def _announce_positions(self) -> None:
        """Tell each waiting caller how many images are ahead of it, when that changed."""
        for index, job in enumerate(self._waiting):
            self._set_position(job, self._running + index)

    def _set_position(self, job: _Job, ahead: int) -> None:
        if job.on_position is not None and job.position != ahead:
            job.position = ahead
            # In the background: a slow progress message must not hold the queue up.
            task = asyncio.create_task(_call_safely(job.on_position, ahead))
            task.add_done_callback(_background.discard)
            _background.add(task)

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                if len(self._waiting) < self.max_batch and self.batch_window_s > 0:
                    # Let callers that arrive together share one model call.
                    await asyncio.sleep(self.batch_window_s)
                batch = [
                    self._waiting.popleft() for _ in range(min(self.max_batch, len(self._waiting)))
                ]
                batch = [job for job in batch if not job.future.cancelled()]
                if not batch:
                    continue
                for job in batch:
                    self._set_position(job, 0)
                inputs = np.stack([job.prepared.model_input for job in batch])
                self._running = len(batch)
                try:
                    outputs = await loop.run_in_executor(
                        self._model_pool, self.colorizer.engine.predict, inputs
                    )
                except Exception as err:  # handed to every caller of this batch
                    logger.exception("Model call failed for a batch of %d", len(batch))
                    for job in batch:
                        if not job.future.done():
                            job.future.set_exception(err)
                    continue
                finally:
                    self._running = 0
                self.batches_run += 1
                for job, out in zip(batch, outputs, strict=True):
                    if not job.future.done():
                        job.future.set_result(out)
                await self._announce_positions()


_background: set[asyncio.Task[None]] = set()


async def _call_safely(callback: PositionCallback, ahead: int) -> None:
    try:
        await callback(ahead)
    except Exception:  # a caller's progress message must never stop the queue
        logger.warning("Queue position callback failed", exc_info=True)
