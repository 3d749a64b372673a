"""Where each color hint paints in the cel style: its region, split along the lines.

A hint decides the color of the region it touches outright (the regions of
:func:`inference.regions.segment`, which already stop at lines and do not leak through gaps
narrower than their ball); a hint on a line pixel takes the nearest region, and no region a
hint does not touch changes, the paper around the drawing included.

Where hints of several colors share one region (a faint stroke the segmentation took for
paper, a line with a gap), the region is split between them as LazyBrush does (Sýkora,
Dingliana, Collins, "LazyBrush: Flexible Painting Tool for Hand-drawn Cartoons", 2009): a
minimum graph cut on the pixel grid whose edges are cheap to cut on dark pixels and dear on
paper, so the colors meet along strokes and close gaps by their shortest crossing, with no gap
parameter. Several colors are cut one after the other, each against the rest (LazyBrush's
sequential multi-label scheme), with PyMaxflow's Boykov–Kolmogorov max-flow.

The paper region is cut too when a dot lands in it: the segmentation joins a part whose outline
is open (loose fur strokes, a sleeve left open) to the paper, so the dot is cut against the
image's border, and its color fills the part up to its lines while the paper around the drawing
stays. A dot out in the open paper, where that cut would only run through paper, colors the
paper.

Speed: a cut over a whole 512² working map took about 1 s on this project's CPU, so only the
shared regions are cut, each on a grid of at most :data:`MAX_CUT_PIXELS` (about 8 ms at
160²; fewer pixels a cut when there are many), and the rest is a table lookup.

OpenCV's marker watershed on line darkness was the other candidate, and as fast: but a flood
has no notion of a boundary's length and pours through a gap. A box cut in two by a line with
a 20-pixel gap, a red dot just above the gap and a blue one in the far corner below: the
watershed gave blue 30 % of the lower half, the cut 100 % (tests/inference/test_hint_fill.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import maxflow
import numpy as np

from inference.hints import Color, Hint

if TYPE_CHECKING:
    from inference.colorizer import Prepared

# Cutting between two neighbours costs 1 + K · paper, where paper is the darker one's
# brightness in the line art to the power PAPER_GAMMA (0 on line pixels, 1 on clean paper: a
# faint stroke the segmentation left in the paper is cheaper to cut along than paper) and K is
# LazyBrush's 2·(w + h) of the grid: one pixel of paper costs more than a cut all around the
# grid along lines, so colors meet along strokes, not in the open.
PAPER_GAMMA = 4.0
# A shared region is cut on a grid of at most this many pixels (scaled down when larger)...
MAX_CUT_PIXELS = 160 * 160
# ...and all cuts of one sketch together on about this many (each color in a region is a cut),
# down to MIN_CUT_PIXELS a cut: 64 colors in one region cost about what 3 do.
TOTAL_CUT_PIXELS = 3 * MAX_CUT_PIXELS
MIN_CUT_PIXELS = 48 * 48
# A dot seeds the open paper around it (up to the nearest line, and half way to a dot of
# another color), at least this radius (cut-grid pixels). Cutting around a seed costs its
# perimeter in paper, so a wide seed is what lets the cut close gaps narrower than it (graph
# cuts favour short boundaries: a tiny seed would be cut off instead; LazyBrush's scribbles
# are long strokes, our hints are dots).
SEED_RADIUS = 2
_HARD = 1e9  # a seed's terminal capacity: never cut
# Paper-ness above which a cut-grid pixel is open paper, clear of every line.
CLEAN_PAPER = 0.9


def hint_labels(
    lines: np.ndarray,
    is_line: np.ndarray,
    fills: np.ndarray,
    hints: Sequence[Hint],
    paper_region: int = 0,
) -> tuple[np.ndarray, list[Color]]:
    """Which hint color paints each pixel: (labels, colors).

    ``lines``: uint8 line art (255 = paper) and ``is_line`` its bool line mask, at the output
    size; ``fills``: int32 (h, w) region ids at the working size, line pixels their nearest
    region's (see :func:`inference.regions.segment`); ``hints``: positions in working pixels. ``labels`` is
    int32 (h, w): 0 = no hint (the model's colors), k = ``colors[k - 1]``; hints of one color
    share a label.

    ``paper_region``: the paper's region id (0: none). A dot there may sit in a part of the
    figure whose outline is open (the segmentation joined it to the paper): the region is cut
    between the dots and the image's border, so the color fills the open part up to its lines
    and the paper around the drawing stays. When the cut runs through open paper instead (the
    dots sit in the open, nothing encloses them), the dots mean the paper itself: it all takes
    them.
    """
    h, w = fills.shape
    inside = [t for t in hints if 0 <= round(t.x) < w and 0 <= round(t.y) < h]
    colors = list(dict.fromkeys(t.color for t in inside))
    by_region: dict[int, list[tuple[int, int, int]]] = {}
    for t in inside:
        x, y = round(t.x), round(t.y)
        if fills[y, x] > 0:  # 0: the sketch has no region at all
            by_region.setdefault(int(fills[y, x]), []).append((x, y, colors.index(t.color) + 1))
    table = np.zeros(int(fills.max(initial=0)) + 1, np.int32)
    shared = []
    for region, dots in by_region.items():
        if len({label for _, _, label in dots}) == 1 and region != paper_region:
            table[region] = dots[0][2]
        else:
            shared.append(region)
    labels = table.take(fills)
    if shared:
        paper = _paper(lines, is_line, (w, h))
        cuts = sum(
            len({label for _, _, label in by_region[r]}) - (r != paper_region) for r in shared
        )
        grid = int(np.clip(TOTAL_CUT_PIXELS / cuts, MIN_CUT_PIXELS, MAX_CUT_PIXELS))
        for region in shared:
            mask = fills == region
            keep = None
            if region == paper_region:
                keep = np.zeros_like(mask)
                keep[[0, -1], :] = mask[[0, -1], :]
                keep[:, [0, -1]] = mask[:, [0, -1]]
            _split(labels, mask, paper, by_region[region], grid, keep=keep)
    return labels, colors


def _paper(lines: np.ndarray, is_line: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """float32 (h, w) at ``size``: 0 on line pixels, rising to 1 on clean paper."""
    if size == (lines.shape[1], lines.shape[0]):
        small, line = lines, is_line
    else:
        small = cv2.resize(lines, size, interpolation=cv2.INTER_AREA)
        # As in the segmentation: a working pixel is line if any line pixel falls in it.
        marked = is_line.view(np.uint8) * np.uint8(255)
        line = cv2.resize(marked, size, interpolation=cv2.INTER_AREA) > 0
    paper = (small.astype(np.float32) / 255) ** PAPER_GAMMA
    paper[line] = 0
    return paper


def _split(
    labels: np.ndarray,
    mask: np.ndarray,
    paper: np.ndarray,
    dots: list[tuple[int, int, int]],
    grid: int = MAX_CUT_PIXELS,
    keep: np.ndarray | None = None,
) -> None:
    """Label the ``mask`` region of ``labels`` (in place) among its hint ``dots`` (x, y,
    label) by sequential minimum cuts on a grid of at most ``grid`` pixels. ``keep``: pixels
    (of the paper region, on the image's border) seeded for "no hint", label 0; when the cuts
    run through open paper rather than along lines, the dots take the whole region instead."""
    ys, xs = np.nonzero(mask)
    top, left = int(ys.min()), int(xs.min())
    crop = (slice(top, int(ys.max()) + 1), slice(left, int(xs.max()) + 1))
    ch, cw = mask[crop].shape
    k = min(1.0, (grid / (ch * cw)) ** 0.5)
    size = (max(1, round(cw * k)), max(1, round(ch * k)))
    area = cv2.resize(mask[crop].view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    cost = cv2.resize(paper[crop], size, interpolation=cv2.INTER_AREA)
    order = list(dict.fromkeys(label for _, _, label in dots))
    points = [
        (min(round((x - left) * k), size[0] - 1), min(round((y - top) * k), size[1] - 1), label)
        for x, y, label in dots
    ]
    # How far each pixel is from a line: a dot's seed fills the open paper around it.
    room = cv2.distanceTransform((area & (cost > 0)).view(np.uint8), cv2.DIST_L2, 3)
    seeds = np.zeros((len(order), size[1], size[0]), bool)
    for x, y, label in points:
        nearest = min(
            (np.hypot(x - u, y - v) for u, v, other in points if other != label), default=0.0
        )
        radius = int(min(room[y, x] - 1, nearest / 2))
        seeds[order.index(label)] |= _seed((x, y), area, max(radius, SEED_RADIUS))
    # Dots of two colors on one pixel: the later one wins, as in the model's hint planes.
    for i in range(len(order) - 1, 0, -1):
        seeds[:i] &= ~seeds[i]
    if keep is not None:  # "no hint" last, where no dot's seed is
        small = cv2.resize(keep[crop].view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        seeds = np.concatenate([seeds, (small & area & ~seeds.any(axis=0))[None]])
        order.append(0)
    k_paper = 2.0 * (size[0] + size[1])
    right_w = 1 + k_paper * np.minimum(cost[:, :-1], cost[:, 1:])
    down_w = 1 + k_paper * np.minimum(cost[:-1], cost[1:])
    cut = np.zeros(area.shape, np.int32)
    free = area.copy()
    for i, label in enumerate(order[:-1]):
        won = _cut(seeds[i], seeds[i + 1 :].any(axis=0), free, right_w, down_w)
        cut[won] = label
        free &= ~won
    cut[free] = order[-1]
    if keep is not None and _through_paper(cut, area, cost, order[:-1]):
        _split(labels, mask, paper, dots, grid)  # the dots are on the open paper: all of it
        return
    big = cv2.resize(cut, (cw, ch), interpolation=cv2.INTER_NEAREST)
    cv2.copyTo(big, mask[crop].view(np.uint8), labels[crop])


def _through_paper(cut: np.ndarray, area: np.ndarray, cost: np.ndarray, labels: list[int]) -> bool:
    """Whether the cuts around the dot colors ``labels`` run mostly through open paper (the
    dots sit in the open, nothing encloses them) rather than along lines and their gaps: most
    pixels where a dot color's area meets the rest of ``area`` are clean paper (``cost``: 0 on
    lines, 1 on clean paper)."""
    cross = np.ones((3, 3), np.uint8)
    edge = np.zeros(area.shape, bool)
    for label in labels:
        won = (cut == label).view(np.uint8)
        other = (area & (cut != label)).view(np.uint8)
        edge |= won.view(bool) & cv2.dilate(other, cross).view(bool)
    return bool(edge.any()) and float((cost[edge] > CLEAN_PAPER).mean()) > 0.5


def _seed(at: tuple[int, int], area: np.ndarray, radius: int) -> np.ndarray:
    """A dot's seed: the pixels of ``area`` within ``radius`` of ``at``, or within a wider
    disk when the dot sits on a thick line at the region's edge."""
    disk = np.zeros(area.shape, np.uint8)
    for r in (radius, 4 * radius, 16 * radius, max(area.shape)):
        cv2.circle(disk, at, r, 1, thickness=-1)
        near = area & disk.view(bool)
        if near.any():
            return near
    return near


def _cut(
    source: np.ndarray,
    sink: np.ndarray,
    free: np.ndarray,
    right_w: np.ndarray,
    down_w: np.ndarray,
) -> np.ndarray:
    """The ``free`` pixels on the ``source`` side of the minimum cut between the seeds; pixels
    not free are out of the graph."""
    graph = maxflow.Graph[float]()
    ids = graph.add_grid_nodes(free.shape)
    right = np.zeros(free.shape)
    right[:, :-1] = right_w * (free[:, :-1] & free[:, 1:])
    down = np.zeros(free.shape)
    down[:-1] = down_w * (free[:-1] & free[1:])
    graph.add_grid_edges(ids, right, structure=_RIGHT, symmetric=True)
    graph.add_grid_edges(ids, down, structure=_DOWN, symmetric=True)
    graph.add_grid_tedges(ids, source * _HARD, (sink & ~source) * _HARD)
    graph.maxflow()
    return free & ~graph.get_grid_segments(ids)


_RIGHT = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]])
_DOWN = np.array([[0, 0, 0], [0, 0, 0], [0, 1, 0]])


