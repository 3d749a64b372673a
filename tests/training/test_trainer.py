import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from inference.weights import load_generator
from training.cli import main
from training.config import TrainConfig
from training.data import make_dataset, scan_dataset
from training.discriminator import build_discriminator
from training.export import export
from training.losses import discriminator_loss, generator_loss
from training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]


def _config(data, out, **kw) -> TrainConfig:
    defaults = dict(epochs=2, batch_size=4, width=4, checkpoint_every=1, samples=2, log_every=1)
    return TrainConfig(data=data, out=out, **{**defaults, **kw})


def test_discriminator_gives_30x30_patches():
    d = build_discriminator(4)
    x = tf.zeros((2, 256, 256, 3))
    assert d([x, x]).shape == (2, 30, 30, 1)


def test_losses_follow_the_recipe():
    ones, zeros = tf.fill((1, 30, 30, 1), 20.0), tf.fill((1, 30, 30, 1), -20.0)
    fake, target = tf.zeros((1, 4, 4, 3)), tf.fill((1, 4, 4, 3), 0.5)
    total, gan, l1 = generator_loss(ones, fake, target, 400.0)
    assert float(gan) < 1e-6 and float(l1) == pytest.approx(0.5)
    assert float(total) == pytest.approx(200.0, rel=1e-5)
    assert float(discriminator_loss(ones, zeros)) < 1e-6
    assert float(discriminator_loss(zeros, ones)) > 30


def test_pipeline_gives_sketch_and_color_in_range(tiny_dataset):
    train, _ = scan_dataset(tiny_dataset)
    sketch, color = next(iter(make_dataset(train, 4, shuffle=False)))
    assert sketch.shape == color.shape == (4, 256, 256, 3)
    assert float(tf.reduce_min(sketch)) >= -1 and float(tf.reduce_max(sketch)) <= 1
    # The right half (sketch) has no fill color; the left (color) does.
    s, c = sketch.numpy(), color.numpy()
    assert np.abs(s - s.mean(axis=-1, keepdims=True)).max() < 0.05
    assert np.abs(c - c.mean(axis=-1, keepdims=True)).max() > 0.2


@pytest.mark.slow  # a trainer fit
def test_few_steps_learn_and_write_everything(tiny_dataset, tmp_path):
    trainer = Trainer(_config(tiny_dataset, tmp_path / "run", epochs=3))
    before = trainer.validate(0)["l1"]
    result = trainer.fit()
    assert result["epoch"] == 3 and result["step"] == 3 * 2  # 8 images, batch 4
    assert result["val"]["l1"] < before  # λ·L1 pulls the output toward the colors
    out = tmp_path / "run"
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        "epoch_000.png",
        "epoch_001.png",
        "epoch_002.png",
        "epoch_003.png",
    ]
    assert (out / "loss_curve.png").stat().st_size > 1000
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert set(json.loads((out / "history.json").read_text())) >= {"g_l1", "d_total"}


@pytest.mark.slow  # a trainer fit
def test_export_loads_in_inference_with_the_same_output(tiny_dataset, tmp_path):
    trainer = Trainer(_config(tiny_dataset, tmp_path / "run", epochs=1))
    trainer.fit()
    paths = export(trainer.generator, tmp_path / "export", {"note": "test"})
    x = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    expected = trainer.generator(x, training=False).numpy()
    for fmt in ("weights", "keras"):
        got = load_generator(paths[fmt])(x, training=False).numpy()
        assert np.abs(got - expected).max() < 1e-5
    card = json.loads(paths["card"].read_text())
    assert card["width"] == 4 and card["parameters"] == trainer.generator.count_params()
    # The trainer's own checkpoints load in inference too, and export through the CLI.
    got = load_generator(tmp_path / "run" / "checkpoints")(x, training=False).numpy()
    assert np.abs(got - expected).max() < 1e-5
    cli = ["export", str(tmp_path / "run" / "checkpoints"), str(tmp_path / "cli")]
    assert main([*cli, "--data", str(tiny_dataset)]) == 0
    assert (tmp_path / "cli" / "generator.weights.h5").exists()
    card = json.loads((tmp_path / "cli" / "generator.json").read_text())
    assert (card["epochs_trained"], card["steps"]) == (1, 2)
    assert set(card["margins"]) == {"sketch_itself", "sketch_tinted_by_mean_color"}
    assert set(card["margins_colorizer_output"]) == set(card["margins"])
    assert 0 < card["val_colorizer_output"]["ssim"] <= 1
    assert card["val"]["psnr"] - card["baselines"]["sketch_itself"]["psnr"] == pytest.approx(
        card["margins"]["sketch_itself"]["psnr_db"]
    )


