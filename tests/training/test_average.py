"""Weight-space averages (``pixelpainter-train average``): soups and WiSE-FT of real tiny generators."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from inference.color_head import DECODE_NAME, HEAD_NAME, TEMPERATURE
from inference.generator import build_generator
from inference.weights import load_generator
from training.average import AverageError, average, parse_source
from training.cli import main


def _saved(tmp_path, name, model):
    path = tmp_path / f"{name}.weights.h5"
    model.save_weights(path)
    return path


def _randomised(model, seed):
    # Moved off its start like a fine-tune would (BatchNorm variances stay positive).
    rng = np.random.default_rng(seed)
    model.set_weights(
        [
            (w * rng.uniform(0.8, 1.2, w.shape) + rng.normal(0, 0.02, w.shape)).astype(w.dtype)
            for w in model.get_weights()
        ]
    )
    return model


def test_a_soup_is_the_weighted_mean_of_every_weight():
    a = _randomised(build_generator(4, hints=True), 1)
    b = _randomised(build_generator(4, hints=True), 2)
    expected = [0.25 * x + 0.75 * y for x, y in zip(a.get_weights(), b.get_weights(), strict=True)]
    soup = average([a, b], [1.0, 3.0])
    for got, want in zip(soup.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_wise_ft_keeps_the_head_only_the_fine_tuned_model_has(tmp_path):
    tuned = _randomised(build_generator(4, hints=True, color_head=True), 3)
    start = _randomised(build_generator(4, hints=True), 4)
    head = tuned.get_layer(HEAD_NAME).get_weights()
    shared = next(layer for layer in tuned.layers if layer.weights).get_weights()
    start_shared = next(layer for layer in start.layers if layer.weights).get_weights()
    mixed = average([tuned, start], [0.9, 0.1])
    assert mixed is tuned
    for got, want in zip(mixed.get_layer(HEAD_NAME).get_weights(), head, strict=True):
        np.testing.assert_array_equal(got, want)
    got = next(layer for layer in mixed.layers if layer.weights).get_weights()
    for g, t, s in zip(got, shared, start_shared, strict=True):
        np.testing.assert_allclose(g, 0.9 * t + 0.1 * s, rtol=1e-5, atol=1e-7)


def _confident(model):
    """A head sure enough of its bins that the annealed mean's temperature shows."""
    head = model.get_layer(HEAD_NAME)
    kernel, bias = head.get_weights()
    head.set_weights(
        [kernel, np.random.default_rng(8).normal(0, 0.5, bias.shape).astype(bias.dtype)]
    )
    return model


