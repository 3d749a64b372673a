"""Generated cartoon characters → color / line-art pairs in the Kaggle layout, with part maps.

A small node project (``faces_js/``: facesjs and DiceBear styles, versions pinned by its
``package-lock.json``) writes each character three times as SVG: as drawn, as line art and as a
part map (the rules are in ``faces_js/render.mjs``). Hair, eyes and clothes colors are drawn
from wide ranges (any hue; natural hair too), skin from very light to very dark. Color and line
art are rendered on white with resvg at ``size`` px; solid black areas of the line art are then
reduced to their outline, and the pair is written as one ``2·size × size`` PNG, color on the
left and line art on the right, into ``train/`` or ``val/`` by a hash of the name (≈ 90/10).
The part map goes to ``parts/NAME.png``: 256² grayscale, each pixel a :data:`PARTS` index
(0 = no part: paper, lines, mouths, accessories), for per-part color checks. Existing pairs are
kept, so a build can be resumed.

facesjs (Apache-2.0). DiceBear (MIT) artwork: Adventurer (Lisa Wischofsky) and Micah (Micah
Lanier) CC BY 4.0; Open Peeps (Pablo Stanley) CC0 1.0.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from training.datasets.openmoji import DatasetError, render_svg, split_of
from training.datasets.svglines import hollow_solid_areas

logger = logging.getLogger(__name__)

NODE_PROJECT = Path(__file__).with_name("faces_js")
DEFAULT_CACHE = Path.home() / ".cache" / "pixelpainter" / "faces_js"
# Line-art pixels darker than this (0–255) are ink; ink deeper than OUTLINE_FRACTION·size
# from the paper is the inside of a solid black area and turns white (≈ 4 px at 512).
INK_LEVEL = 128
OUTLINE_FRACTION = 1 / 128
# Part map indexes and the flat ID colors render.mjs paints them with (PART_IDS there).
PARTS = ("none", "skin", "hair", "eyes", "clothes")
PART_COLORS = np.array([[255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]])
PART_SIZE = 256
PART_TOLERANCE = 60  # an anti-aliased edge farther than this from every ID color is "none"
SOURCES = {
    "facesjs": {
        "package": "facesjs",
        "licence": "Apache-2.0",
        "credit": "facesjs by Jeremy Scheff (https://github.com/zengm-games/facesjs), Apache-2.0",
    },
    "adventurer": {
        "package": "@dicebear/adventurer",
        "licence": "CC BY 4.0 (artwork); MIT (code)",
        "credit": (
            'Remix of "Adventurer" (https://www.figma.com/community/file/1184595184137881796) '
            'by "Lisa Wischofsky", licensed under "CC BY 4.0" '
            "(https://creativecommons.org/licenses/by/4.0/), drawn with DiceBear "
            "(https://www.dicebear.com, MIT)"
        ),
    },
    "micah": {
        "package": "@dicebear/micah",
        "licence": "CC BY 4.0 (artwork); MIT (code)",
        "credit": (
            'Remix of "Avatar Illustration System" '
            "(https://www.figma.com/community/file/829741575478342595) by Micah Lanier, "
            'licensed under "CC BY 4.0" (https://creativecommons.org/licenses/by/4.0/), '
            "drawn with DiceBear (https://www.dicebear.com, MIT)"
        ),
    },
    "open-peeps": {
        "package": "@dicebear/open-peeps",
        "licence": "CC0 1.0 (artwork); MIT (code)",
        "credit": (
            'Remix of "Open Peeps" (https://www.openpeeps.com/) by Pablo Stanley, '
            'licensed under "CC0 1.0" (https://creativecommons.org/publicdomain/zero/1.0/), '
            "drawn with DiceBear (https://www.dicebear.com, MIT)"
        ),
    },
}


def install_node_project(cache: Path) -> Path:
    """Copy ``faces_js/`` into ``cache`` and ``npm ci`` it there (again only when the lock changes)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise DatasetError(f"{tool} is not installed: install Node.js 18 or newer (with npm)")
    lock = (NODE_PROJECT / "package-lock.json").read_bytes()
    stamp = cache / ".installed"
    digest = hashlib.sha256(lock).hexdigest()
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "render.mjs"):
        shutil.copyfile(NODE_PROJECT / name, cache / name)
    if stamp.exists() and stamp.read_text() == digest and (cache / "node_modules").is_dir():
        return cache
    proc = subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=cache,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise DatasetError(
            f"npm ci in {cache} failed (is the npm registry reachable?): "
            f"{proc.stderr.strip()[-300:]}"
        )
    stamp.write_text(digest)
    return cache


