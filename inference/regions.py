"""Regions enclosed by a sketch's lines, found by trapped-ball filling with OpenCV.

A flood fill leaks through every gap in the line art; a ball rolled through the paper does not
pass a gap narrower than itself. So the paper is eroded by a big ball (a distance transform, one
pass whatever the radius), each connected piece of what is left is a region's core, and the core
grows back by the ball's radius. What the big ball could not reach (narrow parts, small enclosed
areas) is filled the same way with smaller balls, then by plain connected components. Slivers a
big ball left in a corner touch their region without a line in between and are merged into it.
This is LineFiller's and Style2Paints V4's region stage, done with whole-image OpenCV operations
instead of one flood fill per region.

Label maps are int32 (H, W): 0 = line (or unassigned), 1..N = regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The big ball's radius per pixel of the long side (1024 px → 6 px: closes gaps up to ~12 px,
# about 1 % of the long side; for the segmentation only, nothing is drawn).
BALL_PER_PIXEL = 6 / 1024
MAX_BALL = 12
# Sketches are segmented at most this large (long side); regions are scaled back up.
SEGMENT_SIDE = 512
# The paper's tone is estimated on a thumbnail this large (long side), closed (dark strokes
# and fills removed) with a disc this share of its side: a shadow or vignette changes over a
# larger distance than that, a stroke or a patch of hatching is narrower.
PAPER_SIDE = 64
PAPER_WINDOW = 1 / 8
# Relative luminance scale: the paper maps to about this level, leaving room above it for the
# paper's noise to be measured on both sides.
PAPER_REF = 224
# No paper is darker than this (an all-black picture is all line, as before).
MIN_PAPER = 96
# A pixel is line art when darker than the local paper by more than the paper's noise (4 σ)
# and at least this many levels of PAPER_REF (≈ 15 levels on a 245 paper): faint pencil
# (200 on 245) is line, the grain of a photographed page is not.
MIN_CONTRAST = 14
NOISE_SIGMAS = 4.0
# How much of a region's border must be the image's border for it to count as the paper.
PAPER_BORDER_SHARE = 0.25


@dataclass(frozen=True)
class LineArt:
    """A sketch's lines: ``lines`` uint8 (H, W), the luminance with the paper lifted to 255
    (its shading and grain gone, what multiplies over the colors); ``mask`` bool (H, W), true
    on line pixels (what bounds the regions); ``noise``: the paper's grain, σ in levels;
    ``model`` uint8 (H, W): the sketch as the model should see it (the lines on white, the
    darkest of them black)."""

    lines: np.ndarray
    mask: np.ndarray
    noise: float
    model: np.ndarray


def paper_tone(gray: np.ndarray) -> np.ndarray:
    """The local paper's tone of a uint8 luminance image, uint8 (H, W), smooth.

    On a thumbnail: a morphological closing removes what is darker than the paper and narrower
    than the window (strokes, hatching, small fills); a quadratic surface fitted to the pixels
    left near that estimate follows a vignette or a shadow's gradient into the corners (where a
    closing alone stays too bright); a closing of the ratio to that surface adds back what
    changes faster (a fold's shadow, a yellowed patch).
    """
    h, w = gray.shape
    k = min(1.0, PAPER_SIDE / max(h, w))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    r = max(1, round(max(size) * PAPER_WINDOW))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, disc, borderType=cv2.BORDER_REPLICATE)
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32) / max(size)
    terms = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1)
    paper = small >= 0.93 * closed
    surface = closed
    if paper.sum() >= 4 * terms.shape[-1]:
        a, b = terms[paper], small[paper]
        coef = np.linalg.solve(a.T @ a + 1e-6 * np.eye(a.shape[1]), a.T @ b)  # least squares
        surface = np.maximum(terms @ coef, 1.0).astype(np.float32)
        ratio = cv2.morphologyEx(
            small / surface, cv2.MORPH_CLOSE, disc, borderType=cv2.BORDER_REPLICATE
        )
        surface = surface * cv2.GaussianBlur(ratio, (0, 0), r / 2, borderType=cv2.BORDER_REPLICATE)
    # A dark area wider than the window (a black background) is not paper: the tone stays
    # within reach of the brightest paper, and no paper is darker than MIN_PAPER.
    tone = np.maximum(surface, max(0.6 * float(np.percentile(surface, 90)), MIN_PAPER))
    tone = np.clip(tone + 0.5, 1, 255).astype(np.uint8)
    return cv2.resize(tone, (w, h), interpolation=cv2.INTER_LINEAR)


def find_lines(gray: np.ndarray) -> LineArt:
    """The line art of a uint8 luminance image (H, W), found relative to the local paper.

    Each pixel is divided by the paper's local tone (:func:`paper_tone`); the paper's noise is
    measured on the bright side of that ratio's histogram (nothing is brighter than paper but
    its grain), and a pixel clearly darker than the paper is line.
    """
    if gray.size == 0:
        return LineArt(gray.copy(), np.zeros(gray.shape, bool), 0.0, gray.copy())
    relative = cv2.divide(gray, paper_tone(gray), scale=PAPER_REF)
    step = max(1, int(np.sqrt(relative.size / 65536)))
    hist = np.bincount(relative[::step, ::step].ravel(), minlength=256).astype(np.float64)
    # The paper's level: the histogram's peak near PAPER_REF (where the tone maps the paper).
    low = int(0.75 * PAPER_REF)
    peak = cv2.GaussianBlur(hist[low:, None], (1, 5), 0)[:, 0]
    mode = low + int(np.argmax(peak)) if peak.max() > 0 else PAPER_REF
    # σ from the bright side: 68 % of the pixels above the mode lie within one σ of it.
    above = np.cumsum(hist[mode + 1 :])
    noise = float(np.searchsorted(above, 0.68 * above[-1]) + 1) if above.size and above[-1] else 0
    noise = min(noise, 20.0)
    cut = mode - max(MIN_CONTRAST, NOISE_SIGMAS * noise)
    mask = relative < cut
    # The visible lines: the paper and its grain (within 2.5 σ) are white, darker is scaled.
    white = max(mode - 2.5 * noise, 1.0)
    lut = np.clip(np.arange(256) * (255.0 / white), 0, 255).round().astype(np.uint8)
    lines = cv2.LUT(relative, lut)
    # What the model sees: the lines on white paper, their darkest (a robust 5 %) made black, so
    # light pencil on a gray page looks like the dark lines on white it was trained on.
    level = np.percentile(relative[::step, ::step][mask[::step, ::step]], 5) if mask.any() else 0
    ink = float(min(level, white - 1.0))
    stretch = np.clip((np.arange(256) - ink) * (255.0 / (white - ink)), 0, 255)
    model = cv2.LUT(relative, stretch.round().astype(np.uint8))
    model = cv2.max(model, cv2.compare(relative, cut, cv2.CMP_GE))  # not line: white
    return LineArt(lines, mask, noise, model)


def paper_region(labels: np.ndarray) -> int:
    """The region that is the paper around the figure: the one with the most of the image's
    border, if that is at least ``PAPER_BORDER_SHARE`` of its border pixels; else 0 (a
    background the artist closed with lines is a region like any other)."""
    if labels.size == 0:
        return 0
    edge = np.concatenate([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    counts = np.bincount(edge, minlength=2)
    counts[0] = 0
    best = int(np.argmax(counts))
    return best if counts[best] >= PAPER_BORDER_SHARE * edge.size else 0


def ball_radii(shape: tuple[int, int]) -> tuple[int, ...]:
    """Ball radii for an image of ``shape``, biggest first, halving down to 1."""
    big = int(np.clip(round(max(shape) * BALL_PER_PIXEL), 1, MAX_BALL))
    radii = [big]
    while radii[-1] > 1:
        radii.append(radii[-1] // 2)
    return tuple(radii)


def trapped_ball(lines: np.ndarray, radii: tuple[int, ...] | None = None) -> np.ndarray:
    """Regions of the paper (``lines`` false) enclosed by the lines, robust to small gaps.

    ``lines``: bool (H, W). Returns int32 (H, W), 0 on lines, regions numbered 1..N by size
    (largest first).
    """
    h, w = lines.shape
    if h == 0 or w == 0:
        return np.zeros((h, w), np.int32)
    radii = radii if radii is not None else ball_radii((h, w))
    open_ = np.logical_not(lines).view(np.uint8)  # paper not in a region yet: 1
    labels = np.zeros((h, w), np.int32)
    count = 0
    for radius in radii:
        ball = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        # Where a ball of this radius fits: the erosion (the image border is no wall).
        cores = cv2.erode(open_, ball, borderType=cv2.BORDER_REPLICATE)
        n, core_ids = cv2.connectedComponentsWithAlgorithm(cores, 8, cv2.CV_32S, cv2.CCL_BOLELLI)
        if n <= 1:
            continue
        # Each core grows back by the ball (the opening); uint16 or float32 keep ids exact.
        grown = cv2.dilate(core_ids.astype(np.uint16 if n < 65536 else np.float32), ball)
        new = cv2.bitwise_and(open_, (grown > 0).view(np.uint8))
        cv2.copyTo(grown.astype(np.int32) + count, new, labels)  # numpy's masked writes are slow
        open_ = cv2.subtract(open_, new)
        count += n - 1
    n, pieces = cv2.connectedComponentsWithAlgorithm(open_, 4, cv2.CV_32S, cv2.CCL_BOLELLI)
    if n > 1:
        cv2.copyTo(pieces + count, open_, labels)
        count += n - 1
    # Smaller than four big balls and touching another region without a line between: a corner
    # the big ball could not reach, or a piece cut off by a gap rather than by lines.
    min_area = int(4 * np.pi * max(radii, default=1) ** 2) + 1
    return _merge_and_renumber(labels, count, min_area)


def _merge_and_renumber(labels: np.ndarray, count: int, min_area: int) -> np.ndarray:
    """Merge each small region into the larger one it touches most without a line between,
    then number the regions 1..N by decreasing area (one lookup for both)."""
    area = np.bincount(labels.ravel(), minlength=count + 1)
    target = np.arange(count + 1)
    small = area < min_area
    small[0] = False
    if small.any():
        # The pixels of small regions and their four neighbours in other regions.
        h, w = labels.shape
        flat = labels.ravel()
        idx = np.flatnonzero(small.take(flat))
        src_parts, dst_parts = [], []
        col = idx % w
        for step, ok in ((1, col < w - 1), (-1, col > 0), (w, idx < (h - 1) * w), (-w, idx >= w)):
            here = idx.compress(ok)
            there = flat.take(here + step)
            own = flat.take(here)
            touch = (there != own) & (there > 0)
            src_parts.append(own.compress(touch))
            dst_parts.append(there.compress(touch))
        src = np.concatenate(src_parts).astype(np.int64)
        dst = np.concatenate(dst_parts).astype(np.int64)
        keep = (area[dst] > area[src]) | ((area[dst] == area[src]) & (dst > src))
        src, dst = src[keep], dst[keep]
        codes, border = np.unique(src * (count + 1) + dst, return_counts=True)
        src, dst = codes // (count + 1), codes % (count + 1)
        # For each small region, the neighbour with the longest shared border (sorted: last wins).
        order = np.lexsort((border, src))
        target[src[order]] = dst[order]
        # Targets are larger (or as large with a higher id), so every chain ends: follow them.
        for _ in range(64):
            nxt = target[target]
            if np.array_equal(nxt, target):
                break
            target = nxt
    merged_area = np.bincount(target, weights=area, minlength=count + 1)
    merged_area[0] = 0
    present = np.flatnonzero(merged_area)
    order = present[np.argsort(-merged_area[present], kind="stable")]
    rank = np.zeros(count + 1, np.int32)
    rank[order] = np.arange(1, order.size + 1, dtype=np.int32)
    return rank[target].take(labels)


def nearest_region(labels: np.ndarray) -> np.ndarray:
    """``labels`` with every 0 pixel (lines) given the id of the nearest region (0 if none)."""
    zero = labels == 0
    if not zero.any() or zero.all():
        return labels
    _, nearest = cv2.distanceTransformWithLabels(
        zero.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    # DIST_LABEL_PIXEL numbers the labelled pixels 1.. in row-major order.
    ids = np.concatenate([[0], labels.ravel().compress(~zero.ravel())]).astype(np.int32)
    return ids.take(nearest)


def segment(mask: np.ndarray, work_side: int = SEGMENT_SIDE) -> tuple[np.ndarray, np.ndarray, int]:
    """(regions, fills, paper) of a line mask (bool (H, W), true on lines).

    The sketch is segmented at a working size whose long side is at most ``work_side`` (the
    cost grows with pixels; the regions hardly change). ``fills``, at that working size, gives
    every pixel, lines included, the id of its (nearest) region; ``regions``, at (H, W), is
    ``fills`` scaled back up (nearest neighbour) with 0 on the line pixels; both int32.
    ``paper`` is the id of the paper's region (:func:`paper_region`), 0 if none.
    """
    h, w = mask.shape
    if h == 0 or w == 0:
        return np.zeros((h, w), np.int32), np.zeros((h, w), np.int32), 0
    paper_px = np.logical_not(mask).view(np.uint8)
    k = work_side / max(h, w, 1)
    if k >= 1:
        labels = trapped_ball(mask)
        fills = nearest_region(labels)
        return cv2.copyTo(fills, paper_px), fills, paper_region(labels)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    # A pixel of the working map is line if any line pixel falls in it: a thin line must not
    # open a gap at the smaller size.
    marked = mask.view(np.uint8) * np.uint8(255)
    small = cv2.resize(marked, size, interpolation=cv2.INTER_AREA) > 0
    labels = trapped_ball(small)
    fills = nearest_region(labels)
    big = cv2.resize(fills, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.copyTo(big, paper_px), fills, paper_region(labels)
