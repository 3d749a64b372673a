"""The pix2pix U-Net generator of the TensorFlow tutorial, the single definition of the network.

Input (batch, 256, 256, 3) float32 in [-1, 1], or (batch, 256, 256, 7) for a hint-capable
generator (the sketch, then the hint planes of :mod:`inference.hints`); output
(batch, 256, 256, 3) float32 in [-1, 1]. The layer structure (one
``Sequential`` per down/up block, in this order) is kept exactly as in the tutorial because
legacy tf.keras ``save_weights(".h5")`` files map onto it by layer order.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from inference.architecture import (
    DECODER_DROPOUT,
    DECODER_MULTIPLIERS,
    DEFAULT_WIDTH,
    ENCODER_MULTIPLIERS,
    HINT_CHANNELS,
    IMAGE_SIZE,
    LEAKY_SLOPE,
    OUTPUT_CHANNELS,
)
from inference.color_head import (
    DECODE_NAME,
    HEAD_NAME,
    HEAD_SCALE,
    RGB_BRANCH_NAME,
    ColorDecode,
    head_layer,
)

__all__ = [
    "DECODER_DROPOUT",
    "DECODER_MULTIPLIERS",
    "DEFAULT_WIDTH",
    "ENCODER_MULTIPLIERS",
    "HEAD_NAME",
    "HINT_CHANNELS",
    "IMAGE_SIZE",
    "LEAKY_SLOPE",
    "OUTPUT_CHANNELS",
    "build_generator",
    "copy_generator_weights",
    "downsample",
    "input_channels_of",
    "upsample",
    "width_of",
]


def _init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(0.0, 0.02)


def downsample(filters: int, size: int = 4, apply_batchnorm: bool = True) -> keras.Sequential:
    """Conv (stride 2, no bias) → BatchNorm → LeakyReLU(0.3): halves height and width."""
    block = keras.Sequential()
    block.add(
        layers.Conv2D(
            filters, size, strides=2, padding="same", kernel_initializer=_init(), use_bias=False
        )
    )
    if apply_batchnorm:
        block.add(layers.BatchNormalization())
    block.add(layers.LeakyReLU(negative_slope=LEAKY_SLOPE))
    return block


def upsample(filters: int, size: int = 4, apply_dropout: bool = False) -> keras.Sequential:
    """Transposed conv (stride 2, no bias) → BatchNorm → Dropout(0.5)? → ReLU: doubles H and W."""
    block = keras.Sequential()
    block.add(
        layers.Conv2DTranspose(
            filters, size, strides=2, padding="same", kernel_initializer=_init(), use_bias=False
        )
    )
    block.add(layers.BatchNormalization())
    if apply_dropout:
        block.add(layers.Dropout(0.5))
    block.add(layers.ReLU())
    return block


def build_generator(
    width: int = DEFAULT_WIDTH, *, hints: bool = False, color_head: bool = False
) -> keras.Model:
    """Build the U-Net; ``width`` is the first layer's filters (64 → 54,425,859 parameters).

    ``hints=True`` adds the 4 hint planes to the input (7 channels); only the first
    convolution changes (4·4·4·width more weights), so a hint-less model's weights carry over.
    ``color_head=True`` adds the color head (:mod:`inference.color_head`): a 1×1 convolution
    from the 64² decoder features to ab-bin logits, decoded in the network; the output is still
    RGB, and every other layer is the plain generator's, so its weights carry over.
    """
    if width < 1:
        raise ValueError(f"width must be a positive number of filters, got {width}")
    # BatchNorm on every encoder block but the first, the innermost included: that is the
    # tutorial's network (54,425,859 parameters), whose weight files must load unchanged.
    channels = 3 + (HINT_CHANNELS if hints else 0)
    inputs = layers.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, channels))  # (bs, 256, 256, 3 or 7)
    down_stack = [
        downsample(width * m, apply_batchnorm=i != 0) for i, m in enumerate(ENCODER_MULTIPLIERS)
    ]
    # (bs, 128, 128, 64) → 64, 32, 16, 8, 4, 2 → (bs, 1, 1, 512)
    up_stack = [
        upsample(width * m, apply_dropout=d)
        for m, d in zip(DECODER_MULTIPLIERS, DECODER_DROPOUT, strict=True)
    ]
    # (bs, 2, 2, 1024) → 4, 8, 16, 32, 64 → (bs, 128, 128, 128) after each concatenation
    last = layers.Conv2DTranspose(
        OUTPUT_CHANNELS,
        4,
        strides=2,
        padding="same",
        kernel_initializer=_init(),
        activation="tanh",
        name=RGB_BRANCH_NAME if color_head else None,
    )  # (bs, 256, 256, 3)

    x = inputs
    skips = []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    skips = reversed(skips[:-1])
    features = None
    for up, skip in zip(up_stack, skips, strict=True):
        x = up(x)
        x = layers.Concatenate()([x, skip])
        if x.shape[1] == IMAGE_SIZE // HEAD_SCALE:
            features = x  # (bs, 64, 64, 4·width): what the color head reads
    x = last(x)
    if color_head:
        x = ColorDecode(name=DECODE_NAME)([x, head_layer(_init())(features)])
    return keras.Model(inputs=inputs, outputs=x, name="generator")


def width_of(model: keras.Model) -> int:
    """The base width of a generator built by :func:`build_generator`."""
    first_conv = model.layers[1].layers[0]
    return int(first_conv.filters)


def input_channels_of(model: keras.Model) -> int:
    """3 for a hint-less generator, 7 for one that reads hint planes."""
    return int(model.input_shape[-1])


def copy_generator_weights(source: keras.Model, target: keras.Model) -> None:
    """Copy a generator's weights into another of the same width, layer by layer, with or
    without a color head on either side: the head's own weights are left as they are. A
    3-channel source into a hint target (7 channels): the first convolution's hint channels
    start at zero, so the target colors exactly like the source without hints."""

    def body(model: keras.Model) -> list:
        return [layer for layer in model.layers if layer.name != HEAD_NAME and layer.weights]

    for i, (src, dst) in enumerate(zip(body(source), body(target), strict=True)):
        weights = src.get_weights()
        if i == 0:  # the first convolution: zero weights on the input channels the source lacks
            kernel = weights[0]
            extra = dst.get_weights()[0].shape[2] - kernel.shape[2]
            pad = np.zeros((*kernel.shape[:2], extra, kernel.shape[3]), kernel.dtype)
            weights = [np.concatenate([kernel, pad], axis=2), *weights[1:]]
        dst.set_weights(weights)
