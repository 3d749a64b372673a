"""Any sketch in, a colored image out: pre-processing, the model, and full-resolution output.

The model sees 256×256 RGB in [-1, 1]. What comes back to a person is the input's size (long side
capped) with the artist's own lines on top: the model's colors are upscaled without their lines
(the *color layer*) and the full-resolution sketch is multiplied over them, the way a colorist
puts line art on a multiply layer. So lines stay as crisp as the input, not a 256 px blur.

Two styles of color layer:
- ``"soft"``: the model's colors, lines removed and speckle cleared, upscaled smoothly.
- ``"cel"``: flat fills, the way anime is colored: the sketch is cut into the regions its lines
  enclose (:mod:`inference.regions`, lines found relative to the paper) and each region gets
  one color from the model's colors in it; the paper stays white (:mod:`inference.cel`).

All image work is OpenCV on uint8 arrays (C, vectorised), not per-pixel Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image

from inference.cel import cel_layer
from inference.engine import Engine, Precision, load_engine
from inference.errors import HintsError, HintsProblem
from inference.hint_fill import paint_hints
from inference.hints import Hint, HintLike, as_hints, hint_planes, to_model
from inference.images import SketchSource, open_sketch
from inference.regions import LineArt, find_lines, segment

MODEL_SIZE = 256
DEFAULT_MAX_SIDE = 2048
# Model pixels darker than this in the sketch are line art, not color.
LINE_THRESHOLD = 0.78

Style = Literal["cel", "soft"]
STYLES: tuple[Style, ...] = ("cel", "soft")
DEFAULT_STYLE: Style = "cel"


@dataclass(frozen=True)
class Prepared:
    """A sketch ready for the model, with what is needed to build the full-size result.

    ``lines`` and ``regions`` are at the output size (H, W); ``fills`` (see
    :func:`inference.regions.segment`) at the segmentation's working size, which scales up to
    (H, W) by nearest neighbour.
    """

    model_input: np.ndarray  # (256, 256, 3) float32 in [-1, 1]; (256, 256, 7) with hint planes
    box: tuple[int, int, int, int]  # where the sketch sits inside the 256² square
    model_lines: np.ndarray  # uint8 (256, 256): 1 where the model sees line art (a pixel wider)
    lines: np.ndarray  # uint8 (H, W), 255 = paper
    regions: np.ndarray  # int32 (H, W), 0 = line, 1..N regions
    fills: np.ndarray  # int32, every pixel (lines too) its nearest region's id; 0 = none
    count: int  # regions: ids are 1..count
    hints: tuple[Hint, ...] = ()  # color hints in output pixels (x, y in [0, W) × [0, H))
    paper: int = 0  # the paper's region id (around the figure, touching the border); 0 = none

    @property
    def size(self) -> tuple[int, int]:
        """Output (width, height)."""
        return self.lines.shape[1], self.lines.shape[0]


@dataclass(frozen=True, eq=False)
class Colorized:
    """A colorized sketch; every image but ``raw`` is at the output size W×H.

    - ``image``: RGB, what a person gets: ``layer × lines / 255`` per channel, rounded.
    - ``layer``: RGB, the color layer under the line art (flat per region for style "cel").
    - ``lines``: mode "L" line art, 0..255, 255 = paper (the sketch's luminance with the paper's
      tone lifted to white); it multiplies over ``layer``.
    - ``regions``: int32 numpy array (H, W): 0 = line pixels (or unassigned), 1..N = the regions
      the sketch's lines enclose (trapped-ball fill; ids by decreasing area). Present for both
      styles. In a "cel" layer a region is one color, and a line pixel has the color of the
      nearest region.
    - ``raw``: RGB 256², the model's output as is (the sketch letterboxed on white).
    - ``style``: "cel" or "soft", the style ``layer`` was built in.

    The pictures are kept as uint8 numpy arrays (``*_array``: (H, W, 3) RGB, ``lines_array``
    (H, W)) and become PIL images when first asked for: most callers need one of them.
    """

    image_array: np.ndarray = field(repr=False)
    layer_array: np.ndarray = field(repr=False)
    lines_array: np.ndarray = field(repr=False)
    raw_array: np.ndarray = field(repr=False)
    regions: np.ndarray = field(repr=False)
    style: Style = DEFAULT_STYLE

    @property
    def nbytes(self) -> int:
        """Memory this result may hold: its arrays, and Pillow's copies of ``image`` and
        ``layer`` (4 bytes a pixel) once they are made."""
        arrays = (self.image_array, self.layer_array, self.lines_array, self.raw_array)
        return sum(a.nbytes for a in arrays) + self.regions.nbytes + 8 * self.regions.size

    @cached_property
    def image(self) -> Image.Image:
        """The result, RGB."""
        return Image.fromarray(self.image_array)

    @cached_property
    def layer(self) -> Image.Image:
        """The color layer, RGB."""
        return Image.fromarray(self.layer_array)

    @cached_property
    def lines(self) -> Image.Image:
        """The line art, mode "L", 255 = paper."""
        return Image.fromarray(self.lines_array)

    @cached_property
    def raw(self) -> Image.Image:
        """The model's 256² output, RGB."""
        return Image.fromarray(self.raw_array)


