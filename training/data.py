"""Paired sketch/color data as a ``tf.data`` pipeline (the TensorFlow backend's input).

Which files a dataset holds, and their checks, are :mod:`training.splits`; the augmentations are
:mod:`training.augment` (NumPy, shared with the PyTorch pipeline of :mod:`training.torch_trainer`).

Everything the model sees is RGB 256×256 float32 in [-1, 1]; a hint model's input has the 4
hint planes of :mod:`inference.hints` beside the sketch (sampled from the truth in training, see
:mod:`training.hints`; empty for validation without hints).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from training import augment
from training.splits import (  # noqa: F401  (re-exported: the names callers know)
    IMAGE_SIZE,
    IMAGE_SUFFIXES,
    LAYOUTS,
    DataError,
    Split,
    scan_dataset,
    scan_split,
)


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


def _seed() -> tf.Tensor:
    """A fresh seed per element for the NumPy augmentations (tf.data's own random stream)."""
    return tf.random.uniform([2], 0, 2**31 - 1, tf.int64)


def _rng(seed: np.ndarray) -> np.random.Generator:
    return np.random.default_rng(np.asarray(seed).tolist())


def jitter(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """:func:`training.augment.jitter` (286 px, random 256 crop, mirror) on uint8 tensors."""

    def run(s: np.ndarray, c: np.ndarray, seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return augment.jitter(s, c, _rng(seed))

    out_sketch, out_color = tf.numpy_function(
        run, [sketch, color, _seed()], [tf.uint8, tf.uint8], stateful=True
    )
    out_sketch.set_shape([IMAGE_SIZE, IMAGE_SIZE, 3])
    out_color.set_shape([IMAGE_SIZE, IMAGE_SIZE, 3])
    return out_sketch, out_color


def vary_lines(sketch: tf.Tensor, color: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """:func:`training.augment.vary_lines` on a uint8 sketch tensor; the color is untouched."""

    def run(s: np.ndarray, seed: np.ndarray) -> np.ndarray:
        return augment.vary_lines(s, _rng(seed))

    out = tf.numpy_function(run, [sketch, _seed()], tf.uint8, stateful=True)
    out.set_shape(sketch.shape)
    return out, color


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
        seed = _seed()
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
