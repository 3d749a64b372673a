"""Paired sketch/color data: validation up front, then a ``tf.data`` pipeline.

Two layouts are read:
- Kaggle "anime-sketch-colorization-pair": ``train/`` and ``val/`` of 2:1 PNGs (1024×512 in the
  original), color on the left half, sketch on the right;
- paired folders: ``train/sketch`` + ``train/color`` (and the same under ``val/``), matched by name.

Everything the model sees is RGB 256×256 float32 in [-1, 1]; a hint model's input has the 4
hint planes of :mod:`inference.hints` beside the sketch (sampled from the truth in training, see
:mod:`training.hints`; empty for validation without hints).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from training.datacard import evaluation_only_refusal, is_evaluation_only

IMAGE_SIZE = 256
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


def _decode(path: tf.Tensor) -> tf.Tensor:
    return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)


def _resize(image: tf.Tensor) -> tf.Tensor:
    """Any image → 256×256 uint8, bicubic (as the seed did)."""
    resized = tf.image.resize(tf.cast(image, tf.float32), [IMAGE_SIZE, IMAGE_SIZE], "bicubic")
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def load_pair(path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """A side-by-side file → (sketch, color), each 256×256×3 uint8."""
    image = _decode(path)
    half = tf.shape(image)[1] // 2
    return _resize(image[:, half:, :]), _resize(image[:, :half, :])


def load_separate(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    return _resize(_decode(sketch)), _resize(_decode(color))


def normalize(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 [0, 255] → float32 [-1, 1]."""
    return tf.cast(sketch, tf.float32) / 127.5 - 1.0, tf.cast(color, tf.float32) / 127.5 - 1.0


def jitter(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """pix2pix augmentation: upscale to 286, random 256 crop, random mirror (same for both)."""
    stacked = tf.image.resize(tf.stack([sketch, color]), [286, 286], "nearest")
    stacked = tf.image.random_crop(stacked, [2, IMAGE_SIZE, IMAGE_SIZE, 3])
    if tf.random.uniform(()) > 0.5:
        stacked = tf.image.flip_left_right(stacked)
    return stacked[0], stacked[1]


def _blur3(image: tf.Tensor) -> tf.Tensor:
    """A 3×3 binomial blur of one (H, W, 3) float image, per channel."""
    k = tf.constant([1.0, 2.0, 1.0])
    kernel = tf.tensordot(k, k, axes=0) / 16.0
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, 3, 1])
    padded = tf.pad(image[None], [[0, 0], [1, 1], [1, 1], [0, 0]], "SYMMETRIC")  # no dark rim
    return tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")[0]


def vary_lines(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Make the line art look drawn by someone else; the color target is untouched.

    On uint8 (256, 256, 3): random line width (thicker or thinner), gray level (pencil instead of
    ink), a slight blur (a scan) and small breaks (gaps a person leaves), each on a share of the
    pairs, so the model does not learn one renderer's exact strokes.
    """
    x = tf.cast(sketch, tf.float32) / 255.0
    draw = tf.random.uniform((5,))
    x = tf.cond(  # thicker: a 3×3 min filter grows dark lines by a pixel
        draw[0] < 0.25, lambda: -tf.nn.max_pool2d(-x[None], 3, 1, "SAME")[0], lambda: x
    )
    x = tf.cond(  # thinner: blend toward the max filter, fading 1-px lines without erasing them
        (draw[0] > 0.85),
        lambda: 0.5 * (x + tf.nn.max_pool2d(x[None], 3, 1, "SAME")[0]),
        lambda: x,
    )
    gray = tf.random.uniform((), 0.45, 1.0)  # lines as dark as ink down to a light pencil
    x = tf.cond(draw[1] < 0.5, lambda: 1.0 - (1.0 - x) * gray, lambda: x)
    x = tf.cond(draw[2] < 0.3, lambda: _blur3(x), lambda: x)

    def breaks() -> tf.Tensor:
        holes = tf.random.uniform((1, 64, 64, 1)) > 0.985  # ≈ 60 gaps of 4 px
        holes = tf.image.resize(tf.cast(holes, tf.float32), tf.shape(x)[:2], "nearest")[0]
        return tf.maximum(x, holes)

    x = tf.cond(draw[3] < 0.3, breaks, lambda: x)
    return tf.cast(tf.clip_by_value(tf.round(x * 255.0), 0, 255), tf.uint8), color


HINT_MODES = (None, "empty", "sampled")


def add_hint_planes(mode: str):
    """A map function (sketch, color) → (sketch + 4 hint planes, color) for a hint model:
    ``"empty"`` adds zero planes (no hints), ``"sampled"`` dots sampled from the truth.
    """
    from training.hints import sampled_planes

    def empty(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        planes = tf.zeros([IMAGE_SIZE, IMAGE_SIZE, 4], tf.float32)
        return tf.concat([sketch, planes], axis=-1), color

    def sampled(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        seed = tf.random.uniform([2], 0, 2**31 - 1, tf.int64)
        planes = tf.numpy_function(sampled_planes, [sketch, color, seed], tf.float32, stateful=True)
        planes.set_shape([IMAGE_SIZE, IMAGE_SIZE, 4])
        return tf.concat([sketch, planes], axis=-1), color

    return {"empty": empty, "sampled": sampled}[mode]


def make_dataset(
    split: Split,
    batch_size: int,
    *,
    shuffle: bool,
    augment: bool = False,
    vary: bool = False,
    cache: bool = True,
    seed: int | None = None,
    hints: str | None = None,
) -> tf.data.Dataset:
    """Batches of (sketch, color) float32 [-1, 1]; decoded once and cached as uint8.

    ``hints``: None for a hint-less model (3 channels); ``"empty"`` or ``"sampled"`` for a hint
    model (7 channels: see :func:`add_hint_planes`).
    """
    if hints not in HINT_MODES:
        raise ValueError(f"hints must be one of {HINT_MODES}, not {hints!r}")
    autotune = tf.data.AUTOTUNE
    if split.pairs:
        ds = tf.data.Dataset.from_tensor_slices(list(split.pairs))
    else:
        ds = tf.data.Dataset.from_tensor_slices((list(split.sketches), list(split.colors)))
    if shuffle and not cache:
        # Shuffle the file names, not decoded images: a pass over a few batches (BatchNorm
        # calibration) then decodes only what it takes, and holds no split-sized buffer.
        ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(load_pair if split.pairs else load_separate, autotune)
    if cache:  # 256² uint8 pairs: 0.4 MB each, decoding 1024×512 PNGs every epoch costs more
        ds = ds.cache()
        if shuffle:
            ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    if augment:
        ds = ds.map(jitter, autotune)
    if vary:
        ds = ds.map(vary_lines, autotune)
    ds = ds.map(normalize, autotune)
    if hints is not None:
        ds = ds.map(add_hint_planes(hints), autotune)
    return ds.batch(batch_size).prefetch(autotune)