class Colorizer:
    """Colorizes sketches with one engine; thread-safe for ``prepare``/``finish``."""

    def __init__(
        self, engine: Engine, *, max_side: int = DEFAULT_MAX_SIDE, style: Style = DEFAULT_STYLE
    ) -> None:
        if max_side < 16:
            raise ValueError(f"max_side must be at least 16 pixels, got {max_side}")
        self.engine = engine
        self.max_side = max_side
        self.style = _check_style(style)

    @classmethod
    def load(
        cls,
        weights: str | Path | None = None,
        *,
        threads: int | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
        backend: str = "onnx",
        style: Style = DEFAULT_STYLE,
        precision: Precision = "fp32",
        cache_dir: str | Path | None = None,
    ) -> Colorizer:
        """Load ``weights`` (None = the bundled ones); raises :class:`WeightsError`.

        ``precision="int8"`` runs a quantized copy (made once, cached beside the ONNX model):
        about twice as fast for the full-size generator, no gain for small ones. ``cache_dir``
        holds ONNX exports (None: ``~/.cache/pixelpainter``). Front ends build it from their
        settings with :func:`inference.settings.load_colorizer`.
        """
        engine = load_engine(
            weights, threads=threads, backend=backend, precision=precision, cache=cache_dir
        )
        return cls(engine, max_side=max_side, style=style)

    @property
    def takes_hints(self) -> bool:
        """Whether the model reads color hints (a 7-channel generator)."""
        return getattr(self.engine, "input_channels", 3) > 3

    def warm_up(self) -> None:
        """Run the model once so the first person does not pay for lazy initialisation."""
        channels = getattr(self.engine, "input_channels", 3)
        self.engine.predict(np.zeros((1, MODEL_SIZE, MODEL_SIZE, channels), np.float32))

    def colorize(
        self,
        source: SketchSource,
        *,
        style: Style | None = None,
        hints: Sequence[HintLike] | None = None,
    ) -> Colorized:
        """Colorize one sketch; raises :class:`SketchError` for unusable input.

        ``hints``: color hints ``(x, y, (r, g, b))`` (or :class:`Hint`) in the sketch's own
        pixels, for a model that takes them (:attr:`takes_hints`); else :class:`HintsError`.
        """
        return self.run([self.prepare(source, hints=hints)], style=style)[0]

    def colorize_many(
        self, sources: list[SketchSource], *, style: Style | None = None
    ) -> list[Colorized]:
        """Colorize several sketches in one model call."""
        return self.run([self.prepare(s) for s in sources], style=style)

    def run(self, prepared: list[Prepared], *, style: Style | None = None) -> list[Colorized]:
        """One model call for already prepared sketches, then their full-size results."""
        outputs = self.engine.predict(np.stack([p.model_input for p in prepared]))
        return [self.finish(p, out, style=style) for p, out in zip(prepared, outputs, strict=True)]

    def prepare(self, source: SketchSource, *, hints: Sequence[HintLike] | None = None) -> Prepared:
        """Decode and resize: the letterboxed 256² model input (with its hint planes for a
        hint model), the line art and its regions. Raises :class:`SketchError` and
        :class:`HintsError`."""
        checked = as_hints(hints)
        if checked and not self.takes_hints:
            raise HintsError(
                "this model takes no color hints (it was trained without them)",
                reason=HintsProblem.NOT_ACCEPTED,
            )
        img = open_sketch(source, max_side=self.max_side)
        source_size = img.info.get("source_size", img.size)
        rgb = np.asarray(img)
        h, w = rgb.shape[:2]
        if max(w, h) > self.max_side:
            k = self.max_side / max(w, h)
            rgb = _resize(rgb, (max(1, round(w * k)), max(1, round(h * k))))
        model_input, box, found = sketch_input(rgb)
        # Hints come in the sketch's own pixels; the output may be smaller (max_side, draft).
        out_size = (rgb.shape[1], rgb.shape[0])
        scaled = to_model(checked, source_size, (0, 0, *out_size))
        if self.takes_hints:
            planes = hint_planes(to_model(scaled, out_size, box))
            model_input = np.concatenate([model_input, planes], axis=2)
        # The model's lines bleed a pixel wider than the sketch's, hence the dilation.
        dark = (model_input[..., :3].mean(axis=2) + 1.0) / 2.0 < LINE_THRESHOLD
        model_lines = cv2.dilate(dark.view(np.uint8), np.ones((3, 3), np.uint8))
        regions, fills, paper = segment(found.mask)
        count = int(fills.max()) if fills.size else 0
        return Prepared(
            model_input,
            box,
            model_lines,
            found.lines,
            regions,
            fills,
            count,
            hints=tuple(scaled),
            paper=paper,
        )

    def finish(
        self, prepared: Prepared, output: np.ndarray, *, style: Style | None = None
    ) -> Colorized:
        """Build the full-size image and color layer from the model's 256² output."""
        style = self.style if style is None else _check_style(style)
        rgb = to_pixels(output)
        left, top, right, bottom = prepared.box
        soft = _soft_colors(rgb, prepared.model_lines)[top:bottom, left:right]
        layer = cv2.resize(soft, prepared.size, interpolation=cv2.INTER_CUBIC)
        if style == "cel":
            # Hints decide their regions' colors outright (the model only spreads them in soft).
            layer = paint_hints(cel_layer(layer, soft, prepared), prepared)
        lines = cv2.cvtColor(prepared.lines, cv2.COLOR_GRAY2RGB)
        return Colorized(
            image_array=cv2.multiply(layer, lines, scale=1.0 / 255.0),
            layer_array=layer,
            lines_array=prepared.lines,
            raw_array=rgb,
            regions=prepared.regions,
            style=style,
        )


