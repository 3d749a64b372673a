"""Color hints for training: dots sampled from the truth, drawn as the model's extra input.

A person places a few dots where they know the color ("this hair is red"). Training imitates
that: per sketch, often no hint at all (so the model colors well without any), else 1 to
``max_hints`` dots inside the drawing's painted areas (clear of the lines, as a person taps
inside a part), each carrying the truth's color there. The
dots are drawn with :func:`inference.hints.hint_planes`, the function inference uses, so what
the model learns is exactly what it is given.

:func:`widen_to_hints` starts a 7-channel (hint) generator from a 3-channel one: the weights are
copied and the first convolution's 4 new input channels start at zero, so the hint model's
output without hints starts out identical to the hint-less model's.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.architecture import IMAGE_SIZE, SKETCH_CHANNELS
from inference.hints import HINT_RADIUS, Hint, hint_planes

# Share of training sketches without any hint, and the most dots on one sketch.
HINT_FREE_SHARE = 1 / 3
MAX_HINTS = 20
WHITE = 235  # truth pixels lighter than this on every channel are paper: no hint there
LINE = 200  # sketch pixels darker than this are lines: no dot reaches them


def hint_spots(truth: np.ndarray, sketch: np.ndarray | None = None) -> np.ndarray:
    """Where a person would put a dot: bool (H, W), the drawing's painted pixels (not paper) whose
    whole dot stays clear of the sketch's lines, so a dot carries one part's color, never a
    line's black."""
    spots = truth.min(axis=-1) <= WHITE
    if sketch is not None:
        lines = (sketch.min(axis=-1) < LINE).astype(np.uint8)
        reach = cv2.dilate(lines, np.ones((2 * HINT_RADIUS + 1,) * 2, np.uint8))
        spots &= reach == 0
    return spots


def sample_hints(
    truth: np.ndarray,
    rng: np.random.Generator,
    *,
    sketch: np.ndarray | None = None,
    max_hints: int = MAX_HINTS,
    free_share: float = HINT_FREE_SHARE,
    count: int | None = None,
) -> list[Hint]:
    """Hints in model pixels for one 256² truth (uint8 RGB): ``count`` dots, or a random number
    (none with probability ``free_share``, else 1..``max_hints``, small counts more likely).

    Each dot sits on a painted pixel of the truth, away from the lines of ``sketch`` (uint8 RGB,
    when given: see :func:`hint_spots`), and carries the truth's color there.
    """
    if count is None:
        if rng.random() < free_share:
            return []
        # Small counts are what a person gives most often: 1..max with a falling probability.
        count = int(min(max_hints, rng.geometric(1 / 5)))  # mean ≈ 5
    ys, xs = np.nonzero(hint_spots(truth, sketch))
    if count <= 0 or len(ys) == 0:
        return []
    chosen = rng.choice(len(ys), size=min(count, len(ys)), replace=False)
    return [
        Hint(float(xs[i]), float(ys[i]), tuple(int(c) for c in truth[ys[i], xs[i]]))  # type: ignore[arg-type]
        for i in chosen
    ]


def hint_input(sketch: np.ndarray, hints: list[Hint]) -> np.ndarray:
    """The 7-channel model input: sketch (256², float [-1, 1]) beside the hints' planes."""
    return np.concatenate([sketch.astype(np.float32), hint_planes(hints, sketch.shape[0])], -1)


def sampled_planes(sketch: np.ndarray, color: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Hint planes (256, 256, 4) sampled from a truth and its sketch in [-1, 1] (a
    ``tf.numpy_function`` body)."""
    rng = np.random.default_rng(np.asarray(seed).tolist())
    truth, lines = (
        np.clip((x + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8) for x in (color, sketch)
    )
    return hint_planes(sample_hints(truth, rng, sketch=lines), IMAGE_SIZE)


def widen_to_hints(source, target) -> None:
    """Copy a 3-channel generator's weights into a 7-channel one of the same width; the first
    convolution's hint channels start at zero (same output as ``source`` without hints).
    """
    kernel = tuple(source.weights[0].shape)
    if kernel[2] != SKETCH_CHANNELS:
        raise ValueError(f"expected a 3-channel generator, its first kernel is {kernel}")
    from inference.generator import copy_generator_weights

    copy_generator_weights(source, target)
