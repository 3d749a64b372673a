"""Any sketch in, a colored image out: pre-processing, the model, and full-resolution output.

The model sees 256×256 RGB in [-1, 1]. What comes back to a person is the input's size (long side
capped) with the artist's own lines on top: the model's colors are upscaled without their lines
(the *color layer*) and the full-resolution sketch is multiplied over them, the way a colorist
puts line art on a multiply layer. So lines stay as crisp as the input, not a 256 px blur.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from inference.engine import Engine, load_engine
from inference.images import SketchSource, open_sketch

MODEL_SIZE = 256
DEFAULT_MAX_SIDE = 2048
# Model pixels darker than this in the sketch are line art, not color.
LINE_THRESHOLD = 0.78


@dataclass(frozen=True)
class Prepared:
    """A sketch ready for the model, with what is needed to build the full-size result."""

    sketch: Image.Image  # RGB at the output size
    model_input: np.ndarray  # (256, 256, 3) float32 in [-1, 1]
    box: tuple[int, int, int, int]  # where the sketch sits inside the 256² square


@dataclass(frozen=True)
class Colorized:
    """A result: ``image`` and ``layer`` at the output size, ``raw`` the model's 256² output."""

    image: Image.Image
    raw: Image.Image
    layer: Image.Image


class Colorizer:
    """Colorizes sketches with one engine; thread-safe for ``prepare``/``finish``."""

    def __init__(self, engine: Engine, *, max_side: int = DEFAULT_MAX_SIDE) -> None:
        if max_side < 16:
            raise ValueError(f"max_side must be at least 16 pixels, got {max_side}")
        self.engine = engine
        self.max_side = max_side

    @classmethod
    def load(
        cls,
        weights: str | Path | None = None,
        *,
        threads: int | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
        backend: str = "onnx",
    ) -> Colorizer:
        """Load ``weights`` (None = the bundled ones); raises :class:`WeightsError`."""
        return cls(load_engine(weights, threads=threads, backend=backend), max_side=max_side)

    def warm_up(self) -> None:
        """Run the model once so the first person does not pay for lazy initialisation."""
        self.engine.predict(np.zeros((1, MODEL_SIZE, MODEL_SIZE, 3), np.float32))

    def colorize(self, source: SketchSource) -> Colorized:
        """Colorize one sketch; raises :class:`SketchError` for unusable input."""
        return self.colorize_many([source])[0]

    def colorize_many(self, sources: list[SketchSource]) -> list[Colorized]:
        """Colorize several sketches in one model call."""
        return self.run([self.prepare(s) for s in sources])

    def run(self, prepared: list[Prepared]) -> list[Colorized]:
        """One model call for already prepared sketches, then their full-size results."""
        outputs = self.engine.predict(np.stack([p.model_input for p in prepared]))
        return [self.finish(p, out) for p, out in zip(prepared, outputs, strict=True)]

    def prepare(self, source: SketchSource) -> Prepared:
        """Decode and resize: the output-size sketch and the letterboxed 256² model input."""
        sketch = open_sketch(source, max_side=self.max_side)
        scale = min(1.0, self.max_side / max(sketch.size))
        if scale < 1.0:
            size = (max(1, round(sketch.width * scale)), max(1, round(sketch.height * scale)))
            sketch = sketch.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        # Letterbox on white rather than squash: the model was trained on square, undistorted
        # drawings, and a stretched face gets worse colors than a smaller one.
        w, h = sketch.size
        k = MODEL_SIZE / max(w, h)
        inner = (max(1, round(w * k)), max(1, round(h * k)))
        left, top = (MODEL_SIZE - inner[0]) // 2, (MODEL_SIZE - inner[1]) // 2
        square = Image.new("RGB", (MODEL_SIZE, MODEL_SIZE), (255, 255, 255))
        square.paste(sketch.resize(inner, Image.Resampling.BICUBIC, reducing_gap=2.0), (left, top))
        model_input = np.asarray(square, np.float32) / 127.5 - 1.0
        return Prepared(sketch, model_input, (left, top, left + inner[0], top + inner[1]))

    def finish(self, prepared: Prepared, output: np.ndarray) -> Colorized:
        """Build the full-size image and color layer from the model's 256² output."""
        rgb = ((np.clip(output, -1.0, 1.0) + 1.0) * 127.5 + 0.5).astype(np.uint8)
        raw = Image.fromarray(rgb, "RGB")
        layer_256 = _remove_lines(rgb, prepared.model_input).crop(prepared.box)
        layer = layer_256.resize(prepared.sketch.size, Image.Resampling.BICUBIC)
        image = _multiply(layer, _line_art(prepared.sketch))
        return Colorized(image=image, raw=raw, layer=layer)


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
