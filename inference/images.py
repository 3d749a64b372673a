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
# Nor may the decoded pixels alone take more than this (Pillow keeps RGB, RGBA, I and F at
# 4 bytes a pixel, I;16 at 2, L, P and 1 at 1): 50 MP of RGBA, 64 MP of 16-bit gray. Everything
# after decoding works on the image shrunk toward max_side, so one sketch peaks under 300 MB.
MAX_DECODED_BYTES = 192 * 1024 * 1024
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Modes converted strip by strip (besides 16-bit, 32-bit and float): what Pillow cannot reduce,
# or reduces through a full-size copy, and transparency, flattened on white.
_STRIP_MODES = ("1", "P", "PA", "RGBA", "LA", "La", "RGBa")
_STRIP_PIXELS = 1_000_000  # a strip converted at a time: 4 MB as float32
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
MAX_BYTES = 50 * 1024 * 1024

# File names a folder search treats as images (what Pillow decodes of the formats people send).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
# The formats a sketch may be in, whatever its name or type says. Pillow's other openers stay
# shut: EPS runs Ghostscript on the file's PostScript, and no sketch needs PSD, ICO and the rest.
# ("JPEG" opens phone cameras' multi-picture JPEGs too, which Pillow then calls MPO.)
SKETCH_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")

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
            img = Image.open(stream, formats=SKETCH_FORMATS)
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
        _check_decoded_size(img)
        try:
            img.seek(0)  # animated GIF/WebP/APNG: the first frame
            img.load()
            orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
            # Output is capped at max_side: shrink by a whole factor first, so every conversion
            # works on the small image (a 16-bit or float one in strips), then free the large one.
            factor = max(1, max(img.size) // max_side) if max_side else 1
            small = _flat_rgb(img, factor)
            if small is not img:
                img.close()
        except Image.DecompressionBombError as err:
            raise _too_many_pixels(pixels) from err
        except (OSError, ValueError, SyntaxError, EOFError) as err:
            raise SketchError(SketchProblem.TRUNCATED) from err
    upright = _transposed(small, orientation)
    # The EXIF orientation may have swapped the axes.
    swapped = upright.size != small.size
    return _with_source_size(upright, raw_size[::-1] if swapped else raw_size)


def _check_decoded_size(img: Image.Image) -> None:
    """Refuse, before decoding, an image whose pixels alone would take over MAX_DECODED_BYTES."""
    per_pixel = _BYTES_PER_PIXEL.get(img.mode, 4)
    limit = min(MAX_PIXELS, MAX_DECODED_BYTES // per_pixel)
    pixels = img.width * img.height
    if pixels > limit:
        raise SketchError(SketchProblem.TOO_MANY_PIXELS, size=pixels, limit=limit)


def _flat_rgb(img: Image.Image, factor: int = 1) -> Image.Image:
    """``img`` as 8-bit RGB, transparency on white, shrunk by a whole ``factor``.

    Whatever needs converting (16-bit and float scaled in float32, palettes, transparency) is
    converted strip by strip, so beside the decoded image only the result is ever whole in
    memory. ``img`` itself when it is RGB already and ``factor`` is 1.
    """
    top = _white_level(img)
    if top is None and img.mode not in _STRIP_MODES and "transparency" not in img.info:
        small = img.reduce(factor) if factor > 1 else img
        return small if small.mode == "RGB" else small.convert("RGB")
    rows = max(1, _STRIP_PIXELS // (img.width * factor)) * factor
    out = Image.new("RGB", (-(-img.width // factor), -(-img.height // factor)))
    for y in range(0, img.height, rows):
        strip = _flat_rgb_strip(img.crop((0, y, img.width, min(img.height, y + rows))), top)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, y // factor))
    return out


def _white_level(img: Image.Image) -> float | None:
    """For 16-bit, 32-bit and float modes, the value that is white; None for other modes."""
    if img.mode.startswith("I;16"):
        return 65535.0
    if img.mode not in ("I", "F"):
        return None
    high = img.getextrema()[1]
    if img.mode == "F" and high <= 1.0:
        return 1.0
    return 65535.0 if high > 255 else 255.0


def _flat_rgb_strip(img: Image.Image, top: float | None) -> Image.Image:
    if top is not None:
        scaled = np.asarray(img, dtype=np.float32) * np.float32(255.0 / top) + np.float32(0.5)
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _transposed(img: Image.Image, orientation: int) -> Image.Image:
    """``img`` turned upright for an EXIF ``orientation`` read from the (unreduced) original."""
    method = _ORIENTATIONS.get(orientation)
    return img if method is None else img.transpose(method)


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
    return _flat_rgb(img)


def encode_png(img: Image.Image, compress_level: int = 1, strategy: int | None = None) -> bytes:
    """PNG bytes; zlib ``compress_level`` 1 (fast) suits bytes that go straight to a chat or a
    client, 6 where the size matters more than the time (a page loaded over a phone).
    ``strategy``: a zlib strategy (``zlib.Z_RLE``...); None: Pillow's (``Z_FILTERED``)."""
    options = {} if strategy is None else {"compress_type": strategy}
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level, **options)
    return buf.getvalue()


def encode_jpeg(img: Image.Image, quality: int = 92) -> bytes:
    """JPEG bytes for previews (Telegram recompresses photos anyway)."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()
