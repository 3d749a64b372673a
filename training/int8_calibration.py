"""The int8 sketch sets: what quantization calibrates on, and what it checks itself against.

``python -m training.int8_calibration [TRAIN_FOLDER...] [--out CALIBRATION] [--check CHECK]``
writes ``inference/assets/calibration.npz`` and ``inference/assets/int8_check.npz``: 256² gray
model inputs (uint8 (n, 256, 256)) with a family name each.

int8 ranges calibrated on one kind of line clip another's activations: calibrated on the
training mix alone, the bundled model kept 45 dB against fp32 there but fell to 22–26 dB on
anime sketches with light lines and on bold shapes. So both sets mix the families people send:

- ``mix``: the training sources (facesjs, DiceBear, Open Clip Art), vector and traced lines:
  from ``--data`` folders when given (Kaggle pairs), else the mix sketches already in the
  shipped files (the training data are not shipped);
- ``pencil``: light gray, broken, shaded and photographed lines (generated, and mix sketches
  lightened to a darkest 200);
- ``bold``: thick strokes and closed shapes (generated);
- ``anime``: characters: the hand-drawn example sketch (calibration) and the colored SVGs of
  ``training/eval_art`` as vector, traced and faint line art (check only: the check set holds
  none of the calibration pictures).

The calibration sketches are letterboxed as sent (gray pages, light lines and all: the widest
ranges); the check sketches are the inputs the Colorizer makes of them (the lines on white, the
darkest black: :func:`inference.colorizer.sketch_input`), what int8 will really be given.
Calibrated on those Colorizer inputs instead, the bundled model's int8 lost 10–15 dB on every
family (three 80 % subsets each: 20–21 dB against 34–36 on mix).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inference.colorizer import MODEL_SIZE, letterbox, sketch_input
from inference.errors import WeightsError
from inference.images import IMAGE_SUFFIXES
from inference.quantize import CALIBRATION, CHECK_SET
from training.sketches import SKETCH_VARIANTS, bold_strokes, geometric

ASSETS = Path(__file__).resolve().parents[1] / "inference" / "assets"
EVAL_ART = Path(__file__).parent / "eval_art"
MIX_CALIBRATION = 48  # mix sketches to calibrate on; the next MIX_CHECK are held out to check
MIX_CHECK = 12
FAINT = 200


def sketch_inputs(sources: Sequence[str | Path], *, limit: int = 64, seed: int = 0) -> np.ndarray:
    """(n, 256, 256, 3) float32 model inputs in [-1, 1] to calibrate with.

    ``sources``: folders of Kaggle pairs (``train/``-style, 2:1 PNGs, sketch on the right) or
    of plain sketches, or single images. ``limit`` images at most, drawn evenly from each source
    (and from each origin of a mixed set, files named ``<origin>-<name>``) with a fixed seed.
    """
    rng = np.random.default_rng(seed)
    groups: list[list[Path]] = []
    for source in sources:
        path = Path(source)
        if not path.is_dir():
            groups.append([path])
            continue
        by_origin: dict[str, list[Path]] = {}
        for file in sorted(path.rglob("*")):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                by_origin.setdefault(file.name.split("-", 1)[0], []).append(file)
        groups += by_origin.values()
    for files in groups:
        rng.shuffle(files)  # type: ignore[arg-type]
    picked: list[Path] = []
    while len(picked) < limit and any(groups):
        for files in groups:
            if files and len(picked) < limit:
                picked.append(files.pop())
    if not picked:
        raise WeightsError(f"No calibration images found in {', '.join(map(str, sources))}")
    inputs = []
    for path in picked:
        with Image.open(path) as img:
            img = img.convert("RGB")
            if img.width == 2 * img.height:  # a training pair: the sketch is the right half
                img = img.crop((img.height, 0, img.width, img.height))
            inputs.append(letterbox(np.asarray(img))[0])
    return np.stack(inputs)


def as_sent(rgb: np.ndarray) -> np.ndarray:
    """A sketch (H, W, 3) or (H, W) uint8 letterboxed to 256² gray, as it was sent."""
    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.round((letterbox(gray)[0][..., 0] + 1.0) * 127.5).astype(np.uint8)


def as_seen(rgb: np.ndarray) -> np.ndarray:
    """A sketch (H, W, 3) or (H, W) uint8 as the 256² gray input the Colorizer gives the model."""
    if rgb.ndim == 2:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    return np.round((sketch_input(rgb)[0].mean(axis=2) + 1.0) * 127.5).astype(np.uint8)


View = Callable[[np.ndarray], np.ndarray]


def lighten(gray: np.ndarray, darkest: int = FAINT) -> np.ndarray:
    """Line art whose darkest line becomes ``darkest``: pencil-like light lines."""
    return (255 - (255 - gray.astype(np.float32)) * (255 - darkest) / 255).round().astype(np.uint8)


def mix_sketches(data: Sequence[Path] | None) -> tuple[np.ndarray, np.ndarray]:
    """Training-mix sketches (n, 256, 256) uint8 to calibrate with (as sent) and to check with
    (as seen): from ``data`` folders, or the shipped sets' ``mix`` sketches."""
    if data:
        inputs = sketch_inputs(list(data), limit=MIX_CALIBRATION + MIX_CHECK)
        sketches = np.round((inputs + 1.0) * 127.5).astype(np.uint8)
        calibrate = np.stack([as_sent(s) for s in sketches[:MIX_CALIBRATION]])
        return calibrate, np.stack([as_seen(s) for s in sketches[MIX_CALIBRATION:]])
    found = []
    for path in (CALIBRATION, CHECK_SET):
        with np.load(path) as shipped:
            sketches = shipped["sketches"]
            if "families" in shipped.files:
                sketches = sketches[shipped["families"] == "mix"]
        found.append(sketches)
    return found[0][:MIX_CALIBRATION], found[1][:MIX_CHECK]


