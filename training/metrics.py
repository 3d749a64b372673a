"""Validation metrics, baselines, and the pictures a person looks at (sample grid, loss curve)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw

from inference.colorizer import to_pixels
from inference.quality import psnr_of_mse


def to_unit(x: tf.Tensor) -> tf.Tensor:
    """[-1, 1] → [0, 1]."""
    return (tf.cast(x, tf.float32) + 1.0) / 2.0


def evaluate(
    predict: Callable[[tf.Tensor], tf.Tensor], batches: Iterable[tuple[tf.Tensor, tf.Tensor]]
) -> dict[str, float]:
    """Mean L1 (on [-1, 1], as the loss), PSNR and SSIM (on [0, 1]) of ``predict`` over batches.

    PSNR is that of the whole set's mean squared error, not a mean of per-image PSNRs: a single
    perfect image (some OpenMoji pairs have color = sketch) would make the latter infinite.
    """
    l1, squared, ssim, n = 0.0, 0.0, 0.0, 0
    for sketch, color in batches:
        fake = tf.clip_by_value(tf.cast(predict(sketch), tf.float32), -1.0, 1.0)
        unit_fake, unit_color = to_unit(fake), to_unit(color)
        l1 += float(tf.reduce_sum(tf.reduce_mean(tf.abs(fake - color), axis=[1, 2, 3])))
        squared += float(tf.reduce_sum(tf.reduce_mean((unit_fake - unit_color) ** 2, [1, 2, 3])))
        ssim += float(tf.reduce_sum(tf.image.ssim(unit_fake, unit_color, 1.0)))
        n += int(sketch.shape[0])
    if n == 0:
        raise ValueError("no validation images")
    return {"l1": l1 / n, "psnr": psnr_of_mse(squared / n), "ssim": ssim / n}


def colorizer_predict(
    generator: object, style: str | None = None
) -> Callable[[tf.Tensor], tf.Tensor]:
    """The full inference path (``inference.Colorizer``) as a batch predict function.

    ``style``: "cel" or "soft" (None = the Colorizer's default).
    """
    from inference.colorizer import Colorizer
    from inference.engine import KerasEngine

    colorizer = Colorizer(KerasEngine(generator))

    def predict(sketch: tf.Tensor) -> tf.Tensor:
        pixels = ((sketch.numpy() + 1.0) * 127.5 + 0.5).astype(np.uint8)
        results = colorizer.colorize_many([Image.fromarray(p, "RGB") for p in pixels], style=style)
        out = [np.asarray(r.image, np.float32) / 127.5 - 1.0 for r in results]
        return tf.constant(np.stack(out))

    return predict


def mean_color(batches: Iterable[tuple[tf.Tensor, tf.Tensor]]) -> np.ndarray:
    """The training set's mean color in [0, 1], per RGB channel."""
    total, n = np.zeros(3), 0
    for _, color in batches:
        total += to_unit(color).numpy().reshape(-1, 3).sum(axis=0)
        n += int(np.prod(color.shape[:3]))
    return total / max(n, 1)


def tint_baseline(tint: np.ndarray) -> Callable[[tf.Tensor], tf.Tensor]:
    """Baseline: the sketch multiplied by the mean color (white paper becomes that color)."""
    tint_t = tf.constant(tint, tf.float32)
    return lambda sketch: to_unit(sketch) * tint_t * 2.0 - 1.0


def identity_baseline(sketch: tf.Tensor) -> tf.Tensor:
    """Baseline: the sketch itself, uncolored."""
    return sketch


def sample_grid(rows: list[tuple[np.ndarray, ...]], path: Path) -> Path:
    """Save rows of (sketch | generated | truth) (or more columns), each 256² in [-1, 1], as one
    PNG."""
    size = 256
    columns = max(len(row) for row in rows)
    grid = Image.new("RGB", (columns * size, len(rows) * size), "white")
    for r, images in enumerate(rows):
        for c, img in enumerate(images):
            grid.paste(Image.fromarray(to_pixels(img), "RGB"), (c * size, r * size))
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path, optimize=True)
    return path


def loss_curve(
    history: dict[str, list[float]], path: Path, size: tuple[int, int] = (720, 400)
) -> Path:
    """A plain line chart of each loss (normalised to its own maximum) against the step."""
    colors = ["#d1495b", "#00798c", "#edae49", "#30638e", "#66a182"]
    w, h = size
    pad = 40
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([pad, pad, w - pad, h - pad], outline="#888888")
    for i, (name, values) in enumerate(sorted(history.items())):
        if len(values) < 2:
            continue
        top = max(max(values), 1e-12)
        pts = [
            (pad + (w - 2 * pad) * j / (len(values) - 1), h - pad - (h - 2 * pad) * v / top)
            for j, v in enumerate(values)
        ]
        color = colors[i % len(colors)]
        draw.line(pts, fill=color, width=2)
        draw.text((pad + 10, 8 + 14 * i), f"{name} (max {top:.3g})", fill=color)
    draw.text((w - pad - 60, h - pad + 8), "step →", fill="#444444")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
