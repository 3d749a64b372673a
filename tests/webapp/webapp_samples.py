"""Sketches for the web app tests."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def area_sketch(size: tuple[int, int] = (160, 120), fmt: str = "PNG") -> bytes:
    """Line art with closed areas: a frame split in two, and a circle in the right half."""
    w, h = size
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((8, 8, w - 9, h - 9), outline="black", width=3)
    draw.line((w // 2, 8, w // 2, h - 9), fill="black", width=3)
    r = min(w, h) // 6
    cx, cy = 3 * w // 4, h // 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline="black", width=3)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def character_sketch(side: int = 480) -> bytes:
    """A cat's head in closed outlines (head, ears, eyes, nose, collar): several areas to tap."""
    s = side / 480
    img = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(img)
    width = max(2, round(6 * s))

    def box(*xy: float) -> list[float]:
        return [v * s for v in xy]

    draw.polygon(box(120, 210, 110, 50, 230, 140), outline="black", width=width)
    draw.polygon(box(360, 210, 370, 50, 250, 140), outline="black", width=width)
    draw.ellipse(box(80, 110, 400, 400), fill="white", outline="black", width=width)
    draw.polygon(box(150, 130, 135, 75, 195, 120), outline="black", width=width // 2)
    draw.polygon(box(330, 130, 345, 75, 285, 120), outline="black", width=width // 2)
    for cx in (180, 300):
        draw.ellipse(box(cx - 30, 200, cx + 30, 270), outline="black", width=width)
        draw.ellipse(box(cx - 10, 220, cx + 10, 255), fill="black")
    draw.polygon(box(225, 290, 255, 290, 240, 308), outline="black", width=width)
    draw.arc(box(200, 290, 240, 340), 0, 180, fill="black", width=width)
    draw.arc(box(240, 290, 280, 340), 0, 180, fill="black", width=width)
    draw.rounded_rectangle(
        box(140, 370, 340, 430), radius=20 * s, fill="white", outline="black", width=width
    )
    draw.ellipse(box(222, 395, 258, 431), outline="black", width=width)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
