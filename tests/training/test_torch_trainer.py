"""The PyTorch trainer: the same recipe on Keras 3's PyTorch backend, on a machine without
TensorFlow (each run is a subprocess that cannot import it), with checkpoints that resume and
weights that the TensorFlow side loads to the same outputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.generator import input_channels_of, width_of
from inference.weights import load_generator
from tests.support.backend_probe import fixed_input, losses
from training import augment
from training.cli import main, select_backend
from training.config import TrainConfig
from training.torch_trainer import TorchTrainer, TrainingPairs

ROOT = Path(__file__).resolve().parents[2]


def _torch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m tests.support.without_tensorflow ARGS`` with Keras on PyTorch."""
    env = {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run(
        [sys.executable, "-m", "tests.support.without_tensorflow", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sketch = np.full((256, 256, 3), 255, np.uint8)
    sketch[40:200:8, 30:220] = 0  # ink lines
    color = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    return sketch, color


def test_jitter_moves_sketch_and_color_together_and_repeats_with_its_seed():
    sketch, color = _pair(0)
    image = np.concatenate([sketch, color], axis=1)[:, ::2]  # one picture, as both halves
    a = augment.jitter(image, image, np.random.default_rng(5))
    b = augment.jitter(image, image, np.random.default_rng(5))
    assert np.array_equal(a[0], a[1]), "the two halves got different crops or mirrors"
    assert np.array_equal(a[0], b[0])
    crops = {augment.jitter(image, image, np.random.default_rng(s))[0].tobytes() for s in range(6)}
    assert len(crops) > 1


def test_vary_lines_repeats_with_its_seed_and_keeps_the_paper():
    sketch, _ = _pair(0)
    outs = [augment.vary_lines(sketch, np.random.default_rng(s)) for s in range(12)]
    assert np.array_equal(outs[3], augment.vary_lines(sketch, np.random.default_rng(3)))
    assert len({o.tobytes() for o in outs}) > 3
    for out in outs:
        assert out.dtype == np.uint8 and out.shape == sketch.shape
        assert out[:30].min() >= 250  # no line there: paper stays white


def test_training_pairs_are_fixed_by_seed_epoch_and_index():
    images = np.stack([np.stack(_pair(i)) for i in range(3)])
    pairs = TrainingPairs(images, augment_pairs=True, vary=True, hints="sampled", seed=1)
    x, y = pairs[2]
    assert x.shape == (256, 256, 7) and y.shape == (256, 256, 3)
    assert x.dtype == y.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
    again = TrainingPairs(images, augment_pairs=True, vary=True, hints="sampled", seed=1)[2]
    assert np.array_equal(x, again[0])
    pairs.epoch = 1
    assert not np.array_equal(x, pairs[2][0])  # a new epoch draws new augmentations and hints
    empty = TrainingPairs(images, hints="empty")[0][0]
    assert empty.shape == (256, 256, 7) and not empty[..., 3:].any()


def test_backend_choice_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="auto, tensorflow or torch"):
        select_backend("jax")
    # This test process has Keras loaded on TensorFlow already.
    with pytest.raises(ValueError, match="already loaded on tensorflow"):
        select_backend("torch")
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=torch"):
        TorchTrainer(TrainConfig(data=Path("."), out=Path(".")))


def test_losses_agree_between_backends(tmp_path):
    done = _torch("tests.support.backend_probe", "losses", str(tmp_path / "l.json"), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    on_torch = json.loads((tmp_path / "l.json").read_text())
    assert on_torch.pop("backend") == "torch"
    on_tf = losses()
    assert on_torch.keys() == on_tf.keys()
    for name, value in on_tf.items():
        assert on_torch[name] == pytest.approx(value, rel=1e-4), name


@pytest.mark.slow  # two short PyTorch runs
def test_torch_run_trains_resumes_and_exports_weights_tensorflow_loads(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    args = [
        "training", "train", "--backend", "torch", "--data", str(tiny_dataset), "--out", str(out),
        "--batch-size", "4", "--width", "4", "--hints", "--augment", "--vary-lines",
        "--lambda-color", "10", "--checkpoint-every", "1", "--calibrate-steps", "1",
        "--workers", "0", "--log-every", "1",
    ]  # fmt: skip
    first = _torch(*args, "--epochs", "1", "--workers", "1")  # loader worker processes
    assert first.returncode == 0, first.stderr[-3000:]
    state = json.loads((out / "checkpoints" / "ckpt-1" / "state.json").read_text())
    assert state == {"epoch": 1, "step": 2, "backend": "torch"}  # 8 pairs, batch 4

    second = _torch(*args, "--epochs", "2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resumed from" in second.stderr and "epoch 1, step 2" in second.stderr
    state = json.loads((out / "checkpoints" / "ckpt-2" / "state.json").read_text())
    assert state["epoch"] == 2 and state["step"] == 4
    history = json.loads((out / "history.json").read_text())
    assert len(history["g_l1"]) == 4 and all(np.isfinite(history["g_total"]))

    # The exported Keras 3 weights: loaded by the TensorFlow side, same outputs as on PyTorch.
    weights = out / "export" / "generator.weights.h5"
    generator = load_generator(weights)
    assert (width_of(generator), input_channels_of(generator)) == (4, 7)
    probe = _torch("tests.support.backend_probe", "predict", str(weights), str(tmp_path / "p.npy"))
    assert probe.returncode == 0, probe.stderr[-3000:]
    on_tf = generator(fixed_input(7), training=False).numpy()
    assert np.abs(np.load(tmp_path / "p.npy") - on_tf).max() < 1e-4

    # `export` reads the epoch and step of a PyTorch checkpoint.
    ckpt = out / "checkpoints" / "ckpt-2" / "generator.weights.h5"
    assert main(["export", str(ckpt), str(tmp_path / "exported")]) == 0
    card = json.loads((tmp_path / "exported" / "generator.json").read_text())
    assert card["epochs_trained"] == 2 and card["steps"] == 4 and card["input_channels"] == 7

    # TensorFlow-only flags are refused, not ignored.
    xla = _torch(*args, "--epochs", "3", "--xla")
    assert xla.returncode == 2 and "--xla: TensorFlow only" in xla.stderr

    # A folder of TensorFlow checkpoints is not resumed on PyTorch.
    (out / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    refused = _torch(*args, "--epochs", "3")
    assert refused.returncode != 0 and "holds TensorFlow checkpoints" in refused.stderr
