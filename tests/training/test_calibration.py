"""Re-estimated BatchNorm statistics make inference mode match what the network learned."""

import keras
import numpy as np
import tensorflow as tf

from inference.generator import build_generator
from training.calibration import _layers, recalibrate_batchnorm


def test_inference_mode_matches_batch_statistics_after_recalibration():
    keras.utils.set_random_seed(0)
    g = build_generator(4)
    x = tf.random.uniform((4, 256, 256, 3), -1.0, 1.0, seed=1)
    norms = [layer for layer in _layers(g) if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in _layers(g) if isinstance(layer, keras.layers.Dropout)]
    for layer in norms:  # statistics that drifted away, as in a GAN run
        layer.moving_variance.assign(layer.moving_variance * 50.0)
    for layer in drops:
        layer.rate = 0.0
    batch_stats = g(x, training=True).numpy()
    for layer in drops:
        layer.rate = 0.5
    drifted = g(x, training=False).numpy()
    drift = np.abs(drifted - batch_stats).mean()
    assert drift > 0.2 * np.abs(batch_stats).mean()  # a visible change of the output

    used = recalibrate_batchnorm(g, [x, x, x], steps=10)
    assert used == 3
    calibrated = g(x, training=False).numpy()
    assert np.abs(calibrated - batch_stats).mean() < 0.01 * drift
    assert all(layer.rate == 0.5 for layer in drops)  # restored
    assert all(layer.momentum == 0.99 for layer in norms)


def test_no_batches_changes_nothing():
    g = build_generator(4)
    before = [w.copy() for w in g.get_weights()]
    assert recalibrate_batchnorm(g, [], steps=5) == 0
    for a, b in zip(before, g.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
