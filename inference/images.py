"""Turning whatever a person sends into a clean RGB sketch, and images back into bytes.

Everything here is pure PIL/numpy and safe on hostile input: every failure a person could cause
becomes a :class:`~inference.errors.SketchError` with its reason and numbers (front ends word it).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from inference.errors import SketchError, SketchProblem

# Larger images are refused before decoding (a 20000² PNG bomb is 400 MP and a few KB).
MAX_PIXELS = 64_000_000
MAX_BYTES = 50 * 1024 * 1024

# File names a folder search treats as images (what Pillow decodes of the formats people send).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})

SketchSource = bytes | bytearray | str | Path | BinaryIO | Image.Image


def open_sketch(source: SketchSource, *, max_side: int | None = None) -> Image.Image:
    """Decode ``source`` into an RGB image, upright (EXIF), transparency composited on white.

    ``max_side`` lets JPEG decoding skip detail that would be thrown away (draft mode); the result
    may still be larger than ``max_side``. ``result.info["source_size"]`` is the upright size
    before any such reduction: the sketch's own pixels, which color hints refer to. Raises
    :class:`SketchError` for anything unusable.
    """
    if isinstance(source, Image.Image):
        upright = _upright(source)
        return _with_source_size(to_rgb(upright), upright.size)
    if isinstance(source, bytes | bytearray):
        if not source:
            raise SketchError(SketchProblem.EMPTY)
        _check_byte_size(len(source))
        stream: BinaryIO = io.BytesIO(source)
    elif isinstance(source, str | Path):
        try:
            size = Path(source).stat().st_size
        except OSError as err:
            raise SketchError(SketchProblem.UNREADABLE, detail=str(err.strerror or err)) from err
        if size == 0:
            raise SketchError(SketchProblem.EMPTY)
        _check_byte_size(size)
        stream = open(source, "rb")  # noqa: SIM115 - closed below
    else:
        stream = source
    try:
        return _decode(stream, max_side)
    finally:
        if isinstance(source, str | Path):
            stream.close()


def _check_byte_size(size: int) -> None:
    if size > MAX_BYTES:
        raise SketchError(SketchProblem.FILE_TOO_LARGE, size=size, limit=MAX_BYTES)


def _decode(stream: BinaryIO, max_side: int | None) -> Image.Image:
    with warnings.catch_warnings():
        # We enforce our own pixel limit below, before any pixel is decoded.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(stream)
        except Image.DecompressionBombError as err:
            # Pillow refuses before we learn the size; its message carries the pixel count.
            found = re.search(r"\((\d+) pixels\)", str(err))
            found_pixels = int(found.group(1)) if found else 2 * Image.MAX_IMAGE_PIXELS
            raise _too_many_pixels(found_pixels) from err
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
            raise SketchError(SketchProblem.NOT_AN_IMAGE) from err
        pixels = img.width * img.height
        if pixels > MAX_PIXELS:
            raise _too_many_pixels(pixels)
        if pixels == 0:
            raise SketchError(SketchProblem.NOT_AN_IMAGE)
        raw_size = img.size  # before draft mode may shrink it
        if max_side and img.format == "JPEG" and max(img.size) > 2 * max_side:
            img.draft("RGB", (max_side, max_side))
        try:
            img.seek(0)  # animated GIF/WebP/APNG: the first frame
            img.load()
            upright = _upright(img)
        except Image.DecompressionBombError as err:
            raise _too_many_pixels(pixels) from err
        except (OSError, ValueError, SyntaxError, EOFError) as err:
            raise SketchError(SketchProblem.TRUNCATED) from err
    # The EXIF orientation may have swapped the axes (it can only be read once loaded).
    swapped = upright.size != img.size
    return _with_source_size(to_rgb(upright), raw_size[::-1] if swapped else raw_size)


def _with_source_size(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    img.info["source_size"] = size
    return img


def _too_many_pixels(pixels: int) -> SketchError:
    return SketchError(SketchProblem.TOO_MANY_PIXELS, size=pixels, limit=MAX_PIXELS)


def _upright(img: Image.Image) -> Image.Image:
    """Rotated as its EXIF orientation says; the image itself (no copy) when already upright."""
    if img.getexif().get(ExifTags.Base.Orientation, 1) == 1:
        return img
    return ImageOps.exif_transpose(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode → 8-bit RGB; transparent areas become white, 16/32-bit and float rescaled."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode == "F" and arr.max() <= 1.0:
            top = 1.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if (img.mode == "P" and "transparency" in img.info) or img.mode in ("RGBA", "LA", "PA", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


def encode_png(img: Image.Image) -> bytes:
    """PNG bytes, fast compression (the bytes go straight to a chat or a client)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def encode_jpeg(img: Image.Image, quality: int = 92) -> bytes:
    """JPEG bytes for previews (Telegram recompresses photos anyway)."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()
