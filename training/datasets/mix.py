"""A weighted mix of built datasets into one, with a deterministic hash split.

Every source is a folder in the Kaggle layout (``train/`` and ``val/`` of side-by-side pairs,
color left, line art right). The mix re-splits all of them by a hash of the drawing's name, so a
drawing and its traced variant (``NAME~x.png``) always land in the same split, on every machine.
File names are prefixed with the source (``faces-…``) so metrics can be reported per source.
A source's part maps (``parts/NAME.png``, see :mod:`training.datasets.faces`) go to the mix's
``parts/`` under the prefixed name; traced variants share their drawing's map.

A weight scales how often a source's training pairs appear: 2 repeats each pair twice, 0.5 keeps
a stable half. Validation pairs are never repeated or dropped. ``trace`` adds, for sources that
have none, a pair with lines traced from the color half (:mod:`training.datasets.lineart`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from training.datacard import evaluation_only_refusal, is_evaluation_only
from training.datasets.lineart import extract_lines
from training.datasets.openmoji import DatasetError, split_of

TRACED = "~x"


def drawing_of(stem: str) -> str:
    """The drawing a pair file belongs to: ``cat~x`` → ``cat``."""
    return stem[: -len(TRACED)] if stem.endswith(TRACED) else stem


def _fraction(name: str) -> float:
    return int(hashlib.sha256(f"mix:{name}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def _place(src: Path, dst: Path) -> None:
    """Hard-link when the file system allows it (no copy), else copy."""
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def trace_pair(src: Path, dst: Path) -> None:
    """Write ``dst``: ``src``'s color half beside lines traced from it."""
    pair = np.asarray(Image.open(src).convert("RGB"))
    color = pair[:, : pair.shape[1] // 2]
    tmp = dst.with_suffix(".tmp.png")
    Image.fromarray(np.concatenate([color, extract_lines(color)], axis=1)).save(tmp)
    tmp.replace(dst)


def parse_source(spec: str) -> tuple[str, Path, float]:
    """``NAME=DIR`` or ``NAME=DIR:WEIGHT`` → (name, folder, weight)."""
    if "=" not in spec:
        raise DatasetError(f"--source {spec!r}: expected NAME=DIR or NAME=DIR:WEIGHT")
    name, rest = spec.split("=", 1)
    weight = 1.0
    folder, sep, tail = rest.rpartition(":")
    if sep and tail.replace(".", "", 1).isdigit():
        rest, weight = folder, float(tail)
    if not name.isidentifier():
        raise DatasetError(f"--source {spec!r}: the name must be a word (letters, digits, _)")
    if weight < 0:
        raise DatasetError(f"--source {spec!r}: the weight must be 0 or more")
    return name, Path(rest), weight


def build_mix(
    out: Path, sources: list[tuple[str, Path, float]], *, trace: bool = True
) -> dict[str, object]:
    """Link or copy every source's pairs into ``out``; returns (and writes) the data card."""
    if not sources:
        raise DatasetError("give at least one --source NAME=DIR[:WEIGHT]")
    for _, folder, _ in sources:  # before anything is written: a mix is for training
        if is_evaluation_only(folder):
            raise DatasetError(evaluation_only_refusal(folder))
    for split in ("train", "val"):
        (out / split).mkdir(parents=True, exist_ok=True)
    card: dict[str, object] = {"sources": {}, "split": "sha256 of the drawing name, 10 % val"}
    for name, folder, weight in sources:
        files = sorted(
            p
            for split in ("train", "val")
            for p in (folder / split).glob("*.png")
            if not p.name.endswith(".tmp.png")
        )
        if not files:
            raise DatasetError(f"{folder}: no train/*.png or val/*.png pairs (build it first)")
        stems = {p.stem for p in files}
        counts = {"train": 0, "val": 0, "traced_added": 0}
        parts = folder / "parts"
        if parts.is_dir():
            (out / "parts").mkdir(exist_ok=True)
            for part_map in parts.glob("*.png"):
                _place(part_map, out / "parts" / f"{name}-{part_map.name}")
        for path in files:
            drawing = f"{name}-{drawing_of(path.stem)}"
            split = split_of(drawing)
            copies = 1
            if split == "train":
                copies = math.floor(weight) + (_fraction(path.stem) < weight - math.floor(weight))
            variants = [(path, f"{name}-{path.stem}")]
            if trace and not path.stem.endswith(TRACED) and f"{path.stem}{TRACED}" not in stems:
                variants.append((None, f"{name}-{path.stem}{TRACED}"))
            for src, stem in variants:
                for copy in range(copies):
                    dst = out / split / (f"{stem}.png" if copy == 0 else f"{stem}#{copy}.png")
                    if src is None:
                        first = out / split / f"{stem}.png"
                        if not first.exists():
                            trace_pair(path, first)
                            counts["traced_added"] += 1
                        _place(first, dst)
                    else:
                        _place(src, dst)
                    counts[split] += 1
        source_card = {"folder": str(folder), "weight": weight, "pairs": counts}
        data_card = folder / "DATACARD.json"
        if data_card.exists():
            source_card["card"] = json.loads(data_card.read_text())
        elif (folder / "CREDITS.txt").exists():
            source_card["credits"] = (folder / "CREDITS.txt").read_text().strip()
        card["sources"][name] = source_card  # type: ignore[index]
    card["pairs"] = {
        split: len([p for p in (out / split).glob("*.png") if not p.name.endswith(".tmp.png")])
        for split in ("train", "val")
    }
    (out / "DATACARD.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return card