def package_versions(project: Path) -> dict[str, str]:
    """The installed version of each direct dependency, from ``package-lock.json``."""
    lock = json.loads((project / "package-lock.json").read_text())
    deps = lock["packages"][""]["dependencies"]
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in deps}


def render_characters(project: Path, count: int, svgs: Path, seed: int) -> dict:
    """Run ``render.mjs`` and return its manifest (the rule and one entry per character)."""
    proc = subprocess.run(
        ["node", "render.mjs", str(count), str(svgs), str(seed)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise DatasetError(f"node render.mjs failed: {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout)


def hollow_solid_ink(line: Image.Image) -> Image.Image:
    """Keep only the outline of solid black areas: ink far from the paper turns white."""
    ink = np.asarray(line.convert("L")) < INK_LEVEL
    width = max(1, round(line.width * OUTLINE_FRACTION))
    inside = ink & ~hollow_solid_areas(ink, keep=width)  # the ink deeper than the outline
    out = np.asarray(line.convert("RGB")).copy()
    out[inside] = 255
    return Image.fromarray(out)


def part_map(parts: Image.Image) -> np.ndarray:
    """A rendered part-map SVG → uint8 (H, W) of :data:`PARTS` indexes (nearest ID color)."""
    rgb = np.asarray(parts.convert("RGB"), np.int32)
    dist = np.abs(rgb[:, :, None, :] - PART_COLORS[None, None]).sum(axis=-1)
    index = dist.argmin(axis=-1).astype(np.uint8)
    index[dist.min(axis=-1) > PART_TOLERANCE] = 0
    return index


def make_face_pair(
    color_svg: Path, line_svg: Path, out: Path, size: int, parts_svg: Path | None = None
) -> None:
    """Write one ``2·size × size`` PNG (color left, hollowed line art right) and, given
    ``parts_svg``, its part map as ``parts/NAME.png`` two folders up.
    """
    pair = Image.new("RGB", (2 * size, size), "white")
    pair.paste(render_svg(color_svg, size), (0, 0))
    pair.paste(hollow_solid_ink(render_svg(line_svg, size)), (size, 0))
    if parts_svg is not None:
        target = out.parent.parent / "parts" / out.name
        target.parent.mkdir(exist_ok=True)
        Image.fromarray(part_map(render_svg(parts_svg, PART_SIZE)), "L").save(target)
    tmp = out.with_suffix(".tmp.png")
    pair.save(tmp, optimize=False, compress_level=6)
    tmp.replace(out)


def build_faces(
    out: Path,
    *,
    count: int,
    size: int = 512,
    seed: int = 0,
    workers: int | None = None,
    cache: Path | None = None,
) -> dict[str, int]:
    """Build ``count`` characters into ``out``; existing pairs are kept (the build can be resumed).

    Returns the number of pairs per split, ``{"train": n, "val": m}``.
    """
    if count < 1:
        raise DatasetError(f"--count must be at least 1, not {count}")
    project = install_node_project(cache or DEFAULT_CACHE)
    counts = {"train": 0, "val": 0}
    per_source: dict[str, dict[str, int]] = {s: {"train": 0, "val": 0} for s in SOURCES}
    for split in counts:
        (out / split).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        svgs = Path(tmp)
        manifest = render_characters(project, count, svgs, seed)
        jobs = []
        for char in manifest["characters"]:
            name, split = char["name"], split_of(char["name"])
            counts[split] += 1
            per_source[char["source"]][split] += 1
            target = out / split / f"{name}.png"
            if not target.exists():
                svg = svgs / name
                color, line, parts = (
                    svg.with_suffix(f".{k}.svg") for k in ("color", "line", "parts")
                )
                jobs.append((color, line, target, size, parts))
        workers = workers or os.cpu_count() or 1
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(make_face_pair, *job) for job in jobs]
            for future in tqdm(futures, desc="Rendering faces", unit="pair"):
                future.result()
    write_card(out, project, manifest, per_source, size=size, seed=seed)
    logger.info("faces: %d train, %d val pairs in %s", counts["train"], counts["val"], out)
    return counts


def write_card(
    out: Path,
    project: Path,
    manifest: dict,
    per_source: dict[str, dict[str, int]],
    *,
    size: int,
    seed: int,
) -> None:
    """Write ``DATACARD.json``, ``characters.json`` and ``CREDITS.txt`` next to ``train/`` and ``val/``."""
    versions = package_versions(project)
    chars = manifest["characters"]
    skins = sorted({c["skin"] for c in chars})
    card = {
        "dataset": "faces",
        "layout": "PNG 2·size × size, color left, line art right; train/ and val/ by name hash",
        "size": size,
        "seed": seed,
        "count": len(chars),
        "sources": {
            source: {
                "package": info["package"],
                "version": versions[info["package"]],
                "licence": info["licence"],
                "attribution": info["credit"],
                "counts": per_source[source],
            }
            for source, info in SOURCES.items()
        },
        "packages": versions,
        "skin_tones": skins,
        "part_colors": {
            part: {
                "characters": sum(part in c for c in chars),
                "distinct": len({c[part] for c in chars if part in c}),
            }
            for part in PARTS[2:]
        },
        "colors": (
            "hair: 40 % natural (black, browns, auburn, ginger, blondes, gray, white), 60 % any "
            "hue (HSV s 0.45–0.95, v 0.4–0.95); clothes: any hue (s 0.3–0.95, v 0.3–0.95) or "
            "black / gray / white (12 %); eyes: any hue (s 0.4–0.9, v 0.3–0.8); skin: ten tones"
        ),
        "part_maps": {
            "folder": "parts/NAME.png, 256² grayscale",
            "index": list(PARTS),
            "rule": (
                "fills and strokes in a part's color get the part's ID color, other opaque "
                "shapes white (0); rendered anti-aliased and snapped to the nearest ID color "
                f"within {PART_TOLERANCE} (L1), else 0"
            ),
        },
        "line_rule": {
            "svg": (
                "fills picked through an option (skin, hair, clothes) are paint whatever "
                "their luma; other fills and strokes with Rec. 601 luma below ink_luma_below "
                "are ink (black), lighter fills are paint (white, keeping occlusion), lighter "
                "strokes are removed; translucent fills, gradients and elements with opacity "
                "below min_opacity are removed"
            ),
            **manifest["rule"],
            "raster": (
                f"ink (gray < {INK_LEVEL}) deeper than size/{round(1 / OUTLINE_FRACTION)} px "
                "from paper turns white, so solid black areas keep only their outline"
            ),
        },
    }
    (out / "DATACARD.json").write_text(json.dumps(card, indent=2) + "\n")
    # One line per character (name, source, sex and part colors), for checks by skin tone.
    (out / "characters.json").write_text(
        "[\n" + ",\n".join(json.dumps(c) for c in manifest["characters"]) + "\n]\n"
    )
    credits = "\n".join(
        f"{source}: {info['credit']} (npm {info['package']}@{versions[info['package']]})"
        for source, info in SOURCES.items()
    )
    (out / "CREDITS.txt").write_text(credits + "\n")
