"""The colorizer's soft output as it was before OpenCV (commit 75ce4dc), kept as a reference.

# Copied from inference/colorizer.py at 75ce4dc (pure PIL/numpy). Tests compare today's soft
# style against it within a small tolerance; do not "fix" it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from inference.images import open_sketch

MODEL_SIZE = 256
MAX_SIDE = 2048
LINE_THRESHOLD = 0.78


def legacy_prepare(source, max_side: int = MAX_SIDE):
    """(sketch at output size, (256, 256, 3) model input in [-1, 1], box)."""
    sketch = open_sketch(source, max_side=max_side)
    scale = min(1.0, max_side / max(sketch.size))
    if scale < 1.0:
        size = (max(1, round(sketch.width * scale)), max(1, round(sketch.height * scale)))
        sketch = sketch.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    w, h = sketch.size
    k = MODEL_SIZE / max(w, h)
    inner = (max(1, round(w * k)), max(1, round(h * k)))
    left, top = (MODEL_SIZE - inner[0]) // 2, (MODEL_SIZE - inner[1]) // 2
    square = Image.new("RGB", (MODEL_SIZE, MODEL_SIZE), (255, 255, 255))
    square.paste(sketch.resize(inner, Image.Resampling.BICUBIC, reducing_gap=2.0), (left, top))
    model_input = np.asarray(square, np.float32) / 127.5 - 1.0
    return sketch, model_input, (left, top, left + inner[0], top + inner[1])


def legacy_finish(sketch, model_input, box, output):
    """(image, layer) at the sketch's size, exactly as the pre-OpenCV colorizer built them."""
    rgb = ((np.clip(output, -1.0, 1.0) + 1.0) * 127.5 + 0.5).astype(np.uint8)
    layer_256 = _remove_lines(rgb, model_input).crop(box)
    layer = layer_256.resize(sketch.size, Image.Resampling.BICUBIC)
    return _multiply(layer, _line_art(sketch)), layer


def _remove_lines(rgb: np.ndarray, model_input: np.ndarray) -> Image.Image:
    """The model's colors with its dark line pixels replaced by the brightest nearby color."""
    lines = (model_input.mean(axis=2) + 1.0) / 2.0 < LINE_THRESHOLD
    lines = _max_filter(lines, 1)  # the model's lines bleed a pixel wider than the sketch's
    filled = _max_filter(rgb, 2)
    colors = np.where(lines[:, :, None], filled, rgb)
    # A GAN leaves speckle in flat fills; a median keeps fill edges and clears it
    # (val SSIM of the bundled model's output 0.896 → 0.913, see inference/assets/model_card.json).
    return Image.fromarray(_median_filter(colors, 3), "RGB")


def _max_filter(a: np.ndarray, radius: int) -> np.ndarray:
    """Maximum over a (2·radius+1)² square, per channel; separable, edges repeat."""
    out = a
    for axis in (0, 1):
        padded = np.pad(
            out, [(radius, radius) if i == axis else (0, 0) for i in range(a.ndim)], "edge"
        )
        n = a.shape[axis]
        out = padded.take(range(n), axis=axis)
        for shift in range(1, 2 * radius + 1):
            out = np.maximum(out, padded.take(range(shift, shift + n), axis=axis))
    return out


def _median_filter(a: np.ndarray, radius: int) -> np.ndarray:
    """Separable median over (2·radius+1) pixels along each axis, per channel; edges repeat."""
    out = a
    for axis in (0, 1):
        pad = [(radius, radius) if i == axis else (0, 0) for i in range(a.ndim)]
        padded = np.pad(out, pad, "edge")
        n = a.shape[axis]
        window = np.stack([padded.take(range(s, s + n), axis=axis) for s in range(2 * radius + 1)])
        out = np.partition(window, radius, axis=0)[radius]
    return out


def _line_art(sketch: Image.Image) -> np.ndarray:
    """The sketch's luminance in [0, 1] with the paper's tone lifted to white."""
    gray = np.asarray(sketch.convert("L"), np.float32)
    paper = max(float(np.percentile(gray[::4, ::4], 90)), 128.0)
    return np.minimum(gray / paper, 1.0)


def _multiply(layer: Image.Image, lines: np.ndarray) -> Image.Image:
    out = np.asarray(layer, np.float32) * lines[:, :, None]
    return Image.fromarray((out + 0.5).astype(np.uint8), "RGB")
