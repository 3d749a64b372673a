"""Open Clip Art Library drawings → line art / color pairs (public domain).

Debian's ``openclipart-svg`` package holds about 8k SVGs. It is fetched with ``apt-get download``
and unpacked with ``dpkg-deb -x`` into a cache (nothing is installed on the system). Drawings
with real outlines and color are kept (people, animals, food, objects); icons, symbols, maps,
traced photos and outline-only art are dropped, and the data card counts what each filter took.

Each kept drawing gives two pairs with the same color half: ``NAME.png`` with the vector line art
(:mod:`training.datasets.svglines`) and ``NAME~x.png`` with lines traced from the color render
(:mod:`training.datasets.lineart`), so the model sees clean vector lines and pencil-like ones.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from training.datasets.debian import changelog_version, fetch_deb
from training.datasets.lineart import extract_lines
from training.datasets.openmoji import DatasetError, split_of
from training.datasets.svglines import hollow_solid_areas, line_svg

logger = logging.getLogger(__name__)

PACKAGE = "openclipart-svg"
SVG_ROOT = "usr/share/openclipart/svg"  # inside the unpacked package
LICENSE = "Public domain (CC0 / Open Clip Art Library dedication)"
CREDIT = "Open Clip Art Library (openclipart.org), public domain, via Debian's openclipart-svg"
# Folders of figurative drawings; computer/, shapes/, signs_and_symbols/, logos/, buttons/ and
# geography/ are icons, symbols and maps.
KEEP_FOLDERS = (
    "people",
    "animals",
    "food",
    "recreation",
    "plants",
    "transportation",
    "tools",
    "office",
    "buildings",
    "decorations",
    "containers",
    "education",
    "special",
    "unsorted",
    "science",
    "electronics",
)
MAX_ELEMENTS = 1500  # traced photos and auto-vectorised art have thousands of tiny paths
DARK_BELOW = 0.3  # clip art inks in black or near-black; navy and brown stay colors
PROBE_SIZE = 128
VECTOR_COVERAGE = 0.5


def fetch_package(cache: Path) -> Path:
    """``apt-get download`` + ``dpkg-deb -x`` into ``cache`` (once); the SVG root folder."""
    root = cache / "x" / SVG_ROOT
    if not root.is_dir():
        fetch_deb(PACKAGE, cache, cache / "x")
    if not root.is_dir():
        raise DatasetError(f"{PACKAGE}: no {root.relative_to(cache / 'x')} in the package")
    return root


def package_version(root: Path) -> str:
    """The package's version, from the changelog of the unpacked tree ``root`` lies in."""
    if not root.match(SVG_ROOT):
        return "unknown"
    return changelog_version(root.parents[len(Path(SVG_ROOT).parts) - 1], PACKAGE)


def render(svg_text: str, size: int) -> np.ndarray:
    """uint8 (size, size, 3): the drawing fitted and centred on white."""
    import resvg_py

    png = resvg_py.svg_to_bytes(svg_string=svg_text, width=size, background="#ffffff", dpi=96.0)
    image = Image.open(io.BytesIO(bytes(png))).convert("RGB")
    if image.height > size:
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
    square = Image.new("RGB", (size, size), "white")
    square.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return np.asarray(square)


def line_render(svg_text: str, size: int) -> np.ndarray:
    """uint8 (size, size, 3) vector line art, solid ink areas hollowed to their outline."""
    ink = render(line_svg(svg_text, dark_below=DARK_BELOW), size).min(axis=2) < 128
    # Strokes up to 8 px at 512 stay whole; wider ink (a black coat) keeps a 4 px outline.
    ink = hollow_solid_areas(ink, keep=max(2, round(4 * size / 512)))
    return np.where(ink[:, :, None], 0, 255).astype(np.uint8).repeat(3, axis=2)


def judge(svg_text: str) -> str:
    """``"ok"`` or the name of the filter that drops this drawing (cheap 128 px probe)."""
    if "<image" in svg_text:
        return "embedded raster"
    if len(re.findall(r"<(?:path|polygon|rect|circle|ellipse)\b", svg_text)) > MAX_ELEMENTS:
        return "traced (too many shapes)"
    try:
        color = render(svg_text, PROBE_SIZE)
        lines = line_render(svg_text, PROBE_SIZE)
    except Exception:  # resvg rejects some files (no size, broken XML): skip them
        return "unrenderable"
    rgb = color.astype(np.float32) / 255.0
    figure = rgb.min(axis=2) < 0.94
    figure_share = figure.mean()
    if figure_share < 0.08:
        return "too small or sparse (icon, stick figure)"
    saturation = (rgb.max(axis=2) - rgb.min(axis=2)) / np.maximum(rgb.max(axis=2), 1e-3)
    colored = figure & (saturation > 0.2) & (rgb.max(axis=2) > 0.15)
    if colored.sum() < 0.25 * figure.sum():
        return "little color (outline-only or gray)"
    ink = lines.min(axis=2) < 128
    if ink.sum() < 0.02 * figure.sum():
        return "no outlines"
    if ink.sum() > 0.45 * figure.sum():
        return "mostly ink (silhouette)"
    return "ok"


