"""Colorizing on Celery workers against in-process: per-job overhead and throughput.

Usage: ``python benchmarks/workers.py [--reps 30] [--size 512] [--jobs 48] [--weights PATH]``

Starts a real ``redis-server`` (append-only, on a free 127.0.0.1 port) and real
``pixelpainter worker`` processes with the bundled model (or ``--weights``).

1. Overhead: one job at a time, the same sketch, ``CeleryInference.colorize`` (send over Redis,
   worker decodes, colorizes, pushes the arrays back, caller rebuilds the result) against
   ``InferenceService.colorize`` in this process, interleaved rep by rep; medians and p90.
   Target (issue #19): overhead ≤ 20 ms at p50 for a 512² sketch.
2. Throughput: ``--jobs`` jobs sent at once; in process (2 threads), one worker (2 threads),
   two workers (1 thread each), all with micro-batches of 4. On a 2-core machine, two workers
   share the same two cores: the number says what scale-out costs or gains on one host.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.samples import sketch  # noqa: E402
from inference.colorizer import Colorizer  # noqa: E402
from inference.service import InferenceService  # noqa: E402
from shared_state.connection import connect  # noqa: E402
from shared_state.keys import Keys  # noqa: E402
from workers.celery_app import create_celery  # noqa: E402
from workers.client import CeleryInference  # noqa: E402


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"p50 {statistics.median(values) * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms"


async def _timed(call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def _throughput(service, sketches: list[bytes]) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(service.colorize(s) for s in sketches))
    return len(sketches) / (time.perf_counter() - started)


def _workers(process, redis_url: str, weights: Path | None, folder: Path, count: int, threads: int):
    """``count`` started ``pixelpainter worker`` processes (``process``: WorkerProcess)."""
    env_weights = weights or Path(ROOT / "inference/assets/default.onnx")
    started = []
    for i in range(count):
        worker = process(redis_url, env_weights, folder / f"w{i}.log", name=f"bench{i}")
        worker.env["INFERENCE_THREADS"] = str(threads)
        worker.env["OMP_NUM_THREADS"] = str(threads)
        started.append(worker.start(timeout_s=120))
    return started


def _png(size: int, seed: int) -> bytes:
    buf = io.BytesIO()
    sketch((size, size), seed=seed, strokes=60, line=3).save(buf, format="PNG")
    return buf.getvalue()


async def run(args: argparse.Namespace) -> None:
    # The real redis-server and worker processes the drill uses (tests/support starts them).
    from tests.support.redis import RedisServer
    from tests.support.workers import WorkerProcess

    folder = Path(tempfile.mkdtemp(prefix="pp-bench-workers-"))
    redis_server = RedisServer(folder / "redis", fsync="everysec").start()
    redis = connect(redis_server.url)
    celery = create_celery(redis_server.url, prefix="pixelpainter")
    client = CeleryInference(celery, redis, Keys(), style="cel", max_queue=1000, timeout_s=300)
    colorizer = Colorizer.load(args.weights, threads=2)
    one = _png(args.size, seed=1)
    sketches = [_png(args.size, seed=i) for i in range(args.jobs)]
    workers = []
    try:
        async with InferenceService(colorizer) as local:
            workers = _workers(WorkerProcess, redis_server.url, args.weights, folder, 1, threads=2)
            for _ in range(3):  # warm both paths
                await local.colorize(one)
                await client.colorize(one)
            here, there = [], []
            for _ in range(args.reps):
                here.append(await _timed(lambda: local.colorize(one)))
                there.append(await _timed(lambda: client.colorize(one)))
            overhead = [b - a for a, b in zip(here, there, strict=True)]
            print(f"{args.size}² sketch, one job at a time, {args.reps} reps interleaved")
            print(f"  in process      {_ms(here)}")
            print(f"  celery worker   {_ms(there)}")
            print(
                f"  overhead        p50 {statistics.median(there) * 1000 - statistics.median(here) * 1000:7.1f} ms"
                f"  (median of per-rep differences {statistics.median(overhead) * 1000:.1f} ms)"
            )
            print(f"\nThroughput, {args.jobs} jobs at once ({args.size}²)")
            rate = await _throughput(local, sketches)
            print(f"  in process (2 threads)          {rate:6.1f} sketches/s")
            rate = await _throughput(client, sketches)
            print(f"  1 worker   (2 threads)          {rate:6.1f} sketches/s")
        for worker in workers:
            worker.stop()
        workers = _workers(WorkerProcess, redis_server.url, args.weights, folder, 2, threads=1)
        await client.colorize(one)
        rate = await _throughput(client, sketches)
        print(f"  2 workers  (1 thread each)      {rate:6.1f} sketches/s")
    finally:
        for worker in workers:
            worker.kill()
        await redis.aclose()
        celery.close()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--jobs", type=int, default=48)
    parser.add_argument("--weights", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
