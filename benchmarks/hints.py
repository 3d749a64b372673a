"""Server time of a color-hint request against the same request without hints (issue #15).

Usage: ``python benchmarks/hints.py [--reps 15] [--size 1024] [--threads N] [--weights W]
[--baseline B]``

The web app runs in this process on 127.0.0.1 (real HTTP, aiohttp); a client posts one sketch
(the bundled example character, scaled) to ``/colorize`` and ``/api/editor``, with and without hints, all four interleaved request by
request (the host is noisy). Reported as medians and the hint/no-hint ratio, and the cel step's
hint painting (:func:`inference.hint_fill.paint_hints`) alone. Target: a hint request for a
1024² sketch ≤ 150 ms with the bundled model.

The hints: a dot in each of the 6 largest regions, and in the largest one a second dot of
another color at its far end, so one region is split by a graph cut (the costly case).

``--weights``: default the bundled model; when it takes no hints, a random-weights hint
generator of the bundled width stands in (speed does not depend on the weights), exported to
ONNX once and cached (``$PIXELPAINTER_CACHE/bench``). ``--baseline``: another model (a previous
bundled ONNX file) served by a second app in the same process, its requests interleaved with
the first's, and each request's ratio to it reported: what a model change costs or saves on
this machine, whatever its load.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def sketch_png(size: int) -> bytes:
    """The bundled example sketch (a character, 512²) scaled to ``size``², as PNG."""
    from PIL import Image

    from inference.weights import ASSETS

    with Image.open(ASSETS / "example_sketch.png") as img:
        scaled = img.convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    scaled.save(buf, format="PNG")
    return buf.getvalue()


def hint_colorizer(weights: str | None, threads: int):
    """The colorizer to measure: ``weights``, the bundled model, or a same-width hint stand-in."""
    from inference.colorizer import Colorizer

    colorizer = Colorizer.load(weights, threads=threads)
    if colorizer.takes_hints or weights:
        return colorizer, "given" if weights else "bundled"
    from inference.engine import cache_dir
    from inference.weights import DEFAULT_ONNX, inspect_weights

    width = inspect_weights(DEFAULT_ONNX).width
    path = cache_dir() / "bench" / f"hint-generator-w{width}-seed0.onnx"
    if not path.exists():
        import keras

        from inference.generator import build_generator
        from inference.weights import export_onnx

        print(f"exporting a random width-{width} hint generator to {path} (once)...", flush=True)
        keras.utils.set_random_seed(0)
        export_onnx(build_generator(width, hints=True), path)
    return Colorizer.load(path, threads=threads), f"random width-{width} hint generator"


def pick_hints(colorizer, data: bytes) -> list[dict[str, object]]:
    """A dot in each of the 6 largest regions, a second color at the far end of the largest."""
    import cv2

    regions = colorizer.prepare(data).regions
    ids, counts = np.unique(regions[regions > 0], return_counts=True)
    largest = ids[np.argsort(-counts)[:6]]
    palette = ["#d03030", "#30a040", "#3050e0", "#e0b020", "#a040c0", "#20b0c0"]
    hints = []
    for region, color in zip(largest, palette, strict=False):
        depth = cv2.distanceTransform((regions == region).astype(np.uint8), cv2.DIST_L2, 3)
        y, x = np.unravel_index(int(depth.argmax()), depth.shape)
        hints.append({"x": int(x), "y": int(y), "color": color})
    ys, xs = np.nonzero(regions == largest[0])
    far = int(np.argmax(np.hypot(xs - hints[0]["x"], ys - hints[0]["y"])))
    hints.append({"x": int(xs[far]), "y": int(ys[far]), "color": "#f0f0f0"})
    return hints


async def measure(args: argparse.Namespace) -> None:
    import aiohttp
    from aiohttp import web

    from inference.hint_fill import paint_hints
    from inference.hints import parse_hints
    from webapp.app import create_app
    from webapp.state import WebAppConfig

    colorizer, what = hint_colorizer(args.weights, args.threads)
    data = sketch_png(args.size)
    hints = pick_hints(colorizer, data)
    document = json.dumps(hints)
    served = {"model": colorizer}
    if args.baseline:
        served["baseline"] = hint_colorizer(args.baseline, args.threads)[0]
    runners, hosts = [], {}
    for name, served_colorizer in served.items():
        app = create_app(WebAppConfig(requests_per_minute=1_000_000), colorizer=served_colorizer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = site._server.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
        hosts[name] = f"{host}:{port}"

    async def post(
        session: aiohttp.ClientSession, model: str, path: str, with_hints: bool
    ) -> tuple[float, float]:
        """Wall seconds of one request, and this process's CPU seconds for it (every thread:
        the server's and the client's), which a busy shared host inflates less."""
        form = aiohttp.FormData()
        form.add_field("sketch", data, filename="sketch.png", content_type="image/png")
        if with_hints:
            form.add_field("hints", document)
        started, cpu = time.perf_counter(), time.process_time()
        async with session.post(f"http://{hosts[model]}{path}", data=form) as response:
            await response.read()
            assert response.status == 200, await response.text()
        return time.perf_counter() - started, time.process_time() - cpu

    variants = [
        (m, p, h) for m in served for p in ("/colorize", "/api/editor") for h in (False, True)
    ]
    times: dict[tuple[str, str, bool], list[tuple[float, float]]] = {v: [] for v in variants}
    async with aiohttp.ClientSession() as session:
        for v in variants:  # warm every path
            await post(session, *v)
        for _ in range(args.reps):
            for v in variants:
                times[v].append(await post(session, *v))
    for runner in runners:
        await runner.cleanup()

    # The cel step's hint painting alone, interleaved with a finish without it.
    prepared = colorizer.prepare(data, hints=[(h.x, h.y, h.color) for h in parse_hints(document)])
    output = colorizer.engine.predict(prepared.model_input[None])[0]
    plain_layer = colorizer.finish(prepared, output, style="cel").layer_array
    paint = []
    for _ in range(args.reps):
        started = time.perf_counter()
        paint_hints(plain_layer, prepared)
        paint.append(time.perf_counter() - started)

    def ms(values: list[float] | list[tuple[float, float]], column: int = 0) -> float:
        picked = [v[column] if isinstance(v, tuple) else v for v in values]
        return float(np.median(picked)) * 1000

    print(f"{args.size}² sketch, {len(hints)} hints (one region cut between 2 colors)")
    baseline = f"; baseline: {args.baseline}" if args.baseline else ""
    print(f"model: {what}{baseline}; {args.reps} reps interleaved, {args.threads} threads\n")
    print(
        "| model    | request            | no hints ms | hints ms | ratio | CPU ms no hints "
        "| CPU ms hints |"
    )
    print(
        "|----------|--------------------|------------:|---------:|------:|----------------:"
        "|-------------:|"
    )
    for model in served:
        for path in ("/colorize", "/api/editor"):
            off, on = ms(times[(model, path, False)]), ms(times[(model, path, True)])
            cpu_off, cpu_on = ms(times[(model, path, False)], 1), ms(times[(model, path, True)], 1)
            print(
                f"| {model:8s} | POST {path:13s} | {off:11.1f} | {on:8.1f} | {on / off:5.2f} "
                f"| {cpu_off:15.1f} | {cpu_on:12.1f} |"
            )
    print(f"\nhint painting in the cel step (paint_hints), median: {ms(paint):.1f} ms")
    for path in ("/colorize", "/api/editor"):
        took = ms(times[("model", path, True)])
        verdict = "meets" if took <= 150 else "misses"
        print(f"hint request {path}: {took:.1f} ms, {verdict} the ≤ 150 ms target")
        if args.baseline:
            for with_hints in (False, True):
                ratio = ms(times[("model", path, with_hints)]) / ms(
                    times[("baseline", path, with_hints)]
                )
                kind = "hints" if with_hints else "no hints"
                print(f"  {path} {kind}: {ratio:.2f}× the baseline's time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--weights", default=None, help="default: the bundled model")
    parser.add_argument("--baseline", default=None, help="a second model, interleaved")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
