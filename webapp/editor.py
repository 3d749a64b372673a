"""What the region editor needs for one sketch, in one JSON document.

``{"width": W, "height": H, "regions": N, "layer": <PNG data URL>, "lines": <PNG data URL>,
"region_map": <PNG data URL>, "hints": bool}``: ``layer`` is the RGB color layer, ``lines`` the grayscale line
art (255 = paper), both at the output size, and the picture is ``layer × lines / 255``, which the
page recomposes after every recolor. ``region_map`` is an RGB PNG whose pixel holds a region id as
``R + 256·G + 65536·B``: the region (1..N) that owns the pixel, line pixels belonging to the
nearest region as in the "cel" color layer, so a recolored region takes its lines' antialiased
edges along (0 only where there is no region at all). PNG is lossless and compresses the flat
map well, and a canvas reads it back exactly. ``hints`` says whether the model takes color hints
(the page offers its hint tool only then).

The three PNGs are encoded side by side on a thread pool (zlib and OpenCV release the GIL).
"""

from __future__ import annotations

import asyncio
import base64
import zlib
from concurrent.futures import Executor

import cv2
import numpy as np
from PIL import Image

from inference.colorizer import Colorized
from inference.images import encode_png
from inference.regions import nearest_region

MAX_REGIONS = 2**24 - 1
# zlib's strategy for the color layer and the region map: runs only, which suits flat colors
# and PNG's row filters. At 1024² (the bundled sketch) it makes the cel layer 5 % and the region
# map 11 % smaller than Pillow's default strategy at level 6, in half to two thirds of the time;
# the soft layer 5 % smaller in a third of the time. A tiny, nearly empty layer may grow by a KB.
# The antialiased lines would grow by two thirds: they keep the default.
FLAT_STRATEGY = zlib.Z_RLE


def pack_regions(regions: np.ndarray) -> Image.Image:
    """An int32 (H, W) region map → RGB image with the id spread over R, G, B (little end first)."""
    if regions.ndim != 2:
        raise ValueError(f"regions must be (H, W), got shape {regions.shape}")
    if regions.size and (int(regions.min()) < 0 or int(regions.max()) > MAX_REGIONS):
        raise ValueError(f"region ids must be in [0, {MAX_REGIONS}]")
    # A little-endian uint32's bytes are R, G, B and a zero byte, which OpenCV drops.
    rgba = regions.astype("<u4").view(np.uint8).reshape(*regions.shape, 4)
    rgb = cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB) if regions.size else rgba[:, :, :3].copy()
    return Image.fromarray(rgb, "RGB")


def unpack_regions(img: Image.Image) -> np.ndarray:
    """The inverse of :func:`pack_regions`: int32 (H, W) ids."""
    rgb = np.asarray(img.convert("RGB"), np.int32)
    return rgb[:, :, 0] + (rgb[:, :, 1] << 8) + (rgb[:, :, 2] << 16)


def png_data_url(img: Image.Image, strategy: int | None = None) -> str:
    """``data:image/png;base64,...``, zlib level 6 (the page downloads these, often on a phone)
    with ``strategy`` (see :func:`inference.images.encode_png`)."""
    png = encode_png(img, compress_level=6, strategy=strategy)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def region_map(regions: np.ndarray) -> tuple[int, str]:
    """(N, the region map's PNG data URL) of a colorized sketch's ``regions`` (int32 (H, W),
    0 = line): line pixels given to their nearest region, packed by :func:`pack_regions`."""
    filled = nearest_region(regions)
    url = png_data_url(pack_regions(filled), FLAT_STRATEGY)
    return (int(filled.max()) if filled.size else 0), url


async def editor_document(
    result: Colorized, pool: Executor, *, takes_hints: bool = False
) -> dict[str, object]:
    """The editor's JSON document for one colorized sketch (see the module docstring), its
    images made on ``pool``; ``takes_hints``: whether the model that made it takes color hints."""
    loop = asyncio.get_running_loop()
    # The longest first: with two threads, the lines follow whichever of the others ends first.
    (count, region_url), layer, lines = await asyncio.gather(
        loop.run_in_executor(pool, region_map, result.regions),
        loop.run_in_executor(
            pool, lambda: png_data_url(result.layer.convert("RGB"), FLAT_STRATEGY)
        ),
        loop.run_in_executor(pool, lambda: png_data_url(result.lines.convert("L"))),
    )
    return {
        "width": result.layer.width,
        "height": result.layer.height,
        "regions": count,
        "layer": layer,
        "lines": lines,
        "region_map": region_url,
        "hints": takes_hints,
    }