def paint_hints(layer: np.ndarray, prepared: Prepared) -> np.ndarray:
    """The cel color ``layer`` (H, W, 3) uint8 with each hint's color over the pixels it
    decides (see :func:`hint_labels`); ``prepared.hints`` are in output pixels."""
    if not prepared.hints:
        return layer
    h, w = prepared.fills.shape
    out_w, out_h = prepared.size
    kx, ky = w / out_w, h / out_h
    work_hints = [
        Hint((t.x + 0.5) * kx - 0.5, (t.y + 0.5) * ky - 0.5, t.color) for t in prepared.hints
    ]
    # Line pixels are the region map's 0s (at the output size, as the segmentation saw them).
    labels, colors = hint_labels(
        prepared.lines, prepared.regions == 0, prepared.fills, work_hints, prepared.paper
    )
    if not colors:
        return layer
    # Packed RGB per label (one uint32 lookup, then a view: cheaper than an (H, W, 3) take).
    packed = np.array([0, *(r | g << 8 | b << 16 for r, g, b in colors)], "<u4")
    rgba = packed.take(labels).view(np.uint8).reshape(h, w, 4)
    big = cv2.resize(rgba, prepared.size, interpolation=cv2.INTER_NEAREST)
    mask = cv2.resize((labels > 0).view(np.uint8), prepared.size, interpolation=cv2.INTER_NEAREST)
    painted = layer.copy()
    cv2.copyTo(cv2.cvtColor(big, cv2.COLOR_RGBA2RGB), mask, painted)
    return painted
