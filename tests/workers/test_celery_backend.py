"""INFERENCE_BACKEND=celery: real workers on a real Redis give what the in-process engine gives,
errors come back typed and are not retried, and a worker killed mid-burst loses nothing."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import redis

from inference.errors import HintsError, QueueFullError, SketchError
from inference.service import InferenceService
from tests.support.sketches import sketch_bytes


async def test_worker_result_equals_the_in_process_engine(
    start_worker, make_client, tiny_colorizer
):
    start_worker("w1")
    data = sketch_bytes((96, 64), seed=3)
    async with make_client() as client, InferenceService(tiny_colorizer) as local:
        remote, here = await client.colorize(data), await local.colorize(data)
        remote_soft = await client.colorize(data, style="soft")
        assert [w["name"] for w in await client.workers()] == ["w1"]
    for name in ("image_array", "layer_array", "lines_array", "raw_array", "regions"):
        a, b = getattr(remote, name), getattr(here, name)
        assert a.shape == b.shape and a.dtype == b.dtype, name
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 0.5, name
    assert remote.style == "cel" and remote_soft.style == "soft"
    assert remote.image.size == (96, 64)
    remote.layer_array[0, 0] = 0  # the caller owns writable arrays


async def test_bad_input_comes_back_typed_and_is_not_retried(
    start_worker, make_client, redis_url, tiny_colorizer
):
    start_worker("w1")
    async with make_client() as client, InferenceService(tiny_colorizer) as local:
        with pytest.raises(SketchError) as remote_err:
            await client.colorize(b"not an image at all")
        with pytest.raises(SketchError) as local_err:
            await local.colorize(b"not an image at all")
        assert str(remote_err.value) == str(local_err.value)
        # Hints travel with the job; this tiny model takes none: the same typed error back.
        data = sketch_bytes((64, 64), seed=1)
        with pytest.raises(HintsError) as hints_err:
            await client.colorize(data, hints=[(5, 5, (255, 0, 0))])
        assert hints_err.value.index is None and "no color hints" in str(hints_err.value)
        with pytest.raises(HintsError) as malformed:  # checked before it reaches the queue
            await client.colorize(data, hints=[(5, 5, (255, 0))])
        assert malformed.value.index == 0
    # Acknowledged (just after the answer is pushed): nothing is left to hand out again.
    with redis.Redis.from_url(redis_url) as sync:
        for _ in range(100):
            if sync.hlen("unacked") == 0:
                break
            await asyncio.sleep(0.05)
        assert sync.hlen("unacked") == 0
        assert sync.llen("pixelpainter:colorize") == 0


async def test_full_queue_is_refused_at_once(make_client):
    async with make_client(prefix="no-workers", max_queue=1, timeout_s=1.0) as client:
        data = sketch_bytes((32, 32))
        first = asyncio.create_task(client.colorize(data))  # waits: nobody consumes
        for _ in range(100):
            if await client.waiting() == 1:
                break
            await asyncio.sleep(0.02)
        started = time.perf_counter()
        with pytest.raises(QueueFullError):
            await client.colorize(data)
        assert time.perf_counter() - started < 0.5
        with pytest.raises(QueueFullError):  # no worker ever answered: busy, not a crash
            await first


async def test_worker_killed_mid_burst_loses_nothing(start_worker, make_client, redis_url):
    doomed = start_worker("doomed", max_batch=2, visibility_timeout_s=3.0)
    start_worker("survivor", max_batch=2, visibility_timeout_s=3.0)
    sketches = [sketch_bytes((512, 512), seed=i) for i in range(16)]
    async with make_client(timeout_s=60.0) as client:
        started = time.perf_counter()
        jobs = [asyncio.create_task(client.colorize(s)) for s in sketches]
        with redis.Redis.from_url(redis_url) as sync:
            for _ in range(200):  # both workers hold jobs (two each) when one dies
                if sync.hlen("unacked") >= 4:
                    break
                await asyncio.sleep(0.01)
            assert sync.hlen("unacked") >= 3
            doomed.kill()
            results = await asyncio.wait_for(asyncio.gather(*jobs), 90)
            elapsed = time.perf_counter() - started
            for _ in range(100):  # each ack follows its answer by a moment
                if sync.hlen("unacked") == 0:
                    break
                await asyncio.sleep(0.05)
            assert sync.hlen("unacked") == 0 and sync.llen("pixelpainter:colorize") == 0
    assert len(results) == 16 and all(r.image.size == (512, 512) for r in results)
    # The dead worker's jobs waited for the visibility timeout, then ran on the survivor.
    assert elapsed >= 3.0


async def test_a_job_lost_in_transit_is_sent_again(start_worker, make_client, redis_url):
    # Celery's Redis transport can lose a job whose worker dies between taking it from the
    # queue and recording it as unacknowledged; here the queue itself loses it.
    async with make_client(lost_after_s=1.0, timeout_s=60.0) as client:
        job = asyncio.create_task(client.colorize(sketch_bytes((64, 64), seed=2)))
        with redis.Redis.from_url(redis_url) as sync:
            for _ in range(200):
                if sync.llen("pixelpainter:colorize"):
                    break
                await asyncio.sleep(0.01)
            assert sync.delete("pixelpainter:colorize") == 1
        start_worker("w1")
        result = await asyncio.wait_for(job, 60)
    assert result.image.size == (64, 64)


def test_worker_without_redis_url_exits_2_with_one_line(tmp_path):
    import os
    import subprocess
    import sys

    from tests.support.workers import REPO

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "GENERATOR_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pixelpainter_cli", "worker"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Configuration error: REDIS_URL is not set")


def test_serve_colorizes_on_the_workers(start_worker, redis_url, tiny_onnx, tmp_path):
    import io
    import os
    import urllib.error

    from PIL import Image

    from tests.support.serve import post_sketch, serving

    start_worker("w1")
    env = {
        **os.environ,
        "INFERENCE_BACKEND": "celery",
        "REDIS_URL": redis_url,
        "GENERATOR_WEIGHTS": str(tmp_path / "not-loaded-here.onnx"),  # the worker's model is used
    }
    with serving("--rate-limit", "3", env=env) as url:
        png = post_sketch(f"{url}/colorize", sketch_bytes((80, 56), seed=4))
        assert Image.open(io.BytesIO(png)).size == (80, 56)
        with pytest.raises(urllib.error.HTTPError) as bad:  # the worker's typed error, as usual
            post_sketch(f"{url}/colorize", b"not an image")
        assert bad.value.code == 415
        post_sketch(f"{url}/colorize", sketch_bytes((32, 32)))
        with pytest.raises(urllib.error.HTTPError) as limited:  # the limit lives in Redis
            post_sketch(f"{url}/colorize", sketch_bytes((32, 32)))
        assert limited.value.code == 429
    with redis.Redis.from_url(redis_url) as sync:
        assert sync.exists("pixelpainter:rate:serve:ip:127.0.0.1")
