"""``pixelpainter``: colorize sketches from the command line, inspect and export weights."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tqdm import tqdm

from inference.colorizer import DEFAULT_MAX_SIDE, STYLES, Colorizer
from inference.engine import PRECISIONS
from inference.errors import SketchError, WeightsError
from inference.settings import InferenceSettings

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except WeightsError as err:
        print(f"pixelpainter: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixelpainter", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    colorize = sub.add_parser("colorize", help="colorize sketches (files or folders)")
    colorize.add_argument("inputs", nargs="+", type=Path, metavar="SKETCH_OR_DIR")
    colorize.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    colorize.add_argument("--weights", type=Path, help="generator weights (default: bundled)")
    colorize.add_argument("--raw", action="store_true", help="also save the raw 256² model output")
    colorize.add_argument(
        "--layer", action="store_true", help="also save the color layer (colors without lines)"
    )
    colorize.add_argument(
        "--max-side", type=int, default=DEFAULT_MAX_SIDE, help="cap the long side of the output"
    )
    colorize.add_argument("--batch", type=int, default=4, help="sketches per model call")
    colorize.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    colorize.add_argument(
        "--style",
        choices=STYLES,
        help="cel: flat color per region; soft: the model's shading (default: INFERENCE_STYLE, cel)",
    )
    colorize.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="int8: a quantized copy, ~2x faster for full-size models (default: INFERENCE_PRECISION)",
    )
    colorize.set_defaults(run=_colorize)

    info = sub.add_parser("info", help="describe a weights file: format, width, parameters")
    info.add_argument("weights", type=Path)
    info.set_defaults(run=_info)

    export = sub.add_parser("export-onnx", help="export weights to ONNX for fast CPU inference")
    export.add_argument("weights", type=Path)
    export.add_argument("out", type=Path)
    export.set_defaults(run=_export)

    serve = sub.add_parser("serve", help="the web app: HTTP API and the region editor page")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=5000, help="port to listen on")
    serve.add_argument("--weights", type=Path, help="generator weights (default: bundled)")
    serve.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    serve.add_argument("--max-upload-mb", type=float, default=20.0, help="largest upload")
    serve.add_argument("--rate-limit", type=int, default=30, help="requests per client per minute")
    serve.set_defaults(run=_serve)
    return parser


def _colorize(args: argparse.Namespace) -> int:
    settings = InferenceSettings()
    weights = args.weights or settings.generator_weights
    files = list(_find_sketches(args.inputs))
    if not files:
        print("pixelpainter: no images found in the given paths.", file=sys.stderr)
        return 1
    colorizer = Colorizer.load(
        weights,
        threads=args.threads or settings.inference_threads,
        max_side=args.max_side,
        style=args.style or settings.inference_style,
        precision=args.precision or settings.inference_precision,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tqdm(total=len(files), unit="img", desc="Colorizing") as bar:
        for start in range(0, len(files), max(1, args.batch)):
            chunk = files[start : start + max(1, args.batch)]
            ready, prepared = [], []
            for path in chunk:
                try:
                    prepared.append(colorizer.prepare(path))
                    ready.append(path)
                except SketchError as err:
                    failures += 1
                    tqdm.write(f"skipped {path}: {err}")
            if prepared:
                for path, result in zip(ready, colorizer.run(prepared), strict=True):
                    result.image.save(args.out / f"{path.stem}.png")
                    if args.raw:
                        result.raw.save(args.out / f"{path.stem}.raw.png")
                    if args.layer:
                        result.layer.save(args.out / f"{path.stem}.layer.png")
            bar.update(len(chunk))
    done = len(files) - failures
    print(f"{done} colorized into {args.out}" + (f", {failures} skipped" if failures else ""))
    return 0 if done else 1


def _find_sketches(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            yield path  # an explicit file is tried whatever its name; bad ones are reported


def _info(args: argparse.Namespace) -> int:
    from inference.weights import FORMAT_NAMES, inspect_weights

    info = inspect_weights(args.weights)
    print(f"file:       {info.path}")
    print(f"format:     {FORMAT_NAMES[info.format]}")
    print(f"width:      {info.width}")
    print(f"parameters: {info.parameters:,}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from inference.weights import export_onnx, load_generator

    out = export_onnx(load_generator(args.weights), args.out)
    print(f"wrote {out}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from webapp.serve import serve
        from webapp.state import WebAppConfig
    except ImportError as err:
        print(
            f"pixelpainter: {err}; install it with: pip install 'pixelpainter[web]'",
            file=sys.stderr,
        )
        return 2

    if args.max_upload_mb <= 0 or args.rate_limit < 1:
        print("pixelpainter: --max-upload-mb and --rate-limit must be positive.", file=sys.stderr)
        return 2
    settings = InferenceSettings()
    try:
        serve(
            host=args.host,
            port=args.port,
            weights=args.weights or settings.generator_weights,
            threads=args.threads or settings.inference_threads,
            config=WebAppConfig(
                max_upload_mb=args.max_upload_mb, requests_per_minute=args.rate_limit
            ),
        )
    except OSError as err:  # the port is taken, or the address is not this machine's
        print(f"pixelpainter: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
