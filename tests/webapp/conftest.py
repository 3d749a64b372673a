"""Fixtures for the web app tests: a sketch with closed areas, and the app on a tiny model."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from webapp.app import create_app
from webapp.state import WebAppConfig


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


@pytest.fixture
def make_client(aiohttp_client, tiny_colorizer):
    """``await make_client(config=..., **create_app_kwargs)``: a test client on a real server."""

    async def make(config: WebAppConfig | None = None, **kwargs):
        kwargs.setdefault("colorizer", tiny_colorizer)
        return await aiohttp_client(create_app(config, **kwargs))

    return make


@pytest.fixture
async def client(make_client):
    return await make_client()
