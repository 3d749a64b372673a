"""The color head: the generator's colors as a choice among ab bins, not a mean.

A generator trained with L1 on colors that may take many values (hair of any color) predicts
their mean, and the mean of many colors is a dull beige. "Colorful Image Colorization" (Zhang,
Isola, Efros, 2016) predicts instead a distribution over quantized ab bins of CIE Lab, trained by
rebalanced classification, and turns it into one color by the *annealed mean*: the mean of the
distribution sharpened to temperature T (T → 0: its mode, vivid but noisy; T = 1: its mean,
dull; 0.38 in the paper).

Here the head is a 1×1 convolution from the U-Net's 64² decoder features to one logit per
in-gamut ab bin, decoded inside the network (:class:`ColorDecode`): the annealed mean's a, b,
upsampled to 256², with the lightness of the generator's own RGB output. The network's output
stays 256×256×3 RGB in [-1, 1]: the ONNX file, the inference code and everything after them see
an ordinary generator. Every function here is ``keras.ops`` (TensorFlow and PyTorch alike).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import keras
import numpy as np
from keras import layers, ops

from inference.architecture import COLOR_BINS

Tensor = Any  # a backend tensor

AB_STEP = 10.0  # bin side in ab units (Zhang et al.: 10)
AB_RANGE = 110.0  # the grid covers [-AB_RANGE, AB_RANGE]² of ab
TEMPERATURE = 0.38  # the annealed mean's T (Zhang et al.)
# The figure, for the chroma target: branch lightness between the lines and the paper.
FIGURE_LIGHTNESS = (30.0, 92.0)
PAPER_LIGHTNESS = 97.0  # from here up the saturation leaves colors alone (paper stays white)
# a, b fade to none over this lightness range: the annealed mean of a near-white pixel is the
# head's faint average tint (cream), not the paper's white.
WHITE_LIGHTNESS = (95.0, 99.0)
HEAD_SCALE = 4  # logits at 256 / 4 = 64², the decoder level the head reads
HEAD_NAME = "color_logits"
DECODE_NAME = "color_decode"
RGB_BRANCH_NAME = "rgb_branch"

# linear sRGB → XYZ (D65), each row divided by the white's component (so white is 1, 1, 1)
RGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    np.float32,
) / np.array([[0.950456], [1.0], [1.088754]], np.float32)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ).astype(np.float32)
_EPS = 0.008856  # (6/29)³: CIE f's switch from the cube root to the linear part


def ab_grid() -> np.ndarray:
    """(Q, 2) float32 bin centres on a grid of side ``AB_STEP`` over ``[-AB_RANGE, AB_RANGE]²``."""
    axis = np.arange(-AB_RANGE, AB_RANGE + 1e-6, AB_STEP, dtype=np.float32)
    a, b = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)


@lru_cache(maxsize=1)
def gamut_bins() -> np.ndarray:
    """The grid's bins that some sRGB color falls in: (Q, 2) float32 (Q = 261 here; Zhang et
    al. count 313 with their wider gamut estimate). The head has one logit per bin."""
    axis = np.linspace(0.0, 1.0, 64, dtype=np.float32)
    cube = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(1, -1, 3)
    ab = cv2.cvtColor(cube, cv2.COLOR_RGB2LAB)[0, :, 1:]
    grid = ab_grid()
    index = np.rint((ab + AB_RANGE) / AB_STEP).astype(int)
    side = int(np.sqrt(len(grid)))  # bins per axis
    inside = ((index >= 0) & (index < side)).all(axis=1)
    hit = np.zeros(side * side, bool)
    hit[index[inside, 0] * side + index[inside, 1]] = True
    if hit.sum() != COLOR_BINS:  # the weights files' head size: this must never drift
        raise RuntimeError(f"{hit.sum()} in-gamut ab bins, the generator has {COLOR_BINS}")
    return grid[hit]


def _f(t: Tensor) -> Tensor:
    return ops.where(t > _EPS, ops.power(ops.maximum(t, _EPS), 1.0 / 3.0), 7.787 * t + 16.0 / 116.0)


def _f_inverse(f: Tensor) -> Tensor:
    return ops.where(f > 6.0 / 29.0, f * f * f, (f - 16.0 / 116.0) / 7.787)


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """CIE Lab (D65; L 0..100) of sRGB in [-1, 1]: (..., 3) → (..., 3), differentiable."""
    u = ops.clip((ops.cast(rgb, "float32") + 1.0) / 2.0, 0.0, 1.0)
    linear = ops.where(
        u <= 0.04045, u / 12.92, ops.power((ops.maximum(u, 0.04045) + 0.055) / 1.055, 2.4)
    )
    f = _f(ops.matmul(linear, ops.convert_to_tensor(RGB_TO_XYZ.T)))
    return ops.stack(
        [
            116.0 * f[..., 1] - 16.0,
            500.0 * (f[..., 0] - f[..., 1]),
            200.0 * (f[..., 1] - f[..., 2]),
        ],
        axis=-1,
    )


def lightness_of(rgb: Tensor) -> Tensor:
    """CIE L (..., 1), 0..100, of sRGB in [-1, 1] (..., 3): :func:`rgb_to_lab`'s first channel
    without the work for a and b (the read-out needs only this, at 256²)."""
    u = ops.clip((ops.cast(rgb, "float32") + 1.0) / 2.0, 0.0, 1.0)
    linear = ops.where(
        u <= 0.04045, u / 12.92, ops.power((ops.maximum(u, 0.04045) + 0.055) / 1.055, 2.4)
    )
    luminance = ops.matmul(linear, ops.convert_to_tensor(RGB_TO_XYZ[1:2].T))
    return 116.0 * _f(luminance) - 16.0


def lab_to_rgb(lightness: Tensor, ab: Tensor) -> Tensor:
    """sRGB in [-1, 1] of CIE Lab: ``lightness`` (..., 1) 0..100, ``ab`` (..., 2); colors out
    of the sRGB gamut are clipped per channel."""
    fy = (lightness + 16.0) / 116.0
    f = ops.concatenate([fy + ab[..., :1] / 500.0, fy, fy - ab[..., 1:] / 200.0], axis=-1)
    linear = ops.clip(ops.matmul(_f_inverse(f), ops.convert_to_tensor(XYZ_TO_RGB.T)), 0.0, 1.0)
    u = ops.where(
        linear <= 0.0031308,
        12.92 * linear,
        1.055 * ops.power(ops.maximum(linear, 0.0031308), 1.0 / 2.4) - 0.055,
    )
    return u * 2.0 - 1.0


def annealed_ab(logits: Tensor, temperature: float = TEMPERATURE) -> Tensor:
    """The annealed mean (..., 2) of bin logits (..., Q) over :func:`gamut_bins`.

    softmax(z / T) · bins written as Σ e·bins / Σ e with e = exp(z / T − max): one product with
    the bins and a column of ones. The same numbers; but exported to ONNX (channels first) a
    Softmax over the channel axis is a strided one, which ONNX Runtime runs 4× slower than the
    whole rest of the generator (21 of 62 ms at 256² on 2 cores).
    """
    z = ops.cast(logits, "float32") / temperature
    e = ops.exp(z - ops.max(z, axis=-1, keepdims=True))
    weighted = ops.matmul(e, ops.convert_to_tensor(_bins_and_one()))
    return weighted[..., :2] / weighted[..., 2:]


@lru_cache(maxsize=1)
def _bins_and_one() -> np.ndarray:
    """(Q, 3) float32: the bins' a, b and a column of ones (the softmax's denominator)."""
    bins = gamut_bins()
    return np.concatenate([bins, np.ones((len(bins), 1), np.float32)], axis=1)


def figure_chroma(lightness: Tensor, ab: Tensor) -> Tensor:
    """Mean chroma (N,) of ``ab`` (N, H, W, 2) over each picture's figure: the pixels whose
    ``lightness`` (N, H, W, 1) lies in :data:`FIGURE_LIGHTNESS` (not the dark lines, not the
    white paper); 0 for a picture with no such pixel."""
    low, high = FIGURE_LIGHTNESS
    inside = ops.cast((lightness > low) & (lightness < high), "float32")[..., 0]
    chroma = ops.sqrt(ops.sum(ab * ab, axis=-1) + 1e-12)
    return ops.sum(chroma * inside, axis=(1, 2)) / ops.maximum(ops.sum(inside, axis=(1, 2)), 1.0)


def chroma_gain(lightness: Tensor, ab: Tensor, target: float | None, most: float = 1.0) -> Tensor:
    """Per-picture factors (N,) for ``ab``: ``most`` for every picture when ``target`` is None,
    else what lifts the figure's mean chroma to ``target``, between 1 and ``most`` (a vivid
    picture is never muted, a gray one never pushed past ``most``)."""
    batch = ops.shape(ab)[0]
    if target is None:
        return ops.full((batch,), most, "float32")
    return ops.clip(target / ops.maximum(figure_chroma(lightness, ab), 1e-6), 1.0, most)


@keras.saving.register_keras_serializable(package="pixelpainter")
class ColorDecode(layers.Layer):
    """[RGB branch (N, H, W, 3) in [-1, 1], bin logits (N, H/4, W/4, Q)] → RGB (N, H, W, 3):
    the branch's lightness with the logits' annealed-mean a, b (bilinearly upsampled).

    The annealed mean at a high T keeps the head's average hue but is muted where the head
    hesitates (the mean of a wide distribution lies near gray); a lower T saturates by jumping
    to the mode, hue and all. ``saturation`` (≥ 1) scales a, b instead, keeping the hue: by that factor for
    every picture, or with ``chroma_target`` only as far as lifts the figure's mean chroma to
    the target (:func:`chroma_gain`); on the figure only, fading to none at
    :data:`PAPER_LIGHTNESS` (a near-white tinted a little stays a little tinted, not twice as much).
    The defaults (1, None) are the plain annealed mean. Either way a, b fade to none over
    :data:`WHITE_LIGHTNESS`, so the paper is white, not the head's cream average.
    """

    def __init__(
        self,
        temperature: float = TEMPERATURE,
        saturation: float = 1.0,
        chroma_target: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.saturation = float(saturation)
        self.chroma_target = None if chroma_target is None else float(chroma_target)

    def call(self, inputs: list[Tensor]) -> Tensor:
        rgb, logits = inputs
        ab = annealed_ab(logits, self.temperature)
        size = ops.shape(rgb)[1:3]
        ab = ops.image.resize(ab, size, interpolation="bilinear", data_format="channels_last")
        lightness = lightness_of(rgb)
        if self.saturation != 1.0:
            gain = chroma_gain(lightness, ab, self.chroma_target, self.saturation)
            # Full gain on the figure, none on the paper: a faint tint there stays faint.
            high = FIGURE_LIGHTNESS[1]
            share = ops.clip((PAPER_LIGHTNESS - lightness) / (PAPER_LIGHTNESS - high), 0.0, 1.0)
            ab = ab * (1.0 + (gain[:, None, None, None] - 1.0) * share)
        low, white = WHITE_LIGHTNESS
        ab = ab * ops.clip((white - lightness) / (white - low), 0.0, 1.0)
        return ops.cast(lab_to_rgb(lightness, ab), self.compute_dtype)

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "saturation": self.saturation,
            "chroma_target": self.chroma_target,
        }


def head_layer(init: keras.initializers.Initializer) -> layers.Layer:
    """The head: a 1×1 convolution to one logit per :func:`gamut_bins` bin."""
    return layers.Conv2D(len(gamut_bins()), 1, kernel_initializer=init, name=HEAD_NAME)


def has_color_head(model: keras.Model) -> bool:
    return any(layer.name == HEAD_NAME for layer in model.layers)


READOUT_KEYS = ("temperature", "saturation", "chroma_target")


def readout_of(model: keras.Model) -> dict[str, float | None] | None:
    """A color-head model's read-out (:class:`ColorDecode`'s temperature, saturation and
    chroma target), or None for a model without a head."""
    if not has_color_head(model):
        return None
    decode = model.get_layer(DECODE_NAME)
    return {key: getattr(decode, key) for key in READOUT_KEYS}


def set_readout(model: keras.Model, readout: dict[str, Any]) -> None:
    """Set a color-head model's read-out (keys of :data:`READOUT_KEYS`; others are refused)."""
    unknown = set(readout) - set(READOUT_KEYS)
    if unknown:
        raise ValueError(f"not a read-out setting: {', '.join(sorted(unknown))}")
    decode = model.get_layer(DECODE_NAME)
    for key, value in readout.items():
        setattr(decode, key, None if value is None else float(value))


def training_outputs(model: keras.Model) -> keras.Model:
    """A view of a color-head generator (the same weights) with three outputs: the final RGB, the
    RGB branch (for the L1 term) and the bin logits (for the classification term)."""
    return keras.Model(
        model.input,
        [
            model.output,
            model.get_layer(RGB_BRANCH_NAME).output,
            model.get_layer(HEAD_NAME).output,
        ],
    )
