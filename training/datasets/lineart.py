"""Line art from a finished color image, the way an inker would trace it.

A sketchKeras-style high-pass on the brightest channel: a pixel is ink by how much darker it is
than its neighbourhood in ``max(R, G, B)``. Taking the max keeps saturated fills (a red dress, blue
hair) bright, so color edges between fills stay faint and outlines, which are dark in every
channel, come out strong, as pencil lines with soft gray edges.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from training.datasets.svglines import hollow_solid_areas

DARK = 0.3  # max(R, G, B) below this is ink whatever surrounds it


def extract_lines(
    color: np.ndarray, *, sigma: float | None = None, gain: float = 5.0
) -> np.ndarray:
    """Pencil-like line art of an RGB image.

    ``color``: uint8 (H, W, 3). Returns uint8 (H, W, 3), white paper with gray-to-black lines.
    ``sigma`` is the neighbourhood's Gaussian radius (default: scales with the image, 1.5 px at
    512); ``gain`` how dark a given local contrast draws.
    """
    if sigma is None:
        sigma = max(0.8, 1.5 * max(color.shape[:2]) / 512)
    value = color.max(axis=2).astype(np.float32) / 255.0
    blurred = cv2.GaussianBlur(value, (0, 0), sigma)
    ink = np.clip((blurred - value) * gain, 0.0, 1.0)  # > 0 where darker than around it
    ink = np.power(ink, 0.8)
    # A bold line has little local contrast in its middle: pixels dark in every channel are ink
    # too, but solid dark areas (black hair) keep only their outline, as a person draws them.
    side = max(color.shape[:2])
    dark = hollow_solid_areas(value < DARK, keep=max(2, round(3 * side / 512)))
    ink = np.maximum(ink, dark.astype(np.float32))
    lines = np.round(255.0 * (1.0 - ink)).astype(np.uint8)
    return np.repeat(lines[:, :, None], 3, axis=2)


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def fit_on_white(image: Image.Image, size: int) -> np.ndarray:
    """uint8 (size, size, 3): the image fitted and centred on white (transparency → white)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image)
    image = image.convert("RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    square = Image.new("RGB", (size, size), "white")
    square.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return np.asarray(square)


def build_lineart(folder: Path, out: Path, *, size: int = 512) -> dict[str, object]:
    """Pairs from a folder of finished color illustrations (an artist's own), traced lines.

    Every readable image under ``folder`` becomes ``out/{train,val}/NAME.png`` (color left,
    traced lines right), split by a hash of its relative path; unreadable files are listed in
    the data card, not fatal. Resumable: existing pairs are kept.
    """
    from training.datasets.openmoji import DatasetError, split_of

    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not files:
        raise DatasetError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    counts = {"train": 0, "val": 0}
    skipped = []
    for split in counts:
        (out / split).mkdir(parents=True, exist_ok=True)
    for path in files:
        rel = path.relative_to(folder).with_suffix("").as_posix()
        name = "art-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", rel)
        split = split_of(name)
        target = out / split / f"{name}.png"
        if not target.exists():
            try:
                with Image.open(path) as image:
                    color = fit_on_white(image, size)
            except (OSError, Image.DecompressionBombError, ValueError) as err:
                skipped.append(f"{path}: {err}")
                continue
            Image.fromarray(np.concatenate([color, extract_lines(color)], axis=1)).save(target)
        counts[split] += 1
    card = {
        "source": str(folder),
        "license": "the artist's own (check before sharing a model trained on it)",
        "line_art": "traced: high-pass on max(R,G,B) (training/datasets/lineart.py)",
        "pairs": counts,
        "skipped": skipped,
        "size": size,
    }
    (out / "DATACARD.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return card
