"""Training augmentations on one uint8 (256, 256, 3) pair, in NumPy and OpenCV.

The one implementation of each: the ``tf.data`` pipeline (:mod:`training.data`) runs them through
``tf.numpy_function``, the PyTorch pipeline (:mod:`training.torch_trainer`) in its loader
workers. Every random choice comes from the ``numpy.random.Generator`` passed in, so a pair's
augmentation is reproducible from its seed.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.architecture import IMAGE_SIZE

JITTER_SIZE = 286  # pix2pix: upscale to 286, crop a random 256
_SQUARE = np.ones((3, 3), np.uint8)
_BINOMIAL = np.array([1.0, 2.0, 1.0], np.float32) / 4.0


def jitter(
    sketch: np.ndarray, color: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """pix2pix augmentation: upscale to 286 (nearest), a random 256 crop and a random mirror,
    the same for both halves."""
    stacked = np.concatenate([sketch, color], axis=-1)
    big = cv2.resize(stacked, (JITTER_SIZE, JITTER_SIZE), interpolation=cv2.INTER_NEAREST)
    y, x = (int(v) for v in rng.integers(0, JITTER_SIZE - IMAGE_SIZE + 1, size=2))
    crop = big[y : y + IMAGE_SIZE, x : x + IMAGE_SIZE]
    if rng.random() > 0.5:
        crop = crop[:, ::-1]
    crop = np.ascontiguousarray(crop)
    return crop[..., :3], crop[..., 3:]


def vary_lines(sketch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make the line art look drawn by someone else (the color target is not touched).

    Random line width (thicker or thinner), gray level (pencil instead of ink), a slight blur (a
    scan) and small breaks (gaps a person leaves), each on a share of the pairs, so the model
    does not learn one renderer's exact strokes. uint8 (H, W, 3) in, uint8 out.
    """
    x = sketch.astype(np.float32) / 255.0
    draw = rng.random(4)
    if draw[0] < 0.25:  # thicker: a 3×3 min filter grows dark lines by a pixel
        x = cv2.erode(x, _SQUARE)
    elif draw[0] > 0.85:  # thinner: blend toward the max filter, fading 1-px lines
        x = 0.5 * (x + cv2.dilate(x, _SQUARE))
    gray = rng.uniform(0.45, 1.0)  # lines as dark as ink down to a light pencil
    if draw[1] < 0.5:
        x = 1.0 - (1.0 - x) * gray
    if draw[2] < 0.3:  # a 3×3 binomial blur; mirrored border, so no dark rim
        x = cv2.sepFilter2D(x, -1, _BINOMIAL, _BINOMIAL, borderType=cv2.BORDER_REFLECT)
    if draw[3] < 0.3:  # ≈ 60 gaps of 4 px at 256²
        holes = (rng.random((64, 64)) > 0.985).astype(np.float32)
        holes = cv2.resize(holes, x.shape[1::-1], interpolation=cv2.INTER_NEAREST)
        x = np.maximum(x, holes[..., None])
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
