"""Training a color-head generator (--color-head): its loss, fine-tuning from plain weights, and
the checkpoint that comes out of it."""

import json

import numpy as np
import pytest
import tensorflow as tf

from inference.color_head import (
    HEAD_NAME,
    gamut_bins,
    has_color_head,
    rgb_to_lab,
    training_outputs,
)
from inference.generator import build_generator
from inference.weights import inspect_weights, load_generator
from training.cli import main
from training.config import TrainConfig
from training.export import export
from training.losses import color_prior, head_class_loss, rebalance_weights
from training.runs import GeneratorObjective, init_generator
from training.trainer import Trainer


def _truth(size=256):
    """White paper with a red square and a blue square, in [-1, 1]."""
    truth = np.full((1, size, size, 3), 255, np.uint8)
    truth[0, 40:120, 40:120] = (220, 30, 30)
    truth[0, 140:220, 140:220] = (30, 60, 220)
    return truth.astype(np.float32) / 127.5 - 1.0


def _logits_for(rgb: np.ndarray, sharpness: float = 0.05) -> np.ndarray:
    """Head logits (N, 64, 64, Q) that put most weight on the bins nearest ``rgb``'s colors."""
    pooled = rgb.reshape(rgb.shape[0], 64, 4, 64, 4, 3).mean(axis=(2, 4))
    ab = rgb_to_lab(tf.constant(pooled)).numpy()[..., 1:]
    d2 = ((ab[..., None, :] - gamut_bins()) ** 2).sum(-1)
    return (-sharpness * d2).astype(np.float32)


def test_head_loss_prefers_the_true_colors_over_their_mean():
    truth = _truth()
    weights = tf.constant(rebalance_weights(color_prior(truth, bins=gamut_bins())))
    assert weights.shape == (len(gamut_bins()),)
    figure = truth.min(-1) < 0.9
    mean = truth.copy()
    mean[figure] = truth[figure].mean(axis=0)  # the mean-color answer: purple-gray squares
    right = float(head_class_loss(tf.constant(_logits_for(truth)), tf.constant(truth), weights))
    wrong = float(head_class_loss(tf.constant(_logits_for(mean)), tf.constant(truth), weights))
    flat = float(head_class_loss(tf.zeros((1, 64, 64, len(gamut_bins()))), truth, weights))
    assert right < 0.5 * wrong and right < 0.5 * flat


def test_rebalance_mix_sets_how_much_rare_colors_weigh(tmp_path):
    """--rebalance-mix 0.5 (Zhang et al.) weighs a rare color's bin above the paper's; 1 is plain
    cross-entropy: every bin weighs the same."""
    generator = build_generator(4, color_head=True)
    truth = _truth()
    bins = gamut_bins()
    ab = rgb_to_lab(tf.constant(np.array([[1.0, 1.0, 1.0], [0.72, -0.76, -0.76]], np.float32)))
    paper, red = (int(np.argmin(((bins - x) ** 2).sum(-1))) for x in ab.numpy()[:, 1:])
    weights = {}
    for mix in (0.5, 1.0):
        objective = GeneratorObjective(
            generator, TrainConfig(tmp_path, tmp_path, rebalance_mix=mix)
        )
        objective.set_prior(truth)
        weights[mix] = np.asarray(objective.weights)
    assert weights[0.5][red] > 2 * weights[0.5][paper]
    np.testing.assert_allclose(weights[1.0], 1.0, rtol=1e-5)


def test_rebalance_mix_out_of_range_is_one_line(tmp_path, capsys):
    code = main(["--data", str(tmp_path), "--out", str(tmp_path / "run"), "--rebalance-mix", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["pixelpainter-train: --rebalance-mix must lie in (0, 1], not 0.0"]
    with pytest.raises(ValueError, match="rebalance mix"):
        rebalance_weights(np.full(4, 0.25, np.float32), mix=1.5)


def test_init_from_plain_weights_keeps_them_and_refuses_the_reverse(tmp_path):
    plain = build_generator(4, hints=True)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 7)).astype(np.float32)
    plain(x, training=True)  # move BatchNorm statistics off their defaults
    source = export(plain, tmp_path / "plain", {})["weights"]
    config = TrainConfig(data=tmp_path, out=tmp_path / "r", width=4, hints=True)
    head = build_generator(4, hints=True, color_head=True)
    init_generator(head, TrainConfig(**{**config.__dict__, "init_weights": source}))
    _, branch, _ = training_outputs(head)(x, training=False)
    np.testing.assert_allclose(branch, plain(x, training=False), atol=1e-6)
    # A hint-less plain model widens into a hint head model too.
    three = export(build_generator(4), tmp_path / "three", {})["weights"]
    init_generator(head, TrainConfig(**{**config.__dict__, "init_weights": three}))
    headed = export(head, tmp_path / "head", {})["weights"]
    with pytest.raises(ValueError, match="--color-head"):
        init_generator(
            build_generator(4, hints=True),
            TrainConfig(**{**config.__dict__, "init_weights": headed}),
        )


@pytest.mark.slow  # a trainer fit
def test_color_head_run_trains_its_head_and_exports_it(tiny_dataset, tmp_path):
    start = export(build_generator(4, hints=True), tmp_path / "start", {})["weights"]
    config = TrainConfig(
        data=tiny_dataset,
        out=tmp_path / "run",
        epochs=1,
        batch_size=4,
        width=4,
        checkpoint_every=1,
        samples=1,
        hints=True,
        color_head=True,
        lambda_color=10.0,
        init_weights=start,
        calibrate_steps=1,
        log_every=1,
    )
    trainer = Trainer(config)
    head_before = [w.copy() for w in trainer.generator.get_layer(HEAD_NAME).get_weights()]
    result = trainer.fit()
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["g_color"] and min(history["g_color"]) > 0
    assert np.isfinite(result["val"]["psnr"])
    head_after = trainer.generator.get_layer(HEAD_NAME).get_weights()
    assert np.abs(head_after[0] - head_before[0]).max() > 0  # the head learned
    cli = ["export", str(tmp_path / "run" / "checkpoints"), str(tmp_path / "cli")]
    assert main(cli) == 0
    weights = tmp_path / "cli" / "generator.weights.h5"
    assert inspect_weights(weights).color_head
    assert has_color_head(load_generator(weights))
    card = json.loads((tmp_path / "cli" / "generator.json").read_text())
    assert card["parameters"] == inspect_weights(weights).parameters
