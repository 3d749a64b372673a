"""Weight-space averages of generators: model soups and WiSE-FT (``pixelpainter-train average``).

A *soup* (Wortsman et al., "Model soups", 2022) averages the weights of checkpoints fine-tuned
from one start; *WiSE-FT* (Wortsman et al., "Robust fine-tuning of zero-shot models", 2022)
interpolates a fine-tuned model back toward the one it started from. Both need no training and
hold only for models that share a start (the same basin): checkpoints of one run, or a run and
its ``--init-weights``.

The output has the first source's architecture. Layers with weights are paired by position
(Keras numbers layer names per process, so names differ between loads) and must hold the same
weight shapes; past the end of a shorter source (a head-less start has no color-head logits)
the layer is averaged over the sources that have it, their weights renormalised. A source of
another width or input (hint channels against none) is refused naming the layer and both shapes.
BatchNorm statistics are averaged like any weight. A color-head model's read-out (the annealed
mean's temperature, saturation and chroma target) is not a weight:
``pixelpainter-train average --temperature T [--saturation S --chroma-target C] --onnx`` bakes it
into the ONNX file and keeps it in the ``.weights.h5`` file's attributes and the ``.keras``
file's config (:func:`inference.weights.save_weights`), so every copy gives the same colors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np


class AverageError(ValueError):
    """Sources that cannot be averaged, or a bad share: the message says which and why."""


def parse_source(spec: str) -> tuple[Path, float]:
    """``PATH`` or ``PATH:SHARE`` (share > 0; default 1). What follows the last colon is a
    share only when it is a number (``C:/models/a.weights.h5`` is a path)."""
    path, _, share = spec.rpartition(":")
    try:
        value = float(share)
    except ValueError:
        return Path(spec), 1.0
    if not path:
        return Path(spec), 1.0
    if not value > 0:
        raise AverageError(f"{spec}: a source's share must be above 0, not {share}")
    return Path(path), value


def average(
    models: Sequence[keras.Model], weights: Sequence[float], names: Sequence[str] | None = None
) -> keras.Model:
    """The first of ``models`` with every layer's weights set to the weighted mean over the
    models that have that layer (see the module docstring). ``weights`` need not sum to 1;
    ``names`` (the sources, for messages) default to "source 1", "source 2", ..."""
    if not models or len(models) != len(weights):
        raise AverageError("give at least one model and one weight per model")
    names = list(names or (f"source {k + 1}" for k in range(len(models))))
    stacks = [[layer for layer in m.layers if layer.weights] for m in models]
    for i, layer in enumerate(stacks[0]):
        shapes = [tuple(w.shape) for w in layer.weights]
        own = layer.get_weights()
        values = [np.asarray(v, np.float64) * weights[0] for v in own]
        total = weights[0]
        for stack, weight, name in zip(stacks[1:], weights[1:], names[1:], strict=True):
            if i >= len(stack):
                continue  # a layer only the first has (the color head's logits)
            other = [tuple(w.shape) for w in stack[i].weights]
            if other != shapes:
                raise AverageError(
                    f"{name}: its layer {i + 1} holds {other} where {names[0]} holds {shapes}: "
                    "another width, input or head, not a model from the same start"
                )
            for j, v in enumerate(stack[i].get_weights()):
                values[j] += np.asarray(v, np.float64) * weight
            total += weight
        layer.set_weights([(v / total).astype(w.dtype) for v, w in zip(values, own, strict=True)])
    return models[0]
