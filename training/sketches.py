"""Generated sketches as people send them: closed shapes in faint, broken, shaded and
photographed lines, with what is known about them (the figure, the paper, each closed shape), and
bold strokes.

The cel tests (``tests/inference/test_cel.py``), the cel report (:mod:`training.cel_report`) and
the int8 sketch sets (:mod:`training.int8_calibration`) draw from here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Sketches as people send them, as :func:`geometric` arguments: the drawing (5 px black
# on white), gray lines of 170–220 on 245 paper, gaps of 2–6 px, a shadow and grain, and a
# photographed page (yellowish, vignetted, grain, JPEG).
SKETCH_VARIANTS: dict[str, dict] = {
    "geometric": {},
    "pencil-220": {"ink": 220, "paper": 245, "line": 2},
    "pencil-200": {"ink": 200, "paper": 245, "line": 3},
    "gray-170-gaps": {"ink": 170, "paper": 245, "line": 3, "gaps": (2, 4, 6)},
    "pencil-gaps": {"ink": 200, "paper": 245, "line": 3, "gaps": (3, 5)},
    "shadow-grain": {"ink": 200, "paper": 245, "line": 3, "gradient": 40, "noise": 4},
    "photo": {"ink": 120, "paper": 235, "line": 3, "photo": True, "gaps": (3,)},
    "photo-pencil": {"ink": 190, "paper": 240, "line": 3, "photo": True},
}


@dataclass(frozen=True)
class Drawing:
    """A generated sketch and what is known about it: ``paper`` (bool (H, W)) the paper around
    the figure, ``shapes`` one bool mask per closed area (inside, off the lines), ``ink`` where
    the lines are drawn (before any gap is cut)."""

    image: Image.Image
    paper: np.ndarray
    shapes: list[np.ndarray]
    ink: np.ndarray

    @property
    def figure(self) -> np.ndarray:
        """Every pixel inside the figure's closed shapes."""
        return np.logical_or.reduce(self.shapes)


def geometric(
    size: int = 768,
    *,
    line: int = 5,
    ink: int = 0,
    paper: int = 255,
    gaps: tuple[int, ...] = (),
    gradient: int = 0,
    noise: float = 0.0,
    photo: bool = False,
    seed: int = 0,
) -> Drawing:
    """Closed shapes on paper: two rectangles, a circle, a triangle and a rectangle split in
    two, ``line`` px outlines of gray ``ink`` on gray ``paper`` (scaled from a 768² layout).

    - ``gaps``: cut a gap of each of these widths (px) into the outlines, a few of each.
    - ``gradient``: a shadow darkens the page (paper and lines) by this many levels of the
      paper from the top-left to the bottom-right; ``noise``: Gaussian grain (σ in levels).
    - ``photo``: a photographed page: yellowish, vignetted (corners 25 % darker), grain, JPEG.
    """
    k = size / 768
    rng = np.random.default_rng(seed)

    def box(*xy: float) -> list[int]:
        return [round(v * k) for v in xy]

    outlines = [
        ("rectangle", box(60, 60, 330, 300)),
        ("rectangle", box(420, 70, 710, 250)),
        ("ellipse", box(70, 390, 330, 650)),
        ("polygon", box(400, 720, 720, 720, 560, 430)),
        ("rectangle", box(400, 290, 560, 390)),  # the split rectangle: two halves sharing a side
        ("rectangle", box(560, 290, 720, 390)),
    ]
    ink_img = Image.new("L", (size, size), 0)
    ink_draw = ImageDraw.Draw(ink_img)
    shapes = []
    for kind, xy in outlines:
        fill = Image.new("L", (size, size), 0)
        getattr(ImageDraw.Draw(fill), kind)(xy, fill=255)
        shapes.append(np.asarray(fill) > 0)
        if kind == "polygon":
            ink_draw.polygon(xy, outline=255, width=max(1, line))
        else:
            getattr(ink_draw, kind)(xy, outline=255, width=max(1, line))
    drawn = np.asarray(ink_img) > 0
    near_ink = np.asarray(ink_img.filter(ImageFilter.MaxFilter(3))) > 0
    shapes = [s & ~near_ink for s in shapes]
    inside = np.logical_or.reduce(shapes)
    cut = drawn.copy()
    for width in gaps:
        # A few gaps of this width, each across an outline (a square of paper over the line).
        ys, xs = np.nonzero(drawn)
        for i in rng.choice(len(ys), 4, replace=False):
            y, x = int(ys[i]), int(xs[i])
            half = line + 2
            block = (slice(max(0, y - half), y + half + 1), slice(max(0, x - half), x + half + 1))
            lo = (y - width // 2, x - width // 2)
            # The gap: a width-wide band through the stroke, across its direction.
            vertical = (
                drawn[max(0, y - 3) : y + 4, x].sum() >= drawn[y, max(0, x - 3) : x + 4].sum()
            )
            if vertical:
                cut[lo[0] : lo[0] + width, block[1]] = False
            else:
                cut[block[0], lo[1] : lo[1] + width] = False
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    shade = 1.0 - gradient / max(paper, 1) * (yy + xx) / 2
    gray = np.where(cut, float(ink), float(paper)) * shade
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    if photo:
        r2 = (yy - 0.5) ** 2 + (xx - 0.5) ** 2
        rgb *= (1.0 - 0.5 * r2)[:, :, None]  # corners (r² = 0.5) 25 % darker
        rgb *= np.array([1.0, 0.97, 0.88], np.float32)  # yellowish
        noise = max(noise, 3.0)
    if noise:
        rgb += rng.normal(0.0, noise, (size, size, 1))
    image = Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))
    if photo:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=70)
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    # The paper: outside every shape and off the lines, as drawn.
    outside = ~np.logical_or.reduce([s | near_ink for s in shapes]) & ~near_ink
    return Drawing(image, outside & ~inside, shapes, drawn)


def bold_strokes(size: tuple[int, int], *, seed: int = 0) -> Image.Image:
    """Thick black strokes and outlined ellipses (6–15 px) on white: bold line art."""
    w, h = size
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 4))):
        x0, x1 = sorted(int(v) for v in rng.integers(0, max(w - 8, 1), 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, max(h - 8, 1), 2))
        width = int(rng.integers(6, 16))
        draw.ellipse(
            (x0, y0, max(x1, x0 + 3 * width), max(y1, y0 + 3 * width)), outline="black", width=width
        )
    for _ in range(int(rng.integers(2, 12))):
        x0, x1 = (int(v) for v in rng.integers(0, w, 2))
        y0, y1 = (int(v) for v in rng.integers(0, h, 2))
        draw.line([(x0, y0), (x1, y1)], fill="black", width=int(rng.integers(6, 16)))
    return img
