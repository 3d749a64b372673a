"""The bundled default weights: the ONNX copy is the Keras weights, and they really colorize."""

import json

import numpy as np
from PIL import Image

from inference.colorizer import Colorizer
from inference.engine import KerasEngine, OnnxEngine
from inference.hints import Hint, hint_planes
from inference.weights import ASSETS, DEFAULT_ONNX, DEFAULT_WEIGHTS, inspect_weights, load_generator


def test_onnx_copy_matches_the_keras_weights():
    x = np.asarray(Image.open(ASSETS / "example_sketch.png").convert("RGB").resize((256, 256)))
    batch = (x[None].astype(np.float32) / 127.5 - 1.0).astype(np.float32)
    keras_engine = KerasEngine(load_generator(DEFAULT_WEIGHTS), threads=1)
    onnx_engine = OnnxEngine(DEFAULT_ONNX, threads=1)
    assert keras_engine.input_channels == onnx_engine.input_channels == 7  # reads color hints
    # With hints (two dots) and without: the same numbers from both.
    hints = [Hint(60, 80, (200, 40, 40)), Hint(180, 120, (40, 80, 200))]
    for planes in (hint_planes([]), hint_planes(hints)):
        inputs = np.concatenate([batch, planes[None]], axis=-1)
        assert np.abs(keras_engine.predict(inputs) - onnx_engine.predict(inputs)).max() < 1e-4


def test_bundled_weights_are_small_and_described():
    info = inspect_weights(DEFAULT_WEIGHTS)
    card = json.loads((ASSETS / "model_card.json").read_text())
    assert DEFAULT_WEIGHTS.stat().st_size <= 20 * 1024 * 1024
    assert (card["width"], card["parameters"]) == (info.width, info.parameters)
    assert "CC BY-SA 4.0" in card["credit"]


def test_the_example_sketch_gets_color():
    result = Colorizer.load(threads=1).colorize(ASSETS / "example_sketch.png")
    hsv = np.asarray(result.image.convert("HSV"), np.float32)
    sketch = np.asarray(Image.open(ASSETS / "example_sketch.png").convert("L"))
    fill = sketch > 200  # paper inside and around the drawing
    # A trained model puts saturated color somewhere; an untrained one gives grey.
    assert np.percentile(hsv[..., 1][fill], 95) > 60


def test_anime_characters_from_no_training_source_are_colored_like_their_truth():
    """Hand-drawn characters (training/eval_art) the model never saw, vector and traced lines."""
    from pathlib import Path

    from training.evaluate import color_criteria, pairs_from_svgs, summarize

    root = Path(__file__).resolve().parents[2]
    colorizer = Colorizer.load(threads=1)
    rows = []
    for pair in pairs_from_svgs(root / "training" / "eval_art"):
        output = colorizer.colorize(Image.fromarray(pair["sketch"])).image.convert("RGB")
        rows.append(color_criteria(pair["sketch"], pair["truth"], np.asarray(output)))
    scores = summarize(rows)
    assert scores["saturation_ratio"] >= 0.5  # colored about as strongly as the truth
    assert scores["regions_colored"] >= 0.8  # the truth's colored regions are colored
    assert scores["paper_white"] >= 0.95  # no wash over the paper
    assert scores["region_contrast_ratio"] >= 0.2  # not one color over everything


def test_a_color_hint_steers_its_part():
    """A red and a blue dot on the hand-drawn girl's hair: the hair around each turns that way."""
    from pathlib import Path

    from training.evaluate import pairs_from_svgs

    root = Path(__file__).resolve().parents[2]
    pair = next(
        p for p in pairs_from_svgs(root / "training" / "eval_art") if p["name"] == "anime_girl"
    )
    sketch, hair = Image.fromarray(pair["sketch"]), pair["parts"] == 2
    colorizer = Colorizer.load(threads=1)
    assert colorizer.takes_hints
    plain = np.asarray(colorizer.colorize(sketch).layer.convert("RGB"), np.float32)
    ys, xs = np.nonzero(hair)
    dots = [(float(xs[i]), float(ys[i])) for i in np.linspace(0, len(ys) - 1, 6).astype(int)]
    for color in ((210, 30, 40), (30, 60, 210)):
        hinted = colorizer.colorize(sketch, hints=[(x, y, color) for x, y in dots])
        out = np.asarray(hinted.layer.convert("RGB"), np.float32)
        channel = 0 if color[0] > color[2] else 2
        # The hinted channel rises over the hair, against the output without hints.
        assert out[hair][:, channel].mean() > plain[hair][:, channel].mean() + 15, color
