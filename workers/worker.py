"""The worker side: one model per process, jobs micro-batched, answers pushed to the caller.

Celery runs the task in a pool of ``INFERENCE_MAX_BATCH`` threads; each hands its job to one
:class:`InferenceService` (the same batching the in-process backend uses), running on an event
loop of its own, so jobs that arrive together share one model call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from concurrent.futures import Future
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from inference.colorizer import Colorizer
from inference.service import InferenceService
from shared_state.connection import BACKOFF_CAP_S, RETRIES
from shared_state.keys import Keys
from workers.protocol import EXPECTED_ERRORS, encode_error, encode_result, job_hints, taken_key

logger = logging.getLogger(__name__)

# An answer nobody collects (its caller gave up or got a duplicate's) is gone after this long.
REPLY_TTL_S = 120
HEARTBEAT_S = 5.0
HEARTBEAT_TTL_S = 15


def worker_name() -> str:
    """This worker's name: host and process id (several workers may share a host)."""
    return f"colorize-{os.getpid()}@{socket.gethostname()}"


class WorkerRuntime:
    """The loaded model and what serves it; ``start()``, then ``run(job)`` from any thread."""

    def __init__(
        self, colorizer: Colorizer, redis_url: str, keys: Keys, *, max_batch: int, name: str
    ) -> None:
        self.name = name
        self.keys = keys
        self.max_batch = max_batch
        self.redis = redis.Redis.from_url(
            redis_url,
            retry=Retry(ExponentialBackoff(cap=BACKOFF_CAP_S, base=0.05), RETRIES),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2,
        )
        self.service = InferenceService(colorizer, max_batch=max_batch, max_queue=max_batch * 4)
        self.loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self.loop.run_forever, name="colorize-loop", daemon=True
        )
        self._stop = threading.Event()
        self.jobs_done = 0
        self.started = time.time()

    def start(self) -> None:
        """Warm the model up, start the batching loop and the heartbeat."""
        self._loop_thread.start()
        self._on_loop(self.service.start()).result()
        self._beat()
        threading.Thread(target=self._heartbeat, name="worker-heartbeat", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._on_loop(self.service.close()).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._loop_thread.join(timeout=10)
        self.redis.delete(self.keys("worker", self.name))
        self.redis.close()

    def run(self, job: dict[str, Any]) -> None:
        """Colorize one job and push the answer (result or expected error) to its caller."""
        self.redis.set(taken_key(job["reply_to"]), self.name, ex=REPLY_TTL_S)
        work = self.service.colorize(job["sketch"], style=job.get("style"), hints=job_hints(job))
        try:
            answer = encode_result(self._on_loop(work).result())
        except tuple(EXPECTED_ERRORS.values()) as err:
            answer = encode_error(err)  # the input's fault: answered, not retried
        except Exception as err:
            logger.exception("Colorize job failed")
            answer = encode_error(err)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(job["reply_to"], answer)
            pipe.expire(job["reply_to"], REPLY_TTL_S)
            pipe.execute()
        self.jobs_done += 1

    def _on_loop(self, coroutine: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def _beat(self) -> None:
        info = {"started": self.started, "jobs_done": self.jobs_done, "batch": self.max_batch}
        self.redis.set(self.keys("worker", self.name), json.dumps(info), ex=HEARTBEAT_TTL_S)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._beat()
            except redis.RedisError as err:  # Redis restarting: the next beat catches up
                logger.warning("Worker heartbeat failed: %s", err)


_runtime: WorkerRuntime | None = None


def set_runtime(runtime: WorkerRuntime | None) -> None:
    """The runtime this process's tasks use (set by ``pixelpainter worker`` before consuming)."""
    global _runtime
    _runtime = runtime


def colorize_task(job: dict[str, Any]) -> None:
    """The Celery task body: one colorize job."""
    if _runtime is None:
        raise RuntimeError("no worker runtime in this process (start it with pixelpainter worker)")
    _runtime.run(job)
