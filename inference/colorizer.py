"""Any sketch in, a colored image out: pre-processing, the model, and full-resolution output.

The model sees 256×256 RGB in [-1, 1]. What comes back to a person is the input's size (long side
capped) with the artist's own lines on top: the model's colors are upscaled without their lines
(the *color layer*) and the full-resolution sketch is multiplied over them, the way a colorist
puts line art on a multiply layer. So lines stay as crisp as the input, not a 256 px blur.

Two styles of color layer:
- ``"soft"``: the model's colors, lines removed and speckle cleared, upscaled smoothly.
- ``"cel"``: flat fills, the way anime is colored: the sketch is cut into the regions its lines
  enclose (:mod:`inference.regions`) and each region gets the median of the model's colors in
  it. Regions too small to have a reliable color (hatching, specks) and regions whose colors
  disagree keep the soft colors.

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

from inference.engine import Engine, Precision, load_engine
from inference.errors import HintsError
from inference.hints import Hint, HintLike, as_hints, hint_planes, to_model
from inference.images import SketchSource, open_sketch
from inference.regions import line_art, paper_level, segment

MODEL_SIZE = 256
DEFAULT_MAX_SIDE = 2048
# Model pixels darker than this in the sketch are line art, not color.
LINE_THRESHOLD = 0.78

Style = Literal["cel", "soft"]
STYLES: tuple[Style, ...] = ("cel", "soft")
DEFAULT_STYLE: Style = "cel"
# A region is filled flat when it has at least this many model pixels to take the median of,
# and they are at least this share of its pixels (the rest are on the model's lines)...
MIN_CEL_SAMPLES = 12
MIN_CEL_OPEN = 0.3
# ...and no more than this share of them is far (> CEL_SPREAD levels) from that median: a
# region the model paints in several colors (a leak through a wide gap) stays soft.
MAX_CEL_OUTLIERS = 0.4
# Pixels this far from their region's color keep the soft color (fully at twice this). On val
# (mix, 256 pairs, an early width-16 checkpoint) 96 beat 48 (+0.33 dB, +0.019 SSIM); with no
# such fallback PSNR was 0.01 dB lower, and a face that leaked into the paper turned white.
CEL_SPREAD = 96
_SOFT = 0xFF00_0000  # palette entry: "use the soft color here"


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
            raise HintsError("this model takes no color hints (it was trained without them)")
        img = open_sketch(source, max_side=self.max_side)
        source_size = img.info.get("source_size", img.size)
        rgb = np.asarray(img)
        h, w = rgb.shape[:2]
        if max(w, h) > self.max_side:
            k = self.max_side / max(w, h)
            rgb = _resize(rgb, (max(1, round(w * k)), max(1, round(h * k))))
        model_input, box = letterbox(rgb)
        # Hints come in the sketch's own pixels; the output may be smaller (max_side, draft).
        out_size = (rgb.shape[1], rgb.shape[0])
        scaled = to_model(checked, source_size, (0, 0, *out_size))
        if self.takes_hints:
            planes = hint_planes(to_model(scaled, out_size, box))
            model_input = np.concatenate([model_input, planes], axis=2)
        # The model's lines bleed a pixel wider than the sketch's, hence the dilation.
        dark = (model_input[..., :3].mean(axis=2) + 1.0) / 2.0 < LINE_THRESHOLD
        model_lines = cv2.dilate(dark.view(np.uint8), np.ones((3, 3), np.uint8))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        lines = line_art(gray, paper_level(gray))
        regions, fills = segment(lines)
        count = int(fills.max()) if fills.size else 0
        return Prepared(model_input, box, model_lines, lines, regions, fills, count, tuple(scaled))

    def finish(
        self, prepared: Prepared, output: np.ndarray, *, style: Style | None = None
    ) -> Colorized:
        """Build the full-size image and color layer from the model's 256² output."""
        style = self.style if style is None else _check_style(style)
        rgb = ((np.clip(output, -1.0, 1.0) + 1.0) * 127.5 + 0.5).astype(np.uint8)
        left, top, right, bottom = prepared.box
        soft = _soft_colors(rgb, prepared.model_lines)[top:bottom, left:right]
        layer = cv2.resize(soft, prepared.size, interpolation=cv2.INTER_CUBIC)
        if style == "cel":
            layer = _cel_layer(layer, soft, prepared)
        lines = cv2.cvtColor(prepared.lines, cv2.COLOR_GRAY2RGB)
        return Colorized(
            image_array=cv2.multiply(layer, lines, scale=1.0 / 255.0),
            layer_array=layer,
            lines_array=prepared.lines,
            raw_array=rgb,
            regions=prepared.regions,
            style=style,
        )


