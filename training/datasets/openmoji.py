"""OpenMoji line art → color pairs in the Kaggle "anime-sketch-colorization-pair" layout.

The npm package ``openmoji`` ships every emoji twice: ``black/svg`` (line art) and
``color/svg``. Both are rendered on white at ``size`` px and written side by side as one
``2·size × size`` PNG, color on the left and sketch on the right, into ``train/`` or ``val/``
by a hash of the file name (≈ 90/10, the same split on every machine).

OpenMoji – the open-source emoji and icon project. License: CC BY-SA 4.0 (https://openmoji.org).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image
from tqdm import tqdm

logger = logging.getLogger(__name__)

DEFAULT_VERSION = "17.0.0"
VAL_PERCENT = 10
CREDIT = "OpenMoji – the open-source emoji and icon project. License: CC BY-SA 4.0"


class DatasetError(RuntimeError):
    """The dataset cannot be built; the message says why and what to do."""


def split_of(name: str) -> str:
    """``"val"`` for about 10 % of names, ``"train"`` for the rest; stable across machines."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100
    return "val" if bucket < VAL_PERCENT else "train"


def render_svg(svg: Path, size: int) -> Image.Image:
    """Render an SVG on white at ``size``×``size`` RGB."""
    import resvg_py

    png = resvg_py.svg_to_bytes(svg_path=str(svg), width=size, height=size, background="#ffffff")
    img = Image.open(io.BytesIO(bytes(png))).convert("RGB")
    if img.size != (size, size):  # non-square viewBox: centre it on a white square
        square = Image.new("RGB", (size, size), "white")
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
        square.paste(img, ((size - img.width) // 2, (size - img.height) // 2))
        img = square
    return img


def make_pair(color_svg: Path, sketch_svg: Path, out: Path, size: int) -> None:
    """Write one ``2·size × size`` PNG: color on the left, sketch on the right."""
    pair = Image.new("RGB", (2 * size, size), "white")
    pair.paste(render_svg(color_svg, size), (0, 0))
    pair.paste(render_svg(sketch_svg, size), (size, 0))
    tmp = out.with_suffix(".tmp.png")
    pair.save(tmp, optimize=False, compress_level=6)
    tmp.replace(out)


def fetch_package(version: str, cache: Path) -> Path:
    """``npm pack openmoji@version`` into ``cache`` (once) and return the ``.tgz``."""
    tgz = cache / f"openmoji-{version}.tgz"
    if tgz.exists():
        return tgz
    if shutil.which("npm") is None:
        raise DatasetError("npm is not installed: install Node.js, or pass --source openmoji.tgz")
    cache.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["npm", "pack", f"openmoji@{version}", "--silent"],
        cwd=cache,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not tgz.exists():
        raise DatasetError(f"npm pack openmoji@{version} failed: {proc.stderr.strip()[-300:]}")
    return tgz


def _unpack(source: Path, into: Path) -> Path:
    """The package folder (holding ``black/svg`` and ``color/svg``) for a .tgz or a folder."""
    if source.is_dir():
        root = source / "package" if (source / "package" / "black").is_dir() else source
    elif tarfile.is_tarfile(source):
        with tarfile.open(source) as tar:
            members = [
                m
                for m in tar.getmembers()
                if m.isfile() and ("/black/svg/" in m.name or "/color/svg/" in m.name)
            ]
            tar.extractall(into, members=members, filter="data")
        root = into / "package"
    else:
        raise DatasetError(f"{source}: neither an openmoji package folder nor a .tgz")
    if not (root / "black" / "svg").is_dir() or not (root / "color" / "svg").is_dir():
        raise DatasetError(f"{source}: no black/svg and color/svg folders inside")
    return root


def build_openmoji(
    out: Path,
    *,
    source: Path | None = None,
    version: str = DEFAULT_VERSION,
    size: int = 512,
    limit: int | None = None,
    workers: int | None = None,
) -> dict[str, int]:
    """Build the dataset into ``out``; existing pairs are kept (the build can be resumed)."""
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            source = fetch_package(version, Path(tmp))
        root = _unpack(source, Path(tmp))
        sketches = {p.name: p for p in (root / "black" / "svg").glob("*.svg")}
        colors = {p.name: p for p in (root / "color" / "svg").glob("*.svg")}
        names = sorted(sketches.keys() & colors.keys())
        if not names:
            raise DatasetError(f"{source}: no emoji has both a black and a color SVG")
        if limit:
            names = names[:limit]
        for split in ("train", "val"):
            (out / split).mkdir(parents=True, exist_ok=True)
        jobs = []
        counts = {"train": 0, "val": 0}
        for name in names:
            split = split_of(name)
            counts[split] += 1
            target = out / split / f"{Path(name).stem}.png"
            if not target.exists():
                jobs.append((colors[name], sketches[name], target, size))
        workers = workers or os.cpu_count() or 1
        with ProcessPoolExecutor(workers) as pool:
            futures = [pool.submit(make_pair, *job) for job in jobs]
            for future in tqdm(futures, desc="Rendering OpenMoji", unit="pair"):
                future.result()
    (out / "CREDITS.txt").write_text(f"{CREDIT}\nhttps://openmoji.org, npm openmoji@{version}\n")
    logger.info("OpenMoji %s: %d train, %d val pairs in %s", version, *counts.values(), out)
    return counts
