"""The cel color layer: each region the sketch's lines enclose in one flat color.

The colors come from the model (its output at 256², lines removed: the *soft* colors): each
region gets the median of the model's colors in it. Three exceptions:

- The paper (the region around the figure that touches the image's border, see
  :func:`inference.regions.paper_region`) stays white: what the model paints there is GAN
  blotches, not color. Except where the paper region swallowed part of the figure (its outline
  left open wider than the segmentation's ball: a neck running off the picture, hair open at
  the bottom, lines too faint to find): a large patch the model clearly paints, bounded by the
  sketch's lines for most of its edge, is figure and filled flat in its median color. GAN
  blotches float on the paper away from any line.
- Where the model clearly paints two colors in one region (a line the artist left open between
  hair and face), the region is split along the model's color edge, each side flat. "Clearly":
  a fifth or more of its pixels far from the median, in one compact patch rather than specks.
- Regions too small to have a reliable color (hatching, specks) keep the soft colors.

Everything is whole-array OpenCV/numpy work: per-region medians from one histogram, lookups
through a palette, no loop over regions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from inference.colorizer import Prepared

# A region is filled flat when it has at least this many model pixels to take the median of,
# and they are at least this share of its pixels (the rest are on the model's lines).
MIN_CEL_SAMPLES = 12
MIN_CEL_OPEN = 0.3
# A model pixel this far (levels, on its farthest channel) from its region's median is painted
# in another color; a region is split when at least SPLIT_SHARE of its pixels are, and they
# form a compact patch: its border with the rest no longer than SPLIT_COMPACT × √area (a disc
# has 3.5, a few scattered blotches 8+).
SPLIT_DISTANCE = 64
SPLIT_SHARE = 0.2
SPLIT_COMPACT = 6.0
# A patch of the paper region is figure when the model paints it this far (levels, farthest
# channel) from its color of the paper (the region's median: white or a light wash), it covers
# at least FIGURE_AREA of the picture and at most FIGURE_SHARE of the paper region (more is a
# wash over the paper), and at least FIGURE_LINED of its edge lies along an outline: a line of
# the sketch with white paper beyond it, reached through the line within OUTLINE_REACH pixels
# (lines inside the patch and the image's border are not). Its pixels SPLIT_DISTANCE or more
# from its median are another color (a blotch touching it through its outline's gap): let go.
FIGURE_DISTANCE = 40
FIGURE_AREA = 0.01
FIGURE_SHARE = 0.5
FIGURE_LINED = 0.35
OUTLINE_REACH = 12
PAPER_COLOR = 0x00FF_FFFF  # packed RGB white
_SOFT = 0xFF00_0000  # palette entry: "use the soft color here"


def cel_layer(soft_layer: np.ndarray, soft: np.ndarray, prepared: Prepared) -> np.ndarray:
    """The cel color layer (H, W, 3) uint8 at the output size.

    ``soft_layer``: the soft color layer at the output size (kept for hatching and specks);
    ``soft``: the model's colors at its resolution, cropped to the sketch, lines removed (h, w, 3)
    uint8. Colors are sampled off the model's line pixels, whose color is a guess.
    """
    h, w = soft.shape[:2]
    count = prepared.count + 1
    left, top, right, bottom = prepared.box
    open_ = np.ascontiguousarray(prepared.model_lines[top:bottom, left:right] == 0)
    # Every model pixel's region (lines: the nearest one), and the sampled pixels' (0 = none).
    everywhere = cv2.resize(prepared.fills, (w, h), interpolation=cv2.INTER_NEAREST)
    sampled = cv2.copyTo(
        cv2.resize(prepared.regions, (w, h), interpolation=cv2.INTER_NEAREST), open_.view(np.uint8)
    )
    medians, samples = region_medians(soft, sampled, count)
    size = np.bincount(everywhere.ravel(), minlength=count)
    flat = (samples >= MIN_CEL_SAMPLES) & (samples >= MIN_CEL_OPEN * size)
    palette = np.where(flat, _pack(medians), _SOFT).astype("<u4")
    if prepared.paper:
        palette[prepared.paper] = PAPER_COLOR
    palette[0] = _SOFT
    if (palette == _SOFT).all():
        return soft_layer
    layer = _paint(palette, prepared, soft_layer)
    split, seconds, second = _split(
        soft, sampled, everywhere, medians, samples, flat, prepared.paper
    )
    if split.any():
        # The second color where the model paints it, its edge smoothed by the upscaling.
        palette[split] = _pack(seconds[split])
        edge = cv2.resize(second, prepared.size, interpolation=cv2.INTER_LINEAR)
        cv2.copyTo(_paint(palette, prepared, soft_layer), cv2.compare(edge, 127, cv2.CMP_GT), layer)
    if prepared.paper:
        tone = medians[prepared.paper] if samples[prepared.paper] else np.full(3, 255)
        patches, colors = figure_in_paper(soft, everywhere == prepared.paper, open_, tone)
        if patches.any():
            edge = cv2.resize(patches, prepared.size, interpolation=cv2.INTER_LINEAR)
            big = cv2.resize(colors, prepared.size, interpolation=cv2.INTER_NEAREST)
            cv2.copyTo(big, cv2.compare(edge, 127, cv2.CMP_GT), layer)
    return layer


def figure_in_paper(
    soft: np.ndarray, in_paper: np.ndarray, open_: np.ndarray, tone: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Parts of the figure inside the paper region (see the module docstring): uint8 (h, w) mask,
    255 on them and on the lines along them, and uint8 (h, w, 3): each part's median color.
    ``tone``: the model's color of the paper region (its median; a light wash, or white)."""
    paper = np.empty_like(soft)
    paper[:] = tone
    painted = cv2.bitwise_and(
        cv2.compare(_distance(soft, paper), FIGURE_DISTANCE, cv2.CMP_GT),
        (in_paper & open_).view(np.uint8) * np.uint8(255),
    )
    kept, count = _figure_patches(_opened(painted), in_paper, open_)
    if count:
        # A blotch of another color that touches a part (by the gap in its outline) is not
        # part of it: the pixels far from their patch's median are let go, and patches found
        # again.
        medians, _ = region_medians(soft, kept, count + 1)
        near = cv2.compare(_distance(soft, _image(medians, kept)), SPLIT_DISTANCE, cv2.CMP_LE)
        painted = cv2.bitwise_and(near, (kept > 0).view(np.uint8) * np.uint8(255))
        kept, count = _figure_patches(_opened(painted), in_paper, open_)
    if not count:
        return np.zeros(soft.shape[:2], np.uint8), np.zeros_like(soft)
    medians, _ = region_medians(soft, kept, count + 1)
    # The lines along a part take its color too (they multiply over it): no white seam.
    grown = cv2.dilate(kept.astype(np.uint16), np.ones((3, 3), np.uint8)).astype(np.intp)
    kept = np.where((kept == 0) & ~open_ & in_paper, grown, kept)
    return (kept > 0).view(np.uint8) * np.uint8(255), _image(medians, kept)


