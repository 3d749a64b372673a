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
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from inference.colorizer import Colorized
from inference.regions import nearest_region

MAX_REGIONS = 2**24 - 1


def pack_regions(regions: np.ndarray) -> Image.Image:
    """An int32 (H, W) region map → RGB image with the id spread over R, G, B (little end first)."""
    if regions.ndim != 2:
        raise ValueError(f"regions must be (H, W), got shape {regions.shape}")
    ids = regions.astype(np.uint32)
    if regions.size and (int(regions.min()) < 0 or int(regions.max()) > MAX_REGIONS):
        raise ValueError(f"region ids must be in [0, {MAX_REGIONS}]")
    rgb = np.stack([ids & 0xFF, (ids >> 8) & 0xFF, (ids >> 16) & 0xFF], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def unpack_regions(img: Image.Image) -> np.ndarray:
    """The inverse of :func:`pack_regions`: int32 (H, W) ids."""
    rgb = np.asarray(img.convert("RGB"), np.int32)
    return rgb[:, :, 0] + (rgb[:, :, 1] << 8) + (rgb[:, :, 2] << 16)


def png_data_url(img: Image.Image) -> str:
    """``data:image/png;base64,...`` (default compression: the page downloads these)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def editor_document(result: Colorized, *, takes_hints: bool = False) -> dict[str, object]:
    """The editor's JSON document for one colorized sketch (see the module docstring);
    ``takes_hints``: whether the model that made it takes color hints."""
    regions = nearest_region(result.regions)
    return {
        "width": result.layer.width,
        "height": result.layer.height,
        "regions": int(regions.max()) if regions.size else 0,
        "layer": png_data_url(result.layer.convert("RGB")),
        "lines": png_data_url(result.lines.convert("L")),
        "region_map": png_data_url(pack_regions(regions)),
        "hints": takes_hints,
    }
