"""Exporting a trained generator: weights, a Keras file and the JSON model card."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from inference.generator import input_channels_of, width_of
from inference.weights import save_weights
from training.config import TrainConfig
from training.splits import Split


def margins(model: dict[str, float], baselines: dict[str, dict[str, float]]) -> dict[str, dict]:
    """How far the model is ahead of each baseline (PSNR in dB, SSIM in its own units)."""
    return {
        name: {"psnr_db": model["psnr"] - scores["psnr"], "ssim": model["ssim"] - scores["ssim"]}
        for name, scores in baselines.items()
    }


def export(
    generator: keras.Model, out: Path, card: dict[str, object], name: str = "generator"
) -> dict[str, Path]:
    """Write the generator as ``.weights.h5`` and ``.keras`` plus a JSON model card."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "weights": out / f"{name}.weights.h5",
        "keras": out / f"{name}.keras",
        "card": out / f"{name}.json",
    }
    save_weights(generator, paths["weights"])
    generator.save(paths["keras"])
    channels = input_channels_of(generator)
    full_card = {
        "name": "PixelPainter generator",
        "architecture": f"pix2pix U-Net (TensorFlow tutorial), 256×256×{channels} in [-1, 1]"
        + (": the sketch's RGB and 4 hint planes (inference/hints.py)" if channels != 3 else ""),
        "input_channels": channels,
        "width": width_of(generator),
        "parameters": int(generator.count_params()),
        **card,
    }
    paths["card"].write_text(json.dumps(full_card, indent=2, default=_json_default) + "\n")
    return paths


def _json_default(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def config_card(config: TrainConfig, train: Split, val: Split) -> dict[str, object]:
    """What a model card says about the run that made the weights."""
    recipe = asdict(config)
    recipe.pop("extra")
    return {
        "data": {
            "path": str(config.data),
            "train_pairs": len(train),
            "val_pairs": len(val),
            **config.extra,
        },
        "recipe": recipe,
    }
