"""Refitting the color head on frozen features (``pixelpainter-train refit-head``)."""

from __future__ import annotations

import json

import numpy as np

from inference.color_head import HEAD_NAME, annealed_ab, gamut_bins
from inference.generator import build_generator
from inference.weights import load_generator
from training.cli import main
from training.refit_head import Samples, cross_entropy, fit

RED, BLUE = (60.0, 40.0), (10.0, -60.0)


def _samples(kinds: np.ndarray, red_share: float, seed: int = 0) -> Samples:
    """Features one-hot of ``kinds`` (0: says red, 1: says blue, 2: says nothing) and true
    colors: red and blue as the feature says, red with ``red_share`` where it says nothing."""
    rng = np.random.default_rng(seed)
    features = np.eye(3, dtype=np.float16)[kinds]
    red = np.where(kinds == 2, rng.random(len(kinds)) < red_share, kinds == 0)
    ab = np.where(red[:, None], RED, BLUE).astype(np.float32)
    return Samples(features, ab)


def _mean_ab(kernel: np.ndarray, bias: np.ndarray, kind: int) -> np.ndarray:
    logits = np.eye(3, dtype=np.float32)[kind] @ kernel + bias
    return np.asarray(annealed_ab(logits[None], temperature=1.0))[0]


def test_fit_learns_each_features_color_and_rebalancing_favours_the_rare_one():
    kinds = np.repeat([0, 1, 2], [500, 500, 3000])
    train = _samples(kinds, red_share=0.2)
    start = (np.zeros((3, len(gamut_bins())), np.float32), np.zeros(len(gamut_bins()), np.float32))
    kernel, bias = fit(*start, train, epochs=60, learning_rate=0.05)
    assert cross_entropy(kernel, bias, train) < 0.5 * cross_entropy(*start, train)
    np.testing.assert_allclose(_mean_ab(kernel, bias, 0), RED, atol=8.0)
    np.testing.assert_allclose(_mean_ab(kernel, bias, 1), BLUE, atol=8.0)
    # Where the features say nothing, the plain posterior is the colors' mix (1 red in 5) ...
    plain = _mean_ab(kernel, bias, 2)
    np.testing.assert_allclose(plain, 0.2 * np.array(RED) + 0.8 * np.array(BLUE), atol=8.0)
    # ... and rebalancing weighs the rarer red up (Zhang et al.'s remedy against the mean): red
    # is 27 % of the colors, blue 73 %, so at λ 0.5 a red pixel weighs ≈ 2.6 blue ones and the
    # 1 red in 5 counts as ≈ 2 in 5 (a ≈ 30 rather than 20).
    kernel, bias = fit(*start, train, rebalance_mix=0.5, epochs=60, learning_rate=0.05)
    rebalanced = _mean_ab(kernel, bias, 2)
    assert plain[0] + 6.0 < rebalanced[0] < plain[0] + 14.0


def _head_and_rest(model):
    head = model.get_layer(HEAD_NAME).get_weights()
    rest = [
        np.asarray(w)
        for layer in model.layers
        if layer.name != HEAD_NAME
        for w in layer.get_weights()
    ]
    return head, rest


def test_refit_head_cli_changes_only_the_head_and_lowers_val_cross_entropy(tiny_dataset, tmp_path):
    generator = build_generator(4, hints=True, color_head=True)
    source = tmp_path / "start.weights.h5"
    generator.save_weights(source)
    out = tmp_path / "refit"
    argv = ["refit-head", str(out), str(source), "--data", str(tiny_dataset)]
    assert main([*argv, "--pixels", "48", "--epochs", "40", "--learning-rate", "0.05"]) == 0
    card = json.loads((out / "generator.json").read_text())["head_refit"]
    assert card["train_pixels"] == 8 * 48 and card["val_pixels"] == 3 * 48
    assert card["val_cross_entropy_after"] < card["val_cross_entropy_before"] - 0.5
    assert card["rebalance_mix"] is None
    before, after = load_generator(source), load_generator(out / "generator.weights.h5")
    (head_before, rest_before), (head_after, rest_after) = (
        _head_and_rest(before),
        _head_and_rest(after),
    )
    for a, b in zip(rest_before, rest_after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.abs(head_after[0] - head_before[0]).max() > 1e-3


def test_refit_head_refuses_what_it_cannot_refit(tiny_dataset, tmp_path, capsys):
    plain = tmp_path / "plain.weights.h5"
    build_generator(4, hints=True).save_weights(plain)
    assert main(["refit-head", str(tmp_path / "o"), str(plain), "--data", str(tiny_dataset)]) == 2
    assert "has no color head" in capsys.readouterr().err
    head = tmp_path / "head.weights.h5"
    build_generator(4, hints=True, color_head=True).save_weights(head)
    for flags, says in (
        (["--every", "0"], "--every must be 1 or more"),
        (["--rebalance-mix", "0"], "--rebalance-mix must lie in (0, 1]"),
        (["--epochs", "0"], "--epochs must be 1 or more"),
        (["--learning-rate", "0"], "--learning-rate must be above 0"),
    ):
        argv = ["refit-head", str(tmp_path / "o"), str(head), "--data", str(tiny_dataset)]
        assert main([*argv, *flags]) == 2
        assert says in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