def _probe(path: Path) -> tuple[str, str]:
    return str(path), judge(path.read_text(errors="replace"))


def make_pairs(svg: Path, name: str, out_dir: Path, size: int) -> None:
    """Write ``NAME.png`` (vector lines) and ``NAME~x.png`` (traced lines), color on the left."""
    text = svg.read_text(errors="replace")
    color = render(text, size)
    traced = extract_lines(color)
    pairs = [("~x", traced)]
    vector = line_render(text, size)
    # Vector lines that miss most of what the tracer sees (a drawing outlined in color, not ink)
    # would teach the model to invent boundaries: keep only the traced pair then.
    if (vector.min(axis=2) < 128).sum() >= VECTOR_COVERAGE * (traced.min(axis=2) < 160).sum():
        pairs.append(("", vector))
    for suffix, lines in pairs:
        target = out_dir / f"{name}{suffix}.png"
        tmp = target.with_suffix(".tmp.png")
        Image.fromarray(np.concatenate([color, lines], axis=1)).save(tmp, compress_level=6)
        tmp.replace(target)


def _make(job: tuple[Path, str, Path, int]) -> None:
    make_pairs(*job)


def build_openclipart(
    out: Path,
    *,
    source: Path | None = None,
    cache: Path | None = None,
    size: int = 512,
    limit: int | None = None,
    workers: int | None = None,
) -> dict[str, object]:
    """Filter and render into ``out/train`` and ``out/val``; resumable. Returns the data card."""
    cache = cache or Path.home() / ".cache" / "pixelpainter" / "openclipart"
    root = source or fetch_package(cache)
    candidates = sorted(p for folder in KEEP_FOLDERS for p in (root / folder).rglob("*.svg"))
    total = sum(1 for _ in root.rglob("*.svg"))
    if not candidates:
        raise DatasetError(f"{root}: no SVGs in the kept folders {', '.join(KEEP_FOLDERS)}")
    if limit:
        candidates = candidates[:limit]
    workers = workers or os.cpu_count() or 1
    verdicts: Counter[str] = Counter(
        {"other folders (icons, symbols, maps)": total - len(candidates)}
    )
    kept = []
    with ProcessPoolExecutor(workers) as pool:
        for path, verdict in tqdm(
            pool.map(_probe, candidates, chunksize=8),
            total=len(candidates),
            desc="Filtering openclipart",
            unit="svg",
        ):
            verdicts[verdict] += 1
            if verdict == "ok":
                kept.append(Path(path))
    jobs = []
    for split in ("train", "val"):
        (out / split).mkdir(parents=True, exist_ok=True)
    for svg in kept:
        name = "oc-" + re.sub(
            r"[^A-Za-z0-9_.-]+", "_", svg.relative_to(root).with_suffix("").as_posix()
        )
        name = name.replace("/", "_")
        split = split_of(name)
        if not (out / split / f"{name}~x.png").exists():
            jobs.append((svg, name, out / split, size))
    with ProcessPoolExecutor(workers) as pool:
        list(tqdm(pool.map(_make, jobs), total=len(jobs), desc="Rendering openclipart", unit="svg"))
    counts = {split: len(list((out / split).glob("oc-*.png"))) for split in ("train", "val")}
    card: dict[str, object] = {
        "source": f"Debian package {PACKAGE}",
        "version": package_version(root),
        "license": LICENSE,
        "attribution": CREDIT,
        "svgs_in_package": total,
        "kept_drawings": len(kept),
        "pairs": counts,
        "filters": dict(verdicts.most_common()),
        "line_art": {
            "vector": f"ink = paint with luminance < {DARK_BELOW}, light paint white, "
            "solid ink hollowed to its outline",
            "traced": "high-pass on max(R,G,B) (training/datasets/lineart.py), files NAME~x.png",
        },
        "size": size,
    }
    (out / "DATACARD.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    (out / "CREDITS.txt").write_text(CREDIT + "\n")
    logger.info("openclipart: kept %d of %d SVGs; %s", len(kept), total, card["pairs"])
    return card
