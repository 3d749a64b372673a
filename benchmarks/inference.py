"""Colorize engine speed on this machine: naive Keras ``predict`` against the engine, in one run.

Usage: ``python benchmarks/inference.py [--reps 30] [--width 64] [--threads N]``

Variants are interleaved call by call (the host is noisy) and reported as medians, p95 and
ratios. Targets (issue #2): single image p50 ≤ 100 ms of model time, ≤ 150 ms for the whole
``Colorizer`` call on a 1024² sketch, ≤ 80 ms per image at batch 4, output equal to Keras fp32
within 1e-3, cold start ≤ 6 s, peak RSS ≤ 800 MB. Random weights: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def row(name: str, values: list[float], per: int = 1, base: float | None = None) -> str:
    p50 = pct(values, 50) / per
    ratio = f"{base / p50:5.2f}×" if base else "  —   "
    return f"| {name:<38} | {p50:8.1f} | {pct(values, 95) / per:8.1f} | {ratio} |"


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


COLD_START = r"""
import re, sys, time
t = time.perf_counter()
from PIL import Image
from inference.colorizer import Colorizer
c = Colorizer.load(sys.argv[1], threads=int(sys.argv[2]))
c.colorize(Image.new("RGB", (1024, 1024), "white"))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
hwm = re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)
print(time.perf_counter() - t, int(hwm) / 1024)
"""


async def service_load(colorizer, callers: int, rounds: int) -> tuple[list[float], float]:
    from inference.images import encode_png
    from inference.service import InferenceService
    from tests.support.sketches import sketch

    data = encode_png(sketch((512, 512), strokes=60, line=3))
    latencies: list[float] = []
    async with InferenceService(colorizer, max_batch=4, max_queue=64) as service:

        async def one() -> None:
            t = time.perf_counter()
            await service.colorize(data)
            latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(*(one() for _ in range(callers)))
        wall = time.perf_counter() - start
    return latencies, callers * rounds / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()

    import keras

    from inference.colorizer import Colorizer
    from inference.engine import KerasEngine, OnnxEngine
    from inference.generator import build_generator
    from inference.weights import export_onnx
    from tests.support.sketches import sketch

    keras.utils.set_random_seed(0)
    model = build_generator(args.width)
    tmp = Path(tempfile.mkdtemp())
    onnx_path = export_onnx(model, tmp / "generator.onnx")
    keras_engine = KerasEngine(model, threads=args.threads)
    onnx_engine = OnnxEngine(onnx_path, threads=args.threads)
    colorizer = Colorizer(onnx_engine)
    big = sketch((1024, 1024), strokes=60, line=3)
    x1 = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    x4 = np.random.default_rng(1).uniform(-1, 1, (4, 256, 256, 3)).astype(np.float32)

    # Warm every path once, then interleave call by call.
    def predict(x: np.ndarray) -> np.ndarray:
        return model.predict(x, verbose=0)

    predict(x1)
    keras_engine.predict(x1)
    onnx_engine.predict(x4)
    colorizer.colorize(big)
    times: dict[str, list[float]] = {k: [] for k in ("predict", "tf.function", "onnx", "colorize")}
    for _ in range(args.reps):
        times["predict"].append(timed(predict, x1))
        times["tf.function"].append(timed(keras_engine.predict, x1))
        times["onnx"].append(timed(onnx_engine.predict, x1))
        times["colorize"].append(timed(colorizer.colorize, big))
    batch4: dict[str, list[float]] = {"tf.function": [], "onnx": []}
    for _ in range(max(5, args.reps // 3)):
        batch4["tf.function"].append(timed(keras_engine.predict, x4))
        batch4["onnx"].append(timed(onnx_engine.predict, x4))
    diff = float(np.abs(onnx_engine.predict(x4) - keras_engine.predict(x4)).max())

    base = pct(times["predict"], 50)
    params = model.count_params()
    print(f"\nwidth {args.width} ({params:,} parameters), {args.threads} threads, {args.reps} reps")
    print("\n| 256² model call, per image               |  p50 ms  |  p95 ms  | vs predict |")
    print("|----------------------------------------|----------|----------|--------|")
    print(row("Keras model.predict (naive)", times["predict"]))
    print(row("tf.function, fixed signature", times["tf.function"], base=base))
    print(row("ONNX Runtime (engine)", times["onnx"], base=base))
    print(row("tf.function, batch 4", batch4["tf.function"], per=4, base=base))
    print(row("ONNX Runtime, batch 4", batch4["onnx"], per=4, base=base))
    print(row("Colorizer.colorize, 1024² sketch (all)", times["colorize"], base=base))
    print(f"\nONNX vs Keras fp32 max |diff| on 4 images: {diff:.2e}")

    print("\n| InferenceService (512² PNG in) | p50 ms | p95 ms | images/s |")
    print("|--------------------------------|--------|--------|----------|")
    for callers in (1, 4, 16):
        rounds = max(2, 32 // callers)
        latencies, rate = asyncio.run(service_load(colorizer, callers, rounds))
        print(
            f"| {callers:>2} concurrent callers            | {pct(latencies, 50):6.0f} | "
            f"{pct(latencies, 95):6.0f} | {rate:8.1f} |"
        )

    root = Path(__file__).resolve().parents[1]
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", COLD_START, str(onnx_path), str(args.threads)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        ).stdout.split()
        runs.append((float(out[0]), float(out[1])))
    cold = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    print(f"\ncold start (import + load ONNX + first 1024² image), median of 3: {cold:.2f} s")
    print(f"peak RSS of that process: {rss:.0f} MB")
    print(
        json.dumps(
            {
                "predict_p50_ms": base,
                "onnx_p50_ms": pct(times["onnx"], 50),
                "onnx_batch4_per_image_ms": pct(batch4["onnx"], 50) / 4,
                "colorize_1024_p50_ms": pct(times["colorize"], 50),
                "max_abs_diff": diff,
                "cold_start_s": cold,
                "peak_rss_mb": rss,
            }
        )
    )


if __name__ == "__main__":
    main()
