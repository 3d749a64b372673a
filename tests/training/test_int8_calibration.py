"""The int8 sketch sets: the shipped files are what the builder makes, every family in both."""

import numpy as np

from inference.quantize import CALIBRATION, CHECK_SET
from training.int8_calibration import build, lighten, main


def test_the_shipped_sets_are_what_the_builder_makes(tmp_path):
    assert main(["--out", str(tmp_path / "c.npz"), "--check", str(tmp_path / "k.npz")]) == 0
    for built, shipped in ((tmp_path / "c.npz", CALIBRATION), (tmp_path / "k.npz", CHECK_SET)):
        with np.load(built) as a, np.load(shipped) as b:
            assert np.array_equal(a["sketches"], b["sketches"])
            assert np.array_equal(a["families"], b["families"])


def test_both_sets_hold_every_family_and_share_no_sketch():
    sets = build()
    for sketches, families in sets.values():
        assert sketches.dtype == np.uint8 and sketches.shape[1:] == (256, 256)
        assert set(families) == {"mix", "pencil", "bold", "anime"}
        # Sketches: mostly paper (a gray page's too), some line.
        assert (np.median(sketches, axis=(1, 2)) > 150).all()
        median = np.median(sketches, axis=(1, 2))
        assert (sketches.min(axis=(1, 2)) < median - 15).all()
    calibration = sets["calibration"][0].reshape(len(sets["calibration"][0]), -1)
    for sketch in sets["check"][0].reshape(len(sets["check"][0]), -1):
        assert (calibration != sketch).any(axis=1).all()


def test_calibration_is_as_sent_and_the_check_as_the_model_sees_it():
    sets = build()
    sketches, families = sets["calibration"]
    pencil, bold = sketches[families == "pencil"], sketches[families == "bold"]
    assert np.median([s.min() for s in pencil]) >= 100  # light lines, gray pages
    assert max(s.min() for s in bold) < 60  # dark ink
    assert np.median([(s < 128).mean() for s in bold]) > 0.02  # thick strokes cover more
    # The Colorizer's inputs: white paper, the darkest line black, whatever was sent.
    checked = sets["check"][0]
    assert ((checked == 255).mean(axis=(1, 2)) > 0.5).all()
    assert (checked.min(axis=(1, 2)) < 60).all()
    faint = lighten(np.array([[0, 128, 255]], np.uint8))
    assert faint.tolist() == [[200, 228, 255]]
