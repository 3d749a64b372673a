"""Test images: a line-art sketch, and a colorful picture shaped like the GAN's output."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def sketch_bytes(size: tuple[int, int] = (96, 64), fmt: str = "PNG") -> bytes:
    """A small line drawing: white paper, a few black strokes."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), outline="black", width=2)
    draw.line((0, h - 1, w - 1, 0), fill="black", width=2)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def colored_bytes(size: tuple[int, int] = (80, 56), fmt: str = "PNG") -> bytes:
    """A colorful stand-in for the GAN's output."""
    image = Image.new("RGB", size, (230, 200, 170))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(200, 60, 90))
    draw.rectangle((0, 0, w // 3, h // 5), fill=(40, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
