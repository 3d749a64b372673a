"""Refit a color-head generator's head on its frozen features (``pixelpainter-train refit-head``).

The color head (:mod:`inference.color_head`) is a 1×1 convolution from the U-Net's 64² decoder
features to one logit per ab bin: per pixel, a multinomial logistic regression. Trained jointly
with the whole network for the two epochs a CPU affords, it stays close to its random start (the
bundled model's head before its refit: val cross-entropy 3.87 nats over 261 bins, a posterior
nearly as flat for skin as for hair). With the rest of the network frozen the fit is convex and
cheap: the features of a few thousand pairs at a few hundred pixels each are computed once (one
forward pass), and the head alone is fitted to them for a few epochs (3.41 nats; every second
pair of the training mix, 6 minutes on 2 cores, most of them the forward pass).

What the head is fitted to:
- the features of the sketch as the colorizer gives it to the model (:func:`inference.colorizer.
  sketch_input`: lines found relative to the paper, letterboxed; hint planes empty), so the head
  reads what it will read in use;
- the true color of each sampled pixel at the head's resolution (the truth's 4×4 means), soft-
  encoded over the bins as in training (:func:`training.losses.soft_encode`);
- ``pixels`` pixels a picture, three quarters of them on the figure (not white in the truth);
- weighted by rarity (:func:`training.losses.rebalance_weights`) with ``rebalance_mix``, or not at
  all (``None``): then the head is the plain posterior, and a light skin stays light where a
  rebalanced head shifts every color toward the rare saturated ones.

The rest of the network is left exactly as it was; only the head's kernel and bias change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import keras
import numpy as np

from inference.color_head import HEAD_NAME, HEAD_SCALE, gamut_bins, rgb_to_lab
from inference.colorizer import sketch_input
from inference.generator import input_channels_of
from training.losses import rebalance_weights, soft_encode
from training.splits import Split, read_pair

log = logging.getLogger(__name__)

PIXELS = 192  # sampled a picture
FIGURE_SHARE = 0.75  # of them on the figure
PAPER = 235  # a truth cell whose every channel is above this (on 0..255) is paper
BATCH = 32  # pictures a forward pass


@dataclass(frozen=True)
class Samples:
    """Head inputs at sampled pixels and their true colors: features (N, C) float16 and ab
    (N, 2) float32."""

    features: np.ndarray
    ab: np.ndarray

    def __len__(self) -> int:
        return len(self.ab)


def sample(
    generator: keras.Model, split: Split, *, every: int = 1, pixels: int = PIXELS, seed: int = 0
) -> Samples:
    """The head's input features and true ab at ``pixels`` pixels of every ``every``-th pair."""
    features_of = keras.Model(generator.input, generator.get_layer(HEAD_NAME).input)
    channels = input_channels_of(generator)
    rng = np.random.default_rng(seed)
    side = generator.input.shape[1] // HEAD_SCALE
    features, abs_ = [], []
    indices = list(range(0, len(split), every))
    for start in range(0, len(indices), BATCH):
        pairs = np.stack([read_pair(split, i) for i in indices[start : start + BATCH]])
        inputs = np.zeros((len(pairs), *generator.input.shape[1:3], channels), np.float32)
        for k, (sketch, _) in enumerate(pairs):
            inputs[k, ..., :3] = sketch_input(sketch)[0]
        found = keras.ops.convert_to_numpy(features_of(inputs, training=False))
        # The truth at the head's resolution: means of HEAD_SCALE² cells.
        truth = (
            pairs[:, 1]
            .astype(np.float32)
            .reshape(len(pairs), side, HEAD_SCALE, side, HEAD_SCALE, 3)
        )
        cells = truth.mean(axis=(2, 4))
        ab = keras.ops.convert_to_numpy(rgb_to_lab(cells / 127.5 - 1.0))[..., 1:]
        for k in range(len(pairs)):
            figure = np.flatnonzero((cells[k] <= PAPER).any(axis=-1))
            on_figure = min(len(figure), round(pixels * FIGURE_SHARE))
            picked = np.concatenate(
                [
                    rng.choice(figure, on_figure, replace=False),
                    rng.choice(side * side, min(pixels - on_figure, side * side), replace=False),
                ]
            )
            features.append(found[k].reshape(side * side, -1)[picked].astype(np.float16))
            abs_.append(ab[k].reshape(side * side, 2)[picked].astype(np.float32))
        done = min(start + BATCH, len(indices))
        if done == len(indices) or done // 1024 > start // 1024:
            log.info("features of %d / %d pairs", done, len(indices))
    return Samples(np.concatenate(features), np.concatenate(abs_))


