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
        # Float rounding of two runtimes only: well under one 8-bit level (1 / 127.5 ≈ 7.8e-3);
        # other weights differ by far more.
        assert np.abs(keras_engine.predict(inputs) - onnx_engine.predict(inputs)).max() < 1e-3


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


def test_color_hints_from_the_truth_bring_the_output_closer_to_it():
    """The hand-drawn characters (in no training source) with 12 hints taken from their truth,
    through the public API: closer to the truth than without hints."""
    from pathlib import Path

    from training.evaluate import pairs_from_svgs, psnr_ssim, sampled_hints

    root = Path(__file__).resolve().parents[2]
    pairs = [p for p in pairs_from_svgs(root / "training" / "eval_art") if "vector" in p["group"]]
    colorizer = Colorizer.load(threads=1)
    assert colorizer.takes_hints
    truths = [p["truth"] for p in pairs]
    plain, hinted = [], []
    for pair, hints in zip(pairs, sampled_hints(pairs, 12), strict=True):
        sketch = Image.fromarray(pair["sketch"])
        plain.append(np.asarray(colorizer.colorize(sketch).image.convert("RGB")))
        hinted.append(np.asarray(colorizer.colorize(sketch, hints=hints).image.convert("RGB")))
    assert psnr_ssim(hinted, truths)["psnr"] > psnr_ssim(plain, truths)["psnr"]
