"""Ren'Py's demo games → an evaluation-only set of anime character sprites (issue 15).

Debian's ``renpy-thequestion`` ("The Question": Sylvie) and ``renpy-demo`` (the tutorial: Eileen,
Lucy) ship hand-drawn anime sprites as PNGs with alpha. They are reserved for independent
evaluation: the data card says ``"use": "evaluation only"``, and the trainer and the mix refuse
the folder (:mod:`training.datacard`). The packages are fetched with ``apt-get download`` and
unpacked with ``dpkg-deb -x`` into a cache (nothing is installed on the system).

A sprite is chosen by rule, not by name (:func:`judge`, first failing rule counted in the card):
it lies in a game's ``game/images/`` folder (gui/ and icons are UI), its Ren'Py tag is not ``bg``
or ``logo``, it has transparent pixels, it is at least ``MIN_HEIGHT`` px high and ``PORTRAIT``
times as high as wide (a standing figure, not a screen-wide effect or a panel), the figure
(alpha ≥ 128) covers ``COVERAGE`` of the canvas, and its visible pixels are mostly opaque (not
a glow). Sprites with exactly the same pixels are kept once.

Each sprite is cropped to its figure, composited on white and fitted into a ``size`` square
(:func:`training.datasets.lineart.fit_on_white`); the line art is traced from that color image
(:func:`training.datasets.lineart.extract_lines`). ``val/renpy-GAME-NAME~x.png``: color left,
traced lines right; there is no ``train/``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import re
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from training.datacard import CARD, EVALUATION_ONLY
from training.datasets.debian import changelog_version, fetch_deb
from training.datasets.lineart import IMAGE_SUFFIXES, extract_lines, fit_on_white
from training.datasets.openmoji import DatasetError

logger = logging.getLogger(__name__)

PACKAGES = {"renpy-thequestion": "thequestion", "renpy-demo": "demo"}  # package → game in names
GAMES_DIR = Path("usr/share/games/renpy")  # one folder per game, as in Ren'Py's source tree
NOT_SPRITES = ("bg", "logo")  # Ren'Py tags of backgrounds and title art
MIN_HEIGHT = 480  # px: sprites are drawn for a 720 px high screen
PORTRAIT = 1.3  # height / width of a standing figure
COVERAGE = (0.2, 0.9)  # share of the canvas the figure (alpha ≥ 128) covers
OPAQUE = 0.9  # share of visible pixels that are fully opaque: less is a glow or an effect
KEPT = "ok"
DUPLICATE = "exact duplicate (same pixels)"


def judge(path: Path, image: Image.Image) -> str:
    """``"ok"`` or the rule that drops this image (``path`` relative to the game folder)."""
    if "images" not in path.parts[:-1] or path.parts[0] != "game":
        return "outside game/images (GUI, icons)"
    if path.name.split()[0].split(".")[0].lower() in NOT_SPRITES:
        return "background or logo (bg / logo tag)"
    if "A" not in image.getbands() and "transparency" not in image.info:
        return "no transparency"
    alpha = np.asarray(image.convert("RGBA"))[:, :, 3]
    if alpha.min() == 255:
        return "no transparency"
    if image.height < MIN_HEIGHT:
        return f"too small (under {MIN_HEIGHT} px high)"
    if image.height < PORTRAIT * image.width:
        return f"not a standing figure (under {PORTRAIT}× as high as wide)"
    coverage = (alpha >= 128).mean()
    if not COVERAGE[0] <= coverage <= COVERAGE[1]:
        return f"figure covers under {COVERAGE[0]:.0%} or over {COVERAGE[1]:.0%} of the canvas"
    visible = alpha > 0
    if (alpha[visible] == 255).sum() < OPAQUE * visible.sum():
        return "soft alpha (glow or effect)"
    return KEPT


def parse_dep5(text: str) -> list[dict[str, str]]:
    """The paragraphs of a DEP-5 ``copyright`` file, each field's lines joined by newlines."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if fields:
            paragraphs.append(fields)
    return paragraphs


def licence_of(copyright_text: str, path: str) -> dict[str, object]:
    """``{"license", "copyright"}`` of ``path`` (a source-tree path): the last ``Files``
    paragraph whose patterns match wins, as DEP-5 says.
    """
    found: dict[str, object] = {"license": "unknown", "copyright": []}
    for fields in parse_dep5(copyright_text):
        patterns = fields.get("Files", "").split()
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns):
            found = {
                "license": fields.get("License", "unknown").splitlines()[0],
                "copyright": [c for c in fields.get("Copyright", "").splitlines() if c],
            }
    return found


def fetch_packages(cache: Path) -> Path:
    """Every package in ``PACKAGES`` unpacked under ``cache/x/PACKAGE``; returns ``cache/x``."""
    for package in PACKAGES:
        fetch_deb(package, cache, cache / "x" / package)
    return cache / "x"


