"""One GPU worker behind a bounded queue: jobs run one at a time, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A job receives ``should_stop`` and checks it between steps; it is set when its caller gives up.
JobFn = Callable[[Callable[[], bool]], T]


class QueueFull(Exception):
    """Every queue slot is taken; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"queue full, retry after {retry_after} s")
        self.retry_after = retry_after


class JobTimeout(Exception):
    """The job did not finish within the per-request timeout (waiting included)."""

    def __init__(self, timeout_s: float, retry_after: int) -> None:
        super().__init__(f"not finished within {timeout_s:g} s")
        self.timeout_s = timeout_s
        self.retry_after = retry_after


class WorkerClosed(Exception):
    """The worker is shutting down."""


@dataclass
class _Job(Generic[T]):
    fn: JobFn[T]
    future: asyncio.Future[T]
    stop: threading.Event = field(default_factory=threading.Event)


class GpuWorker:
    """Runs submitted jobs one at a time in a dedicated thread; at most ``queue_size`` wait."""

    def __init__(self, *, queue_size: int, timeout_s: float, initial_job_s: float = 10.0) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.queue_size = queue_size
        self.timeout_s = timeout_s
        self._queue: asyncio.Queue[_Job[Any]] = asyncio.Queue(maxsize=queue_size)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpu")
        self._task: asyncio.Task[None] | None = None
        self._current: _Job[Any] | None = None
        self._busy = False
        self._closed = False
        self._job_s = initial_job_s  # running mean of job seconds, for Retry-After
        self.done = 0

    @property
    def waiting(self) -> int:
        """Jobs waiting for the GPU (the running one not counted)."""
        return self._queue.qsize()

    @property
    def busy(self) -> bool:
        return self._busy

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: every waiting job plus the running one."""
        return max(1, math.ceil(self._job_s * (self.waiting + int(self._busy))))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._serve(), name="gpu-worker")

    async def close(self) -> None:
        """Stop taking jobs, fail the waiting ones, let the running one finish."""
        self._closed = True
        while not self._queue.empty():
            job = self._queue.get_nowait()
            job.stop.set()
            if not job.future.done():
                job.future.set_exception(WorkerClosed("the server is shutting down"))
        if self._current is not None:
            self._current.stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    async def submit(self, fn: JobFn[T]) -> T:
        """Queue ``fn``, wait for its result; ``QueueFull`` at once if no slot, ``JobTimeout`` later."""
        if self._closed:
            raise WorkerClosed("the server is shutting down")
        job: _Job[T] = _Job(fn, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise QueueFull(self.retry_after()) from None
        try:
            async with asyncio.timeout(self.timeout_s):
                return await asyncio.shield(job.future)
        except TimeoutError:
            self._give_up(job)
            raise JobTimeout(self.timeout_s, self.retry_after()) from None
        except asyncio.CancelledError:  # the client went away: do not spend the GPU on it
            self._give_up(job)
            raise

    @staticmethod
    def _give_up(job: _Job[Any]) -> None:
        job.stop.set()
        job.future.cancel()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await self._queue.get()
            if job.stop.is_set() or job.future.done():
                continue  # its caller gave up while it waited
            self._busy, self._current = True, job
            started = time.perf_counter()
            try:
                result = await loop.run_in_executor(self._executor, job.fn, job.stop.is_set)
            except Exception as exc:  # handed to the caller, who decides what it means
                if not job.future.done():
                    job.future.set_exception(exc)
            else:
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                self._busy, self._current = False, None
                elapsed = time.perf_counter() - started
                self._job_s = elapsed if self.done == 0 else 0.8 * self._job_s + 0.2 * elapsed
                self.done += 1
