"""``python -m training.datasets NAME --out DIR``: build a dataset (Kaggle layout, data card)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from training.datasets.anime import build_anime
from training.datasets.faces import build_faces
from training.datasets.lineart import build_lineart
from training.datasets.mix import build_mix, parse_source
from training.datasets.openclipart import build_openclipart
from training.datasets.openmoji import DEFAULT_VERSION, DatasetError, build_openmoji
from training.datasets.renpy import build_renpy


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.datasets", description=__doc__)
    sub = parser.add_subparsers(dest="dataset", required=True, metavar="DATASET")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(
            name, help=help_text, formatter_class=argparse.ArgumentDefaultsHelpFormatter
        )
        command.add_argument("--out", type=Path, required=True, help="output folder")
        if name != "mix":
            command.add_argument("--size", type=int, default=512, help="side of each half")
        return command

    openmoji = add("openmoji", "OpenMoji line art / color pairs (CC BY-SA 4.0)")
    openmoji.add_argument(
        "--source", type=Path, help="an unpacked openmoji npm package folder or its .tgz"
    )
    openmoji.add_argument("--version", default=DEFAULT_VERSION, help="openmoji npm version")
    openmoji.add_argument("--limit", type=int, help="only the first N emoji (quick trials)")
    openmoji.add_argument("--workers", type=int, help="rendering processes (default: cores)")

    clipart = add("openclipart", "Open Clip Art Library drawings (public domain)")
    clipart.add_argument("--source", type=Path, help="an unpacked openclipart svg/ folder")
    clipart.add_argument("--limit", type=int, help="only the first N candidate SVGs")
    clipart.add_argument("--workers", type=int, help="rendering processes (default: cores)")

    faces = add("faces", "generated cartoon characters (facesjs, DiceBear styles; see DATACARD)")
    faces.add_argument("--count", type=int, required=True, help="characters to generate")
    faces.add_argument("--seed", type=int, default=0, help="same seed, same characters")
    faces.add_argument("--workers", type=int, help="rendering processes (default: cores)")

    anime = add("anime", "procedural anime-style characters, the project's own (see DATACARD)")
    anime.add_argument("--count", type=int, required=True, help="characters to draw")
    anime.add_argument("--seed", type=int, default=0, help="same seed, same characters")
    anime.add_argument("--workers", type=int, help="rendering processes (default: cores)")

    renpy = add("renpy", "Ren'Py demo games' character sprites: EVALUATION ONLY (see DATACARD)")
    renpy.add_argument(
        "--source", type=Path, help="a folder with renpy-thequestion/ and renpy-demo/ unpacked"
    )

    art = add("lineart", "your own color illustrations → traced-line pairs")
    art.add_argument("folder", type=Path, help="a folder of finished color images")

    mix = add("mix", "a weighted mix of built datasets, hash-split")
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
    return parser


def build(args: argparse.Namespace) -> dict[str, int]:
    """Run the chosen builder; its pair count per split (an evaluation set has only val)."""
    if args.dataset == "openmoji":
        return build_openmoji(
            args.out,
            source=args.source,
            version=args.version,
            size=args.size,
            limit=args.limit,
            workers=args.workers,
        )
    if args.dataset == "faces":
        return build_faces(
            args.out, count=args.count, size=args.size, seed=args.seed, workers=args.workers
        )
    if args.dataset == "anime":
        return build_anime(
            args.out, count=args.count, size=args.size, seed=args.seed, workers=args.workers
        )
    if args.dataset == "openclipart":
        card = build_openclipart(
            args.out, source=args.source, size=args.size, limit=args.limit, workers=args.workers
        )
    elif args.dataset == "renpy":
        card = build_renpy(args.out, source=args.source, size=args.size)
    elif args.dataset == "lineart":
        card = build_lineart(args.folder, args.out, size=args.size)
    else:
        card = build_mix(args.out, [parse_source(s) for s in args.source], trace=not args.no_trace)
    return card["pairs"]  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        counts = build(args)
    except DatasetError as err:
        print(f"python -m training.datasets: {err}", file=sys.stderr)
        return 2
    written = " and ".join(
        f"{n} {split}" for split, n in counts.items() if split in ("train", "val")
    )
    print(f"wrote {written} pairs to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
