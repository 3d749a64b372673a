import numpy as np
import pytest
from PIL import Image

from inference.colorizer import Colorizer
from inference.errors import SketchError
from tests.support.sketches import sketch


def _sketch(size=(1024, 640)) -> Image.Image:
    return sketch(size, strokes=10)


@pytest.mark.parametrize("size", [(1024, 640), (300, 1200), (64, 64), (257, 255)])
def test_output_keeps_size_and_aspect(tiny_colorizer, size):
    result = tiny_colorizer.colorize(_sketch(size))
    assert result.image.size == size
    assert result.layer.size == size
    assert result.raw.size == (256, 256)
    assert result.image.mode == result.layer.mode == result.raw.mode == "RGB"
    assert result.lines.mode == "L" and result.lines.size == size
    assert result.regions.shape == (size[1], size[0]) and result.regions.dtype == np.int32


def test_long_side_is_capped(tiny_onnx):
    colorizer = Colorizer.load(tiny_onnx, threads=1, max_side=512)
    result = colorizer.colorize(_sketch((2000, 1000)))
    assert result.image.size == (512, 256)


def test_lines_stay_crisp_at_full_resolution(tiny_colorizer):
    sketch = _sketch((1024, 1024))
    result = tiny_colorizer.colorize(sketch)
    lines = np.asarray(sketch.convert("L")) < 64
    out = np.asarray(result.image.convert("L"), np.float32)
    # Every line pixel of the input is dark in the output: no 256 px blur, no lost strokes.
    assert out[lines].max() < 40
    # A naive upscale of the 256² output smears 2 px lines across 4 px and lightens them.
    naive = np.asarray(result.raw.resize((1024, 1024), Image.Resampling.BICUBIC).convert("L"))
    assert out[lines].mean() < naive[lines].mean()


def test_color_layer_has_no_line_art(tiny_colorizer):
    sketch = _sketch((512, 512))
    result = tiny_colorizer.colorize(sketch)
    lines = np.asarray(sketch.convert("L")) < 64
    layer = np.asarray(result.layer.convert("L"), np.float32)
    image = np.asarray(result.image.convert("L"), np.float32)
    assert layer[lines].mean() > image[lines].mean() + 20


def test_batch_equals_single(tiny_colorizer):
    a, b = _sketch((300, 200)), _sketch((200, 300))
    together = tiny_colorizer.colorize_many([a, b])
    alone = [tiny_colorizer.colorize(a), tiny_colorizer.colorize(b)]
    for x, y in zip(together, alone, strict=True):
        diff = np.abs(np.asarray(x.raw, np.int16) - np.asarray(y.raw, np.int16))
        assert diff.max() <= 1


def test_bad_input_raises_sketch_error(tiny_colorizer):
    with pytest.raises(SketchError):
        tiny_colorizer.colorize(b"definitely not an image")


def test_accepts_paths_and_bytes(tiny_colorizer, tmp_path):
    path = tmp_path / "s.jpg"
    _sketch((200, 100)).save(path)
    assert tiny_colorizer.colorize(path).image.size == (200, 100)
    assert tiny_colorizer.colorize(path.read_bytes()).image.size == (200, 100)


def test_median7_equals_the_numpy_separable_median():
    from inference.colorizer import median7
    from tests.inference.legacy_colorizer import _median_filter

    a = np.random.default_rng(0).integers(0, 255, (64, 48, 3)).astype(np.uint8)
    assert np.array_equal(median7(a), _median_filter(a, 3))
    speck = np.zeros((32, 32, 3), np.uint8)
    speck[:, 16:] = 200  # a flat fill with a straight edge
    speck[5, 5] = 255
    out = median7(speck)
    assert out[5, 5].tolist() == [0, 0, 0]
    assert np.array_equal(out[:, 14:18], speck[:, 14:18])
