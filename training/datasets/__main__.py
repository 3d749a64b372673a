"""``python -m training.datasets openmoji --out DIR``: build a dataset."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from training.datasets.lineart import build_lineart
from training.datasets.mix import build_mix, parse_source
from training.datasets.openclipart import build_openclipart
from training.datasets.openmoji import DEFAULT_VERSION, DatasetError, build_openmoji


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.datasets", description=__doc__)
    sub = parser.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    openmoji = sub.add_parser("openmoji", help="OpenMoji line art / color pairs (CC BY-SA 4.0)")
    openmoji.add_argument("--out", type=Path, required=True, help="output folder")
    openmoji.add_argument(
        "--source",
        type=Path,
        help="an unpacked openmoji npm package folder or its .tgz (default: `npm pack` it)",
    )
    openmoji.add_argument("--version", default=DEFAULT_VERSION, help="openmoji npm version")
    openmoji.add_argument("--size", type=int, default=512, help="rendered side of each half")
    openmoji.add_argument("--limit", type=int, help="only the first N emoji (quick trials)")
    openmoji.add_argument("--workers", type=int, help="rendering processes (default: cores)")
    clipart = sub.add_parser("openclipart", help="Open Clip Art Library drawings (public domain)")
    clipart.add_argument("--out", type=Path, required=True, help="output folder")
    clipart.add_argument("--source", type=Path, help="an unpacked openclipart svg/ folder")
    clipart.add_argument("--size", type=int, default=512, help="rendered side of each half")
    clipart.add_argument("--limit", type=int, help="only the first N candidate SVGs")
    clipart.add_argument("--workers", type=int, help="rendering processes (default: cores)")
    art = sub.add_parser("lineart", help="your own color illustrations → traced-line pairs")
    art.add_argument("folder", type=Path, help="a folder of finished color images")
    art.add_argument("--out", type=Path, required=True, help="output folder")
    art.add_argument("--size", type=int, default=512, help="side of each half")
    mix = sub.add_parser("mix", help="a weighted mix of built datasets, hash-split")
    mix.add_argument("--out", type=Path, required=True, help="output folder")
    mix.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="NAME=DIR[:WEIGHT]",
        help="a built dataset folder and how often its train pairs appear (repeatable)",
    )
    mix.add_argument(
        "--no-trace", action="store_true", help="don't add traced-line pairs to sources without"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.dataset == "lineart":
            card = build_lineart(args.folder, args.out, size=args.size)
            pairs = card["pairs"]
            print(f"wrote {pairs['train']} train and {pairs['val']} val pairs to {args.out}")  # type: ignore[index]
            return 0
        if args.dataset == "mix":
            card = build_mix(
                args.out, [parse_source(s) for s in args.source], trace=not args.no_trace
            )
            pairs = card["pairs"]
            print(f"wrote {pairs['train']} train and {pairs['val']} val pairs to {args.out}")  # type: ignore[index]
            return 0
        if args.dataset == "openclipart":
            card = build_openclipart(
                args.out, source=args.source, size=args.size, limit=args.limit, workers=args.workers
            )
            pairs = card["pairs"]
            print(f"wrote {pairs['train']} train and {pairs['val']} val pairs to {args.out}")  # type: ignore[index]
            return 0
        counts = build_openmoji(
            args.out,
            source=args.source,
            version=args.version,
            size=args.size,
            limit=args.limit,
            workers=args.workers,
        )
    except DatasetError as err:
        print(f"python -m training.datasets: {err}", file=sys.stderr)
        return 2
    print(f"wrote {counts['train']} train and {counts['val']} val pairs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
