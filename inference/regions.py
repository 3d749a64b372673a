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

import cv2
import numpy as np

# A pixel is line art when darker than this fraction of the paper's tone.
LINE_LEVEL = 0.72
# The big ball's radius per pixel of the long side (1024 px → 6 px: closes gaps up to ~12 px).
BALL_PER_PIXEL = 6 / 1024
MAX_BALL = 12
# Sketches are segmented at most this large (long side); regions are scaled back up.
SEGMENT_SIDE = 512


def paper_level(gray: np.ndarray) -> float:
    """The paper's tone of a uint8 luminance image: its 90th percentile, at least 128."""
    sample = gray[:: max(1, gray.shape[0] // 256), :: max(1, gray.shape[1] // 256)]
    hist = np.bincount(sample.ravel(), minlength=256)
    level = int(np.searchsorted(np.cumsum(hist), 0.9 * sample.size))
    return float(max(level, 128))


def line_art(gray: np.ndarray, paper: float) -> np.ndarray:
    """uint8 (H, W) line layer: the sketch's luminance with the paper's tone lifted to 255."""
    return cv2.convertScaleAbs(gray, alpha=255.0 / paper)


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


def segment(lines: np.ndarray, work_side: int = SEGMENT_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """(regions, fills) of a uint8 line layer (H, W) (255 = paper); int32 maps.

    The sketch is segmented at a working size whose long side is at most ``work_side`` (the
    cost grows with pixels; the regions hardly change). ``fills``, at that working size, gives
    every pixel, lines included, the id of its (nearest) region; ``regions``, at (H, W), is
    ``fills`` scaled back up (nearest neighbour) with 0 on the line pixels.
    """
    h, w = lines.shape
    if h == 0 or w == 0:
        return np.zeros((h, w), np.int32), np.zeros((h, w), np.int32)
    is_line = lines < round(255 * LINE_LEVEL)
    k = work_side / max(h, w, 1)
    if k >= 1:
        fills = nearest_region(trapped_ball(is_line))
        return cv2.copyTo(fills, np.logical_not(is_line).view(np.uint8)), fills
    size = (max(1, round(w * k)), max(1, round(h * k)))
    # A pixel of the working map is line if any line pixel falls in it: a thin line must not
    # open a gap at the smaller size.
    mask = is_line.view(np.uint8) * np.uint8(255)
    small = cv2.resize(mask, size, interpolation=cv2.INTER_AREA) > 0
    fills = nearest_region(trapped_ball(small))
    big = cv2.resize(fills, (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.copyTo(big, np.logical_not(is_line).view(np.uint8)), fills
