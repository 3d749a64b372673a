"""Fixtures for the worker tests: real workers on a real Redis, and a client of them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from shared_state.connection import connect
from shared_state.keys import Keys
from tests.support.workers import WorkerProcess
from workers.celery_app import create_celery
from workers.client import CeleryInference


@pytest.fixture
def start_worker(redis_url, tiny_onnx, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """``start_worker(name, **options)``: a running worker; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(name: str = "w1", **options: object) -> WorkerProcess:
        worker = WorkerProcess(redis_url, tiny_onnx, tmp_path / f"{name}.log", name=name, **options)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def make_client(redis_url) -> Iterator[Callable[..., contextlib.AbstractAsyncContextManager]]:
    """``async with make_client(**options) as client``: a :class:`CeleryInference`."""

    @contextlib.asynccontextmanager
    async def make(
        prefix: str = "pixelpainter", **options: object
    ) -> AsyncIterator[CeleryInference]:
        redis = connect(redis_url)
        celery = create_celery(redis_url, prefix=prefix)
        try:
            async with CeleryInference(
                celery, redis, Keys(prefix), style="cel", **options
            ) as client:
                yield client
        finally:
            await redis.aclose()
            celery.close()

    return make
