"""Shared test inputs: tokens and small images shaped like what the bot sends."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

TOKEN = "refine-test-token-0123456789"
BOT_TOKEN = "1234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"


def gan_image(size: tuple[int, int] = (80, 56), fmt: str = "PNG") -> bytes:
    """A colourful stand-in for the GAN's output."""
    image = Image.new("RGB", size, (230, 200, 170))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(200, 60, 90))
    draw.rectangle((0, 0, w // 3, h // 5), fill=(40, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def sketch_image(size: tuple[int, int] = (80, 56)) -> bytes:
    """Black line art on white paper."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), outline="black", width=2)
    draw.line((0, h - 5, w, 5), fill="black", width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
