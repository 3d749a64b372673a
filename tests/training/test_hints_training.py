"""Training with color hints, the rebalanced color loss, and the evaluation of both."""

import json

import cv2
import numpy as np
import pytest
import tensorflow as tf

from inference.generator import build_generator, input_channels_of
from inference.hints import HINT_RADIUS, hint_planes
from training.cli import main
from training.config import TrainConfig
from training.data import make_dataset, scan_dataset
from training.evaluate import (
    before_after,
    flatten,
    hue_right,
    part_hues,
    psnr_ssim,
    report,
    run_model,
    sampled_hints,
)
from training.export import export
from training.hints import sample_hints, widen_to_hints
from training.losses import (
    ab_bins,
    color_class_loss,
    color_prior,
    rebalance_weights,
    rgb_to_ab,
)
from training.trainer import Trainer


def _truth(size=256):
    """White paper with a red square and a blue square."""
    truth = np.full((size, size, 3), 255, np.uint8)
    truth[40:120, 40:120] = (220, 30, 30)
    truth[140:220, 140:220] = (30, 60, 220)
    return truth


# --- sampling -----------------------------------------------------------------------------


def test_sampled_hints_sit_on_the_figure_with_its_colors():
    truth, rng = _truth(), np.random.default_rng(0)
    hints = sample_hints(truth, rng, count=12)
    assert len(hints) == 12
    for h in hints:
        assert tuple(truth[int(h.y), int(h.x)]) == h.color  # the truth's color at the dot
        assert h.color != (255, 255, 255)  # never on paper


def test_dots_stay_clear_of_the_lines():
    truth = _truth()
    sketch = _sketch_of(truth)
    truth[sketch.min(axis=-1) < 200] = 0  # black outlines in the truth too: never a hint color
    hints = sample_hints(truth, np.random.default_rng(2), sketch=sketch, count=40)
    assert len(hints) == 40
    planes = hint_planes(hints)
    assert not (planes[..., 3] > 0)[sketch.min(axis=-1) < 200].any()  # no dot on a line
    assert {h.color for h in hints} == {(220, 30, 30), (30, 60, 220)}  # each a part's color


def test_hint_counts_often_zero_never_above_the_maximum():
    truth, rng = _truth(), np.random.default_rng(1)
    counts = [len(sample_hints(truth, rng, max_hints=20)) for _ in range(600)]
    assert 0.25 < counts.count(0) / 600 < 0.42  # about a third without hints
    assert max(counts) <= 20 and min(c for c in counts if c) == 1
    assert np.mean([c for c in counts if c]) < 8  # few dots are the common case
    assert sample_hints(np.full((256, 256, 3), 255, np.uint8), rng, count=5) == []  # blank


def test_pipeline_draws_hint_planes_from_the_truth(tiny_dataset):
    train, val = scan_dataset(tiny_dataset)
    tf.random.set_seed(0)
    batches = list(make_dataset(train, 4, shuffle=False, cache=False, hints="sampled"))
    sketch, color = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    assert sketch.shape[1:] == (256, 256, 7)
    mask = sketch[..., 6]
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.any()
    dotted = mask > 0
    # Inside a dot the hint color is the truth's color at the dot's centre (within the disk's
    # radius of every dot pixel); outside the dots the hint planes are exactly 0.
    assert np.abs(sketch[..., 3:6][~dotted]).max() == 0
    r = HINT_RADIUS
    padded = np.pad(color, ((0, 0), (r, r), (r, r), (0, 0)), constant_values=9.0)
    for n, y, x in zip(*np.nonzero(dotted), strict=True):
        window = padded[n, y : y + 2 * r + 1, x : x + 2 * r + 1]
        assert np.abs(window - sketch[n, y, x, 3:6]).max(axis=-1).min() < 1e-2
    # One dot is a disk of radius HINT_RADIUS.
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask[0].astype(np.uint8), connectivity=8)
    if count > 1:
        assert stats[1:, cv2.CC_STAT_AREA].min() >= np.pi * HINT_RADIUS**2 * 0.6
    empty = next(iter(make_dataset(val, 4, shuffle=False, cache=False, hints="empty")))[0]
    assert empty.shape[-1] == 7 and not np.asarray(empty[..., 3:]).any()
    with pytest.raises(ValueError, match="hints must be"):
        make_dataset(train, 4, shuffle=False, hints="some")


