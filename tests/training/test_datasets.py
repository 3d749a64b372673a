"""The OpenMoji builder on a tiny hand-made package: no network, real rendering."""

import tarfile

import numpy as np
import pytest
from PIL import Image

from training.datasets.__main__ import main
from training.datasets.openmoji import DatasetError, build_openmoji, split_of

SKETCH = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72"><circle cx="36" cy="36" r="20" fill="none" stroke="#000" stroke-width="2"/></svg>'
COLOR = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72"><circle cx="36" cy="36" r="20" fill="#FCEA2B" stroke="#000" stroke-width="2"/></svg>'


def _package(root, names, unpaired=()):
    for kind, svg in (("black", SKETCH), ("color", COLOR)):
        (root / "package" / kind / "svg").mkdir(parents=True)
        for name in names:
            (root / "package" / kind / "svg" / f"{name}.svg").write_text(svg)
    for name in unpaired:
        (root / "package" / "black" / "svg" / f"{name}.svg").write_text(SKETCH)
    return root


def test_pairs_in_kaggle_layout(tmp_path):
    names = [f"1F{600 + i:03X}" for i in range(12)]
    src = _package(tmp_path / "src", names, unpaired=["ONLY-BLACK"])
    counts = build_openmoji(tmp_path / "out", source=src, size=64, workers=1)
    assert counts["train"] + counts["val"] == 12  # the unpaired one is left out
    files = sorted((tmp_path / "out").glob("*/*.png"))
    assert len(files) == 12
    for f in files:
        assert f.parent.name == split_of(f.stem + ".svg")
        pair = np.asarray(Image.open(f).convert("RGB"), np.int16)
        assert pair.shape == (64, 128, 3)
        color, sketch = pair[:, :64], pair[:, 64:]
        assert tuple(color[32, 32]) == (0xFC, 0xEA, 0x2B)  # fill on the left
        assert tuple(sketch[32, 32]) == (255, 255, 255)  # line art only on the right
        assert tuple(sketch[0, 0]) == (255, 255, 255)  # white background
    assert "CC BY-SA 4.0" in (tmp_path / "out" / "CREDITS.txt").read_text()


def test_from_tgz_and_resume(tmp_path):
    src = _package(tmp_path / "src", ["A", "B", "C"])
    tgz = tmp_path / "openmoji.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(src / "package", arcname="package")
    assert (
        main(["openmoji", "--out", str(tmp_path / "out"), "--source", str(tgz), "--size", "32"])
        == 0
    )
    first = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*/*.png")}
    build_openmoji(tmp_path / "out", source=tgz, size=32, workers=1)
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*/*.png")} == first


def test_split_is_stable_and_about_ninety_ten():
    names = [f"{i:05X}.svg" for i in range(4000)]
    val = sum(split_of(n) == "val" for n in names)
    assert 300 < val < 500
    assert [split_of(n) for n in names[:50]] == [split_of(n) for n in names[:50]]


def test_bad_source_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no black/svg"):
        build_openmoji(tmp_path / "out", source=tmp_path / "empty")
    assert (
        main(["openmoji", "--out", str(tmp_path / "o"), "--source", str(tmp_path / "empty")]) == 2
    )
    assert "no black/svg" in capsys.readouterr().err
