"""Refine server overhead and queueing, on the tiny random SD 1.5 pipeline, in one run.

Usage: ``python benchmarks/refine.py [--reps 20] [--size 256]``

1. Overhead: the bare ``Refiner.refine`` call vs. the same refinement through the server
   (HTTP multipart upload on loopback, decode, queue, GPU worker, PNG encode, response),
   interleaved call by call; the difference of medians is the server's overhead (target
   ≤ 30 ms p50). 2. Queueing: 8 concurrent clients against a queue of 4: who is served, who gets
   503 with Retry-After, and the latencies. No GPU here: the model is tiny and runs on the CPU;
   on a GPU box set ``MODEL_*`` to real models and time ``/refine`` the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


# A stand-in secret for the local server (24+ characters, as the refine server requires).
TOKEN = "benchmark-refine-token-0123456789"


def gan_image(size: tuple[int, int]) -> bytes:
    """A colored picture standing in for the GAN's output, as PNG bytes."""
    from samples import sketch

    buffer = io.BytesIO()
    sketch(size, colored=True).save(buffer, format="PNG")
    return buffer.getvalue()


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


async def run(args: argparse.Namespace) -> None:
    import aiohttp
    import torch
    from aiohttp import web
    from PIL import Image

    from refine_server.app import create_app
    from refine_server.refiner import RefineParams, Refiner
    from refine_server.settings import Settings
    from tests.support.tiny_sd import build_tiny_pipeline

    torch.set_num_threads(args.threads)
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    # The tiny letter-level tokenizer makes the quality prompt long: its truncation warning is noise.
    diffusers_logging.set_verbosity_error()
    transformers_logging.set_verbosity_error()
    device = (
        "CUDA " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU (CPU)"
    )
    print(f"device: {device}; torch {torch.__version__}")
    model = build_tiny_pipeline(Path(tempfile.mkdtemp()) / "tiny")
    side = args.size

    def settings(**kw: object) -> Settings:
        values = dict(
            refine_token=TOKEN,
            refine_host="127.0.0.1",
            refine_port=0,
            model_balanced=str(model),
            model_quality="",
            device="cpu",
            steps_balanced=args.steps,
            refine_min_side=side,
            refine_max_side=side,
            tunnel="none",
            color_match=True,
        )
        return Settings(_env_file=None, **{**values, **kw})

    refiner = Refiner.load(settings())
    refiner.warm_up()
    png = gan_image((side, side))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    params = RefineParams(model="balanced", strength=0.3, prompt="", seed=1)
    headers = {"Authorization": f"Bearer {TOKEN}", "ngrok-skip-browser-warning": "1"}

    async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"

    def form() -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("image", png, filename="gan.png", content_type="image/png")
        data.add_field("seed", "1")
        return data

    runner, url = await serve(create_app(settings(), refiner=refiner, warm_up=False))
    bare, served = [], []
    async with aiohttp.ClientSession() as session:
        for i in range(args.reps + 2):
            t = time.perf_counter()
            await asyncio.to_thread(refiner.refine, image, None, params)
            b = time.perf_counter() - t
            t = time.perf_counter()
            async with session.post(f"{url}/refine", data=form(), headers=headers) as response:
                assert response.status == 200, await response.text()
                await response.read()
            s = time.perf_counter() - t
            if i >= 2:  # the first calls warm caches
                bare.append(b)
                served.append(s)
    await runner.cleanup()
    overhead = [s - b for s, b in zip(served, bare, strict=True)]
    print(
        f"\ntiny SD 1.5 img2img, {side}², {args.steps} steps, {args.threads} thread(s), {args.reps} reps"
    )
    print("| path | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(f"| bare Refiner.refine | {ms(bare, 50):.1f} | {ms(bare, 95):.1f} |")
    print(f"| POST /refine on loopback | {ms(served, 50):.1f} | {ms(served, 95):.1f} |")
    print(f"| server overhead (pairwise) | {ms(overhead, 50):.1f} | {ms(overhead, 95):.1f} |")

    # The same requests against a no-op model: what is left is the server alone (HTTP, multipart,
    # decode, queue hand-off to the worker thread, resize, color match, PNG encode), free of the
    # model's run-to-run noise on a shared CPU.
    class NoOpRefiner(Refiner):
        def refine(self, image, sketch, params, should_stop=lambda: False):  # type: ignore[override]
            return image

    noop = NoOpRefiner(refiner.pipelines, settings=refiner.settings, device="cpu")
    runner, url = await serve(create_app(settings(), refiner=noop, warm_up=False))
    alone = []
    async with aiohttp.ClientSession() as session:
        for i in range(args.reps * 5 + 5):
            t = time.perf_counter()
            async with session.post(f"{url}/refine", data=form(), headers=headers) as response:
                assert response.status == 200, await response.text()
                await response.read()
            if i >= 5:
                alone.append(time.perf_counter() - t)
    await runner.cleanup()
    print(
        f"| POST /refine, no-op model (server alone) | {ms(alone, 50):.1f} | {ms(alone, 95):.1f} |"
    )
    print(
        f"\noverhead p50: pairwise {statistics.median(overhead) * 1000:.1f} ms, "
        f"server alone {ms(alone, 50):.1f} ms (target ≤ 30 ms); "
        f"ratio served/bare p50 {statistics.median(served) / statistics.median(bare):.3f}"
    )

    runner, url = await serve(create_app(settings(queue_size=4), refiner=refiner, warm_up=False))
    outcomes: list[tuple[int, float, str | None]] = []
    async with aiohttp.ClientSession() as session:

        async def client() -> None:
            t = time.perf_counter()
            async with session.post(f"{url}/refine", data=form(), headers=headers) as response:
                await response.read()
                outcomes.append(
                    (response.status, time.perf_counter() - t, response.headers.get("Retry-After"))
                )

        await asyncio.gather(*(client() for _ in range(8)))
    await runner.cleanup()
    ok = sorted(t for status, t, _ in outcomes if status == 200)
    busy = [(t, ra) for status, t, ra in outcomes if status == 503]
    print("\n8 concurrent clients, queue of 4 (one GPU worker):")
    print(f"  served: {len(ok)}, latencies ms: {', '.join(f'{t * 1000:.0f}' for t in ok)}")
    print(
        f"  503 busy: {len(busy)}, answered in ms: "
        f"{', '.join(f'{t * 1000:.0f}' for t, _ in busy)}; Retry-After: {sorted({ra for _, ra in busy})}"
    )
    others = [s for s, _, _ in outcomes if s not in (200, 503)]
    print(f"  other statuses: {others or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
