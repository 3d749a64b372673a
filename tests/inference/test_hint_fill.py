"""Where color hints paint in the cel style: their regions, split along lines (LazyBrush)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from inference.hint_fill import hint_labels
from inference.hints import Hint
from inference.regions import find_lines, segment

RED, BLUE, GREEN = (230, 20, 20), (20, 40, 230), (20, 200, 60)


def _frame(size: int = 400, gap: int = 0) -> np.ndarray:
    """Line art (255 = paper): a square frame, cut in two halves by a line across it that has
    a ``gap`` in the middle (0: closed), and a small closed box in the lower half."""
    lines = np.full((size, size), 255, np.uint8)
    lo, hi, mid = size // 8, size - size // 8, size // 2
    cv2.rectangle(lines, (lo, lo), (hi, hi), 0, 3)
    cv2.line(lines, (lo, mid), (mid - gap // 2, mid), 0, 3)
    cv2.line(lines, (mid + gap // 2, mid), (hi, mid), 0, 3)
    cv2.rectangle(lines, (mid + 40, mid + 40), (mid + 90, mid + 90), 0, 3)
    return lines


def _labels(lines: np.ndarray, hints: list[Hint]) -> tuple[np.ndarray, np.ndarray, list]:
    """(labels at the sketch's size, regions, colors) for hints in sketch pixels."""
    found = find_lines(lines)
    regions, fills, paper = segment(found.mask)
    k = fills.shape[1] / lines.shape[1]
    work = [Hint((t.x + 0.5) * k - 0.5, (t.y + 0.5) * k - 0.5, t.color) for t in hints]
    labels, colors = hint_labels(found.lines, regions == 0, fills, work, paper)
    size = (lines.shape[1], lines.shape[0])
    return cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST), regions, colors


def test_a_hint_paints_its_region_and_nothing_else():
    lines = _frame()
    labels, regions, colors = _labels(lines, [Hint(200, 120, RED)])
    assert colors == [RED]
    top = regions == regions[120, 200]
    assert (labels[top] == 1).all()
    # Lines around it take the color of their nearest region, so only a few line pixels more.
    assert (labels[regions > 0] == 1).sum() == top.sum()
    assert not labels[regions == regions[5, 5]].any(), "the paper around the drawing stays"
    assert not labels[regions == regions[300, 100]].any()


def test_a_hint_on_a_line_takes_the_nearest_region():
    lines = _frame()
    # The frame's left edge is x = 49..51; x = 52 is on its antialiased inner side.
    lines[:, 52] = np.minimum(lines[:, 52], 120)
    labels, regions, _ = _labels(lines, [Hint(52, 120, BLUE)])
    assert regions[120, 52] == 0, "the hint sits on line art"
    assert (labels[regions == regions[120, 100]] == 1).all()
    assert not labels[regions == regions[5, 5]].any()


def test_a_hint_on_the_paper_paints_the_paper_only():
    lines = _frame()
    labels, regions, _ = _labels(lines, [Hint(10, 10, GREEN)])
    assert (labels[regions == regions[5, 5]] == 1).all()
    assert not labels[regions == regions[120, 200]].any()


def test_a_hint_in_a_shape_open_to_the_paper_fills_the_shape_not_the_paper():
    """A box whose left side has a 40-pixel gap: the segmentation joins its inside to the
    paper. A dot inside colors the inside up to the box's lines; the paper around stays."""
    lines = np.full((400, 400), 255, np.uint8)
    cv2.rectangle(lines, (100, 100), (300, 300), 0, 3)
    lines[180:220, 98:103] = 255  # the gap
    labels, regions, _ = _labels(lines, [Hint(220, 200, RED)])
    assert regions[200, 220] == regions[5, 5], "the inside is the paper's region"
    assert (labels[130:270, 140:270] == 1).mean() > 0.98  # the inside, clear of the gap
    outside = np.ones(lines.shape, bool)
    outside[95:306, 95:306] = False
    assert (labels[outside] == 1).mean() < 0.01  # the paper around the drawing


