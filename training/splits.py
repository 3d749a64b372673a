"""Which files a dataset holds, checked before any training starts (no TensorFlow, no PyTorch).

Two layouts are read:

- Kaggle "anime-sketch-colorization-pair": ``train/`` and ``val/`` of 2:1 PNGs (1024×512 in the
  original), color on the left half, sketch on the right;
- paired folders: ``train/sketch`` + ``train/color`` (and the same under ``val/``), matched by name.

Both input pipelines read these lists: :mod:`training.data` (``tf.data``) and
:mod:`training.torch_trainer` (PyTorch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from inference.architecture import IMAGE_SIZE  # the size every pipeline gives
from training.datacard import evaluation_only_refusal, is_evaluation_only

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


LAYOUTS = (
    "a dataset is either train/ and val/ of side-by-side pairs (color left, sketch right, "
    "e.g. 1024×512), or train/sketch + train/color and val/sketch + val/color matched by name"
)


class DataError(ValueError):
    """The dataset cannot be trained on; the message names the files and what is wrong."""


@dataclass(frozen=True)
class Split:
    """One split's files: side-by-side pairs, or separate sketch and color files."""

    pairs: tuple[str, ...] = ()
    sketches: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.pairs) or len(self.sketches)


def _listing(names: list[Path], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_images(files: list[Path], side_by_side: bool) -> None:
    unreadable, wrong = [], []
    for path in files:
        try:
            with Image.open(path) as img:
                w, h = img.size
        except (UnidentifiedImageError, OSError):
            unreadable.append(path)
            continue
        if side_by_side and (w != 2 * h or h < 64):
            wrong.append(f"{path} ({w}×{h})")
    if unreadable:
        raise DataError(f"not readable as images: {_listing(unreadable)}")
    if wrong:
        raise DataError(
            "pairs must be twice as wide as high (color left, sketch right, e.g. 1024×512): "
            + _listing(wrong)  # type: ignore[arg-type]
        )


def _files(folder: Path) -> list[Path]:
    """Plain files, without hidden ones (.DS_Store and friends)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def scan_split(folder: Path) -> Split:
    """List and check one split folder; raises :class:`DataError` naming bad files."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder; {LAYOUTS}")
    if (folder / "sketch").is_dir() or (folder / "color").is_dir():
        sketch_dir, color_dir = folder / "sketch", folder / "color"
        if not sketch_dir.is_dir() or not color_dir.is_dir():
            raise DataError(f"{folder}: paired layout needs both sketch/ and color/ folders")
        sketches = {p.stem: p for p in _files(sketch_dir)}
        colors = {p.stem: p for p in _files(color_dir)}
        unpaired = sorted(
            [sketches[n] for n in sketches.keys() - colors.keys()]
            + [colors[n] for n in colors.keys() - sketches.keys()]
        )
        if unpaired:
            raise DataError(f"files without a partner of the same name: {_listing(unpaired)}")
        if not sketches:
            raise DataError(f"{folder}: sketch/ and color/ are empty")
        names = sorted(sketches)
        _check_images([sketches[n] for n in names] + [colors[n] for n in names], False)
        return Split(
            sketches=tuple(str(sketches[n]) for n in names),
            colors=tuple(str(colors[n]) for n in names),
        )
    files = _files(folder)
    others = [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if others:
        raise DataError(f"not image files: {_listing(others)}")
    if not files:
        raise DataError(f"{folder}: no images in this folder; {LAYOUTS}")
    _check_images(files, True)
    return Split(pairs=tuple(str(p) for p in files))


def scan_dataset(root: Path) -> tuple[Split, Split]:
    """The train and val splits under ``root``, both checked before any training starts; a set
    whose data card reserves it for evaluation is refused (:mod:`training.datacard`).
    """
    if not root.is_dir():
        raise DataError(f"{root}: no such folder; {LAYOUTS}")
    if is_evaluation_only(root):
        raise DataError(evaluation_only_refusal(root))
    train = scan_split(root / "train")
    val = scan_split(root / "val") if (root / "val").exists() else None
    if val is None:
        raise DataError(
            f"{root}: needs a val/ folder beside train/ (validation metrics); {LAYOUTS}"
        )
    return train, val


def read_pair(split: Split, index: int) -> np.ndarray:
    """One pair as uint8 (2, 256, 256, 3): sketch, color (bicubic, as the TF pipeline)."""

    def rgb(path: str) -> Image.Image:
        with Image.open(path) as img:
            return img.convert("RGB")

    if split.pairs:
        image = rgb(split.pairs[index])
        half = image.width // 2
        sketch, color = (
            image.crop((half, 0, image.width, image.height)),
            image.crop((0, 0, half, image.height)),
        )
    else:
        sketch, color = rgb(split.sketches[index]), rgb(split.colors[index])
    size = (IMAGE_SIZE, IMAGE_SIZE)
    return np.stack(
        [np.asarray(im.resize(size, Image.Resampling.BICUBIC)) for im in (sketch, color)]
    )