def test_the_cli_writes_weights_a_card_and_an_onnx_file_at_the_temperature(tmp_path):
    tuned = [
        _confident(_randomised(build_generator(4, hints=True, color_head=True), s)) for s in (5, 6)
    ]
    a, b = (_saved(tmp_path, name, m) for name, m in zip("ab", tuned, strict=True))
    start = _saved(tmp_path, "start", _randomised(build_generator(4, hints=True), 7))
    out = tmp_path / "out"
    argv = ["average", str(out), f"{a}:0.45", f"{b}:0.45", f"{start}:0.1", "--temperature", "0.2"]
    assert main([*argv, "--onnx"]) == 0
    card = json.loads((out / "generator.json").read_text())
    assert [s["share"] for s in card["averaged_from"]] == pytest.approx([0.45, 0.45, 0.1])
    assert card["temperature"] == 0.2
    # The weights file holds the average; every copy runs it at T 0.2, not the default: the
    # ONNX file, the .weights.h5 file (its read-out kept beside the weights) and the .keras file.
    model = load_generator(out / "generator.weights.h5")
    assert model.get_layer(DECODE_NAME).temperature == 0.2
    x = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 7)).astype(np.float32)
    session = ort.InferenceSession(str(out / "generator.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {session.get_inputs()[0].name: x})[0]
    at_t = np.asarray(model(x, training=False))
    keras_file = np.asarray(load_generator(out / "generator.keras")(x, training=False))
    model.get_layer(DECODE_NAME).temperature = TEMPERATURE
    default_t = np.asarray(model(x, training=False))
    assert np.isfinite(onnx_out).all()
    np.testing.assert_allclose(onnx_out, at_t, atol=2e-3)
    np.testing.assert_allclose(keras_file, at_t, atol=1e-5)
    assert np.abs(onnx_out - default_t).max() > 1e-2
    # --saturation and --chroma-target travel the same way, into the card and the ONNX file.
    vivid = tmp_path / "vivid"
    assert (
        main(
            ["average", str(vivid), str(a), "--saturation", "2", "--chroma-target", "1e6", "--onnx"]
        )
        == 0
    )
    card = json.loads((vivid / "generator.json").read_text())
    assert (card["saturation"], card["chroma_target"]) == (2.0, 1e6)
    session = ort.InferenceSession(
        str(vivid / "generator.onnx"), providers=["CPUExecutionProvider"]
    )
    vivid_out = session.run(None, {session.get_inputs()[0].name: x})[0]
    plain = load_generator(a)
    expected = np.asarray(plain(x, training=False))
    plain.get_layer(DECODE_NAME).saturation = 2.0
    plain.get_layer(DECODE_NAME).chroma_target = 1e6
    np.testing.assert_allclose(vivid_out, np.asarray(plain(x, training=False)), atol=2e-3)
    assert np.abs(vivid_out - expected).max() > 1e-2
    reloaded = load_generator(vivid / "generator.weights.h5")
    np.testing.assert_allclose(vivid_out, np.asarray(reloaded(x, training=False)), atol=2e-3)


def test_models_from_another_start_are_refused_naming_the_layer(tmp_path, capsys):
    a = _saved(tmp_path, "a", build_generator(4, hints=True))
    wider = _saved(tmp_path, "wider", build_generator(8, hints=True))
    plain = _saved(tmp_path, "plain", build_generator(4))
    assert main(["average", str(tmp_path / "o"), str(a), str(wider)]) == 2
    err = capsys.readouterr().err
    assert "wider.weights.h5: its layer 1 holds" in err and "not a model from the same start" in err
    assert main(["average", str(tmp_path / "o"), str(a), str(plain)]) == 2
    assert "plain.weights.h5: its layer 1" in capsys.readouterr().err
    # A temperature needs a color head; a share must be above 0.
    assert main(["average", str(tmp_path / "o"), str(a), "--temperature", "0.2"]) == 2
    assert "--temperature needs a color-head model" in capsys.readouterr().err
    assert main(["average", str(tmp_path / "o"), str(a), "--saturation", "1.5"]) == 2
    assert "--saturation needs a color-head model" in capsys.readouterr().err
    # Bad read-outs are refused before any weights are read (this source does not even exist).
    for flags, why in (
        (["--saturation", "0.5"], "--saturation must be 1 or more"),
        (["--chroma-target", "30"], "--chroma-target needs a --saturation above 1"),
        (["--saturation", "2", "--chroma-target", "0"], "--chroma-target must be above 0"),
    ):
        assert (
            main(["average", str(tmp_path / "o"), str(tmp_path / "none.weights.h5"), *flags]) == 2
        )
        assert why in capsys.readouterr().err
    missing = str(tmp_path / "missing.weights.h5")
    assert main(["average", str(tmp_path / "o"), missing, "--temperature", "0"]) == 2
    assert "--temperature must be above 0" in capsys.readouterr().err
    assert main(["average", str(tmp_path / "o"), f"{a}:0"]) == 2
    assert "must be above 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_share_is_read_after_the_last_colon_only_when_it_is_a_number():
    assert parse_source("runs/h3/ckpt-2:0.45") == (Path("runs/h3/ckpt-2"), 0.45)
    assert parse_source("C:/models/a.weights.h5") == (Path("C:/models/a.weights.h5"), 1.0)
    assert parse_source("a.weights.h5") == (Path("a.weights.h5"), 1.0)
    with pytest.raises(AverageError, match="above 0"):
        parse_source("a.weights.h5:-1")
