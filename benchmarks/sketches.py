"""The synthetic line-art sketch every benchmark colorizes (60 random black strokes on white)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def line_sketch(size: int = 1024) -> Image.Image:
    """A reproducible size×size RGB sketch."""
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(0)
    for _ in range(60):
        x0, y0, x1, y1 = rng.integers(0, size, 4)
        draw.line([(x0, y0), (x1, y1)], fill="black", width=3)
    return img