def test_widened_generator_starts_out_identical():
    source = build_generator(4)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    source(x, training=True)  # move BatchNorm statistics away from their defaults
    target = build_generator(4, hints=True)
    widen_to_hints(source, target)
    plain = np.concatenate([x, np.zeros((1, 256, 256, 4), np.float32)], axis=-1)
    expected = source(x, training=False).numpy()
    assert np.abs(target(plain, training=False).numpy() - expected).max() < 1e-6
    dotted = plain.copy()
    dotted[0, 100:110, 100:110, 3:] = 1.0
    assert np.abs(target(dotted, training=False).numpy() - expected).max() < 1e-6  # zero weights
    with pytest.raises(ValueError, match="3-channel"):
        widen_to_hints(target, build_generator(4, hints=True))


# --- the rebalanced color loss -----------------------------------------------------------


def test_ab_matches_opencv_lab():
    rgb = np.random.default_rng(0).integers(0, 256, (500, 3)).astype(np.uint8)
    ours = rgb_to_ab(tf.constant(rgb.astype(np.float32) / 127.5 - 1.0)).numpy()
    lab = cv2.cvtColor(rgb.reshape(1, -1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[0]
    assert np.abs(ours - lab[:, 1:]).max() < 0.5


def test_rare_colors_weigh_more_and_the_mean_weight_is_one():
    gray = np.zeros((1, 16, 16, 3), np.float32)  # mostly gray truths, a few red pixels
    gray[0, :2, :2] = (1.0, -1.0, -1.0)
    prior = color_prior(gray)
    assert prior.shape == (len(ab_bins()),) and prior.sum() == pytest.approx(1.0)
    weights = rebalance_weights(prior)
    assert float((prior * weights).sum()) == pytest.approx(1.0)
    bins = ab_bins()
    red = rgb_to_ab(tf.constant([[1.0, -1.0, -1.0]])).numpy()[0]
    w_red = weights[np.argmin(((bins - red) ** 2).sum(-1))]
    w_gray = weights[np.argmin((bins**2).sum(-1))]
    assert w_red > 2 * w_gray


def test_color_loss_prefers_the_true_hue_over_the_mean():
    truth = _truth().astype(np.float32)[None] / 127.5 - 1.0
    weights = tf.constant(rebalance_weights(color_prior(truth)))
    figure = truth.min(-1) < 0.9
    mean = truth.copy()
    mean[figure] = truth[figure].mean(axis=0)  # the mean-color answer: purple-gray squares
    right = float(color_class_loss(tf.constant(truth), tf.constant(truth), weights))
    wrong = float(color_class_loss(tf.constant(mean), tf.constant(truth), weights))
    assert right < wrong


@pytest.mark.slow  # a trainer fit
def test_hint_training_from_a_hintless_model(tiny_dataset, tmp_path):
    start = build_generator(4)
    paths = export(start, tmp_path / "start", {})
    config = TrainConfig(
        data=tiny_dataset,
        out=tmp_path / "run",
        epochs=1,
        batch_size=4,
        width=4,
        checkpoint_every=1,
        samples=1,
        hints=True,
        lambda_color=5.0,
        init_weights=paths["weights"],
        calibrate_steps=1,
        log_every=1,
    )
    trainer = Trainer(config)
    assert trainer.restore() is False
    x = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    padded = np.concatenate([x, np.zeros((1, 256, 256, 4), np.float32)], axis=-1)
    assert input_channels_of(trainer.generator) == 7
    diff = trainer.generator(padded, training=False) - start(x, training=False)
    assert float(tf.reduce_max(tf.abs(diff))) < 1e-6
    result = trainer.fit()
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["g_color"] and min(history["g_color"]) > 0
    assert np.isfinite(result["val"]["psnr"])
    cli = ["export", str(tmp_path / "run" / "checkpoints"), str(tmp_path / "cli")]
    assert main([*cli, "--data", str(tiny_dataset), "--calibrate-steps", "1"]) == 0
    card = json.loads((tmp_path / "cli" / "generator.json").read_text())
    assert np.isfinite(card["val"]["psnr"])


# --- evaluation --------------------------------------------------------------------------


def _sketch_of(truth):
    sketch = np.full_like(truth, 255)
    edges = cv2.Canny(truth, 50, 150) > 0
    sketch[cv2.dilate(edges.astype(np.uint8), np.ones((2, 2), np.uint8)) > 0] = 0
    return sketch


def test_flat_output_has_no_margin_and_the_truth_a_large_one():
    truth = _truth()
    sketch = _sketch_of(truth)
    flat_truth = flatten(sketch, truth, truth)
    assert psnr_ssim([truth], [truth])["psnr"] - psnr_ssim([flat_truth], [truth])["psnr"] > 5
    again = flatten(sketch, truth, flat_truth)  # flattening a flat coloring changes little
    assert psnr_ssim([again], [truth])["psnr"] == pytest.approx(
        psnr_ssim([flat_truth], [truth])["psnr"], abs=0.5
    )


def test_hue_check():
    assert hue_right(np.array([220, 30, 30.0]), np.array([200, 60, 40.0]))  # both red
    assert not hue_right(np.array([220, 30, 30.0]), np.array([30, 60, 220.0]))  # red vs blue
    assert hue_right(np.array([20, 20, 20.0]), np.array([40, 38, 36.0]))  # both achromatic
    assert not hue_right(np.array([20, 20, 20.0]), np.array([220, 30, 30.0]))  # black vs red
    truth = _truth()
    parts = np.zeros(truth.shape[:2], np.uint8)
    parts[40:120, 40:120], parts[140:220, 140:220] = 1, 2
    sketch = _sketch_of(truth)
    assert part_hues(sketch, truth, truth, parts) == (2, 2)
    swapped = truth.copy()
    swapped[40:120, 40:120] = (30, 60, 220)
    assert part_hues(sketch, truth, swapped, parts) == (1, 2)


def test_hint_gains_are_scored_for_hint_models_only(tmp_path):
    truth = _truth()
    pairs = [{"name": "a", "group": "x/vector", "sketch": _sketch_of(truth), "truth": truth}]
    pairs[0]["parts"] = (truth[..., 0] > 200).astype(np.uint8)
    hint_model = build_generator(4, hints=True)
    plain_model = build_generator(4)
    exported = {
        "hint": export(hint_model, tmp_path / "h", {}),
        "plain": export(plain_model, tmp_path / "p", {}),
    }
    paths = {name: files["weights"] for name, files in exported.items()}
    cards = {name: json.loads(files["card"].read_text()) for name, files in exported.items()}
    assert cards["hint"]["input_channels"] == 7 and "256×256×7" in cards["hint"]["architecture"]
    assert cards["plain"]["input_channels"] == 3 and "256×256×3" in cards["plain"]["architecture"]
    outputs = {
        name: run_model(path, pairs, hint_counts=(4, 12), styles=("cel",))
        for name, path in paths.items()
    }
    assert set(outputs["hint"]) == {"raw", "cel", "raw+4h", "raw+12h", "cel+4h", "cel+12h"}
    assert set(outputs["plain"]) == {"raw", "cel"}
    # In cel (what a person gets) each hint decides its region's color, whatever the model says.
    dots = sampled_hints(pairs, 12)[0]
    cel = outputs["hint"]["cel+12h"][0].astype(int)
    held = [np.abs(cel[int(h.y), int(h.x)] - np.array(h.color)).max() <= 8 for h in dots]
    assert len(dots) == 12 and sum(held) >= 10
    # Random weights: hints change the output (the hint channels reach it).
    assert (
        np.abs(
            outputs["hint"]["raw+12h"][0].astype(int) - outputs["hint"]["raw"][0].astype(int)
        ).max()
        > 0
    )
    result = report(pairs, paths, outputs)
    entry = result["x/vector"]["hint/raw+4h"]
    assert {"psnr", "psnr_flat", "flat_margin_db", "saturation_ratio", "part_hues"} <= set(entry)
    assert entry["flat_margin_db"] == pytest.approx(entry["psnr"] - entry["psnr_flat"])


def test_before_after_grid_shows_old_new_and_hinted(tmp_path):
    from PIL import Image

    truth = _truth()
    pairs = [{"name": "a", "group": "x/vector", "sketch": _sketch_of(truth), "truth": truth}]
    old = export(build_generator(4), tmp_path / "o", {})["weights"]
    new = export(build_generator(4, hints=True), tmp_path / "n", {})["weights"]
    path = before_after(pairs, old, new, tmp_path / "grid.png", names=["a"], hints=4)
    grid = np.asarray(Image.open(path).convert("RGB"))
    assert grid.shape == (256, 5 * 256, 3)
    assert (grid[:, :256] == pairs[0]["sketch"]).all() and (grid[:, -256:] == truth).all()


def test_eval_art_has_part_maps_and_the_truth_gets_every_hue():
    from pathlib import Path

    from training.evaluate import pairs_from_svgs

    root = Path(__file__).resolve().parents[2]
    pairs = pairs_from_svgs(root / "training" / "eval_art")
    for pair in pairs:
        counts = np.bincount(pair["parts"].ravel(), minlength=6)
        assert (counts[1:] > 100).all(), (pair["name"], counts)  # skin, hair, eyes, clothes, …
        assert part_hues(pair["sketch"], pair["truth"], pair["truth"], pair["parts"])[0] == 5
        gray = np.repeat(pair["truth"].mean(axis=-1, keepdims=True), 3, -1).astype(np.uint8)
        right, judged = part_hues(pair["sketch"], pair["truth"], gray, pair["parts"])
        assert judged == 5 and right <= 1  # an uncolored output gets (at most) the black hair
