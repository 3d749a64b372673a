"""Run options: flags built from TrainConfig, line-appearance variation, fine-tuning start."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from inference.generator import build_generator
from training.cli import _parser, config_from_args, main
from training.config import TrainConfig
from training.data import LAYOUTS, DataError, scan_dataset, vary_lines
from training.trainer import Trainer


def test_every_config_field_is_a_flag_with_its_default(capsys):
    args = _parser().parse_args(["train", "--data", "d", "--out", "o"])
    config = config_from_args(args)
    for item in dataclasses.fields(TrainConfig):
        if item.metadata.get("help"):
            expected = item.default if item.default is not dataclasses.MISSING else None
            if expected is not None:
                assert getattr(config, item.name) == expected, item.name
    with pytest.raises(SystemExit):
        _parser().parse_args(["train", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: 400.0)" in shown and "--vary-lines" in shown and "--init-weights" in shown
    flipped = config_from_args(
        _parser().parse_args(["train", "--data", "d", "--out", "o", "--no-resume", "--lr", "1e-3"])
    )
    assert flipped.resume is False and flipped.learning_rate == 1e-3


def test_bad_data_names_both_layouts(tmp_path, capsys):
    with pytest.raises(DataError) as err:
        scan_dataset(tmp_path / "missing")
    assert LAYOUTS in str(err.value)
    assert "train/sketch + train/color" in LAYOUTS and "side-by-side" in LAYOUTS
    (tmp_path / "d" / "train").mkdir(parents=True)
    assert main(["--data", str(tmp_path / "d"), "--out", str(tmp_path / "o")]) == 2
    assert "train/sketch" in capsys.readouterr().err


def test_vary_lines_changes_only_the_sketch_and_keeps_paper_white():
    sketch = np.full((256, 256, 3), 255, np.uint8)
    sketch[:, 100:102] = 0  # one ink line
    color = np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    tf.random.set_seed(1)
    seen_changed = 0
    for _ in range(20):
        out_sketch, out_color = vary_lines(tf.constant(sketch), tf.constant(color))
        out = out_sketch.numpy()
        assert out.dtype == np.uint8 and out.shape == sketch.shape
        np.testing.assert_array_equal(out_color.numpy(), color)
        assert out[:, :90].min() == 255 and out[:, 112:].min() == 255  # paper stays paper
        assert np.median(out[:, 99:103].min(axis=1)) < 220  # the line survives, maybe fainter
        seen_changed += not np.array_equal(out, sketch)
    assert seen_changed >= 10


def test_init_weights_starts_a_fresh_run_from_them(tiny_dataset, tmp_path):
    source = build_generator(4)
    source.set_weights([w + 0.01 for w in source.get_weights()])
    path = tmp_path / "init.weights.h5"
    source.save_weights(path)
    trainer = Trainer(
        TrainConfig(data=tiny_dataset, out=tmp_path / "run", width=4, init_weights=path)
    )
    trainer.restore()
    for mine, theirs in zip(trainer.generator.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    wrong = Trainer(TrainConfig(data=tiny_dataset, out=tmp_path / "r2", width=8, init_weights=path))
    with pytest.raises(ValueError, match="width 4"):
        wrong.restore()
