"""A tiny generated dataset in the Kaggle layout: colored shapes and their line art."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def make_pair(seed: int, size: int = 64) -> Image.Image:
    """One side-by-side pair: color left, sketch right (2·size × size)."""
    rng = np.random.default_rng(seed)
    color = Image.new("RGB", (size, size), "white")
    sketch = Image.new("RGB", (size, size), "white")
    for _ in range(2):
        box = sorted(rng.integers(4, size - 4, 2).tolist())
        box = [box[0], box[0], max(box[1], box[0] + 8), max(box[1], box[0] + 8)]
        fill = tuple(int(v) for v in rng.integers(0, 255, 3))
        ImageDraw.Draw(color).ellipse(box, fill=fill, outline="black", width=2)
        ImageDraw.Draw(sketch).ellipse(box, outline="black", width=2)
    pair = Image.new("RGB", (2 * size, size))
    pair.paste(color, (0, 0))
    pair.paste(sketch, (size, 0))
    return pair


def make_dataset(root: Path, train: int = 8, val: int = 3) -> Path:
    for split, n in (("train", train), ("val", val)):
        (root / split).mkdir(parents=True)
        for i in range(n):
            make_pair(i + (1000 if split == "val" else 0)).save(root / split / f"{i:03d}.png")
    return root