def sprite_pair(image: Image.Image, size: int) -> np.ndarray:
    """uint8 (size, 2·size, 3): the figure on white (cropped to its alpha) beside traced lines."""
    rgba = image.convert("RGBA")
    box = rgba.getchannel("A").point(lambda a: 255 if a >= 8 else 0).getbbox()
    color = fit_on_white(rgba.crop(box) if box else rgba, size)
    return np.concatenate([color, extract_lines(color)], axis=1)


def _pair_name(game: str, rel: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", rel.with_suffix("").name)
    return f"renpy-{game}-{stem}~x"


def build_renpy(
    out: Path, *, source: Path | None = None, cache: Path | None = None, size: int = 512
) -> dict[str, object]:
    """Pick and pair the sprites into ``out/val``; write and return the data card.

    ``source``: a folder with each package of ``PACKAGES`` unpacked in a subfolder of its name
    (``dpkg-deb -x renpy-demo_*.deb SOURCE/renpy-demo``); default: fetched into ``cache``.
    """
    cache = cache or Path.home() / ".cache" / "pixelpainter" / "renpy"
    root = source or fetch_packages(cache)
    (out / "val").mkdir(parents=True, exist_ok=True)
    verdicts: Counter[str] = Counter()
    seen: set[str] = set()
    packages: dict[str, object] = {}
    for package, game in PACKAGES.items():
        tree = root / package
        copyright_file = tree / "usr" / "share" / "doc" / package / "copyright"
        if not copyright_file.is_file():
            raise DatasetError(f"{tree}: no usr/share/doc/{package}/copyright (unpack {package})")
        copyright_text = copyright_file.read_text(errors="replace")
        images = sorted(
            p
            for p in (tree / GAMES_DIR).rglob("*")
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        used: dict[str, dict[str, object]] = {}
        for path in images:
            in_tree = path.relative_to(tree / GAMES_DIR)  # e.g. the_question/game/images/x.png
            with Image.open(path) as image:
                image.load()
                verdict = judge(Path(*in_tree.parts[1:]), image)
                if verdict == KEPT:
                    digest = hashlib.sha256(
                        np.asarray(image.convert("RGBA")).tobytes() + str(image.size).encode()
                    ).hexdigest()
                    verdict = DUPLICATE if digest in seen else KEPT
                    seen.add(digest)
                verdicts[verdict] += 1
                if verdict != KEPT:
                    continue
                name = _pair_name(game, in_tree)
                target = out / "val" / f"{name}.png"
                if not target.exists():
                    tmp = target.with_suffix(".tmp.png")
                    Image.fromarray(sprite_pair(image, size)).save(tmp, compress_level=6)
                    tmp.replace(target)
            used[name] = {
                "file": in_tree.as_posix(),
                **licence_of(copyright_text, in_tree.as_posix()),
            }
        licences = sorted({str(u["license"]) for u in used.values()})
        holders = list(dict.fromkeys(h for u in used.values() for h in u["copyright"]))  # type: ignore[attr-defined]
        packages[package] = {
            "version": changelog_version(tree, package),
            "game": game,
            "images_in_package": len(images),
            "sprites": len(used),
            "license": licences,
            "copyright": holders,
            "files": used,
        }
    pairs = len(list((out / "val").glob("renpy-*.png")))
    if not pairs:
        raise DatasetError(f"{root}: no character sprites found in {', '.join(PACKAGES)}")
    licences = sorted({lic for p in packages.values() for lic in p["license"]})  # type: ignore[index]
    card: dict[str, object] = {
        "use": EVALUATION_ONLY,
        "why": "issue 15: Ren'Py games (Debian's renpy* packages) are reserved for independent "
        "evaluation: neither train nor tune on them",
        "source": "Debian packages " + ", ".join(PACKAGES) + " (Ren'Py demo games)",
        "packages": packages,
        "license": licences,
        "attribution": "; ".join(
            f"{pkg}: © {', '.join(p['copyright'][:1])} and others, {', '.join(p['license'])}"  # type: ignore[index]
            for pkg, p in packages.items()
        ),
        "redistribution": "the pairs are made locally from the packages and never committed or "
        "shared; the repository holds only this builder, so even art whose licence forbade "
        "sharing derivatives could be scored (these packages' DEP-5 files give the licence above)",
        "pairs": {"val": pairs},
        "filters": dict(verdicts.most_common()),
        "rules": {
            "folder": "game/images/ of each game",
            "not_tags": list(NOT_SPRITES),
            "min_height_px": MIN_HEIGHT,
            "portrait": PORTRAIT,
            "coverage": list(COVERAGE),
            "opaque_share": OPAQUE,
        },
        "line_art": "traced: high-pass on max(R,G,B) (training/datasets/lineart.py), "
        "files NAME~x.png",
        "size": size,
    }
    (out / CARD).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    logger.info("renpy: %d sprites as val pairs; %s", pairs, card["filters"])
    return card
