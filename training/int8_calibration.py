"""The int8 calibration set: sketches drawn from training data for :mod:`inference.quantize`.

``python -m training.int8_calibration TRAIN_FOLDER... [--out inference/assets/calibration.npz]``
rebuilds the bundled set (gray sketches are stored as one channel: a third the size).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from inference.colorizer import letterbox
from inference.errors import WeightsError
from inference.images import IMAGE_SUFFIXES
from inference.quantize import CALIBRATION


def sketch_inputs(sources: Sequence[str | Path], *, limit: int = 64, seed: int = 0) -> np.ndarray:
    """(n, 256, 256, 3) float32 model inputs in [-1, 1] to calibrate with.

    ``sources``: folders of Kaggle pairs (``train/``-style, 2:1 PNGs, sketch on the right) or
    of plain sketches, or single images. ``limit`` images at most, drawn evenly from each source
    (and from each origin of a mixed set, files named ``<origin>-<name>``) with a fixed seed.
    """
    rng = np.random.default_rng(seed)
    groups: list[list[Path]] = []
    for source in sources:
        path = Path(source)
        if not path.is_dir():
            groups.append([path])
            continue
        by_origin: dict[str, list[Path]] = {}
        for file in sorted(path.rglob("*")):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                by_origin.setdefault(file.name.split("-", 1)[0], []).append(file)
        groups += by_origin.values()
    for files in groups:
        rng.shuffle(files)  # type: ignore[arg-type]
    picked: list[Path] = []
    while len(picked) < limit and any(groups):
        for files in groups:
            if files and len(picked) < limit:
                picked.append(files.pop())
    if not picked:
        raise WeightsError(f"No calibration images found in {', '.join(map(str, sources))}")
    inputs = []
    for path in picked:
        with Image.open(path) as img:
            img = img.convert("RGB")
            if img.width == 2 * img.height:  # a training pair: the sketch is the right half
                img = img.crop((img.height, 0, img.width, img.height))
            inputs.append(letterbox(np.asarray(img))[0])
    return np.stack(inputs)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the bundled calibration set from training data."""
    parser = argparse.ArgumentParser(
        prog="python -m training.int8_calibration", description=main.__doc__
    )
    parser.add_argument("sources", nargs="+", type=Path, help="folders of pairs or sketches")
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    parser.add_argument("--count", type=int, default=64)
    args = parser.parse_args(argv)
    inputs = sketch_inputs(args.sources, limit=args.count)
    pixels = np.round((inputs + 1.0) * 127.5).astype(np.uint8)
    if (pixels.max(axis=3) - pixels.min(axis=3)).max() <= 2:  # gray sketches: a third the size
        pixels = pixels[..., 0]
    np.savez_compressed(args.out, sketches=pixels)
    print(f"wrote {len(pixels)} sketches to {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
