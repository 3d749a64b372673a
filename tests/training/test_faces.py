"""The faces builder for real: npm installs the pinned node project, node draws, resvg renders."""

import json
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from training.datasets.__main__ import main
from training.datasets.faces import PART_SIZE, PARTS, build_faces
from training.datasets.openmoji import DatasetError, split_of

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="the faces builder needs Node.js and npm on PATH",
)

SIZE = 128
# With seed 7 the six characters get the darkest skin tones, on every source.
SEED = 7
SOURCES = {"facesjs", "adventurer", "micah", "open-peeps"}
DARKEST = {"#763900", "#5a2e17", "#3e2214"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("faces_js")


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache):
    out = tmp_path_factory.mktemp("faces")
    counts = build_faces(out, count=6, size=SIZE, seed=SEED, workers=1, cache=cache)
    return out, counts


def _halves(path):
    pair = np.asarray(Image.open(path).convert("RGB"), np.int16)
    assert pair.shape == (SIZE, 2 * SIZE, 3)
    return pair[:, :SIZE], pair[:, SIZE:]


def _saturation(rgb):
    hi, lo = rgb.max(-1), rgb.min(-1)
    return np.where(hi > 0, (hi - lo) / np.maximum(hi, 1), 0)


def test_pairs_in_kaggle_layout(built):
    out, counts = built
    files = sorted(p for split in ("train", "val") for p in (out / split).glob("*.png"))
    assert counts["train"] + counts["val"] == 6 == len(files)
    for f in files:
        assert f.parent.name == split_of(f.stem)
        color, line = _halves(f)
        figure = color.min(-1) < 250
        assert _saturation(color)[figure].mean() > 0.25  # the left half is colored
        assert (line.min(-1) > 240).mean() > 0.8  # the right half is mostly white paper,
        assert 0.01 < (line.max(-1) < 100).mean() < 0.2  # with dark lines,
        assert _saturation(line)[line.max(-1) > 60].mean() < 0.05  # and no color
    sources = {f.stem.rsplit("_", 1)[1] for f in files}
    assert sources == SOURCES


def test_darkest_skin_keeps_eyes_and_mouth(built):
    out, _ = built
    chars = json.loads((out / "characters.json").read_text())
    dark = [c for c in chars if c["skin"] in DARKEST]
    assert {c["source"] for c in dark} == SOURCES
    for c in dark:
        color, line = _halves(out / split_of(c["name"]) / f"{c['name']}.png")
        # The face: the largest region of skin color, its holes (eyes, mouth) filled, minus a
        # margin so that the head's own outline does not count.
        skin = np.array([int(c["skin"][i : i + 2], 16) for i in (1, 3, 5)])
        mask = (np.abs(color - skin).max(-1) < 24).astype(np.uint8)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
        head = (labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])).astype(np.uint8)
        contours, _ = cv2.findContours(head, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        face = np.zeros_like(head)
        cv2.drawContours(face, contours, -1, 1, -1)
        face = cv2.erode(face, np.ones((5, 5), np.uint8)).astype(bool)
        assert face.sum() > 0.03 * SIZE * SIZE, c  # the face is there, not hollowed away
        inner = (line.mean(-1) < 128) & face
        strokes, _ = cv2.connectedComponents(inner.astype(np.uint8))
        assert inner.sum() > 0.02 * face.sum(), c  # lines inside the face...
        assert strokes - 1 >= 2, c  # ...in separate strokes: eyes (or glasses), mouth


def test_same_seed_same_pairs_and_resume(built, cache, tmp_path):
    out, _ = built
    again = tmp_path / "again"
    build_faces(again, count=6, size=SIZE, seed=SEED, workers=1, cache=cache)
    first = {p.relative_to(out): p.read_bytes() for p in out.glob("*/*.png")}
    assert {p.relative_to(again): p.read_bytes() for p in again.glob("*/*.png")} == first
    stamps = {p: p.stat().st_mtime_ns for p in again.glob("*/*.png")}
    build_faces(again, count=6, size=SIZE, seed=SEED, workers=1, cache=cache)
    assert {p: p.stat().st_mtime_ns for p in again.glob("*/*.png")} == stamps  # kept
    other = tmp_path / "other"
    build_faces(other, count=2, size=SIZE, seed=SEED + 1, workers=1, cache=cache)
    assert [p.read_bytes() for p in sorted(other.glob("*/*.png"))] != [
        first[p] for p in sorted(first)[:2]
    ]


def test_data_card_and_credits(built):
    out, counts = built
    card = json.loads((out / "DATACARD.json").read_text())
    assert card["count"] == 6 and card["size"] == SIZE and card["seed"] == SEED
    facesjs, adventurer = card["sources"]["facesjs"], card["sources"]["adventurer"]
    assert facesjs["licence"] == "Apache-2.0" and facesjs["version"] == "5.0.3"
    assert "CC BY 4.0" in adventurer["licence"] and "Lisa Wischofsky" in adventurer["attribution"]
    assert sum(facesjs["counts"].values()) == sum(adventurer["counts"].values()) == 2
    assert "Micah Lanier" in card["sources"]["micah"]["attribution"]
    assert "CC0" in card["sources"]["open-peeps"]["licence"]
    merged = {s: sum(card["sources"][n]["counts"][s] for n in SOURCES) for s in ("train", "val")}
    assert merged == counts
    assert card["line_rule"]["ink_luma_below"] == 0.25
    credits = (out / "CREDITS.txt").read_text()
    assert "Lisa Wischofsky" in credits and "CC BY 4.0" in credits and "Apache-2.0" in credits


def _rgb(hex_color):
    return np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])


def test_part_maps_mark_each_part_in_its_color(built):
    out, _ = built
    chars = json.loads((out / "characters.json").read_text())
    hues = {"hair": 0, "clothes": 0, "eyes": 0}
    for c in chars:
        parts = Image.open(out / "parts" / f"{c['name']}.png")
        assert parts.size == (PART_SIZE, PART_SIZE)
        parts = np.asarray(parts.resize((SIZE, SIZE), Image.Resampling.NEAREST))
        assert set(np.unique(parts)) <= set(range(len(PARTS)))
        color, _ = _halves(out / split_of(c["name"]) / f"{c['name']}.png")
        for index, part in enumerate(PARTS):
            if part not in c:
                continue
            mask = cv2.erode((parts == index).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            drawn = (np.abs(color - _rgb(c[part])).max(axis=-1) < 4).sum()
            if mask.sum() < 3:  # not drawn (bald, eyes closed) or tiny at 128 px
                assert drawn < 30, (c["name"], part)
                continue
            # Most of the part's pixels carry its color (shading and details cover the rest).
            close = np.abs(color[mask] - _rgb(c[part])).max(axis=-1) < 40
            assert close.mean() > 0.5, (c["name"], part, close.mean())
            hues[part] = hues.get(part, 0) + 1
    assert hues["hair"] >= 3 and hues["clothes"] >= 3


def test_missing_node_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with neither node nor npm
    with pytest.raises(DatasetError, match="node is not installed"):
        build_faces(tmp_path / "out", count=2, cache=tmp_path / "cache")
    assert main(["faces", "--out", str(tmp_path / "o"), "--count", "2"]) == 2
    assert "install Node.js" in capsys.readouterr().err
