"""Trapped-ball regions: enclosed areas are found, gaps narrower than the ball do not leak."""

import numpy as np
import pytest

from inference.regions import ball_radii, nearest_region, segment, trapped_ball


def _two_rooms(gap: int, size: int = 200) -> np.ndarray:
    """Line mask: a frame split by a 3 px wall with a ``gap`` px doorway in its middle."""
    lines = np.zeros((size, size), bool)
    lines[:3, :] = lines[-3:, :] = lines[:, :3] = lines[:, -3:] = True
    mid = size // 2
    lines[:, mid - 1 : mid + 2] = True
    if gap:
        lines[mid - gap // 2 : mid - gap // 2 + gap, mid - 1 : mid + 2] = False
    return lines


def test_closed_wall_gives_two_regions():
    labels = trapped_ball(_two_rooms(0))
    assert labels.dtype == np.int32
    left, right = labels[100, 50], labels[100, 150]
    assert left > 0 and right > 0 and left != right
    assert (labels[_two_rooms(0)] == 0).all()


def test_gap_narrower_than_the_ball_does_not_leak():
    lines = _two_rooms(4)
    labels = trapped_ball(lines, radii=(4, 2, 1))
    assert labels[100, 50] != labels[100, 150]
    # The doorway itself belongs to one of the two rooms, not a region of its own.
    assert labels[100, 100] in (labels[100, 50], labels[100, 150])
    assert labels.max() == 2


def test_gap_wider_than_the_ball_leaks():
    labels = trapped_ball(_two_rooms(40), radii=(4, 2, 1))
    assert labels[100, 50] == labels[100, 150]


def test_a_flood_fill_would_leak_where_the_ball_does_not():
    import cv2

    lines = _two_rooms(4)
    _, flood = cv2.connectedComponents(np.logical_not(lines).view(np.uint8), connectivity=4)
    assert flood[100, 50] == flood[100, 150]  # the naive fill
    labels = trapped_ball(lines, radii=(4, 2, 1))
    assert labels[100, 50] != labels[100, 150]


def test_ids_are_ordered_by_area_and_dense():
    lines = _two_rooms(0)
    lines[20:40, 20:40] = True
    lines[25:35, 25:35] = False  # a small enclosed box inside the left room
    labels = trapped_ball(lines)
    ids, area = np.unique(labels[labels > 0], return_counts=True)
    assert ids.tolist() == list(range(1, len(ids) + 1))
    assert (np.diff(area) <= 0).all()
    assert labels[30, 30] == 3


def test_corner_slivers_merge_into_their_region():
    # A sharp wedge: the big ball cannot reach its tip, the small ones can; still one region.
    lines = np.zeros((120, 120), bool)
    lines[:2, :] = lines[-2:, :] = lines[:, :2] = lines[:, -2:] = True
    rr, cc = np.mgrid[:120, :120]
    lines |= np.abs(cc - rr * 0.3) < 1.5  # a slanted line meeting the top edge at a sharp angle
    labels = trapped_ball(lines, radii=(6, 3, 1))
    assert len(np.unique(labels[labels > 0])) == 2


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1), (3, 7), (0, 0)])
def test_odd_shapes(shape):
    lines = np.zeros(shape, bool)
    regions, fills, paper = segment(lines)
    assert regions.shape == shape and max(fills.shape, default=0) <= 512
    assert regions.dtype == fills.dtype == np.int32
    if lines.size:
        assert (regions == 1).all() and paper == 1


def test_all_lines_has_no_region():
    regions, fills, paper = segment(np.ones((40, 30), bool))
    assert (regions == 0).all() and (fills == 0).all() and paper == 0


def test_line_pixels_get_the_nearest_region():
    labels = trapped_ball(_two_rooms(0))
    near = nearest_region(labels)
    assert (near > 0).all()
    assert near[100, 99] == labels[100, 50] and near[100, 101] == labels[100, 150]


def test_segment_at_a_working_size_keeps_thin_lines_closed():
    # 2000² with 1 px walls: at the 512 px working size a wall is a quarter pixel wide.
    lines = np.zeros((2000, 2000), bool)
    lines[:, 1000] = True
    lines[1000, :1000] = True
    regions, fills, _ = segment(lines)
    assert regions.shape == (2000, 2000) and fills.shape == (512, 512)
    a, b, c = regions[500, 500], regions[1500, 500], regions[1000, 1500]
    assert len({a, b, c}) == 3 and min(a, b, c) > 0
    assert (regions[:, 1000] == 0).all() and (fills > 0).all()


def test_radii_scale_with_size_and_halve():
    assert ball_radii((256, 256))[-1] == 1
    assert ball_radii((512, 512)) == (3, 1)
    big = ball_radii((4096, 4096))
    assert big[0] <= 12 and list(big) == sorted(big, reverse=True)
