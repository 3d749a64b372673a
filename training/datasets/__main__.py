"""``python -m training.datasets {openmoji,faces} --out DIR``: build a dataset."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from training.datasets.faces import build_faces
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
    faces = sub.add_parser(
        "faces", help="generated cartoon characters (facesjs Apache-2.0, Adventurer CC BY 4.0)"
    )
    faces.add_argument("--out", type=Path, required=True, help="output folder")
    faces.add_argument("--count", type=int, required=True, help="characters to generate")
    faces.add_argument("--size", type=int, default=512, help="rendered side of each half")
    faces.add_argument("--seed", type=int, default=0, help="same seed, same characters")
    faces.add_argument("--workers", type=int, help="rendering processes (default: cores)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.dataset == "faces":
            counts = build_faces(
                args.out, count=args.count, size=args.size, seed=args.seed, workers=args.workers
            )
        else:
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