def letterbox(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The model input for uint8 RGB (H, W, 3): (256, 256, 3) float32 in [-1, 1], and the box
    (left, top, right, bottom) the sketch fills inside that square."""
    h, w = rgb.shape[:2]
    # Letterbox on white rather than squash: the model was trained on square, undistorted
    # drawings, and a stretched face gets worse colors than a smaller one.
    k = MODEL_SIZE / max(w, h)
    inner = (max(1, round(w * k)), max(1, round(h * k)))
    left, top = (MODEL_SIZE - inner[0]) // 2, (MODEL_SIZE - inner[1]) // 2
    square = np.full((MODEL_SIZE, MODEL_SIZE, 3), 255, np.uint8)
    square[top : top + inner[1], left : left + inner[0]] = _resize(rgb, inner)
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


def _cel_layer(soft_layer: np.ndarray, soft: np.ndarray, prepared: Prepared) -> np.ndarray:
    """The cel color layer: each flat region its median color, the rest ``soft_layer``.

    Colors are sampled at the model's resolution (``soft``: the crop of the 256² colors, lines
    removed), skipping the model's line pixels, whose color is a guess from their neighbours.
    Where the model's color strays far from its region's median (a region that leaked through a
    wide gap into a differently colored area), the soft color is kept, blended in smoothly.
    """
    h, w = soft.shape[:2]
    left, top, right, bottom = prepared.box
    paper = np.ascontiguousarray(prepared.model_lines[top:bottom, left:right] == 0)
    everywhere = cv2.resize(prepared.regions, (w, h), interpolation=cv2.INTER_NEAREST)
    regions = cv2.copyTo(everywhere, paper.view(np.uint8))
    palette = _cel_palette(soft, regions, prepared.count + 1)
    # Hatching and thin strips: regions the model mostly sees as line keep the soft colors.
    size = np.bincount(everywhere.ravel(), minlength=prepared.count + 1)
    samples = np.bincount(regions.ravel(), minlength=prepared.count + 1)
    palette[samples < MIN_CEL_OPEN * size] = _SOFT
    if not (palette != _SOFT).any():
        return soft_layer
    # Each pixel's flat color (R, G, B, flag; the flag is 255 for soft regions), at the working
    # size, so the lookup is on fewer pixels; nearest-neighbour scaling keeps it exact.
    work = palette.take(prepared.fills).view(np.uint8).reshape(*prepared.fills.shape, 4)
    # How far each model pixel's color is from its region's flat color: 0 = flat, 1 = soft.
    flat = cv2.resize(work, (w, h), interpolation=cv2.INTER_NEAREST)
    diff = cv2.split(cv2.absdiff(soft, cv2.cvtColor(flat, cv2.COLOR_RGBA2RGB)))
    far = cv2.max(cv2.max(cv2.max(diff[0], diff[1]), diff[2]), flat[:, :, 3])
    keep_soft = np.clip((far.astype(np.float32) - CEL_SPREAD) / CEL_SPREAD, 0.0, 1.0)
    # The same at the output size, region edges sharp.
    big = cv2.resize(work, prepared.size, interpolation=cv2.INTER_NEAREST)
    cel = cv2.cvtColor(big, cv2.COLOR_RGBA2RGB)
    cv2.copyTo(soft_layer, cv2.extractChannel(big, 3), cel)
    weight = cv2.resize(keep_soft, prepared.size, interpolation=cv2.INTER_LINEAR)
    return cv2.blendLinear(cel, soft_layer, 1.0 - weight, weight)


def _cel_palette(soft: np.ndarray, regions: np.ndarray, count: int) -> np.ndarray:
    """Little-endian uint32 per region id: its packed median RGB, or ``_SOFT``.

    ``soft`` (h, w, 3) uint8 colors and ``regions`` (h, w) ids 0..count-1 at the same size.
    """
    palette = np.full(count, _SOFT, "<u4")
    ids = regions.ravel()
    samples = np.bincount(ids, minlength=count)
    samples[0] = 0
    # Only regions with enough samples get a median: compact their ids to 0..m-1.
    usable = samples >= MIN_CEL_SAMPLES
    m = int(usable.sum())
    if m == 0:
        return palette
    compact = np.cumsum(usable) - 1
    keep = usable.take(ids)
    idx = compact.take(ids.compress(keep))
    channels = [c.ravel().compress(keep) for c in cv2.split(soft)]
    medians = np.empty((m, 3), np.intp)
    far = np.zeros(idx.size, bool)
    for c, values in enumerate(channels):
        hist = np.bincount(idx * 256 + values, minlength=m * 256).reshape(m, 256)
        cum = hist.cumsum(axis=1)
        medians[:, c] = (2 * cum >= cum[:, -1:]).argmax(axis=1)
        far |= np.abs(values.astype(np.intp) - medians[:, c].take(idx)) > CEL_SPREAD
    outliers = np.bincount(idx, weights=far, minlength=m) / samples.compress(usable)
    flat = outliers <= MAX_CEL_OUTLIERS
    packed = medians[:, 0] | (medians[:, 1] << 8) | (medians[:, 2] << 16)
    palette[np.flatnonzero(usable)[flat]] = packed[flat]
    return palette