@pytest.mark.slow  # a trainer fit
def test_resume_keeps_counting_and_keeps_three(tiny_dataset, tmp_path):
    Trainer(_config(tiny_dataset, tmp_path / "run", epochs=2)).fit()
    resumed = Trainer(_config(tiny_dataset, tmp_path / "run", epochs=5))
    assert resumed.restore() and int(resumed.epoch) == 2 and int(resumed.step) == 4
    result = resumed.fit()
    assert (result["epoch"], result["step"]) == (5, 10)
    kept = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.index"))
    assert kept == ["ckpt-3.index", "ckpt-4.index", "ckpt-5.index"]
    fresh = Trainer(_config(tiny_dataset, tmp_path / "run", epochs=1, resume=False))
    assert not fresh.restore() and int(fresh.step) == 0


@pytest.mark.slow  # two trainer fits and a SIGKILL
def test_killed_run_restarted_with_the_same_command_ends_at_the_same_step(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "training",
        "--data",
        str(tiny_dataset),
        "--out",
        str(out),
        "--epochs",
        "6",
        "--batch-size",
        "4",
        "--width",
        "4",
        "--checkpoint-every",
        "1",
        "--threads",
        "1",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (out / "checkpoints" / "ckpt-2.index").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)  # no clean shutdown: like a lost Kaggle session
    proc.wait()
    finished = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "trained to epoch 6 (step 12)" in finished.stdout
    kept = sorted(p.name for p in (out / "checkpoints").glob("*.index"))
    assert kept == ["ckpt-4.index", "ckpt-5.index", "ckpt-6.index"]


def test_baselines_are_scored(tiny_dataset, tmp_path):
    trainer = Trainer(_config(tiny_dataset, tmp_path / "run"))
    scores = trainer.baselines()
    assert set(scores) == {"sketch_itself", "sketch_tinted_by_mean_color"}
    # The same numbers, computed here in numpy from the same pipeline's images ([0, 1]).
    train, val = scan_dataset(tiny_dataset)
    pairs = [(s.numpy(), c.numpy()) for s, c in make_dataset(val, 64, shuffle=False)]
    sketch, color = ((np.concatenate(x) + 1) / 2 for x in zip(*pairs, strict=True))
    colors = np.concatenate([c.numpy() for _, c in make_dataset(train, 64, shuffle=False)])
    tint = ((colors + 1) / 2).reshape(-1, 3).mean(axis=0)
    for name, guess in (("sketch_itself", sketch), ("sketch_tinted_by_mean_color", sketch * tint)):
        mse = ((guess - color) ** 2).mean()
        assert scores[name]["psnr"] == pytest.approx(10 * np.log10(1 / mse), rel=1e-4), name
        assert scores[name]["l1"] == pytest.approx(2 * np.abs(guess - color).mean(), rel=1e-4)
        assert 0 < scores[name]["ssim"] < 1


def test_psnr_stays_finite_when_some_images_are_perfect():
    from training.metrics import evaluate

    color = tf.concat([tf.zeros((1, 16, 16, 3)), tf.fill((1, 16, 16, 3), 0.5)], axis=0)
    perfect_on_first = lambda sketch: tf.concat([sketch[:1], tf.zeros((1, 16, 16, 3))], 0)  # noqa: E731
    scores = evaluate(perfect_on_first, [(color, color)])
    # One perfect and one off by 0.25 in [0, 1]: set MSE 0.03125 → 15.05 dB, not infinity.
    assert scores["psnr"] == pytest.approx(10 * np.log10(1 / 0.03125), rel=1e-5)


@pytest.mark.slow  # a trainer fit
def test_mixed_precision_trains_and_exports_float32_weights(tiny_dataset, tmp_path):
    import keras

    from training.runs import cpu_has_bf16

    try:
        trainer = Trainer(_config(tiny_dataset, tmp_path / "run", epochs=1, mixed_precision=True))
        expected = "mixed_bfloat16" if cpu_has_bf16() else "float32"
        assert keras.mixed_precision.global_policy().name == expected
        result = trainer.fit()
        assert np.isfinite(result["val"]["l1"])
        paths = export(trainer.generator, tmp_path / "export", {})
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model = load_generator(paths["weights"])
    assert model.dtype_policy.name == "float32"
    x = np.zeros((1, 256, 256, 3), np.float32)
    assert np.isfinite(model(x, training=False).numpy()).all()