def generated(seed: int, count: int, view: View) -> dict[str, list[np.ndarray]]:
    """``pencil`` and ``bold`` generated sketches, ``count`` of each, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    light = [v for k, v in SKETCH_VARIANTS.items() if k != "geometric"]
    pencil, bold = [], []
    for i in range(count):
        kwargs = dict(light[(seed + i) % len(light)])
        size = int(rng.integers(320, 900))
        pencil.append(view(np.asarray(geometric(size, seed=seed + i, **kwargs).image)))
        w, h = (int(v) for v in rng.integers(200, 700, 2))
        drawn = bold_strokes((w, h), seed=seed + i)
        bold.append(view(np.asarray(drawn)))
    # The drawing (5 px outlines at 768²), and another size and weight of it.
    size, line = (768, 5) if seed == 0 else (600, 9)
    bold[0] = view(np.asarray(geometric(size, line=line, seed=seed).image))
    return {"pencil": pencil, "bold": bold}


def eval_art(view: View) -> list[np.ndarray]:
    """The eval_art characters as vector, traced and faint line art (256²)."""
    from training.datasets.lineart import extract_lines
    from training.datasets.openclipart import line_render, render

    out = []
    for svg in sorted(EVAL_ART.glob("*.svg")):
        text = svg.read_text()
        vector = line_render(text, MODEL_SIZE)
        traced = extract_lines(render(text, MODEL_SIZE))
        out += [view(vector), view(traced), view(lighten(vector))]
    return out


def example_sketch(view: View) -> list[np.ndarray]:
    """The bundled hand-drawn anime sketch: as drawn, faint, and bolder (a 3×3 erosion)."""
    with Image.open(ASSETS / "example_sketch.png") as img:
        gray = np.asarray(img.convert("L"))
    return [view(gray), view(lighten(gray)), view(cv2.erode(gray, np.ones((3, 3), np.uint8)))]


def build(data: Sequence[Path] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"calibration": (sketches, families), "check": (sketches, families)}``."""
    mix_cal, mix_check = mix_sketches(data)
    cal_gen, check_gen = generated(0, 12, as_sent), generated(1000, 6, as_seen)
    calibration = {
        "mix": list(mix_cal),
        "pencil": cal_gen["pencil"] + [as_sent(lighten(s)) for s in mix_cal[::4]],
        "bold": cal_gen["bold"],
        "anime": example_sketch(as_sent),
    }
    check = {
        "mix": list(mix_check),
        "pencil": check_gen["pencil"] + [as_seen(lighten(s)) for s in mix_check[:4]],
        "bold": check_gen["bold"],
        "anime": eval_art(as_seen),
    }
    sets = {}
    for name, families in (("calibration", calibration), ("check", check)):
        sketches = np.stack([s for group in families.values() for s in group])
        labels = np.array([f for f, group in families.items() for _ in group])
        sets[name] = (sketches, labels)
    return sets


def main(argv: Sequence[str] | None = None) -> int:
    """Build the bundled int8 calibration and check sets."""
    parser = argparse.ArgumentParser(
        prog="python -m training.int8_calibration", description=__doc__
    )
    parser.add_argument(
        "sources", nargs="*", type=Path, help="training folders (Kaggle pairs) for the mix family"
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION, help="the calibration set")
    parser.add_argument("--check", type=Path, default=CHECK_SET, help="the check set")
    args = parser.parse_args(argv)
    sets = build(args.sources)
    for name, path in (("calibration", args.out), ("check", args.check)):
        sketches, families = sets[name]
        np.savez_compressed(path, sketches=sketches, families=families)
        counts = ", ".join(f"{f} {int((families == f).sum())}" for f in dict.fromkeys(families))
        size = path.stat().st_size / 1e3
        print(f"wrote {len(sketches)} sketches ({counts}) to {path} ({size:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
