"""Files written by real TensorFlow 2.15 (see fixtures/make_tf215_fixtures.py) load unchanged."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from inference.engine import OnnxEngine, onnx_for
from inference.weights import detect_format, inspect_weights, load_generator

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = np.load(FIXTURES / "tf215_reference.npz")
INPUT = REFERENCE["image"].astype(np.float32) / 127.5 - 1.0


def _assert_reference(model):
    out = model(INPUT, training=False).numpy()
    assert np.abs(out - REFERENCE["output"]).max() < 1e-4


def test_legacy_save_weights_h5_loads():
    path = FIXTURES / "tf215_generator_weights.h5"
    assert detect_format(path)[0] == "legacy-h5"
    info = inspect_weights(path)
    assert (info.width, info.parameters) == (int(REFERENCE["width"]), 214_419)
    _assert_reference(load_generator(path))


def test_legacy_h5_renamed_like_keras3_still_loads(tmp_path):
    renamed = tmp_path / "generator.weights.h5"
    shutil.copy(FIXTURES / "tf215_generator_weights.h5", renamed)
    _assert_reference(load_generator(renamed))


@pytest.mark.parametrize("which", ["folder", "prefix"])
def test_tf_keras2_checkpoint_loads(which):
    folder = FIXTURES / "tf215_checkpoint"
    _assert_reference(load_generator(folder if which == "folder" else folder / "ckpt-1"))


def test_checkpoint_written_on_another_machine(tmp_path):
    folder = tmp_path / "checkpoints_gan"
    shutil.copytree(FIXTURES / "tf215_checkpoint", folder)
    (folder / "checkpoint").write_text(
        'model_checkpoint_path: "/kaggle/working/checkpoints_gan/ckpt-1"\n'
    )
    _assert_reference(load_generator(folder))


def test_legacy_weights_run_on_the_fast_engine(tmp_path):
    engine = OnnxEngine(onnx_for(FIXTURES / "tf215_generator_weights.h5", tmp_path), threads=1)
    assert np.abs(engine.predict(INPUT) - REFERENCE["output"]).max() < 1e-4
