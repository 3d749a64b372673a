"""What the current Keras backend computes, for tests that compare backends:
``python -m tests.support.backend_probe predict WEIGHTS OUT.npy`` (a generator's output on a fixed
input) and ``... losses OUT.json`` (the training losses on fixed tensors)."""

from __future__ import annotations

import json
import sys

import numpy as np

from inference.architecture import COLOR_BINS


def fixed_input(channels: int) -> np.ndarray:
    return np.random.default_rng(7).uniform(-1, 1, (2, 256, 256, channels)).astype(np.float32)


def fixed_loss_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "fake": rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32),
        "target": rng.uniform(-1, 1, (2, 64, 64, 3)).astype(np.float32),
        "logits_real": rng.normal(size=(2, 30, 30, 1)).astype(np.float32),
        "logits_fake": rng.normal(size=(2, 30, 30, 1)).astype(np.float32),
        "head_logits": rng.normal(size=(2, 16, 16, COLOR_BINS)).astype(np.float32),
    }


def losses() -> dict[str, float]:
    from keras import ops

    from inference.color_head import gamut_bins
    from training.losses import (
        color_class_loss,
        color_prior,
        discriminator_loss,
        generator_loss,
        head_class_loss,
        rebalance_weights,
    )

    t = {k: ops.convert_to_tensor(v) for k, v in fixed_loss_tensors().items()}
    total, gan, l1 = generator_loss(t["logits_fake"], t["fake"], t["target"], 400.0)
    weights = rebalance_weights(color_prior(fixed_loss_tensors()["target"]))
    values = {
        "g_total": total,
        "g_gan": gan,
        "g_l1": l1,
        "d_total": discriminator_loss(t["logits_real"], t["logits_fake"]),
        "color": color_class_loss(t["fake"], t["target"], weights),
        "head": head_class_loss(
            t["head_logits"],
            t["target"],
            rebalance_weights(color_prior(fixed_loss_tensors()["target"], bins=gamut_bins())),
        ),
    }
    return {k: float(ops.convert_to_numpy(v)) for k, v in values.items()}


def main() -> None:
    import keras

    if sys.argv[1] == "predict":
        from inference.generator import input_channels_of
        from inference.weights import load_generator

        generator = load_generator(sys.argv[2])
        x = fixed_input(input_channels_of(generator))
        np.save(sys.argv[3], keras.ops.convert_to_numpy(generator(x, training=False)))
    else:
        result = {"backend": keras.backend.backend(), **losses()}
        with open(sys.argv[2], "w") as out:
            json.dump(result, out)


if __name__ == "__main__":
    main()
