"""The PatchGAN discriminator: is each 70×70 patch of a (sketch, color) pair real?"""

from __future__ import annotations

import keras
from keras import layers

from inference.generator import IMAGE_SIZE, LEAKY_SLOPE, downsample


def build_discriminator(width: int = 64) -> keras.Model:
    """(sketch, color), each (bs, 256, 256, 3) in [-1, 1] → (bs, 30, 30, 1) logits."""
    init = keras.initializers.RandomNormal(0.0, 0.02)
    sketch = layers.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name="input_image")
    color = layers.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name="target_image")
    x = layers.Concatenate()([sketch, color])  # (bs, 256, 256, 6)
    x = downsample(width, apply_batchnorm=False)(x)  # (bs, 128, 128, 64)
    x = downsample(width * 2)(x)  # (bs, 64, 64, 128)
    x = downsample(width * 4)(x)  # (bs, 32, 32, 256)
    x = layers.ZeroPadding2D()(x)  # (bs, 34, 34, 256)
    x = layers.Conv2D(width * 8, 4, strides=1, kernel_initializer=init, use_bias=False)(x)
    x = layers.BatchNormalization()(x)  # (bs, 31, 31, 512)
    x = layers.LeakyReLU(negative_slope=LEAKY_SLOPE)(x)
    x = layers.ZeroPadding2D()(x)  # (bs, 33, 33, 512)
    x = layers.Conv2D(1, 4, strides=1, kernel_initializer=init)(x)  # (bs, 30, 30, 1)
    return keras.Model(inputs=[sketch, color], outputs=x, name="discriminator")
