"""The generator's shape as plain numbers: what every part may know without importing Keras.

The network itself is built in :mod:`inference.generator` (Keras); this module is what
``pixelpainter info`` and the ONNX runtime path read, so they never import TensorFlow.
"""

from __future__ import annotations

IMAGE_SIZE = 256
OUTPUT_CHANNELS = 3
# A hint-capable generator reads the sketch (RGB) and 4 hint planes: hint RGB and its mask
# (see inference.hints); a hint-less one reads the sketch alone.
SKETCH_CHANNELS = 3
HINT_CHANNELS = 4
INPUT_CHANNELS = (SKETCH_CHANNELS, SKETCH_CHANNELS + HINT_CHANNELS)
DEFAULT_WIDTH = 64
# The color head (inference.color_head): one logit per in-gamut ab bin, read off the 64²
# decoder level (4·width channels there).
COLOR_BINS = 261

# Encoder and decoder filters as multiples of `width` (64 in the reference model).
ENCODER_MULTIPLIERS = (1, 2, 4, 8, 8, 8, 8, 8)
DECODER_MULTIPLIERS = (8, 8, 8, 8, 4, 2, 1)
DECODER_DROPOUT = (True, True, True, False, False, False, False)
# The tutorial's `tf.keras.layers.LeakyReLU()` uses the Keras default slope 0.3, not the paper's
# 0.2: weights trained with the tutorial (the Kaggle notebook's) reproduce only with 0.3.
LEAKY_SLOPE = 0.3


def parameter_count(
    width: int, input_channels: int = SKETCH_CHANNELS, color_head: bool = False
) -> int:
    """Parameters of the generator at ``width`` (54,425,859 at 64), computed without building it;
    ``color_head``: with the color head's 1×1 convolution (and bias)."""
    total, cin = 0, input_channels
    skips = []
    for i, m in enumerate(ENCODER_MULTIPLIERS):
        cout = width * m
        total += 16 * cin * cout + (4 * cout if i else 0)  # conv + BN(γ, β, mean, var)
        skips.append(cout)
        cin = cout
    for m, skip in zip(DECODER_MULTIPLIERS, reversed(skips[:-1]), strict=True):
        cout = width * m
        total += 16 * cin * cout + 4 * cout
        cin = cout + skip
    total += 16 * cin * OUTPUT_CHANNELS + OUTPUT_CHANNELS  # last transposed conv, with bias
    return total + ((4 * width + 1) * COLOR_BINS if color_head else 0)
