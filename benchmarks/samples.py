"""Sketches and training pairs for the benchmarks, drawn here so that the benchmarks need the
package alone (not the tests). Checked copies of ``tests/support/sketches.py``
(tests/test_copies.py keeps them identical)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

# Saturated fills, so a colored image is clearly not gray.
PALETTE = [(220, 60, 60), (60, 160, 70), (50, 90, 210), (240, 180, 40), (170, 70, 190)]


# Copied from tests.support.sketches.sketch
def sketch(
    size: tuple[int, int] = (96, 64),
    *,
    seed: int = 0,
    strokes: int = 2,
    line: int = 2,
    colored: bool = False,
) -> Image.Image:
    """Two black outlined ellipses and ``strokes`` straight strokes, ``line`` px wide, on white.

    ``colored`` fills each ellipse with a palette color: the painting this sketch is the lines of.
    """
    w, h = size
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i in range(2):
        x0, x1 = sorted(int(v) for v in rng.integers(0, max(w - 8, 1), 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, max(h - 8, 1), 2))
        box = (x0, y0, max(x1, x0 + 8), max(y1, y0 + 8))
        fill = PALETTE[(seed + i) % len(PALETTE)] if colored else None
        draw.ellipse(box, fill=fill, outline="black", width=line)
    for _ in range(strokes):
        x0, x1 = (int(v) for v in rng.integers(0, w, 2))
        y0, y1 = (int(v) for v in rng.integers(0, h, 2))
        draw.line([(x0, y0), (x1, y1)], fill="black", width=line)
    return img


# Copied from tests.support.sketches.training_pair
def training_pair(seed: int, size: int = 64) -> Image.Image:
    """A Kaggle-layout pair (2·size × size): the colored image left, its sketch right."""
    pair = Image.new("RGB", (2 * size, size))
    pair.paste(sketch((size, size), seed=seed, colored=True), (0, 0))
    pair.paste(sketch((size, size), seed=seed), (size, 0))
    return pair
