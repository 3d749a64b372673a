"""Image helpers: decode uploads, size for Stable Diffusion, encode PNG, match colors back.

Images are PIL ``RGB`` (uint8, 0–255) throughout; numpy arrays are (H, W, C) float32.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")


class ImageTooLarge(ValueError):
    """The decoded image has more pixels than the server accepts."""


class NotAnImage(ValueError):
    """The bytes are not a PNG, JPEG or WebP image."""


def decode_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode PNG/JPEG/WebP bytes to an upright ``RGB`` image; alpha is composited on white."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(f"{width}×{height} pixels is more than {max_pixels} allowed")
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageTooLarge(str(exc)) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise NotAnImage("not a PNG, JPEG or WebP image") from exc
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


# Copied from inference.images.encode_png (the refine server installs without the engine)
def encode_png(img: Image.Image, compress_level: int = 1, strategy: int | None = None) -> bytes:
    """PNG bytes; zlib ``compress_level`` 1 (fast) suits bytes that go straight to a chat or a
    client, 6 where the size matters more than the time (a page loaded over a phone).
    ``strategy``: a zlib strategy (``zlib.Z_RLE``...); None: Pillow's (``Z_FILTERED``)."""
    options = {} if strategy is None else {"compress_type": strategy}
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level, **options)
    return buf.getvalue()


def working_size(size: tuple[int, int], *, min_side: int, max_side: int) -> tuple[int, int]:
    """The (width, height) to refine at: long side in [min_side, max_side], both multiples of 8."""
    width, height = size
    long_side = max(width, height)
    scale = min(max(long_side, min_side), max_side) / long_side
    return (max(8, round(width * scale / 8) * 8), max(8, round(height * scale / 8) * 8))


def control_image(sketch: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The sketch as ControlNet input: grey, inverted (white lines on black, as lineart models expect)."""
    lines = ImageOps.invert(sketch.convert("L"))
    return lines.resize(size, Image.Resampling.LANCZOS).convert("RGB")


def match_colors(refined: Image.Image, reference: Image.Image) -> Image.Image:
    """Pull the chroma of ``refined`` back to the palette of ``reference`` (same size).

    SD img2img tends to drift hues away from the GAN's palette. Matching mean and spread of the
    YCbCr chroma channels keeps the refined light and detail (Y) and restores the colors.
    """
    out = np.asarray(refined.convert("YCbCr"), dtype=np.float32).copy()
    ref = np.asarray(reference.convert("YCbCr"), dtype=np.float32)
    for channel in (1, 2):
        src = out[..., channel]
        src_mean, src_std = float(src.mean()), float(src.std())
        ref_mean, ref_std = float(ref[..., channel].mean()), float(ref[..., channel].std())
        out[..., channel] = (src - src_mean) * (ref_std / max(src_std, 1e-3)) + ref_mean
    ycbcr = Image.fromarray(np.clip(out, 0, 255).round().astype(np.uint8), mode="YCbCr")
    return ycbcr.convert("RGB")


def finish(refined: Image.Image, original: Image.Image, *, color_match: bool) -> bytes:
    """The refined image at the original's size, colors matched back if asked, as PNG bytes."""
    if refined.size != original.size:
        refined = refined.resize(original.size, Image.Resampling.LANCZOS)
    if color_match:
        refined = match_colors(refined, original)
    return encode_png(refined)