def cross_entropy(kernel: np.ndarray, bias: np.ndarray, samples: Samples) -> float:
    """Mean cross-entropy (nats) of a head (``kernel`` (C, Q), ``bias`` (Q,)) against the soft-
    encoded true colors of ``samples``."""
    bins = gamut_bins()
    total = 0.0
    for start in range(0, len(samples), 8192):
        logits = samples.features[start : start + 8192].astype(np.float32) @ kernel + bias
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total += float(-(soft_encode(samples.ab[start : start + 8192], bins) * log_p).sum())
    return total / max(len(samples), 1)


def fit(
    kernel: np.ndarray,
    bias: np.ndarray,
    train: Samples,
    *,
    rebalance_mix: float | None = None,
    epochs: int = 6,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The head fitted to ``train`` from (``kernel`` (C, Q), ``bias`` (Q,)): Adam on the
    (optionally rebalanced) soft-target cross-entropy; returns the new (kernel, bias)."""
    bins = gamut_bins()
    targets = np.concatenate(
        [soft_encode(train.ab[s : s + 8192], bins) for s in range(0, len(train), 8192)]
    )
    if rebalance_mix is None:
        weights = np.ones(len(train), np.float32)
    else:
        prior = targets.sum(axis=0, dtype=np.float64)
        per_bin = rebalance_weights((prior / prior.sum()).astype(np.float32), rebalance_mix)
        weights = per_bin[targets.argmax(axis=1)]
    keras.utils.set_random_seed(seed)
    dense = keras.layers.Dense(len(bins))
    model = keras.Sequential([keras.Input((kernel.shape[0],)), dense])
    dense.set_weights([kernel, bias])
    model.compile(
        keras.optimizers.Adam(learning_rate),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    model.fit(
        train.features.astype(np.float32),
        targets,
        sample_weight=weights,
        batch_size=4096,
        epochs=epochs,
        shuffle=True,
        verbose=0,
    )
    new_kernel, new_bias = dense.get_weights()
    return new_kernel, new_bias


def refit_head(
    generator: keras.Model,
    train: Split,
    val: Split,
    *,
    every: int = 1,
    pixels: int = PIXELS,
    rebalance_mix: float | None = None,
    epochs: int = 6,
    learning_rate: float = 3e-3,
    seed: int = 0,
) -> dict[str, float]:
    """Refit ``generator``'s color head in place (see the module docstring); returns the
    report for its card: pixels sampled and the val cross-entropy before and after."""
    head = generator.get_layer(HEAD_NAME)
    kernel, bias = head.get_weights()
    train_samples = sample(generator, train, every=every, pixels=pixels, seed=seed)
    val_samples = sample(generator, val, every=every, pixels=pixels, seed=seed + 1)
    before = cross_entropy(kernel[0, 0], bias, val_samples)
    new_kernel, new_bias = fit(
        kernel[0, 0],
        bias,
        train_samples,
        rebalance_mix=rebalance_mix,
        epochs=epochs,
        learning_rate=learning_rate,
        seed=seed,
    )
    head.set_weights([new_kernel[None, None].astype(kernel.dtype), new_bias.astype(bias.dtype)])
    after = cross_entropy(new_kernel, new_bias, val_samples)
    log.info("val cross-entropy %.3f → %.3f nats", before, after)
    return {
        "train_pixels": len(train_samples),
        "val_pixels": len(val_samples),
        "val_cross_entropy_before": before,
        "val_cross_entropy_after": after,
    }
