"""Cel on sketches as people send them: faint and broken lines, shaded and photographed paper.

The figure never merges with the paper, closed shapes come out flat, the paper stays white; a
region the model paints in two colors is split along its color edge, specks are not.
"""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from inference.colorizer import Colorizer
from inference.regions import find_lines
from training.sketches import SKETCH_VARIANTS, Drawing, geometric


def _away(mask: np.ndarray, px: int = 6) -> np.ndarray:
    """``mask`` without its pixels within ``px`` of its edge (off the lines by that much)."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.erode(mask.view(np.uint8), disc).view(bool)


@pytest.fixture(scope="module")
def bundled():
    return Colorizer.load(None, threads=1)


@pytest.fixture(scope="module", params=list(SKETCH_VARIANTS))
def drawn(request, bundled):
    drawing = geometric(**SKETCH_VARIANTS[request.param])
    prepared = bundled.prepare(drawing.image)
    output = bundled.engine.predict(prepared.model_input[None])[0]
    return drawing, prepared, bundled.finish(prepared, output, style="cel")


def test_the_figure_never_merges_with_the_paper(drawn):
    drawing, prepared, result = drawn
    assert prepared.paper > 0
    assert (result.regions[drawing.paper] == prepared.paper).mean() > 0.95
    # No figure pixel is in the paper's region (a stray pixel on a line's edge at most, where
    # the working map is scaled up); each shape is a region of its own.
    assert (result.regions[drawing.figure] == prepared.paper).mean() < 0.001
    assert (result.regions[_away(drawing.figure, 2)] == prepared.paper).sum() == 0
    ids = [np.bincount(result.regions[_away(s)]).argmax() for s in drawing.shapes]
    assert len(set(ids)) == len(drawing.shapes) and 0 not in ids


def test_closed_shapes_are_flat(drawn):
    drawing, _, result = drawn
    for shape in drawing.shapes:
        inside = result.image_array[_away(shape)]
        # Flat: one color, or two where the model paints the shape in two (the hint-trained
        # bundled model splits some big shapes, as between a shirt and its collar); cel then
        # splits the region along that edge, each piece flat.
        colors, counts = np.unique(inside.reshape(-1, 3), axis=0, return_counts=True)
        top = np.sort(counts)[::-1]
        assert top[:2].sum() >= 0.99 * len(inside), colors[np.argsort(counts)[::-1][:4]]


def test_the_paper_stays_white(drawn):
    drawing, _, result = drawn
    paper = result.image_array[_away(drawing.paper)]
    assert (paper.min(axis=1) >= 245).mean() >= 0.99


def test_lines_stay_visible(drawn):
    drawing, _, result = drawn
    # The lines darken the result where they are drawn (faint ones a little, as drawn).
    lines = np.asarray(result.lines)
    assert np.median(lines[drawing.ink & ~_gaps(drawing)]) < 235


def _gaps(drawing: Drawing) -> np.ndarray:
    gray = np.asarray(drawing.image.convert("L")).astype(np.int16)
    return gray > np.median(gray) - 10


@pytest.mark.parametrize("ink", [170, 200, 220])
def test_faint_lines_are_lines_and_shading_is_not(ink):
    paper = np.full((300, 400), 245.0)
    paper *= np.linspace(1.0, 0.8, 400)[None, :]  # a shadow across the page
    paper += np.random.default_rng(0).normal(0, 3, paper.shape)  # grain
    gray = paper.copy()
    gray[100:103, 20:380] = ink * np.linspace(1.0, 0.8, 400)[20:380]  # one stroke, shaded too
    found = find_lines(np.clip(gray, 0, 255).astype(np.uint8))
    assert found.mask[100:103, 30:370].mean() > 0.95
    off = np.ones_like(found.mask)
    off[96:107] = False
    assert found.mask[off].mean() < 0.001  # no shading nor grain taken for line
    assert (found.lines[off] >= 245).mean() > 0.99  # and the paper comes out white
    assert found.noise <= 6


class PaintEngine:
    """An engine that paints a fixed 256² picture whatever the sketch: known colors to check."""

    name = "paint"

    def __init__(self, picture: np.ndarray) -> None:
        self.picture = picture.astype(np.float32) / 127.5 - 1.0

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return np.repeat(self.picture[None], len(batch), axis=0)


def _boxes(frame: bool = False) -> Image.Image:
    """512²: a box on the left, two on the right, a margin of paper; ``frame``: a frame along
    the image's border closes the margin into a region."""
    img = Image.new("RGB", (512, 512), "white")
    draw = ImageDraw.Draw(img)
    if frame:
        draw.rectangle([0, 0, 511, 511], outline="black", width=4)
    draw.rectangle([40, 40, 250, 470], outline="black", width=4)
    draw.rectangle([270, 40, 470, 250], outline="black", width=4)
    draw.rectangle([270, 270, 470, 470], outline="black", width=4)
    return img


def test_the_paper_is_white_whatever_the_model_paints_there():
    picture = np.full((256, 256, 3), (90, 160, 60), np.uint8)  # green blotches everywhere
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    result = colorizer.colorize(_boxes())
    prepared = colorizer.prepare(_boxes())
    assert prepared.paper == result.regions[5, 5] > 0
    assert (result.layer_array[result.regions == prepared.paper] == 255).all()
    assert tuple(result.layer_array[150, 150]) == (90, 160, 60)  # the boxes keep the color