def _opened(mask: np.ndarray) -> np.ndarray:
    """``mask`` (uint8 0/255) without specks and bridges narrower than 5 pixels."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc)


def _figure_patches(
    painted: np.ndarray, in_paper: np.ndarray, open_: np.ndarray
) -> tuple[np.ndarray, int]:
    """The patches of ``painted`` (uint8 0/255, inside the paper region) that are figure: ids
    (h, w) intp, 1..count on them, 0 elsewhere; and count."""
    h, w = painted.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(painted, connectivity=4)
    if count < 2:
        return np.zeros((h, w), np.intp), 0
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    inner = cv2.erode(painted, cross, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    edge = cv2.subtract(painted, inner) > 0
    # An edge pixel on an outline: next to a line that the white paper beyond reaches through
    # the line itself (within OUTLINE_REACH pixels). A wash between shapes has their lines at
    # its edge with the shapes, not the paper, beyond them.
    white = cv2.subtract((in_paper & open_).view(np.uint8) * np.uint8(255), painted)
    lines = (~open_).view(np.uint8) * np.uint8(255)
    through, square = cv2.bitwise_or(white, lines), np.ones((3, 3), np.uint8)
    reached = white
    for _ in range(OUTLINE_REACH):
        reached = cv2.bitwise_and(cv2.dilate(reached, square), through)
    near_line = cv2.dilate(cv2.bitwise_and(reached, lines), square) > 0
    ids = labels.ravel()
    rim = np.bincount(ids, weights=edge.ravel(), minlength=count)
    lined = np.bincount(ids, weights=(edge & near_line).ravel(), minlength=count)
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (
        (area >= FIGURE_AREA * h * w)
        & (area <= FIGURE_SHARE * np.count_nonzero(in_paper))
        & (lined >= FIGURE_LINED * rim)
    )
    keep[0] = False
    return (np.cumsum(keep) * keep).take(labels), int(keep.sum())


def region_medians(rgb: np.ndarray, ids: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-region median color of ``rgb`` (h, w, 3) uint8 over ``ids`` (h, w) int 0..count-1.

    Returns (medians (count, 3) intp, samples (count,) intp); id 0 is not counted (no region),
    and a region without samples has median 0.
    """
    flat_ids = ids.ravel()
    samples = np.bincount(flat_ids, minlength=count)
    samples[0] = 0
    medians = np.zeros((count, 3), np.intp)
    present = samples > 0
    m = int(present.sum())
    if m == 0:
        return medians, samples
    # Compact ids of present regions to 0..m-1: the histograms are m × 256.
    compact = np.cumsum(present) - 1
    keep = present.take(flat_ids)
    idx = compact.take(flat_ids.compress(keep))
    for c, values in enumerate(cv2.split(rgb)):
        hist = np.bincount(idx * 256 + values.ravel().compress(keep), minlength=m * 256)
        cum = hist.reshape(m, 256).cumsum(axis=1)
        medians[present, c] = (2 * cum >= cum[:, -1:]).argmax(axis=1)
    return medians, samples


