"""Color hints inside the engine: hint planes, hint-capable generators, legacy models refusing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inference.architecture import parameter_count
from inference.colorizer import Colorizer
from inference.errors import HintsError, HintsProblem
from inference.hints import (
    HINT_RADIUS,
    MAX_HINTS,
    Hint,
    as_hints,
    hint_planes,
    parse_hints,
    to_model,
)
from inference.weights import inspect_weights, load_generator


def _sketch(w: int = 320, h: int = 200) -> Image.Image:
    img = np.full((h, w, 3), 255, np.uint8)
    img[h // 4 : 3 * h // 4, w // 4 : w // 4 + 3] = 0
    img[h // 4 : 3 * h // 4, 3 * w // 4 : 3 * w // 4 + 3] = 0
    img[h // 4 : h // 4 + 3, w // 4 : 3 * w // 4] = 0
    img[3 * h // 4 : 3 * h // 4 + 3, w // 4 : 3 * w // 4 + 3] = 0
    return Image.fromarray(img)


def test_hint_planes_draw_a_disk_of_the_color_and_a_mask():
    planes = hint_planes([Hint(100, 50, (255, 0, 128))])
    assert planes.shape == (256, 256, 4) and planes.dtype == np.float32
    mask = planes[..., 3]
    ys, xs = np.nonzero(mask)
    assert mask[50, 100] == 1.0
    assert xs.min() == 100 - HINT_RADIUS and xs.max() == 100 + HINT_RADIUS
    assert ys.min() == 50 - HINT_RADIUS and ys.max() == 50 + HINT_RADIUS
    np.testing.assert_allclose(planes[50, 100, :3], [1.0, -1.0, 128 / 127.5 - 1.0], atol=1e-6)
    # Outside the disks every plane is 0, the hint color included.
    assert not planes[mask == 0].any()


def test_hints_map_from_the_sketch_into_the_letterbox_and_drop_outside_ones():
    # A 400×200 sketch fills the 256² square's middle band: box (0, 64, 256, 192).
    hints = as_hints([(0, 0, (1, 2, 3)), (399, 199, (4, 5, 6)), (200, 100, (7, 8, 9))])
    hints.append(Hint(400, 10, (0, 0, 0)))  # outside: x must be < width
    mapped = to_model(hints, (400, 200), (0, 64, 256, 192))
    assert len(mapped) == 3
    assert mapped[0].x == pytest.approx(-0.18, abs=0.01) and mapped[0].y == pytest.approx(63.82)
    assert mapped[1].x == pytest.approx(255.18, abs=0.01)
    assert (mapped[2].x, mapped[2].y) == pytest.approx((127.82, 127.82), abs=0.01)
    assert mapped[2].color == (7, 8, 9)


@pytest.mark.parametrize(
    ("hints", "index", "words"),
    [
        ([(1, 2, (3, 4, 5)), (1, 2)], 1, "(x, y, (r, g, b))"),
        ([(1, 2, (3, 4, 256))], 0, "0–255"),
        ([(1, 2, (3, 4, 5)), (1, 2, (3, 4, 5)), ("a", 2, (3, 4, 5))], 2, "finite"),
        ([(float("nan"), 2, (3, 4, 5))], 0, "finite"),
        ([(1, 2, (3, 4))], 0, "0–255"),
        ([(1, 2, (True, 4, 5))], 0, "0–255"),
    ],
)
def test_bad_hints_name_the_entry(hints, index, words):
    with pytest.raises(HintsError) as caught:
        as_hints(hints)
    assert caught.value.index == index
    assert words in str(caught.value) and str(caught.value).startswith(f"hint {index}:")


def test_a_hint_generator_loads_from_keras_weights_and_onnx(tiny_hint_generator, tmp_path):
    path = tmp_path / "hints.weights.h5"
    tiny_hint_generator.save_weights(path)
    info = inspect_weights(path)
    assert (info.width, info.input_channels) == (8, 7)
    assert info.parameters == tiny_hint_generator.count_params() == parameter_count(8, 7)
    reloaded = load_generator(path)
    batch = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 7)).astype(np.float32)
    np.testing.assert_allclose(
        reloaded(batch, training=False), tiny_hint_generator(batch, training=False), atol=1e-6
    )


def test_onnx_exports_say_how_many_channels_they_read(tiny_hint_onnx, tiny_onnx):
    assert inspect_weights(tiny_hint_onnx).input_channels == 7
    assert inspect_weights(tiny_onnx).input_channels == 3


def test_hints_steer_a_hint_model_and_no_hints_is_the_empty_planes(tiny_hint_colorizer):
    sketch = _sketch()
    plain = tiny_hint_colorizer.colorize(sketch)
    assert tiny_hint_colorizer.takes_hints
    hinted = tiny_hint_colorizer.colorize(sketch, hints=[(160, 100, (220, 30, 30))])
    assert np.abs(plain.raw_array.astype(int) - hinted.raw_array).max() > 0
    # No hints = zero hint planes, exactly.
    prepared = tiny_hint_colorizer.prepare(sketch)
    assert prepared.model_input.shape == (256, 256, 7)
    assert not prepared.model_input[..., 3:].any()
    empty = tiny_hint_colorizer.colorize(sketch, hints=[])
    np.testing.assert_array_equal(empty.raw_array, plain.raw_array)


def test_hints_follow_the_sketch_when_it_is_downscaled(tiny_hint_onnx):
    colorizer = Colorizer.load(tiny_hint_onnx, threads=1, max_side=160)
    prepared = colorizer.prepare(_sketch(320, 200), hints=[(160, 100, (0, 0, 255))])
    assert prepared.size == (160, 100)
    (hint,) = prepared.hints
    assert (hint.x, hint.y) == pytest.approx((79.75, 49.75))
    ys, xs = np.nonzero(prepared.model_input[..., 6])
    assert (xs.mean(), ys.mean()) == pytest.approx((128, 128), abs=1)
    np.testing.assert_allclose(prepared.model_input[128, 128, 3:6], [-1, -1, 1], atol=1e-6)


def test_a_model_without_hint_channels_runs_and_refuses_hints_in_one_line(tiny_colorizer):
    assert not tiny_colorizer.takes_hints
    tiny_colorizer.colorize(_sketch())
    with pytest.raises(HintsError, match="takes no color hints") as caught:
        tiny_colorizer.colorize(_sketch(), hints=[(1, 1, (0, 0, 0))])
    assert "\n" not in str(caught.value)
    assert caught.value.reason == HintsProblem.NOT_ACCEPTED
    # No hints at all (None or an empty list) is not an error.
    tiny_colorizer.colorize(_sketch(), hints=[])


def test_int8_calibration_gives_a_hint_model_hint_planes():
    from inference.quantize import calibration_hints

    sketches = np.zeros((6, 256, 256, 3), np.float32)
    widened = calibration_hints(sketches, 7)
    assert widened.shape == (6, 256, 256, 7)
    with_dots = [bool(widened[i, ..., 6].any()) for i in range(6)]
    assert with_dots == [False, True, False, True, False, True]
    assert calibration_hints(sketches, 3) is sketches


def test_hints_refer_to_the_sketch_pixels_even_when_jpeg_decoding_skips_detail(tiny_hint_onnx):
    import io

    data = io.BytesIO()
    _sketch(2000, 1000).save(data, "JPEG")
    colorizer = Colorizer.load(tiny_hint_onnx, threads=1, max_side=256)
    prepared = colorizer.prepare(data.getvalue(), hints=[(1000, 500, (0, 255, 0))])
    assert prepared.size == (256, 128)
    (hint,) = prepared.hints
    assert (hint.x, hint.y) == pytest.approx((127.56, 63.56), abs=0.01)


def test_a_hints_document_parses_into_hints():
    document = '[{"x": 120, "y": 88, "color": "#d03030"}, {"x": 0, "y": 5, "color": "#00FFaa"}]'
    assert parse_hints(document) == [Hint(120, 88, (208, 48, 48)), Hint(0, 5, (0, 255, 170))]
    assert parse_hints(b"[]") == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{oops", "the hints are not valid JSON (line 1, column 2)"),
        ('{"x": 1, "y": 2, "color": "#000000"}', "the hints must be a JSON list"),
        ('[{"x": 1, "y": 2, "color": "#000000"}, 7]', "hint 1: must be an object"),
        ('[{"x": 1, "color": "#000000"}]', "hint 0: missing 'y'"),
        ('[{"x": 1, "y": 2}, {}]', "hint 0: missing 'color'"),
        ('[{"x": 1.5, "y": 2, "color": "#000000"}]', "hint 0: x must be a whole number"),
        ('[{"x": 1, "y": true, "color": "#000000"}]', "hint 0: y must be a whole number"),
        ('[{"x": 1, "y": -3, "color": "#000000"}]', "hint 0: y must be 0 or more, got -3"),
        ('[{"x": 1, "y": 2, "color": "red"}]', 'hint 0: color must be "#rrggbb"'),
        ('[{"x": 1, "y": 2, "color": [1, 2, 3]}]', 'hint 0: color must be "#rrggbb"'),
        ('[{"x": 1, "y": 2, "color": "#12345g"}]', 'hint 0: color must be "#rrggbb"'),
    ],
)
def test_a_bad_hints_document_names_the_entry_in_one_line(document, message):
    with pytest.raises(HintsError) as caught:
        parse_hints(document)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_too_many_hints_are_refused():
    entry = '{"x": 1, "y": 2, "color": "#000000"}'
    assert len(parse_hints("[" + ", ".join([entry] * MAX_HINTS) + "]")) == MAX_HINTS
    with pytest.raises(HintsError, match=f"hint {MAX_HINTS}: at most {MAX_HINTS} hints"):
        parse_hints("[" + ", ".join([entry] * (MAX_HINTS + 1)) + "]")


def test_hints_errors_keep_their_data_through_pickling():
    import pickle

    err = pickle.loads(pickle.dumps(HintsError("missing 'x'", index=3)))
    assert (err.problem, err.index, err.reason) == ("missing 'x'", 3, HintsProblem.MALFORMED)
    assert str(err) == "hint 3: missing 'x'"
    refused = pickle.loads(pickle.dumps(HintsError("no", reason=HintsProblem.NOT_ACCEPTED)))
    assert refused.reason == HintsProblem.NOT_ACCEPTED


def test_settings_tell_whether_their_model_takes_hints_without_loading_it(
    tiny_hint_onnx, tiny_onnx, tmp_path
):
    from inference.settings import InferenceSettings, model_takes_hints

    assert model_takes_hints(InferenceSettings(generator_weights=tiny_hint_onnx))
    assert not model_takes_hints(InferenceSettings(generator_weights=tiny_onnx))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    assert not model_takes_hints(InferenceSettings(generator_weights=broken))