def test_a_background_closed_with_lines_is_a_region_like_any_other():
    picture = np.full((256, 256, 3), (90, 160, 60), np.uint8)
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    prepared = colorizer.prepare(_boxes(frame=True))
    assert prepared.paper == 0
    result = colorizer.colorize(_boxes(frame=True))
    assert tuple(result.layer_array[20, 256]) == (90, 160, 60)


def test_a_region_painted_in_two_colors_is_split_along_the_color_edge():
    picture = np.full((256, 256, 3), 250, np.uint8)
    picture[:, :128] = (30, 30, 220)  # the left box: its top blue, its bottom skin
    picture[128:, :128] = (240, 200, 170)
    picture += np.random.default_rng(0).integers(0, 12, picture.shape).astype(np.uint8)
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    result = colorizer.colorize(_boxes())
    top, bottom = result.layer_array[60:230, 60:230], result.layer_array[280:450, 60:230]
    for half, color in ((top, (30, 30, 220)), (bottom, (240, 200, 170))):
        assert np.ptp(half.reshape(-1, 3), axis=0).max() == 0  # each side flat
        assert np.abs(half[0, 0].astype(int) - color).max() <= 12
    # The edge follows the model's (at 256 → 512: row 256 ± a few pixels).
    column = result.layer_array[200:320, 150, 2]
    assert 250 <= 200 + int(np.argmax(column < 200)) <= 262


def test_scattered_blotches_do_not_split_a_region():
    rng = np.random.default_rng(2)
    picture = np.full((256, 256, 3), (200, 120, 80), np.uint8)
    for _ in range(30):  # small blotches of another color all over the left box
        y, x = (int(v) for v in rng.integers(24, 230, 2))
        picture[y : y + 5, x // 2 : x // 2 + 5] = (40, 200, 230)
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    result = colorizer.colorize(_boxes())
    inside = result.layer_array[50:460, 50:240].reshape(-1, 3)
    assert np.ptp(inside, axis=0).max() == 0
    assert tuple(inside[0]) == (200, 120, 80)


def _open_head() -> Image.Image:
    """512²: a head whose outline is left open at the bottom wider than the segmentation's ball
    (a neck running off the picture), so the paper region swallows it; a box beside it."""
    img = Image.new("RGB", (512, 512), "white")
    draw = ImageDraw.Draw(img)
    draw.arc([60, 60, 300, 340], 110, 430, fill="black", width=5)  # open between 70° and 110°
    draw.rectangle([340, 60, 470, 200], outline="black", width=5)
    return img


@pytest.mark.parametrize("paper", [(252, 252, 252), (246, 234, 204)], ids=["white", "wash"])
def test_a_figure_the_paper_region_swallowed_gets_the_models_color(paper):
    # The model paints the paper white or washes it cream (what is far from its paper color
    # is figure), the head skin, and blotches on the paper, one away from any line, one by the
    # head's gap.
    skin = (200, 140, 100)
    picture = np.full((256, 256, 3), paper, np.uint8)
    cv2.ellipse(picture, (90, 100), (58, 68), 0, 0, 360, skin, -1)
    picture[20:48, 20:60] = (150, 230, 150)
    picture[160:205, 68:112] = (150, 230, 150)  # one through the gap, touching the head's color
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    prepared = colorizer.prepare(_open_head())
    result = colorizer.finish(prepared, colorizer.engine.predict(prepared.model_input[None])[0])
    head = np.zeros((512, 512), np.uint8)
    cv2.ellipse(head, (180, 200), (100, 120), 0, 0, 360, 1, -1)
    assert (result.regions[head.view(bool)] == prepared.paper).mean() > 0.9  # swallowed
    inside = result.layer_array[head.view(bool)].reshape(-1, 3)
    colors, counts = np.unique(inside, axis=0, return_counts=True)
    assert counts.max() >= 0.95 * len(inside)  # flat
    assert np.abs(colors[counts.argmax()].astype(int) - skin).max() <= 8
    # The blotch and the rest of the paper stay white.
    assert (result.layer_array[50:86, 50:110] == 255).all()
    assert (result.layer_array[364:400, 144:216] == 255).all()  # the one by the gap too
    paper = np.ones((512, 512), bool)
    paper[40:360, 40:320] = paper[40:220, 320:490] = False
    assert (result.layer_array[paper] == 255).all()


def test_a_wash_between_shapes_is_not_taken_for_figure():
    # The model washes the paper between the boxes (its edges are their lines, the boxes
    # beyond them): the paper stays white.
    picture = np.full((256, 256, 3), 252, np.uint8)
    picture[10:246, 110:150] = (190, 150, 90)
    colorizer = Colorizer(PaintEngine(picture), style="cel")
    prepared = colorizer.prepare(_boxes())
    result = colorizer.finish(prepared, colorizer.engine.predict(prepared.model_input[None])[0])
    assert (result.layer_array[result.regions == prepared.paper] == 255).all()