def to_pixels(image: np.ndarray) -> np.ndarray:
    """An image in the model's range [-1, 1] (the model's output) as uint8 0..255: clipped,
    rounded to the nearest level."""
    return ((np.clip(image, -1.0, 1.0) + 1.0) * 127.5 + 0.5).astype(np.uint8)


def sketch_input(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int], LineArt]:
    """What the model sees of a uint8 RGB sketch (H, W, 3): (the (256, 256, 3) float32 input in
    [-1, 1], its box as :func:`letterbox` gives it, the sketch's :class:`LineArt`)."""
    found = find_lines(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    # The lines on white, the darkest black: faint pencil, a gray page and a scan's yellow are
    # not what the model was trained on; the lines' shapes are.
    model_input, box = letterbox(found.model)
    return model_input, box, found


def letterbox(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The model input for uint8 RGB (H, W, 3) or gray (H, W): (256, 256, 3) float32 in [-1, 1],
    and the box (left, top, right, bottom) the sketch fills inside that square."""
    h, w = rgb.shape[:2]
    # Letterbox on white rather than squash: the model was trained on square, undistorted
    # drawings, and a stretched face gets worse colors than a smaller one.
    k = MODEL_SIZE / max(w, h)
    inner = (max(1, round(w * k)), max(1, round(h * k)))
    left, top = (MODEL_SIZE - inner[0]) // 2, (MODEL_SIZE - inner[1]) // 2
    square = np.full((MODEL_SIZE, MODEL_SIZE, 3), 255, np.uint8)
    inside = _resize(rgb, inner)
    square[top : top + inner[1], left : left + inner[0]] = inside.reshape(*inside.shape[:2], -1)
    model_input = square.astype(np.float32) / 127.5 - 1.0
    return model_input, (left, top, left + inner[0], top + inner[1])


def _check_style(style: str) -> Style:
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    return style  # type: ignore[return-value]


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (width, height): area averaging when shrinking (no aliasing), else bicubic."""
    if size == (rgb.shape[1], rgb.shape[0]):
        return rgb
    shrink = size[0] <= rgb.shape[1] and size[1] <= rgb.shape[0]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _soft_colors(rgb: np.ndarray, model_lines: np.ndarray) -> np.ndarray:
    """The model's colors with its line pixels replaced by the brightest nearby color."""
    colors = rgb.copy()
    cv2.copyTo(cv2.dilate(rgb, np.ones((5, 5), np.uint8)), model_lines, colors)
    # A GAN leaves speckle in flat fills; a median keeps fill edges and clears it
    # (val SSIM of the bundled model's output 0.896 → 0.913, see inference/assets/model_card.json).
    return median7(colors)


# An optimal sorting network for 7 values (16 compare-exchanges; checked by the 0-1 principle).
_SORT7 = ((0, 6), (2, 3), (4, 5), (0, 2), (1, 4), (3, 6), (0, 1), (2, 5), (3, 4), (1, 2))
_SORT7 += ((4, 6), (2, 3), (4, 5), (1, 2), (3, 4), (5, 6))


def median7(a: np.ndarray) -> np.ndarray:
    """Separable median over 7 pixels along each axis (rows, then columns); edges repeat.

    OpenCV's ``medianBlur`` is a 2D square median; this keeps the separable filter the model
    card's numbers were measured with, as a sorting network on whole arrays.
    """
    out = a
    for axis in (0, 1):
        pad = [(3, 3) if i == axis else (0, 0) for i in range(a.ndim)]
        padded = np.pad(out, pad, "edge")
        n = a.shape[axis]
        v = [padded[s : s + n] if axis == 0 else padded[:, s : s + n] for s in range(7)]
        for i, j in _SORT7:
            v[i], v[j] = np.minimum(v[i], v[j]), np.maximum(v[i], v[j])
        out = v[3]
    return out