def test_dots_of_two_colors_on_the_open_paper_share_it():
    lines = _frame()
    labels, regions, _ = _labels(lines, [Hint(10, 10, GREEN), Hint(390, 390, RED)])
    paper = regions == regions[5, 5]
    assert set(np.unique(labels[paper])) == {1, 2}
    assert labels[5, 5] == 1 and labels[395, 395] == 2


@pytest.mark.parametrize(
    ("red", "blue"),
    [((205, 185), (340, 340)), ((60, 60), (340, 340)), ((205, 185), (205, 215))],
    ids=["red-at-the-gap", "far-corners", "both-at-the-gap"],
)
def test_two_colors_in_one_region_meet_at_the_line_and_close_its_gap(red, blue):
    lines = _frame(gap=24)
    labels, regions, colors = _labels(lines, [Hint(*red, RED), Hint(*blue, BLUE)])
    assert regions[120, 200] == regions[300, 100], "the gap joins the halves into one region"
    assert colors == [RED, BLUE]
    top, bottom = regions[55:195, 55:345], labels[205:345, 55:345]
    assert (labels[55:195, 55:345][top > 0] == 1).all()
    assert (bottom[regions[205:345, 55:345] == regions[300, 100]] == 2).all()
    assert not labels[regions == regions[260, 260]].any(), "the small box has no hint"


def test_a_watershed_would_pour_the_color_through_the_gap():
    """Why a graph cut: OpenCV's marker watershed on the same seeds leaks through the gap."""
    lines = _frame(gap=24)
    markers = np.zeros(lines.shape, np.int32)
    cv2.circle(markers, (205, 185), 3, 1, -1)
    cv2.circle(markers, (340, 340), 3, 2, -1)
    cv2.watershed(cv2.cvtColor(255 - lines, cv2.COLOR_GRAY2BGR), markers)
    lower = markers[205:345, 55:345]
    assert (lower == 1).mean() > 0.1  # red floods into the lower half...
    labels, _, _ = _labels(lines, [Hint(205, 185, RED), Hint(340, 340, BLUE)])
    assert not (labels[205:345, 55:345] == 1).any()  # ...the cut does not


def test_many_colors_in_one_region_each_keep_their_dot():
    lines = _frame()
    hints = [Hint(60 + 9 * i, 60 + 4 * i, (4 * i, 100, 200)) for i in range(30)]
    labels, _, colors = _labels(lines, hints)
    assert len(colors) == 30
    for i, hint in enumerate(hints, 1):
        assert labels[int(hint.y), int(hint.x)] == i


def test_hints_outside_the_sketch_are_ignored():
    labels, _, colors = _labels(_frame(), [Hint(500, 10, RED)])
    assert colors == [] and not labels.any()


def test_in_cel_a_hint_decides_its_regions_color_outright(tiny_hint_colorizer):
    img = Image.fromarray(cv2.cvtColor(_frame(), cv2.COLOR_GRAY2RGB))
    hints = [(200, 120, RED), (10, 10, GREEN)]
    cel = tiny_hint_colorizer.colorize(img, hints=hints, style="cel")
    top = cel.regions == cel.regions[120, 200]
    assert (cel.layer_array[top] == RED).all()
    assert (cel.layer_array[cel.regions == cel.regions[5, 5]] == GREEN).all()
    # The other regions keep the model's colors: the same as without the cel step's hints.
    prepared = tiny_hint_colorizer.prepare(img, hints=hints)
    output = tiny_hint_colorizer.engine.predict(prepared.model_input[None])[0]
    plain = tiny_hint_colorizer.finish(replace(prepared, hints=()), output, style="cel")
    lower = cel.regions == cel.regions[300, 100]
    np.testing.assert_array_equal(cel.layer_array[lower], plain.layer_array[lower])
    # "soft" is the model's own shading, hints included: no flat hint colors painted over it.
    soft = tiny_hint_colorizer.colorize(img, hints=hints, style="soft")
    assert not (soft.layer_array[top] == RED).all()
