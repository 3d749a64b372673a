"""Color hints: "this color here" dots that a hint-capable generator follows.

A hint is a point in the sketch's own pixels and an RGB color. The model sees hints as four
extra input planes beside the sketch (PaintsChainer-style): the hint color in [-1, 1] inside
small disks and 0 elsewhere, and a mask that is 1 inside the disks. Training draws its sampled
hints with :func:`hint_planes` too, so what the model learned is exactly what it is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from inference.architecture import HINT_CHANNELS, IMAGE_SIZE
from inference.errors import HintsError

# Disk radius in model pixels (256² letterbox): a tap on a phone covers a few model pixels.
HINT_RADIUS = 3
# More hints than this is not a hint any more; also bounds the work one request may ask for.
MAX_HINTS = 64

Color = tuple[int, int, int]
# The hints document (CLI --hints FILE.json, the web app's ``hints`` field): a JSON list of these.
HINTS_EXAMPLE = '[{"x": 120, "y": 88, "color": "#d03030"}]'
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Hint:
    """A color hint at pixel (``x``, ``y``) of the sketch (origin top left); ``color`` is RGB 0–255."""

    x: float
    y: float
    color: Color


HintLike = Hint | tuple[float, float, Sequence[int]]


def as_hints(hints: Iterable[HintLike] | None) -> list[Hint]:
    """Check and normalise ``hints`` (``Hint`` objects or ``(x, y, (r, g, b))`` tuples).

    Raises :class:`HintsError` naming the first bad entry by its index.
    """
    if hints is None:
        return []
    checked: list[Hint] = []
    for i, hint in enumerate(hints):
        if len(checked) == MAX_HINTS:
            raise HintsError(f"at most {MAX_HINTS} hints, got more", index=i)
        if isinstance(hint, Hint):
            x, y, color = hint.x, hint.y, hint.color
        else:
            try:
                x, y, color = hint
            except (TypeError, ValueError):
                raise HintsError("a hint is (x, y, (r, g, b))", index=i) from None
        if not all(_is_number(v) for v in (x, y)) or not np.isfinite([x, y]).all():
            raise HintsError("x and y must be finite numbers", index=i)
        try:
            rgb = tuple(int(c) for c in color)
        except (TypeError, ValueError):
            raise HintsError("color must be three integers 0–255", index=i) from None
        if (
            len(rgb) != 3
            or any(c < 0 or c > 255 for c in rgb)
            or any(not _is_number(c) for c in color)
        ):
            raise HintsError("color must be three integers 0–255", index=i)
        checked.append(Hint(float(x), float(y), rgb))  # type: ignore[arg-type]
    return checked


def parse_hints(document: str | bytes) -> list[Hint]:
    """The hints of a JSON document: a list of ``{"x": int, "y": int, "color": "#rrggbb"}`` in
    the sketch's own pixels (origin top left); an empty list is no hints.

    Raises :class:`HintsError`, one line naming the bad entry by its index (0-based).
    """
    try:
        entries = json.loads(document)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        where = f" (line {err.lineno}, column {err.colno})" if hasattr(err, "lineno") else ""
        raise HintsError(f"the hints are not valid JSON{where}; expected {HINTS_EXAMPLE}") from None
    if not isinstance(entries, list):
        raise HintsError(f"the hints must be a JSON list such as {HINTS_EXAMPLE}")
    hints: list[Hint] = []
    for i, entry in enumerate(entries):
        if i == MAX_HINTS:
            raise HintsError(f"at most {MAX_HINTS} hints, got {len(entries)}", index=i)
        if not isinstance(entry, dict):
            raise HintsError(f"must be an object such as {HINTS_EXAMPLE[1:-1]}", index=i)
        missing = [key for key in ("x", "y", "color") if key not in entry]
        if missing:
            raise HintsError(f"missing {', '.join(repr(k) for k in missing)}", index=i)
        for key in ("x", "y"):
            value = entry[key]
            if not isinstance(value, int) or isinstance(value, bool):
                raise HintsError(
                    f"{key} must be a whole number of pixels, got {value!r:.20}", index=i
                )
            if value < 0:
                raise HintsError(f"{key} must be 0 or more, got {value}", index=i)
        color = entry["color"]
        if not isinstance(color, str) or not _HEX_COLOR.fullmatch(color):
            raise HintsError(
                f'color must be "#rrggbb" (such as "#d03030"), got {color!r:.20}', index=i
            )
        rgb = int(color[1:], 16)
        hints.append(
            Hint(float(entry["x"]), float(entry["y"]), (rgb >> 16, (rgb >> 8) & 255, rgb & 255))
        )
    return hints


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def to_model(
    hints: Sequence[Hint], size: tuple[int, int], box: tuple[int, int, int, int]
) -> list[Hint]:
    """Map hints from a sketch of ``size`` (width, height) into the 256² letterbox ``box``
    (left, top, right, bottom). Hints outside the sketch are dropped.
    """
    w, h = size
    left, top, right, bottom = box
    kx, ky = (right - left) / w, (bottom - top) / h
    return [
        Hint(left + (hint.x + 0.5) * kx - 0.5, top + (hint.y + 0.5) * ky - 0.5, hint.color)
        for hint in hints
        if 0 <= hint.x < w and 0 <= hint.y < h
    ]


def hint_planes(hints: Sequence[Hint], size: int = IMAGE_SIZE) -> np.ndarray:
    """The model's hint input for hints in model pixels: (size, size, 4) float32.

    Channels 0–2: the hint color in [-1, 1] inside each disk of radius :data:`HINT_RADIUS`,
    0 elsewhere; channel 3: 1 inside the disks, 0 elsewhere. A later hint covers an earlier one.
    """
    planes = np.zeros((size, size, HINT_CHANNELS), np.float32)
    for hint in hints:
        value = (*(c / 127.5 - 1.0 for c in hint.color), 1.0)
        center = (round(hint.x), round(hint.y))
        cv2.circle(planes, center, HINT_RADIUS, value, thickness=-1, lineType=cv2.LINE_8)
    return planes


def with_hint_planes(inputs: np.ndarray, channels: int) -> np.ndarray:
    """Model inputs (n, 256, 256, 3) widened with empty hint planes to ``channels`` (3 or 7)."""
    if inputs.shape[-1] == channels:
        return inputs
    pad = np.zeros((*inputs.shape[:-1], channels - inputs.shape[-1]), inputs.dtype)
    return np.concatenate([inputs, pad], axis=-1)