def _split(
    soft: np.ndarray,
    sampled: np.ndarray,
    everywhere: np.ndarray,
    medians: np.ndarray,
    samples: np.ndarray,
    flat: np.ndarray,
    paper: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regions the model clearly paints in two colors: (bool (count,) which regions, their
    second colors (count, 3), uint8 (h, w) mask: 255 where the second color is painted)."""
    count = medians.shape[0]
    far = _distance(soft, _image(medians, sampled)) > SPLIT_DISTANCE
    far_ids = np.where(far, sampled, 0)
    seconds, far_count = region_medians(soft, far_ids, count)
    candidate = flat & (far_count >= SPLIT_SHARE * samples) & (far_count >= MIN_CEL_SAMPLES)
    candidate[0] = False
    if paper:
        candidate[paper] = False
    if not candidate.any():
        return candidate, seconds, np.zeros(soft.shape[:2], np.uint8)
    # Each pixel of a candidate region to the nearer of its two colors, specks smoothed away.
    nearer = _distance(soft, _image(seconds, everywhere)) < _distance(
        soft, _image(medians, everywhere)
    )
    in_candidate = candidate.take(everywhere)
    second = cv2.medianBlur((nearer & in_candidate).view(np.uint8) * np.uint8(255), 5)
    first = cv2.bitwise_and(in_candidate.view(np.uint8) * np.uint8(255), cv2.bitwise_not(second))
    touching = cv2.bitwise_and(second, cv2.dilate(first, np.ones((3, 3), np.uint8)))
    ids = everywhere.ravel()
    area = np.bincount(ids, weights=second.ravel() > 0, minlength=count)
    rest = np.bincount(ids, weights=first.ravel() > 0, minlength=count)
    border = np.bincount(ids, weights=touching.ravel() > 0, minlength=count)
    split = (
        candidate
        & (area >= MIN_CEL_SAMPLES)
        & (rest >= MIN_CEL_SAMPLES)
        & (border <= SPLIT_COMPACT * np.sqrt(area))
    )
    second = cv2.bitwise_and(second, split.take(everywhere).view(np.uint8) * np.uint8(255))
    return split, seconds, second


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel distance of two uint8 color images (h, w, 3): the largest channel difference,
    uint8 (h, w)."""
    c0, c1, c2 = cv2.split(cv2.absdiff(a, b))
    return cv2.max(cv2.max(c0, c1), c2)


def _image(colors: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """uint8 (h, w, 3): each pixel the color (``colors`` (count, 3), 0..255) of its id."""
    return colors.astype(np.uint8).take(ids, axis=0)


def _pack(rgb: np.ndarray) -> np.ndarray:
    return (rgb[:, 0] | (rgb[:, 1] << 8) | (rgb[:, 2] << 16)).astype(np.uint32)


def _paint(palette: np.ndarray, prepared: Prepared, soft_layer: np.ndarray) -> np.ndarray:
    """The layer of a palette (packed RGB per region, or ``_SOFT``) at the output size."""
    # Looked up at the working size (fewer pixels); nearest-neighbour scaling keeps it exact.
    work = palette.take(prepared.fills).view(np.uint8).reshape(*prepared.fills.shape, 4)
    big = cv2.resize(work, prepared.size, interpolation=cv2.INTER_NEAREST)
    layer = cv2.cvtColor(big, cv2.COLOR_RGBA2RGB)
    cv2.copyTo(soft_layer, cv2.extractChannel(big, 3), layer)
    return layer
