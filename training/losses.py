"""The pix2pix losses: a conditional GAN loss plus λ·L1 for the generator, and an optional
rebalanced color classification term against the mean-color problem.

Written in ``keras.ops``: the same functions serve the TensorFlow and the PyTorch backend.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

Tensor = Any  # a backend tensor: TensorFlow's or PyTorch's


def generator_loss(
    disc_fake: Tensor, fake: Tensor, target: Tensor, lambda_l1: float
) -> tuple[Tensor, Tensor, Tensor]:
    """G = BCE(D(fake), 1) + λ·L1(fake, target); returns (total, gan, l1)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    gan = bce(ops.ones_like(disc_fake), disc_fake)
    l1 = ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(fake, "float32")))
    return gan + lambda_l1 * l1, gan, l1


def discriminator_loss(disc_real: Tensor, disc_fake: Tensor) -> Tensor:
    """D = BCE(D(real), 1) + BCE(D(fake), 0)."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(ops.ones_like(disc_real), disc_real) + bce(ops.zeros_like(disc_fake), disc_fake)


# --- rebalanced color classification (Zhang, Isola, Efros 2016) ------------------------------
#
# The L1 term alone rewards the median of the colors a part may take: hair that can be any color
# comes out beige. "Colorful Image Colorization" treats color as classification over quantized
# ab bins of CIE Lab and reweights each pixel by the rarity of its true color, so vivid, rare
# colors weigh as much as the common dull ones. Here the generator stays an ordinary RGB-out
# network: its output color is soft-assigned to the bins (a Gaussian kernel over bin centres),
# and the loss is the rebalanced cross-entropy of that soft assignment against the soft-encoded
# true color. Computed at 32² (8×8 means of the 256² images) to keep it cheap on CPUs.

AB_STEP = 10.0  # bin side in ab units (Zhang et al.: 10)
AB_RANGE = 110.0  # bins cover [-110, 110]² of ab
TARGET_SIGMA = 5.0  # soft encoding of the true color (Zhang et al.: σ = 5)
OUTPUT_SIGMA = 10.0  # soft assignment of the output color to the bins
REBALANCE_MIX = 0.5  # λ in w ∝ ((1 − λ)·p̃ + λ/Q)⁻¹ (Zhang et al.: 0.5)
POOL = 8


def ab_bins() -> np.ndarray:
    """(Q, 2) float32 bin centres on a grid of side ``AB_STEP`` over ``[-AB_RANGE, AB_RANGE]²``."""
    axis = np.arange(-AB_RANGE, AB_RANGE + 1e-6, AB_STEP, dtype=np.float32)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)


def rgb_to_ab(rgb: Tensor) -> Tensor:
    """CIE Lab a, b (D65) of sRGB in [-1, 1]; (..., 3) → (..., 2), differentiable."""
    u = ops.clip((ops.cast(rgb, "float32") + 1.0) / 2.0, 0.0, 1.0)
    linear = ops.where(
        u <= 0.04045, u / 12.92, ops.power((ops.maximum(u, 0.04045) + 0.055) / 1.055, 2.4)
    )
    xyz = ops.matmul(linear, ops.convert_to_tensor(_RGB_TO_XYZ_D65.T))
    f = ops.where(
        xyz > 0.008856,
        ops.power(ops.maximum(xyz, 0.008856), 1.0 / 3.0),
        7.787 * xyz + 16.0 / 116.0,
    )
    return ops.stack([500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1)


# linear sRGB → XYZ, each row divided by the D65 white's component
_RGB_TO_XYZ_D65 = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    np.float32,
) / np.array([[0.950456], [1.0], [1.088754]], np.float32)


def color_prior(colors: np.ndarray, pixels: int = 50_000, seed: int = 0) -> np.ndarray:
    """Empirical share p̃ of each ab bin over pixels of truths ``colors`` ((N, H, W, 3) in [-1, 1];
    at most ``pixels`` of them, drawn at random), softened by the target encoding
    (σ = ``TARGET_SIGMA``)."""
    bins = ab_bins()
    rgb = np.asarray(colors, np.float32).reshape(-1, 3)
    if len(rgb) > pixels:
        rgb = rgb[np.random.default_rng(seed).choice(len(rgb), pixels, replace=False)]
    ab = ops.convert_to_numpy(rgb_to_ab(ops.convert_to_tensor(rgb)))
    p = np.zeros(len(bins), np.float64)
    for start in range(0, len(ab), 4096):  # (4096, Q) at a time: bounded memory
        d2 = ((ab[start : start + 4096, None, :] - bins[None]) ** 2).sum(-1)
        q = np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / (2 * TARGET_SIGMA**2))
        p += (q / q.sum(axis=1, keepdims=True)).sum(axis=0)
    return (p / p.sum()).astype(np.float32)


def rebalance_weights(prior: np.ndarray, mix: float = REBALANCE_MIX) -> np.ndarray:
    """Per-bin weights w ∝ ((1 − mix)·p̃ + mix/Q)⁻¹, normalised so that E_p̃[w] = 1."""
    w = 1.0 / ((1.0 - mix) * prior + mix / len(prior))
    return (w / float((prior * w).sum())).astype(np.float32)


def color_class_loss(fake: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """Rebalanced cross-entropy between the soft-binned output and true colors (see above)."""
    bins = ops.convert_to_tensor(ab_bins())

    def pool(x: Tensor) -> Tensor:
        return ops.average_pool(ops.cast(x, "float32"), POOL, POOL, "valid", "channels_last")

    ab_fake, ab_true = rgb_to_ab(pool(fake)), rgb_to_ab(pool(target))

    def sq_dist(ab: Tensor) -> Tensor:
        return ops.sum(ops.square(ab[..., None, :] - bins), axis=-1)  # (N, h, w, Q)

    d_true = sq_dist(ab_true)
    q = ops.softmax(-d_true / (2 * TARGET_SIGMA**2), axis=-1)
    log_p = ops.log_softmax(-sq_dist(ab_fake) / (2 * OUTPUT_SIGMA**2), axis=-1)
    cross_entropy = -ops.sum(q * log_p, axis=-1)
    weight = ops.take(ops.convert_to_tensor(weights), ops.argmin(d_true, axis=-1))
    return ops.mean(weight * cross_entropy)
