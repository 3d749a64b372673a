"""The two color styles: soft stays what it was before OpenCV, cel fills regions flat."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from inference.colorizer import Colorizer
from inference.errors import SketchError
from inference.hints import with_hint_planes
from tests.inference.legacy_colorizer import legacy_finish, legacy_prepare


def _psnr(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(10 * np.log10(255**2 / max(np.mean((a - b) ** 2), 1e-10)))


def _boxes(size=(400, 300), paper=(245, 245, 240)) -> Image.Image:
    """Three closed boxes and a ring, 3 px lines, on (slightly grey) paper."""
    img = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([10, 10, w // 2 - 10, h - 10], outline="black", width=3)
    draw.rectangle([w // 2 + 10, 10, w - 10, h // 2 - 5], outline="black", width=3)
    draw.rectangle([w // 2 + 10, h // 2 + 5, w - 10, h - 10], outline="black", width=3)
    draw.ellipse([w // 8, h // 4, w // 3, h // 2], outline="black", width=3)
    return img


@pytest.fixture(scope="module")
def bundled():
    return Colorizer.load(None, threads=1)


@pytest.mark.parametrize("size", [(400, 300), (1024, 700), (2400, 1600)])
def test_soft_matches_the_pre_opencv_output(bundled, size):
    # On white paper: the model now sees grey paper lifted to white (tests/inference/test_cel.py).
    sketch = _boxes(size, paper="white")
    legacy_sketch, model_input, box = legacy_prepare(sketch)
    # The bundled model reads color hints: no hints are empty hint planes beside the sketch.
    output = bundled.engine.predict(
        with_hint_planes(model_input[None], bundled.engine.input_channels)
    )[0]
    image, layer = legacy_finish(legacy_sketch, model_input, box, output)
    prepared = bundled.prepare(sketch)
    # The model input is resized by OpenCV now: a few levels apart on the lines' edges.
    assert np.abs(prepared.model_input[..., :3] - model_input).mean() < 0.02
    result = bundled.finish(
        prepared, bundled.engine.predict(prepared.model_input[None])[0], style="soft"
    )
    assert result.image.size == image.size
    # End to end the model sees an input resized by OpenCV instead of Pillow, and the faintest
    # anti-aliased edge pixels of a shrunk sketch as paper; the colorful bundled model answers
    # those few levels with visibly (not much) different colors (22.8 dB at 2400 → 2048 for the
    # color-loss model, 28 dB for the one before it).
    assert _psnr(result.image, image) > 20
    assert _psnr(result.layer, layer) > 20
    # Given the same model input and output, the post-processing is the old one's (≈ 50 dB).
    image, layer = legacy_finish(legacy_sketch, prepared.model_input[..., :3], box, output)
    same = bundled.finish(prepared, output, style="soft")
    assert same.image.size == image.size
    assert _psnr(same.image, image) > 45
    assert _psnr(same.layer, layer) > 45


class PaintEngine:
    """An engine that paints a fixed 256² picture whatever the sketch: known colors to check."""

    name = "paint"

    def __init__(self, picture: np.ndarray) -> None:
        self.picture = picture.astype(np.float32) / 127.5 - 1.0

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return np.repeat(self.picture[None], len(batch), axis=0)


def _square_boxes() -> Image.Image:
    """A 512² sketch: left half one box, right half two boxes (top, bottom)."""
    img = Image.new("RGB", (512, 512), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle([4, 4, 252, 507], outline="black", width=4)
    draw.rectangle([260, 4, 507, 252], outline="black", width=4)
    draw.rectangle([260, 260, 507, 507], outline="black", width=4)
    return img


def test_cel_fills_each_region_with_its_median_color():
    rng = np.random.default_rng(0)
    picture = np.zeros((256, 256, 3), np.int16)
    picture[:, :128] = (200, 60, 60)
    picture[:128, 128:] = (60, 200, 60)
    picture[128:, 128:] = (60, 60, 200)
    picture += rng.integers(-25, 26, picture.shape).astype(np.int16)  # GAN speckle
    colorizer = Colorizer(PaintEngine(np.clip(picture, 0, 255)), style="cel")
    cel = colorizer.colorize(_square_boxes())
    soft = colorizer.colorize(_square_boxes(), style="soft")
    assert np.array_equal(cel.regions, soft.regions)
    assert cel.regions.max() == 4  # the three boxes and the paper's margin around them
    expected = {(130, 100): (200, 60, 60), (100, 400): (60, 200, 60), (400, 400): (60, 60, 200)}
    for (y, x), color in expected.items():
        region = cel.regions == cel.regions[y, x]
        inside = cv2.erode(region.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)
        colors = cel.layer_array[inside].astype(np.int16)
        assert np.ptp(colors, axis=0).max() == 0  # flat
        assert np.abs(colors[0] - color).max() <= 3  # the median clears the speckle
        # The soft layer keeps some of the speckle (a median over 7 pixels, then upscaled).
        assert np.ptp(soft.layer_array[inside].astype(np.int16), axis=0).max() > 5
    # Lines keep the neighbouring region's color under them in the cel layer.
    assert tuple(cel.layer_array[130, 7]) == tuple(cel.layer_array[130, 100])


def test_a_region_painted_in_two_colors_keeps_both():
    picture = np.full((256, 256, 3), 250, np.uint8)
    picture[:, :128] = (30, 30, 220)  # the left box half blue, half white: two cels
    picture[:, 64:128] = 250
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    cel = colorizer.colorize(_square_boxes())
    assert cel.layer_array[250, 60, 2] > 200 and cel.layer_array[250, 60, 0] < 80  # still blue
    assert cel.layer_array[250, 200].min() > 230  # still white


def test_image_is_layer_times_lines(tiny_colorizer):
    for style in ("cel", "soft"):
        result = tiny_colorizer.colorize(_boxes((123, 77)), style=style)
        layer = result.layer_array.astype(np.float64)
        lines = np.asarray(result.lines, np.float64)[:, :, None]
        expected = layer * lines / 255.0
        assert np.abs(result.image_array - expected).max() <= 1.0


def test_lines_are_paper_white_and_dark_on_strokes(tiny_colorizer):
    result = tiny_colorizer.colorize(_boxes((400, 300)))
    lines = np.asarray(result.lines)
    assert lines[5, 5] == 255  # grey paper lifted to white
    assert lines[150, 11] < 40  # on the left box's stroke
    assert (result.regions[lines < 100] == 0).all()


@pytest.mark.parametrize("style", ["cel", "soft"])
@pytest.mark.parametrize("size", [(1, 1), (1, 5000), (5000, 1), (2, 3), (17, 4000)])
def test_odd_sizes_never_crash(tiny_colorizer, style, size):
    sketch = Image.new("RGB", size, "white")
    if size[0] > 2:
        ImageDraw.Draw(sketch).line([(0, 0), (size[0], size[1])], fill="black", width=2)
    result = tiny_colorizer.colorize(sketch, style=style)
    expected = (
        size if max(size) <= 2048 else tuple(max(1, round(s * 2048 / max(size))) for s in size)
    )
    assert result.image.size == result.layer.size == result.lines.size == expected
    assert result.regions.shape == expected[::-1]


@pytest.mark.parametrize("mode", ["I;16", "RGBA", "LA", "P", "1", "F"])
def test_odd_modes_never_crash(tiny_colorizer, mode):
    rgba = _boxes((64, 48)).convert("RGBA")
    if mode == "I;16":
        img = Image.fromarray(np.asarray(rgba.convert("L"), np.uint16) * 257)
    elif mode == "F":
        img = rgba.convert("L").convert("F")
    else:
        img = rgba.convert(mode)
    buf = io.BytesIO()
    if mode == "F":
        img.save(buf, format="TIFF")
    else:
        img.save(buf, format="PNG")
    result = tiny_colorizer.colorize(buf.getvalue(), style="cel")
    assert result.image.size == (64, 48)


def test_all_black_sketch_has_no_region_and_still_works(tiny_colorizer):
    result = tiny_colorizer.colorize(Image.new("RGB", (50, 40), "black"), style="cel")
    assert (result.regions == 0).all()
    assert result.image.size == (50, 40)


def test_unknown_style_is_refused(tiny_colorizer, tiny_onnx):
    with pytest.raises(ValueError, match="style"):
        tiny_colorizer.colorize(_boxes(), style="watercolor")
    with pytest.raises(ValueError, match="style"):
        Colorizer.load(tiny_onnx, style="oil")


def test_bad_input_is_one_sketch_error(tiny_colorizer):
    with pytest.raises(SketchError):
        tiny_colorizer.colorize(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, style="cel")


def test_nbytes_counts_the_arrays_and_the_pil_copies(tiny_colorizer):
    result = tiny_colorizer.colorize(_boxes((200, 100)))
    arrays = result.image_array.nbytes + result.layer_array.nbytes + result.regions.nbytes
    assert result.nbytes >= arrays + 2 * 4 * 200 * 100
    assert result.nbytes < 4 * arrays  # no more than it can hold


def test_hatching_keeps_the_soft_colors():
    sketch = _square_boxes()
    draw = ImageDraw.Draw(sketch)
    for x in range(270, 500, 6):  # dense hatching in the top-right box: slivers 4 px wide
        draw.line([(x, 10), (x, 245)], fill="black", width=2)
    rng = np.random.default_rng(1)
    picture = rng.integers(60, 200, (256, 256, 3)).astype(np.uint8)
    colorizer = Colorizer(PaintEngine(picture))
    cel = colorizer.colorize(sketch, style="cel")
    soft = colorizer.colorize(sketch, style="soft")
    hatched = (slice(20, 240), slice(275, 495))
    assert np.array_equal(cel.layer_array[hatched], soft.layer_array[hatched])
    assert not np.array_equal(cel.layer_array[300:500, 20:240], soft.layer_array[300:500, 20:240])
